//! `vdp-fuzz`: a structure-aware fuzzer for the `vdp` generic netlink family, and a graph churn
//! driver.
//!
//! `vdp-fuzz fuzz` sends commands with valid and invalid numbers and attributes (wrong types,
//! lying lengths, truncated and malformed headers, nested garbage, duplicates, strings with and
//! without NULs), and compiled graphs mutated at the record level, installed for real on the
//! system config's tenants and then exercised through their handlers, replaced and removed. It is
//! deterministic from its seed, stops after a message count or a time limit, and prints counts
//! per command and outcome.
//!
//! `vdp-fuzz churn` installs and removes one tenant's graph in a tight loop and prints the rate.

mod fuzz;
mod graphs;
mod nl;
mod rng;
mod spec;

// vdpctl's client resolves the family; the fuzzer uses nothing else of it.
#[allow(dead_code)]
#[path = "../../vdpctl/src/netlink.rs"]
mod netlink;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vdp-fuzz", about = "Fuzz the vdp netlink family, or churn a tenant's graph")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Send random, malformed and mutated requests; print counts per command and outcome.
    Fuzz(fuzz::FuzzArgs),
    /// Install and remove one tenant's graph ITERATIONS times as fast as the module allows.
    Churn(ChurnArgs),
}

#[derive(clap::Args)]
pub struct ChurnArgs {
    /// Tenant id in the module.
    #[arg(long)]
    tenant: u32,
    /// Tenant name in the system config (the graph is compiled for it).
    #[arg(long)]
    name: String,
    /// System config the graph is compiled against.
    #[arg(long)]
    system: PathBuf,
    /// Click configurations installed in turn; after each one the graph is removed.
    #[arg(required = true)]
    configs: Vec<PathBuf>,
    #[arg(long, default_value_t = 10_000)]
    iterations: u64,
    /// Replace the running graph with the next one instead of removing it in between.
    #[arg(long)]
    hotswap: bool,
}

fn churn(args: &ChurnArgs) -> anyhow::Result<()> {
    use vdp_core::uapi::{attr, cmd};
    let system_text = std::fs::read_to_string(&args.system)?;
    let system = vdp_click::system::SystemConfig::parse(&system_text).map_err(|e| anyhow::anyhow!("{}: {e:?}", args.system.display()))?;
    let mut blobs = Vec::new();
    for path in &args.configs {
        let text = std::fs::read_to_string(path)?;
        let (_, blob) = graphs::compile_config(&system, &args.name, &path.display().to_string(), &text).map_err(|e| anyhow::anyhow!(e))?;
        blobs.push(blob);
    }
    let family = netlink::VdpSocket::connect()?.family_id();
    let mut sock = nl::RawSocket::open()?;
    let request = |sock: &mut nl::RawSocket, command: u8, blob: Option<&[u8]>| -> anyhow::Result<()> {
        let mut body = nl::Body::default();
        body.u32(attr::TENANT_ID, args.tenant);
        if let Some(blob) = blob {
            body.attr(attr::GRAPH, blob);
        }
        let seq = sock.next_seq();
        let bytes = nl::message(family, nl::NLM_F_REQUEST | nl::NLM_F_ACK, seq, command, vdp_core::uapi::FAMILY_VERSION, &body.0);
        match sock.transact(&bytes, seq)?.0 {
            nl::Outcome::Accepted => Ok(()),
            other => anyhow::bail!("command {command} refused: {}", other.label()),
        }
    };
    let start = std::time::Instant::now();
    let (mut installs, mut removes) = (0u64, 0u64);
    for i in 0..args.iterations {
        let blob = &blobs[(i as usize) % blobs.len()];
        request(&mut sock, cmd::GRAPH_INSTALL, Some(blob)).map_err(|e| e.context(format!("install {i}")))?;
        installs += 1;
        if !args.hotswap {
            request(&mut sock, cmd::GRAPH_REMOVE, None).map_err(|e| e.context(format!("remove {i}")))?;
            removes += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "VDP-CHURN iterations={} installs={installs} removes={removes} seconds={secs:.2} rate={:.0}/s",
        args.iterations,
        (installs + removes) as f64 / secs.max(1e-9)
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fuzz(args) => fuzz::run(&args),
        Command::Churn(args) => churn(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vdp-fuzz: {e:#}");
            ExitCode::FAILURE
        }
    }
}
