//! Test aids for the FPGA level's simulation tests: seeded packets, pcap files, and runs of
//! `vdpctl run` and `vdpctl fpga sim` over the same captures.

use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub const VDPCTL: &str = env!("CARGO_BIN_EXE_vdpctl");

/// A small deterministic generator (xorshift), so a failing seed can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        sum += u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An Ethernet frame: mostly IPv4 of every kind the subset's elements tell apart (TTLs at
/// the edges, destinations on and off the routes, options, bad checksums, versions, lengths,
/// sources, link padding, truncation), some other EtherTypes and some runt frames.
pub fn frame(rng: &mut Rng) -> Vec<u8> {
    let kind = rng.below(100);
    let mut f = vec![0x02, 0, 0, 0, 0, rng.below(4) as u8, 0x02, 0, 0, 0, 1, rng.below(4) as u8];
    if kind < 4 {
        f.truncate(rng.below(14) as usize);
        return f;
    }
    if kind < 12 {
        f.extend_from_slice(&[0x86, 0xdd]);
        let n = rng.below(80) as usize;
        f.extend((0..n).map(|_| rng.next() as u8));
        return f;
    }
    f.extend_from_slice(&[0x08, 0x00]);
    let options = if rng.below(6) == 0 { 4 * (1 + rng.below(3) as usize) } else { 0 };
    let hl = 20 + options;
    let payload = *rng.pick(&[0usize, 1, 7, 8, 26, 64, 200, 480, 1000]);
    let total = hl + payload;
    let mut ip = vec![0u8; total];
    ip[0] = 0x40 | (hl / 4) as u8;
    ip[1] = rng.below(256) as u8;
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&(rng.below(65536) as u16).to_be_bytes());
    ip[8] = *rng.pick(&[0u8, 1, 2, 3, 64, 64, 64, 255]);
    ip[9] = *rng.pick(&[1u8, 6, 17, 47]);
    let src: [u8; 4] = *rng.pick(&[[10, 1, 2, 3], [10, 9, 8, 7], [192, 168, 1, 4], [10, 1, 2, 3], [172, 16, 0, 1], [255, 255, 255, 255], [224, 0, 0, 5], [192, 168, 1, 255]]);
    let dst: [u8; 4] = *rng.pick(&[[10, 0, 0, 7], [10, 200, 3, 4], [192, 168, 1, 20], [10, 0, 0, 7], [10, 200, 3, 4], [192, 168, 1, 20], [192, 168, 2, 1], [8, 8, 8, 8], [127, 0, 0, 1]]);
    ip[12..16].copy_from_slice(&src);
    ip[16..20].copy_from_slice(&dst);
    for b in &mut ip[20..] {
        *b = rng.next() as u8;
    }
    let sum = checksum(&ip[..hl]);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    match rng.below(20) {
        0 => ip[10] ^= 0x40,                             // bad checksum
        1 => ip[0] = 0x60 | (ip[0] & 0x0f),              // version 6
        2 => ip[0] = 0x44,                               // header length 16
        3 => ip[2..4].copy_from_slice(&((total + 9) as u16).to_be_bytes()), // longer than the packet
        4 => {
            let cut = rng.below(total as u64) as usize;   // truncated
            ip.truncate(cut);
        }
        5 => ip.extend((0..rng.below(12)).map(|_| 0xee)), // link-layer padding
        _ => {}
    }
    f.extend_from_slice(&ip);
    f
}

pub fn write_pcap(path: &Path, frames: &[Vec<u8>], first_ns: u64) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = PcapWriter::new(file).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let ts = Duration::from_nanos(first_ns + 1_000_000 * i as u64);
        writer.write_packet(&PcapPacket::new(ts, f.len() as u32, f)).unwrap();
    }
}

pub fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = PcapReader::new(file).unwrap();
    let mut out = Vec::new();
    while let Some(packet) = reader.next_packet() {
        out.push(packet.unwrap().data.into_owned());
    }
    out
}

pub fn vdpctl(args: &[String]) -> String {
    let output = Command::new(VDPCTL).args(args).output().unwrap();
    assert!(output.status.success(), "vdpctl {}: {}{}", args.join(" "), String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vdp-fpga-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The board the tests use: `ports` Ethernet devices eth0.. on ports 0...
pub fn board(ports: usize) -> String {
    let mut t = String::from("name = \"sim\"\nhandler_address_bits = 14\n\n[[memory]]\nname = \"bram\"\nkind = \"block_ram\"\nbits = 100000000\n");
    for p in 0..ports {
        t.push_str(&format!("\n[[device]]\nname = \"eth{p}\"\ningress = {p}\negress = {p}\n"));
    }
    t
}

/// Writes `config` and the test board with `ports` devices into `dir` and generates its design
/// there; returns the design's directory.
pub fn generate(dir: &Path, config: &str, ports: usize) -> PathBuf {
    std::fs::write(dir.join("config.click"), config).unwrap();
    std::fs::write(dir.join("board.toml"), board(ports)).unwrap();
    let design = dir.join("design");
    vdpctl(&["fpga".into(), dir.join("config.click").display().to_string(), "--board".into(), dir.join("board.toml").display().to_string(), "-o".into(), design.display().to_string()]);
    design
}

/// Runs `config` in software and on the simulated FPGA over the same inputs; asserts that
/// every device's output is the same frames in the same order and that every read is the
/// same. Returns the number of frames compared.
pub fn compare(dir: &Path, config: &str, ports: usize, inputs: &[(usize, Vec<Vec<u8>>)], outputs: &[usize], reads: &[&str]) -> usize {
    let design = generate(dir, config, ports);
    let mut io = Vec::new();
    for (k, (port, frames)) in inputs.iter().enumerate() {
        let path = dir.join(format!("in{port}.pcap"));
        // Inputs interleave in time: port k's packets lie between the others'.
        write_pcap(&path, frames, 1_000_000_000 + 1000 * k as u64);
        io.push("--input".to_string());
        io.push(format!("eth{port}={}", path.display()));
    }
    let mut software = io.clone();
    let mut hardware = io;
    for port in outputs {
        software.push("--output".into());
        software.push(format!("eth{port}={}", dir.join(format!("sw{port}.pcap")).display()));
        hardware.push("--output".into());
        hardware.push(format!("eth{port}={}", dir.join(format!("hw{port}.pcap")).display()));
    }
    for read in reads {
        software.push("--read".into());
        software.push(read.to_string());
        hardware.push("--read".into());
        hardware.push(read.to_string());
    }
    let config_path = dir.join("config.click").display().to_string();
    let mut run = vec!["run".to_string(), config_path.clone()];
    run.extend(software);
    let sw_reads = vdpctl(&run);
    let mut sim = vec!["fpga".to_string(), "sim".to_string(), design.display().to_string()];
    sim.extend(hardware);
    let hw_reads = vdpctl(&sim);
    let mut compared = 0;
    for port in outputs {
        let sw = read_pcap(&dir.join(format!("sw{port}.pcap")));
        let hw = read_pcap(&dir.join(format!("hw{port}.pcap")));
        for (i, (s, h)) in sw.iter().zip(&hw).enumerate() {
            assert_eq!(s, h, "eth{port} frame {i} differs (software, then FPGA); in {}", dir.display());
        }
        assert_eq!(sw.len(), hw.len(), "eth{port}: software sent {} frames, the FPGA {}; in {}", sw.len(), hw.len(), dir.display());
        compared += sw.len();
    }
    eprint!("{hw_reads}");
    assert_eq!(sw_reads, hw_reads, "handler reads differ (software, then FPGA); in {}", dir.display());
    compared
}
