//! Loads random routes into the longest-prefix-match table and reports insert and lookup rates
//! and memory per route. `cargo run --release -p vdp-core --example lpm_bench [ROUTES]`

#[path = "../tests/common/vec_arena.rs"]
#[allow(dead_code)] // the benchmark needs only part of the test arena
mod vec_arena;

use std::hint::black_box;
use std::time::Instant;
use vdp_core::lpm::{Lpm, Prefix, Route, NODE_BYTES};
use vdp_core::wire::Ipv4Address;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Prefix lengths shaped roughly like a BGP table: most /24, many /16–/23, few shorter.
fn route_len(rng: &mut XorShift) -> u8 {
    match rng.next() % 100 {
        0..=54 => 24,
        55..=89 => 16 + (rng.next() % 8) as u8,
        90..=97 => 8 + (rng.next() % 8) as u8,
        _ => 25 + (rng.next() % 8) as u8,
    }
}

fn main() {
    let routes: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(200_000);
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let prefixes: Vec<Prefix> = (0..routes * 2)
        .map(|_| Prefix::new(Ipv4Address::from_u32(rng.next() as u32), route_len(&mut rng)).unwrap())
        .collect();

    let mut table = Lpm::new(vec_arena::VecArena::default());
    let start = Instant::now();
    let mut attempts = 0usize;
    for prefix in &prefixes {
        if table.len() == routes {
            break;
        }
        attempts += 1;
        let _ = table.add(*prefix, Route { gateway: None, port: (attempts % 16) as u16 });
    }
    let insert = start.elapsed();

    let lookups = 2_000_000usize;
    let addresses: Vec<Ipv4Address> = (0..lookups).map(|_| Ipv4Address::from_u32(rng.next() as u32)).collect();
    let start = Instant::now();
    let mut hits = 0usize;
    for address in &addresses {
        if black_box(table.lookup(*address)).is_some() {
            hits += 1;
        }
    }
    let random = start.elapsed();

    // Addresses inside installed prefixes walk the deepest paths: the harder case.
    let inside: Vec<Ipv4Address> = (0..lookups)
        .map(|i| {
            let prefix = prefixes[i % table.len()];
            Ipv4Address::from_u32(prefix.network().to_u32() | (rng.next() as u32 & !prefix.mask().to_u32()))
        })
        .collect();
    let start = Instant::now();
    for address in &inside {
        black_box(table.lookup(*address));
    }
    let matching = start.elapsed();

    let per_second = |count: usize, elapsed: std::time::Duration| count as f64 / elapsed.as_secs_f64();
    println!("routes               {}", table.len());
    println!("insert               {:.0} routes/s ({:.1} ms for {} adds)", per_second(attempts, insert), insert.as_secs_f64() * 1e3, attempts);
    println!("lookup, random       {:.1} M/s ({:.0} ns each, {:.0}% hit)", per_second(lookups, random) / 1e6, random.as_nanos() as f64 / lookups as f64, 100.0 * hits as f64 / lookups as f64);
    println!("lookup, in-table     {:.1} M/s ({:.0} ns each)", per_second(lookups, matching) / 1e6, matching.as_nanos() as f64 / lookups as f64);
    println!("nodes                {} ({:.2} per route, {} bytes each)", table.node_count(), table.node_count() as f64 / table.len() as f64, NODE_BYTES);
    println!("memory               {:.1} bytes/route ({:.1} MiB)", table.memory_bytes() as f64 / table.len() as f64, table.memory_bytes() as f64 / (1 << 20) as f64);
}
