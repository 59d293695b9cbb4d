//! What the benchmark runs on, made deterministically from a seed: a route table shaped like a
//! BGP table, the benchmark's Click configurations, IPv4 packets whose destinations hit those
//! routes, and the router's input capture.

use std::collections::HashSet;
use std::fmt::Write as _;

/// SplitMix64: small, fast and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0; the bias of the modulo is negligible for the n used here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Outputs of the benchmark's lookup element; each route names one.
pub const LOOKUP_OUTPUTS: u8 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub addr: u32,
    pub len: u8,
    pub gateway: u32,
    pub port: u8,
}

impl Route {
    pub fn mask(&self) -> u32 {
        if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.len))
        }
    }
}

pub fn dotted(a: u32) -> String {
    let b = a.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

/// Prefix lengths as in a BGP table: 55% /24, 40% /16–/23, 5% /8–/15 (none longer than /24,
/// which BGP routers filter).
fn prefix_len(rng: &mut Rng) -> u8 {
    match rng.below(100) {
        0..=54 => 24,
        55..=94 => 16 + rng.below(8) as u8,
        _ => 8 + rng.below(8) as u8,
    }
}

/// `count` distinct routes in unicast space (first octet 1–223, not 10 or 127), each with a
/// gateway on its output's subnet (10.OUTPUT.0.0/16) and a random output of [`LOOKUP_OUTPUTS`].
pub fn routes(count: usize, seed: u64) -> Vec<Route> {
    let mut rng = Rng::new(seed);
    let mut seen = HashSet::with_capacity(count);
    let mut routes = Vec::with_capacity(count);
    while routes.len() < count {
        let len = prefix_len(&mut rng);
        let first = loop {
            let octet = 1 + rng.below(223) as u32;
            if octet != 10 && octet != 127 {
                break octet;
            }
        };
        let raw = (first << 24) | (rng.next() as u32 & 0x00ff_ffff);
        let mut route = Route { addr: raw, len, gateway: 0, port: rng.below(u64::from(LOOKUP_OUTPUTS)) as u8 };
        route.addr &= route.mask();
        route.gateway = (10 << 24) | (u32::from(route.port) << 16) | (1 + rng.below(254) as u32);
        if seen.insert((route.addr, route.len)) {
            routes.push(route);
        }
    }
    routes
}

/// Route lines as the `add` handler takes them: `ADDR/LEN GATEWAY OUTPUT`.
pub fn route_text(routes: &[Route]) -> String {
    let mut text = String::with_capacity(routes.len() * 32);
    for r in routes {
        let _ = writeln!(text, "{}/{} {} {}", dotted(r.addr), r.len, dotted(r.gateway), r.port);
    }
    text
}

/// `n` destinations, each inside a route drawn uniformly from `routes` (the host part random),
/// so that every lookup finds a route: that one or a longer one inside it.
pub fn destinations(routes: &[Route], n: usize, seed: u64) -> Vec<u32> {
    let mut rng = Rng::new(seed ^ 0x5eed_d057);
    (0..n)
        .map(|_| {
            let route = routes[rng.below(routes.len() as u64) as usize];
            route.addr | (rng.next() as u32 & !route.mask())
        })
        .collect()
}

/// The Internet checksum of `bytes`.
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Bytes of IPv4 packet the benchmark sends: 46, what fills a minimum (64-byte) Ethernet frame.
pub const IP_PACKET_LEN: usize = 46;

/// A UDP packet of [`IP_PACKET_LEN`] bytes from `src` to `dst`, TTL 64, header checksum right.
pub fn ipv4_udp(src: u32, dst: u32, id: u16) -> [u8; IP_PACKET_LEN] {
    let mut p = [0u8; IP_PACKET_LEN];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(IP_PACKET_LEN as u16).to_be_bytes());
    p[4..6].copy_from_slice(&id.to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src.to_be_bytes());
    p[16..20].copy_from_slice(&dst.to_be_bytes());
    let sum = checksum(&p[..20]);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p[20..22].copy_from_slice(&(1024 + id % 60000).to_be_bytes());
    p[22..24].copy_from_slice(&9u16.to_be_bytes());
    p[24..26].copy_from_slice(&((IP_PACKET_LEN - 20) as u16).to_be_bytes());
    p
}

/// An Ethernet frame (60 bytes, 64 with the FCS) carrying `ip`.
pub fn ethernet(dst_mac: [u8; 6], src_mac: [u8; 6], ip: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(14 + ip.len());
    frame.extend_from_slice(&dst_mac);
    frame.extend_from_slice(&src_mac);
    frame.extend_from_slice(&[0x08, 0x00]);
    frame.extend_from_slice(ip);
    frame
}

/// Source address of the benchmark's packets (TEST-NET-1).
pub const SOURCE_ADDR: u32 = 0xc000_0201;

/// The benchmark graphs built around the same sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Sources straight into the sink.
    Base,
    /// One Counter between them.
    Counter,
    /// One RadixIPLookup between them, empty in the configuration: the routes are added through
    /// its `add` handler.
    Radix,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Base => "base",
            Kind::Counter => "counter",
            Kind::Radix => "radix",
        }
    }
}

/// Burst of every source: the IPv4 router configuration's sources send 10 per run too.
pub const BURST: u32 = 10;

/// A benchmark configuration: `sources` InfiniteSources `s0`… (no limit, BURST [`BURST`]), each
/// sending one packet whose destination is drawn from the routes, into the element under test
/// and the sink `sink` (a Discard, whose `count` counts the packets).
pub fn config(kind: Kind, route_set: &[Route], sources: usize, seed: u64) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "// vdp-bench: the {} graph of `make bench-elements` ({sources} sources; destinations", kind.name());
    let _ = writeln!(text, "// drawn from {} seeded routes, seed {seed}). Generated, not edited.", route_set.len());
    for (i, dst) in destinations(route_set, sources, seed).into_iter().enumerate() {
        let packet = ipv4_udp(SOURCE_ADDR, dst, i as u16);
        let hex: String = packet.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(text, "s{i} :: InfiniteSource(DATA \"\\<{hex}>\", LIMIT -1, BURST {BURST});");
    }
    let _ = writeln!(text, "sink :: Discard;");
    let into = match kind {
        Kind::Base => "sink",
        Kind::Counter => {
            let _ = writeln!(text, "c :: Counter -> sink;");
            "c"
        }
        Kind::Radix => {
            let _ = writeln!(text, "lookup :: RadixIPLookup;");
            for port in 0..LOOKUP_OUTPUTS {
                let _ = writeln!(text, "lookup[{port}] -> sink;");
            }
            "lookup"
        }
    };
    for i in 0..sources {
        let _ = writeln!(text, "s{i} -> {into};");
    }
    text
}

/// The radix configuration with every route written into the element's configuration instead,
/// to show what the compiled graph's size limit makes of it.
pub fn inline_radix_config(route_set: &[Route], sources: usize, seed: u64) -> String {
    let mut text = config(Kind::Radix, route_set, sources, seed);
    let entries: Vec<String> = route_set.iter().map(|r| format!("{}/{} {} {}", dotted(r.addr), r.len, dotted(r.gateway), r.port)).collect();
    text = text.replace("lookup :: RadixIPLookup;", &format!("lookup :: RadixIPLookup({});", entries.join(", ")));
    text
}

/// Ethernet addresses of the router configuration (gre-router.click): its eth1 address and the
/// host behind eth1.
pub const ROUTER_ME1: [u8; 6] = [0x02, 0, 0, 0, 0xb1, 0x01];
pub const ROUTER_HOST1: [u8; 6] = [0x02, 0, 0, 0, 0xb1, 0x02];

/// Frames for the router configuration's eth1: from 10.1.0.2 (behind eth1) to random hosts of
/// 10.2.0.0/24 (behind eth2), which it routes out of eth2.
pub fn router_frames(n: usize, seed: u64) -> impl Iterator<Item = Vec<u8>> {
    let mut rng = Rng::new(seed ^ 0x0007_0a7e);
    (0..n).map(move |i| {
        let dst = 0x0a02_0000 | (1 + rng.below(254) as u32);
        ethernet(ROUTER_ME1, ROUTER_HOST1, &ipv4_udp(0x0a01_0002, dst, i as u16))
    })
}

/// Writes a classic pcap (microsecond timestamps, link type Ethernet) of `frames`, the first at
/// `start_s` and each `gap_us` after the one before.
pub fn write_pcap(out: &mut impl std::io::Write, frames: impl Iterator<Item = Vec<u8>>, start_s: u64, gap_us: u64) -> std::io::Result<u64> {
    let mut header = Vec::with_capacity(24);
    header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&0i32.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    header.extend_from_slice(&65535u32.to_le_bytes());
    header.extend_from_slice(&1u32.to_le_bytes());
    out.write_all(&header)?;
    let mut n = 0u64;
    for frame in frames {
        let t_us = n * gap_us;
        let mut record = Vec::with_capacity(16 + frame.len());
        record.extend_from_slice(&((start_s + t_us / 1_000_000) as u32).to_le_bytes());
        record.extend_from_slice(&((t_us % 1_000_000) as u32).to_le_bytes());
        record.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        record.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        record.extend_from_slice(&frame);
        out.write_all(&record)?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}

/// FNV-1a, 64 bits: names a route set or a compiled graph in the logs, so that the host's and
/// the guest's can be compared.
pub fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
