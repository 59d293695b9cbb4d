//! `vdp-bench`: the element-cost benchmark's tool (`make bench-elements`, docs/bench/elements.md).
//!
//! It makes what the benchmark runs on, deterministically from a seed (a BGP-shaped route table,
//! the benchmark's Click configurations, the router's input capture), compiles a configuration
//! exactly as `vdpctl run` does, and times the benchmark graphs in the user-level engine. The
//! same binary runs in the QEMU guest, so the kernel installs the very graphs, routes and
//! packets the user-level figures were measured on (the logs name each by a hash).
//!
//! `vdpctl run`'s compile and engine code is compiled in from vdpctl's own sources rather than
//! copied: the modules below are vdpctl's files.

#![allow(dead_code, unused_imports)]

#[path = "../../device.rs"]
mod device;
#[path = "../../frontend.rs"]
mod frontend;
#[path = "../../graph.rs"]
mod graph;
#[path = "../../output.rs"]
mod output;
#[path = "../../rtnl/mod.rs"]
mod rtnl;
#[path = "../../slices.rs"]
mod slices;
#[path = "../../tenant_ref.rs"]
mod tenant_ref;
use vdp_netlink::{attrs, netlink};
mod run;
mod gen;
mod user;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The seed every generator starts from unless told otherwise.
pub const SEED: u64 = 20_081_209;
/// Sources of the generated graphs: each sends one packet, with its own destination.
pub const SOURCES: usize = 64;

#[derive(Parser)]
#[command(name = "vdp-bench", about = "vdp's element-cost benchmark tool (make bench-elements)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the route table, one `ADDR/LEN GATEWAY OUTPUT` line per route (the `add` format).
    Routes {
        #[arg(long, default_value_t = 167_000)]
        count: usize,
        #[arg(long, default_value_t = SEED)]
        seed: u64,
    },
    /// Print one of the benchmark's Click configurations.
    Config {
        #[arg(value_enum)]
        kind: gen::Kind,
        /// Routes of the table the destinations are drawn from (the same as `routes --count`).
        #[arg(long, default_value_t = 167_000)]
        routes: usize,
        #[arg(long, default_value_t = SEED)]
        seed: u64,
        #[arg(long, default_value_t = SOURCES)]
        sources: usize,
    },
    /// Compile a configuration for one tenant as `vdpctl run` does and write the compiled graph.
    Blob {
        config: PathBuf,
        #[arg(long)]
        system: Option<PathBuf>,
        #[arg(long, default_value = user::TENANT)]
        tenant: String,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write the router's input capture: Ethernet frames into gre-router.click's eth1, for 10.2.0.0/24.
    Pcap {
        #[arg(long, default_value_t = 1_000_000)]
        packets: usize,
        #[arg(long, default_value_t = SEED)]
        seed: u64,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Time the benchmark graphs in the user-level engine; prints `BENCH user ...` lines.
    Elements(user::ElementsArgs),
}

fn main() -> ExitCode {
    match run_command(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vdp-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_command(command: Command) -> Result<()> {
    match command {
        Command::Routes { count, seed } => {
            let text = gen::route_text(&gen::routes(count, seed));
            eprintln!("vdp-bench: {count} routes, {} bytes, hash {:016x}", text.len(), gen::fnv64(text.as_bytes()));
            std::io::stdout().lock().write_all(text.as_bytes())?;
        }
        Command::Config { kind, routes, seed, sources } => {
            print!("{}", gen::config(kind, &gen::routes(routes, seed), sources, seed));
        }
        Command::Blob { config, system, tenant, output } => {
            let prepared = run::prepare::prepare(&config.display().to_string(), system.as_deref(), &tenant)?;
            std::fs::write(&output, &prepared.blob).with_context(|| format!("writing {}", output.display()))?;
            println!("wrote {} bytes={} hash={:016x}", output.display(), prepared.blob.len(), gen::fnv64(&prepared.blob));
        }
        Command::Pcap { packets, seed, output } => {
            let file = std::fs::File::create(&output).with_context(|| format!("creating {}", output.display()))?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            let n = gen::write_pcap(&mut out, gen::router_frames(packets, seed), 1_700_000_000, 1)?;
            println!("wrote {} packets={n}", output.display());
        }
        Command::Elements(args) => user::run(&args)?,
    }
    Ok(())
}
