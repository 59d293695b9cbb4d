//! `vdp-fuzz`: a structure-aware fuzzer for the `vdp` generic netlink family.
//!
//! `vdp-fuzz fuzz` sends commands with valid and invalid numbers and attributes (wrong types,
//! lying lengths, truncated and malformed headers, nested garbage, duplicates, strings with and
//! without NULs), and compiled graphs mutated at the record level, installed for real on the
//! system config's tenants and then exercised through their handlers, replaced and removed. It is
//! deterministic from its seed, stops after a message count or a time limit, and prints counts
//! per command and outcome.

mod fuzz;
mod graphs;
mod nl;
mod rng;
mod spec;

// vdpctl's client resolves the family; the fuzzer uses nothing else of it.
#[allow(dead_code)]
use vdp_netlink::netlink;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vdp-fuzz", about = "Fuzz the vdp netlink family")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Send random, malformed and mutated requests; print counts per command and outcome.
    Fuzz(fuzz::FuzzArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fuzz(args) => fuzz::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vdp-fuzz: {e:#}");
            ExitCode::FAILURE
        }
    }
}
