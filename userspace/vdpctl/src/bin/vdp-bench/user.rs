//! The user-level measurement: each benchmark graph compiled as `vdpctl run` compiles it and run
//! by the user-level engine, timed with the TSC, the wall clock and the thread's CPU time.
//!
//! Every line of results starts with `BENCH user`; `scripts/bench-elements.sh` makes the tables.

use crate::gen::{self, Kind, Route};
use crate::run::{engine, prepare};
use anyhow::{anyhow, bail, Context, Result};
use std::path::PathBuf;
use std::time::Instant;
use vdp_click::system::SystemConfig;
use vdp_engine::Engine;

pub const TENANT: &str = "bench";

#[derive(clap::Args, Debug)]
pub struct ElementsArgs {
    /// Routes in the lookup element's table.
    #[arg(long, default_value_t = 167_000)]
    pub routes: usize,
    #[arg(long, default_value_t = crate::SEED)]
    pub seed: u64,
    /// Sources in the generated graphs.
    #[arg(long, default_value_t = crate::SOURCES)]
    pub sources: usize,
    /// Packets per timed run of a source-driven graph.
    #[arg(long, default_value_t = 2_000_000)]
    pub packets: u64,
    /// Frames per timed run of a device-driven graph.
    #[arg(long, default_value_t = 1_000_000)]
    pub device_packets: usize,
    /// Timed runs of every graph (after one untimed warm-up run), interleaved.
    #[arg(long, default_value_t = 7)]
    pub repeat: u32,
    /// The benchmark's system config (its one tenant, `bench`, and the limits).
    #[arg(long)]
    pub system: PathBuf,
    /// The IPv4 router configuration driven by its own sources (ip-router.click).
    #[arg(long)]
    pub router: PathBuf,
    /// The IPv4 router between two devices (gre-router.click), fed with frames.
    #[arg(long)]
    pub device_router: Option<PathBuf>,
}

/// What drives a graph and what must have seen every packet.
enum Feed {
    /// InfiniteSources whose limits make one run send `packets` in all; their `count`s add up to
    /// the packets sent.
    Sources { limits: Vec<(String, u64)>, silenced: Vec<String> },
    /// Frames of `len` bytes, back to back in `frames`, arriving on `device`; frames sent on
    /// `transmits` are taken away as they come.
    Device { device: String, frames: Vec<u8>, len: usize, transmits: Option<String> },
}

struct Case {
    name: String,
    engine: Engine,
    feed: Feed,
    /// Elements whose `count` must grow by the packets sent in every run (Discards, Counters).
    delivered: Vec<String>,
}

struct Sample {
    packets: u64,
    tsc: u64,
    wall_ns: u64,
    cpu_ns: u64,
}

fn tsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: RDTSC has no preconditions; it reads the time-stamp counter.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        0
    }
}

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn element(name: &str) -> String {
    format!("{TENANT}/{name}")
}

fn read_u64(engine: &Engine, target: &str, handler: &str) -> Result<u64> {
    let text = engine.read_handler(target, handler).map_err(|e| anyhow!("reading {target}.{handler}: {e:?}"))?;
    text.trim().parse().with_context(|| format!("{target}.{handler} reads '{text}'"))
}

fn write(engine: &mut Engine, target: &str, handler: &str, value: &str) -> Result<()> {
    engine.write_handler(target, handler, value).map_err(|e| anyhow!("writing {target}.{handler}: {e:?}"))
}

/// Compiles `text` for the bench tenant as `vdpctl run` does and makes the engine as it does.
fn build(file_name: &str, text: &str, system: Option<SystemConfig>) -> Result<(Engine, Vec<u8>)> {
    let prepared = match prepare::prepare_text(file_name, text, system, TENANT) {
        Ok(prepared) => prepared,
        Err(prepare::Unprepared::Refused(diagnostics)) => bail!("{file_name} is refused:\n{diagnostics}"),
        Err(prepare::Unprepared::Failed(e)) => return Err(e),
    };
    let engine = engine::start(&prepared).map_err(|e| anyhow!("{file_name}: cannot start the engine: {e}"))?;
    Ok((engine, prepared.blob))
}

/// Adds `routes` to `target` through its `add` handler, in the writes `vdpctl handler write
/// --file` would make; returns (writes, seconds).
fn load_routes(engine: &mut Engine, target: &str, routes: &[Route]) -> Result<(usize, f64)> {
    let text = gen::route_text(routes);
    let chunks = crate::graph::line_chunks(&text, vdp_core::uapi::HANDLER_VALUE_MAX)?;
    let start = Instant::now();
    for chunk in &chunks {
        write(engine, target, "add", chunk)?;
    }
    Ok((chunks.len(), start.elapsed().as_secs_f64()))
}

fn source_case(args: &ElementsArgs, kind: Kind, routes: &[Route], system: &SystemConfig) -> Result<Case> {
    let text = gen::config(kind, routes, args.sources, args.seed);
    let (mut engine, blob) = build(&format!("{}.click", kind.name()), &text, Some(system.clone()))?;
    println!("BENCH user blob case={} bytes={} hash={:016x}", kind.name(), blob.len(), gen::fnv64(&blob));
    if kind == Kind::Radix {
        let (writes, seconds) = load_routes(&mut engine, &element("lookup"), routes)?;
        println!("BENCH user route_load case=radix routes={} writes={writes} seconds={seconds:.4}", routes.len());
    }
    let per_source = args.packets / args.sources as u64;
    let limits = (0..args.sources).map(|i| (element(&format!("s{i}")), per_source)).collect();
    let mut delivered = vec![element("sink")];
    if kind == Kind::Counter {
        delivered.push(element("c"));
    }
    Ok(Case { name: kind.name().to_string(), engine, feed: Feed::Sources { limits, silenced: vec![] }, delivered })
}

/// ip-router.click: its udp and tcp sources share the packets; the four-packet-type test
/// sources (bad checksums, TTL 1) are silenced, as they are spent in the kernel after their few
/// packets.
fn router_case(args: &ElementsArgs, system: &SystemConfig) -> Result<Case> {
    let text = std::fs::read_to_string(&args.router).with_context(|| format!("reading {}", args.router.display()))?;
    let (engine, blob) = build(&args.router.display().to_string(), &text, Some(system.clone()))?;
    println!("BENCH user blob case=router bytes={} hash={:016x}", blob.len(), gen::fnv64(&blob));
    let half = args.packets / 2;
    let limits = vec![(element("udp"), half), (element("tcp"), half)];
    let silenced = vec![element("bad"), element("old")];
    // UDP packets leave through `valid` (routed, TTL decremented, re-encapsulated, checked
    // again), TCP ones through `r1` (routed by a gateway route).
    Ok(Case { name: "router".into(), engine, feed: Feed::Sources { limits, silenced }, delivered: vec![] })
}

fn device_case(name: &str, text: &str, frames: Vec<Vec<u8>>, transmits: Option<&str>, delivered: Vec<String>) -> Result<Case> {
    let (engine, blob) = build(&format!("{name}.click"), text, None)?;
    println!("BENCH user blob case={name} bytes={} hash={:016x}", blob.len(), gen::fnv64(&blob));
    let len = frames[0].len();
    let flat: Vec<u8> = frames.into_iter().inspect(|f| assert_eq!(f.len(), len)).flatten().collect();
    Ok(Case { name: name.into(), engine, feed: Feed::Device { device: "eth1".into(), frames: flat, len, transmits: transmits.map(String::from) }, delivered })
}

fn prepare_sources(engine: &mut Engine, limits: &[(String, u64)], silenced: &[String]) -> Result<()> {
    for (source, limit) in limits {
        write(engine, source, "limit", &limit.to_string())?;
    }
    for source in silenced {
        write(engine, source, "limit", "0")?;
    }
    Ok(())
}

fn measure(case: &mut Case) -> Result<Sample> {
    let engine = &mut case.engine;
    if let Feed::Sources { limits, .. } = &case.feed {
        for (source, _) in limits {
            write(engine, source, "reset", "")?;
        }
    }
    let before: Vec<u64> = case.delivered.iter().map(|e| read_u64(engine, e, "count")).collect::<Result<_>>()?;
    let (t0, c0, w0) = (tsc(), thread_cpu_ns(), Instant::now());
    let mut transmitted = 0u64;
    match &case.feed {
        Feed::Sources { .. } => {
            engine.run(u64::MAX, u64::MAX)?;
        }
        Feed::Device { device, frames, len, transmits } => {
            for (i, frame) in frames.chunks_exact(*len).enumerate() {
                engine.receive(device, frame, 0)?;
                if let (Some(out), 0) = (transmits, i % 1024) {
                    transmitted += engine.take_transmitted(out)?.len() as u64;
                }
            }
            engine.run(u64::MAX, u64::MAX)?;
            if let Some(out) = transmits {
                transmitted += engine.take_transmitted(out)?.len() as u64;
            }
        }
    }
    let (t1, c1, wall) = (tsc(), thread_cpu_ns(), w0.elapsed());
    let packets = match &case.feed {
        Feed::Sources { limits, .. } => limits.iter().map(|(s, _)| read_u64(engine, s, "count")).sum::<Result<u64>>()?,
        Feed::Device { frames, len, transmits, .. } => {
            let n = (frames.len() / len) as u64;
            if transmits.is_some() && transmitted != n {
                bail!("{}: {transmitted} of {n} frames came out", case.name);
            }
            n
        }
    };
    for (e, b) in case.delivered.iter().zip(before) {
        let got = read_u64(engine, e, "count")? - b;
        if got != packets {
            bail!("{}: {e} saw {got} of {packets} packets", case.name);
        }
    }
    Ok(Sample { packets, tsc: t1 - t0, wall_ns: wall.as_nanos() as u64, cpu_ns: c1 - c0 })
}

/// The router's own check: every UDP packet came out of `valid`, every TCP one out of `r1`.
fn router_check(case: &Case, before: (u64, u64), sample: &Sample) -> Result<()> {
    let valid = read_u64(&case.engine, &element("valid"), "count")? - before.0;
    let r1 = read_u64(&case.engine, &element("r1"), "count")? - before.1;
    if valid + r1 != sample.packets {
        bail!("router: {valid} valid + {r1} via the gateway of {} packets", sample.packets);
    }
    Ok(())
}

pub fn run(args: &ElementsArgs) -> Result<()> {
    if args.sources == 0 || args.packets < args.sources as u64 {
        bail!("need at least one source and one packet per source");
    }
    let system = crate::frontend::read_system(&args.system)?;
    let routes = gen::routes(args.routes, args.seed);
    let text = gen::route_text(&routes);
    println!("BENCH user routes count={} bytes={} hash={:016x}", routes.len(), text.len(), gen::fnv64(text.as_bytes()));
    let lens = routes.iter().fold([0usize; 33], |mut n, r| {
        n[r.len as usize] += 1;
        n
    });
    println!("BENCH user route_lengths /24={} /16-/23={} /8-/15={}", lens[24], lens[16..24].iter().sum::<usize>(), lens[8..16].iter().sum::<usize>());

    // The whole table in the configuration: what the compiled graph's size limit says.
    let inline = gen::inline_radix_config(&routes, args.sources, args.seed);
    match prepare::prepare_text("inline-radix.click", &inline, Some(system.clone()), TENANT) {
        Ok(prepared) => println!("BENCH user inline routes={} accepted bytes={}", routes.len(), prepared.blob.len()),
        Err(prepare::Unprepared::Refused(why)) => {
            println!("BENCH user inline routes={} refused=\"{}\"", routes.len(), why.lines().next().unwrap_or("").replace('"', "'"))
        }
        Err(prepare::Unprepared::Failed(e)) => return Err(e),
    }

    let mut cases = Vec::new();
    for kind in [Kind::Base, Kind::Counter, Kind::Radix] {
        cases.push(source_case(args, kind, &routes, &system)?);
    }
    cases.push(router_case(args, &system)?);
    // Device-driven: one frame at a time through FromDevice, destinations all different.
    let n = args.device_packets;
    let to_routes = |seed| gen::destinations(&routes, n, seed).into_iter().enumerate().map(|(i, d)| gen::ethernet([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], &gen::ipv4_udp(gen::SOURCE_ADDR, d, i as u16))).collect::<Vec<_>>();
    let base = "FromDevice(eth1, BURST 10) -> Strip(14) -> sink :: Discard;\n";
    cases.push(device_case("dev-base", base, to_routes(args.seed + 1), None, vec![element("sink")])?);
    let mut radix = String::from("FromDevice(eth1, BURST 10) -> Strip(14) -> lookup :: RadixIPLookup;\nsink :: Discard;\n");
    for port in 0..gen::LOOKUP_OUTPUTS {
        radix.push_str(&format!("lookup[{port}] -> sink;\n"));
    }
    cases.push(device_case("dev-radix", &radix, to_routes(args.seed + 1), None, vec![element("sink")])?);
    let (_, seconds) = load_routes(&mut cases.last_mut().unwrap().engine, &element("lookup"), &routes)?;
    println!("BENCH user route_load case=dev-radix routes={} seconds={seconds:.4}", routes.len());
    if let Some(path) = &args.device_router {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let frames: Vec<Vec<u8>> = gen::router_frames(n, args.seed).collect();
        cases.push(device_case("dev-router", &text, frames, Some("eth2"), vec![])?);
    }

    for case in &mut cases {
        if let Feed::Sources { limits, silenced } = &case.feed {
            let (limits, silenced) = (limits.clone(), silenced.clone());
            prepare_sources(&mut case.engine, &limits, &silenced)?;
        }
    }
    let (mut all_tsc, mut all_ns) = (0u64, 0u64);
    for rep in 0..=args.repeat {
        for case in &mut cases {
            let router_before = if case.name == "router" {
                Some((read_u64(&case.engine, &element("valid"), "count")?, read_u64(&case.engine, &element("r1"), "count")?))
            } else {
                None
            };
            let sample = measure(case)?;
            if let Some(before) = router_before {
                router_check(case, before, &sample)?;
            }
            // Run 0 warms caches and allocators up and is not reported.
            if rep == 0 {
                continue;
            }
            all_tsc += sample.tsc;
            all_ns += sample.wall_ns;
            println!(
                "BENCH user sample case={} rep={rep} packets={} tsc={} wall_ns={} cpu_ns={}",
                case.name, sample.packets, sample.tsc, sample.wall_ns, sample.cpu_ns
            );
        }
    }
    println!("BENCH user tsc_hz={:.0}", all_tsc as f64 * 1e9 / all_ns as f64);
    Ok(())
}
