//! `vdpctl`: the command-line face of vdp.

mod atomic;
mod channel_test;
mod coord;
mod cpu_list;
mod device;
mod fpga;
mod frontend;
mod graph;
mod info;
mod manual;
mod output;
mod pretty;
mod rtnl;
mod run;
mod slices;
mod stats;
mod tenant;
mod tenant_ref;
#[cfg(test)]
mod testdir;
mod top;

// The family's typed attributes and client, shared with vdp-bench and vdp-fuzz.
use vdp_netlink::{attrs, netlink};

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "vdpctl",
    version,
    about = "Control the vdp virtualized data plane",
    long_about = "Control the vdp virtualized data plane.\n\n\
        Object commands take the verbs add, del, show (alias list) and set, as iproute2's do \
        (older spellings stay as aliases); a tenant is named by its id or its name. The output \
        flags -j, -p and -s go before or after the command.",
    after_long_help = "See docs/cli.md for the grammar, `vdpctl completions SHELL` for shell completion and \
        `vdpctl man DIR` for manual pages."
)]
pub struct Cli {
    #[command(flatten)]
    output: output::Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show what the loaded vdp.ko offers: version, element classes, tenants.
    Info,
    /// Add, delete and show tenants in the module (root only).
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Per-tenant scheduling parameters in the module (root only).
    #[command(subcommand)]
    Sched(tenant::SchedCommand),
    /// Set (install), delete and show tenants' compiled graphs in the module (root only).
    #[command(subcommand)]
    Graph(graph::GraphCommand),
    /// Read and write element handlers in the module (root only).
    #[command(subcommand)]
    Handler(graph::HandlerCommand),
    /// Physical devices vdp carries tunnels over: add (attach), del (detach), show (root only).
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
    /// A live view of each tenant's and each element's packets per second, drops, and CPU share
    /// against its cap and throttling, refreshed in place on the terminal; with -j one JSON line
    /// per interval instead (standard output that is not a terminal needs -j). Read where
    /// `stats` reads: inside a container, a tenant sees only itself.
    Top(top::TopArgs),
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
    /// Print a shell completion script for vdpctl (bash, zsh, fish, elvish, powershell).
    Completions(manual::CompletionsArgs),
    /// Write vdpctl's manual pages, one per command (vdpctl.1, vdpctl-tenant.1, ...), into DIR.
    Man(manual::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Daemon(_) | Command::Engine(_)) {
        default_sigpipe();
    }
    match dispatch(&cli.command, &cli.output) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("vdpctl: {err:#}");
            info::exit_code_for(&err)
        }
    }
}

/// A command whose output goes to `head` or `grep -q` ends quietly when the reader goes away,
/// as C tools do, instead of panicking in `println!`. The coordinator and the container engine
/// keep Rust's default (SIGPIPE ignored): they write to sockets and check every write.
fn default_sigpipe() {
    // SAFETY: setting a signal's disposition at start-up, before any thread is started, races
    // with nothing; SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn dispatch(command: &Command, out: &output::Output) -> anyhow::Result<ExitCode> {
    match command {
        Command::Info => info::run(out),
        Command::Debug(cmd) => info::run_debug(cmd, out),
        Command::ChannelTest(cmd) => {
            out.text_only("channel-test")?;
            channel_test::run(cmd)
        }
        Command::Tenant(cmd) => tenant::run_tenant(cmd, out),
        Command::Graph(cmd) => graph::run_graph(cmd, out),
        Command::Handler(cmd) => graph::run_handler(cmd, out),
        Command::Sched(cmd) => tenant::run_sched(cmd, out),
        Command::Port(cmd) => device::run_port(cmd, out),
        // Inside a container the family is invisible: the coordinator answers a cap change (and
        // refuses it).
        Command::Vdev(device::VdevCommand::Shape { name, rate, .. })
            if matches!(netlink::VdpSocket::connect(), Err(netlink::NlError::FamilyNotFound))
                && std::path::Path::new(coord::protocol::DEFAULT_SOCKET).exists() =>
        {
            coord::client::run_shape_set(name.as_deref(), rate, out)
        }
        Command::Vdev(cmd) => device::run_vdev(cmd, out),
        Command::System(cmd) => device::run_system(cmd, out),
        Command::Stats(args) => stats::run_stats(args, out),
        Command::Monitor(args) => stats::run_monitor(args, out),
        Command::Top(args) => top::run(args, out),
        Command::Daemon(args) => {
            out.text_only("daemon")?;
            coord::daemon::run(args)
        }
        Command::Install(args) => coord::client::run_install(args, out),
        Command::Remove(args) => coord::client::run_remove(args, out),
        Command::Engine(cmd) => coord::engine::run(cmd, out),
        Command::Show(args) => coord::client::run_show(args, out),
        Command::Read(args) => coord::client::run_read(args, out),
        Command::Write(args) => coord::client::run_write(args, out),
        Command::Check(args) => frontend::run_check(args, out),
        Command::Flatten(args) => frontend::run_flatten(args, out),
        Command::Merge(args) => frontend::run_merge(args, out),
        Command::Pretty(args) => pretty::run(args, out),
        Command::Compile(args) => frontend::run_compile(args, out),
        Command::Classes(args) => frontend::run_classes(args, out),
        Command::Run(args) => {
            out.text_only("run")?;
            run::run(args, run::engine::start)
        }
        Command::Fpga(args) => fpga::run(args, out),
        Command::Completions(args) => {
            out.text_only("completions")?;
            manual::run_completions(args)
        }
        Command::Man(args) => {
            out.text_only("man")?;
            manual::run_man(args)
        }
    }
}
