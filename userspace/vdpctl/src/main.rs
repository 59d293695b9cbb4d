//! `vdpctl`: the command-line face of vdp.

mod atomic;
mod channel_test;
mod coord;
mod device;
mod fpga;
mod frontend;
mod graph;
mod info;
mod netlink;
mod pretty;
mod run;
mod stats;
mod tenant;
#[cfg(test)]
mod testdir;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "vdpctl",
    version,
    about = "Control the vdp virtualized data plane"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show what the loaded vdp.ko offers: version, element classes, tenants.
    Info(info::InfoArgs),
    /// Create, delete and show tenants in the module (root only).
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Per-tenant scheduling parameters in the module (root only).
    #[command(subcommand)]
    Sched(tenant::SchedCommand),
    /// Install, remove and read tenants' compiled graphs in the module (root only).
    #[command(subcommand)]
    Graph(graph::GraphCommand),
    /// Read and write element handlers in the module (root only).
    #[command(subcommand)]
    Handler(graph::HandlerCommand),
    /// Physical devices vdp carries tunnels over (root only).
    #[command(subcommand)]
    Port(device::PortCommand),
    /// Tenants' virtual devices: GRE tunnels over the physical devices (root only).
    #[command(subcommand)]
    Vdev(device::VdevCommand),
    /// Bring the module in line with a system config: tenants, ports, virtual devices.
    #[command(subcommand)]
    System(device::SystemCommand),
    /// Per-tenant and per-element statistics: from the module (the STATS dump), or from the
    /// coordinator when the module is out of reach (inside a container) or --socket is given.
    Stats(stats::StatsArgs),
    /// Print the module's notifications: tenants, graph installs and removals, route changes
    /// (root only).
    Monitor(stats::MonitorArgs),
    /// Run the coordinator: tenants' configurations in, checked and installed graphs out
    /// (root context; see docs/coordinator.md).
    Daemon(coord::daemon::DaemonArgs),
    /// Install a Click configuration for your tenant through the coordinator, replacing the
    /// current one (exit 0 installed, 1 refused or invalid, 3 coordinator or module unreachable).
    Install(coord::client::InstallArgs),
    /// Remove your tenant's configuration through the coordinator.
    Remove(coord::client::PlainArgs),
    /// Start, stop or look at your tenant's container engine (the part of your configuration
    /// that runs in your container; see docs/multi-level.md).
    #[command(subcommand)]
    Engine(coord::engine::EngineCommand),
    /// Show your tenant's installed configuration, its tasks and their threads.
    Show(coord::client::ShowArgs),
    /// Read ELEMENT.HANDLER of your tenant's graph through the coordinator.
    Read(coord::client::ReadArgs),
    /// Write ELEMENT.HANDLER [VALUE] of your tenant's graph through the coordinator.
    Write(coord::client::WriteArgs),
    /// Low-level protocol tools for testing the kernel's netlink policy.
    #[command(hide = true, subcommand)]
    Debug(info::DebugCommand),
    /// A test client of the kernel's channel device /dev/vdp (the channel QEMU scenario).
    #[command(hide = true, subcommand)]
    ChannelTest(channel_test::ChannelTestCommand),
    /// Check Click configurations against the element catalog (exit 0 valid, 1 invalid).
    Check(frontend::CheckArgs),
    /// Print a configuration with compounds expanded and variables substituted.
    Flatten(frontend::FlattenArgs),
    /// Merge tenant configurations into one graph, each tenant's elements prefixed with its name.
    Merge(frontend::MergeArgs),
    /// Show a configuration as vdp would run it: its ports, tasks and threads, as Click text or
    /// as a Graphviz picture (--dot).
    Pretty(pretty::PrettyArgs),
    /// Merge tenant configurations and write the compiled graph the kernel installs.
    Compile(frontend::CompileArgs),
    /// List the supported element classes.
    Classes(frontend::ClassesArgs),
    /// Run a tenant configuration in user space over pcap captures, on a virtual clock.
    Run(run::RunArgs),
    /// The FPGA level: a configuration to Verilog for a board, its simulation, its handlers.
    Fpga(fpga::FpgaArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(args) => info::run(&args),
        Command::Debug(cmd) => info::run_debug(&cmd),
        Command::ChannelTest(cmd) => channel_test::run(&cmd),
        Command::Tenant(cmd) => tenant::run_tenant(&cmd),
        Command::Graph(cmd) => graph::run_graph(&cmd),
        Command::Handler(cmd) => graph::run_handler(&cmd),
        Command::Sched(cmd) => tenant::run_sched(&cmd),
        Command::Port(cmd) => device::run_port(&cmd),
        Command::Vdev(cmd) => device::run_vdev(&cmd),
        Command::System(cmd) => device::run_system(&cmd),
        Command::Stats(args) => stats::run_stats(&args),
        Command::Monitor(args) => stats::run_monitor(&args),
        Command::Daemon(args) => coord::daemon::run(&args),
        Command::Install(args) => coord::client::run_install(&args),
        Command::Remove(args) => coord::client::run_remove(&args),
        Command::Engine(cmd) => coord::engine::run(&cmd),
        Command::Show(args) => coord::client::run_show(&args),
        Command::Read(args) => coord::client::run_read(&args),
        Command::Write(args) => coord::client::run_write(&args),
        Command::Check(args) => frontend::run_check(&args),
        Command::Flatten(args) => frontend::run_flatten(&args),
        Command::Merge(args) => frontend::run_merge(&args),
        Command::Pretty(args) => pretty::run(&args),
        Command::Compile(args) => frontend::run_compile(&args),
        Command::Classes(args) => frontend::run_classes(&args),
        Command::Run(args) => run::run(&args, run::engine::start),
        Command::Fpga(args) => fpga::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("vdpctl: {err:#}");
            info::exit_code_for(&err)
        }
    }
}
