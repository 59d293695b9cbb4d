//! The FPGA partition proven without a board: a configuration split between the FPGA and
//! software (`vdpctl fpga partition`), its FPGA part simulated (`vdpctl fpga sim`) and the
//! frames it streams to the host links fed to its software part (`vdpctl run`), gives on every
//! device the same bytes in the same order as `vdpctl run` of the whole configuration. Needs
//! verilator (scripts/deps.sh).

#[allow(dead_code)] // the helpers other FPGA tests use too
mod fpga;
use fpga::*;
use std::path::Path;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fpga_partition");

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

fn io(dir: &Path, flag: &str, pairs: &[(&str, &str)]) -> Vec<String> {
    pairs.iter().flat_map(|(device, file)| [flag.to_string(), format!("{device}={}", path(dir, file))]).collect()
}

#[test]
fn fpga_part_then_software_part_equals_the_whole_in_software() {
    let dir = scratch("partition");
    for file in ["board.toml", "system.toml", "router.click"] {
        std::fs::copy(Path::new(DATA).join(file), dir.join(file)).unwrap();
    }
    let mut rng = Rng(0x5eed_0014_0000_0001);
    let in0: Vec<Vec<u8>> = (0..200).map(|_| frame(&mut rng)).collect();
    let in1: Vec<Vec<u8>> = (0..100).map(|_| frame(&mut rng)).collect();
    write_pcap(&dir.join("in0.pcap"), &in0, 1_000_000_000);
    write_pcap(&dir.join("in1.pcap"), &in1, 1_000_000_500);
    let inputs = io(&dir, "--input", &[("eth0", "in0.pcap"), ("eth1", "in1.pcap")]);

    // The whole configuration in software.
    let mut run = vec!["run".to_string(), path(&dir, "router.click")];
    run.extend(inputs.clone());
    run.extend(io(&dir, "--output", &[("eth0", "sw0.pcap"), ("eth1", "sw1.pcap"), ("eth2", "sw2.pcap"), ("eth3", "sw3.pcap")]));
    vdpctl(&run);

    // The split: what goes where is the partition's to say; these are what the graph forces.
    let explain = vdpctl(&["fpga".into(), "partition".into(), "--system".into(), path(&dir, "system.toml"), format!("red={}", path(&dir, "router.click")), "-o".into(), path(&dir, "part")]);
    let level = |element: &str| {
        let fpga_at = explain.find("  fpga level:").unwrap();
        let software_at = explain.find("  software level:").unwrap();
        let at = explain.find(&format!("    {element} (")).unwrap_or_else(|| panic!("{element} is not placed:\n{explain}"));
        assert!(at > fpga_at);
        if at < software_at { "fpga" } else { "software" }
    };
    for on_fpga in ["cl", "chk", "rt", "ttl", "q1", "m"] {
        assert_eq!(level(on_fpga), "fpga", "{on_fpga}:\n{explain}");
    }
    for in_software in ["t", "len", "c6", "c7", "q2"] {
        assert_eq!(level(in_software), "software", "{in_software}:\n{explain}");
    }
    assert!(explain.contains("2 stream(s) to the host"), "{explain}");

    // The FPGA part in simulation, its host links into the software part.
    let mut sim = vec!["fpga".to_string(), "sim".to_string(), path(&dir, "part/fpga")];
    sim.extend(inputs);
    sim.extend(io(&dir, "--output", &[("eth0", "hw0.pcap"), ("eth1", "hw1.pcap"), ("host0", "host0.pcap"), ("host1", "host1.pcap")]));
    vdpctl(&sim);
    let mut software = vec!["run".to_string(), path(&dir, "part/software.click")];
    software.extend(io(&dir, "--input", &[("host0", "host0.pcap"), ("host1", "host1.pcap")]));
    software.extend(io(&dir, "--output", &[("eth2", "hw2.pcap"), ("eth3", "hw3.pcap")]));
    vdpctl(&software);

    for port in 0..4 {
        let whole = read_pcap(&dir.join(format!("sw{port}.pcap")));
        let split = read_pcap(&dir.join(format!("hw{port}.pcap")));
        assert!(whole.len() >= 10, "eth{port}: only {} frames; the test needs traffic on every device", whole.len());
        assert_eq!(whole.len(), split.len(), "eth{port}: whole {} frames, split {}; in {}", whole.len(), split.len(), dir.display());
        for (i, (a, b)) in whole.iter().zip(&split).enumerate() {
            assert_eq!(a, b, "eth{port} frame {i} differs (whole, then split); in {}", dir.display());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_fpga_part_over_the_tenants_area_budget_is_refused_and_nothing_written() {
    let dir = scratch("budget");
    std::fs::copy(Path::new(DATA).join("board.toml"), dir.join("board.toml")).unwrap();
    let system = std::fs::read_to_string(Path::new(DATA).join("system.toml")).unwrap().replace("luts = 40000", "luts = 10");
    std::fs::write(dir.join("system.toml"), system).unwrap();
    std::fs::write(dir.join("small.click"), "FromDevice(eth0) -> c :: Counter -> t :: Tee(2);\nt[0] -> q :: Queue(10) -> ToDevice(eth2);\nt[1] -> Discard;\n").unwrap();
    let output = std::process::Command::new(VDPCTL)
        .args(["fpga", "partition", "--synth", "--system", &path(&dir, "system.toml"), &format!("red={}", path(&dir, "small.click")), "-o", &path(&dir, "part")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "over budget, yet accepted: {stderr}");
    assert!(stderr.contains("tenant 'red': its FPGA part needs ") && stderr.contains(" LUTs, over its budget of 10"), "{stderr}");
    assert!(!stderr.contains("flip-flops, over"), "only the LUTs are over: {stderr}");
    assert!(!dir.join("part").exists(), "a refused partition wrote {}", dir.join("part").display());
    let _ = std::fs::remove_dir_all(&dir);
}
