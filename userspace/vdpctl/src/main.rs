//! `vdpctl`: the command-line face of vdp.

mod info;
mod netlink;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vdpctl", version, about = "Control the vdp virtualized data plane")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show what the loaded vdp.ko offers: version, element classes, tenants.
    Info(info::InfoArgs),
    /// Low-level protocol tools for testing the kernel's netlink policy.
    #[command(hide = true, subcommand)]
    Debug(info::DebugCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(args) => info::run(&args),
        Command::Debug(cmd) => info::run_debug(&cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("vdpctl: {err:#}");
            info::exit_code_for(&err)
        }
    }
}
