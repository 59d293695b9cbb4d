//! The container engine's command line, as a library entry point: a tenant's own engine binary
//! calls [`main`] with its custom classes; the stock `vdp-engine` binary calls it with none.
//!
//! ```text
//! vdp-engine run (--channel-fd N | --channel-file PATH) --config FILE --tenant NAME
//!                [--time-limit-ms MS] [--memory-limit BYTES] [--control PATH]
//! ```
//!
//! Exit status: 0 when SIGTERM or SIGINT stopped it; 1 when it could not start (a bad
//! configuration, a channel it cannot map); 2 for a bad command line; [`EXIT_HUNG_UP`] when the
//! channel was replaced or the tenant deleted; [`EXIT_TIME_LIMIT`] when a task run overran the
//! time limit; [`EXIT_TRAP`] when an element trapped.

use super::channel::Channel;
use super::control::Control;
use super::runner::{compile_container_part, Failure, Runner};
use super::watchdog::{limit_memory, Watch, DEFAULT_TIME_LIMIT, EXIT_TIME_LIMIT, EXIT_TRAP};
use clap::{Args, Parser, Subcommand};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

pub use crate::custom::CustomClass;
use crate::custom::CustomClasses;

/// Exit status when the channel was replaced by a newer one or the tenant was deleted.
pub const EXIT_HUNG_UP: u8 = 3;

#[derive(Parser)]
#[command(name = "vdp-engine", about = "Runs a tenant's container part over its channel to the kernel", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a container part until SIGTERM or SIGINT.
    Run(RunArgs),
    /// Prints the declarations of the engine's classes (the built-in ones, then the tenant's)
    /// as JSON: what `vdpctl install` sends the coordinator to check configurations against.
    Describe,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("channel").required(true).args(["channel_fd", "channel_file"])))]
struct RunArgs {
    /// The channel file the coordinator passed (inherited descriptor number).
    #[arg(long, value_name = "N")]
    channel_fd: Option<i32>,
    /// A file or memfd holding a channel region (tests): kicks do nothing, waits poll.
    #[arg(long, value_name = "PATH")]
    channel_file: Option<PathBuf>,
    /// The container part: Click text as the coordinator cut it from the tenant's configuration.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The tenant whose part this is.
    #[arg(long, value_name = "NAME")]
    tenant: String,
    /// Longest one task run may take before the engine stops with an error.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_TIME_LIMIT.as_millis() as u64, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    time_limit_ms: u64,
    /// Caps the engine's address space (RLIMIT_AS), channel mapping included.
    #[arg(long, value_name = "BYTES")]
    memory_limit: Option<u64>,
    /// Serves handler reads and writes of the container part's elements on a unix socket here.
    #[arg(long, value_name = "PATH")]
    control: Option<PathBuf>,
    /// Writes one line `ready` to this inherited descriptor, then closes it, once the graph
    /// runs (`vdpctl engine start` waits for it).
    #[arg(long, value_name = "N")]
    ready_fd: Option<i32>,
}

/// The engine's `main`: parses the command line and runs. `custom` are the classes this
/// engine binary brings (none for the stock `vdp-engine`).
pub fn main(custom: &[CustomClass]) -> ExitCode {
    let cli = Cli::parse();
    let classes = match CustomClasses::new(custom) {
        Ok(classes) => classes,
        Err(e) => return fail(format_args!("this engine's own classes are not valid: {e}")),
    };
    match cli.command {
        Command::Run(args) => run(args, &classes),
        Command::Describe => {
            println!("{}", classes.describe_json());
            ExitCode::SUCCESS
        }
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    super::say!("vdp-engine: {message}");
    ExitCode::from(1)
}

fn run(args: RunArgs, classes: &CustomClasses) -> ExitCode {
    let text = match std::fs::read_to_string(&args.config) {
        Ok(text) => text,
        Err(e) => return fail(format_args!("cannot read {}: {e}", args.config.display())),
    };
    let file_name = args.config.display().to_string();
    let blob = match compile_container_part(&file_name, &text, &args.tenant, classes) {
        Ok(blob) => blob,
        Err(diagnostics) => {
            super::say!("{}", diagnostics.trim_end());
            return fail(format_args!("{file_name} has errors; nothing was run"));
        }
    };
    let fd: OwnedFd = match (args.channel_fd, &args.channel_file) {
        (Some(fd), _) => {
            // SAFETY: F_GETFD only asks whether the descriptor is open.
            if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
                return fail(format_args!("--channel-fd {fd}: no such open file descriptor"));
            }
            // SAFETY: the descriptor is open (checked above) and was handed to this process to
            // own; nothing else in it uses the number.
            unsafe { OwnedFd::from_raw_fd(fd) }
        }
        (None, Some(path)) => match std::fs::OpenOptions::new().read(true).write(true).open(path) {
            Ok(file) => file.into(),
            Err(e) => return fail(format_args!("cannot open {}: {e}", path.display())),
        },
        (None, None) => return fail("no channel given (--channel-fd or --channel-file)"),
    };
    let channel = match Channel::open(fd) {
        Ok(channel) => channel,
        Err(e) => return fail(format_args!("the channel cannot be used: {e}")),
    };
    let mut runner = match Runner::new(&blob, &args.tenant, channel.clone(), classes) {
        Ok(runner) => runner,
        Err(e) => return failure(e, &channel),
    };
    let (interrupt, signalled) = match UnixStream::pair() {
        Ok(pair) => pair,
        Err(e) => return fail(format_args!("cannot make the signal pipe: {e}")),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let registered = signal_hook::flag::register(signal, stop.clone())
            .and_then(|_| signalled.try_clone())
            .and_then(|writer| signal_hook::low_level::pipe::register(signal, writer));
        if let Err(e) = registered {
            return fail(format_args!("cannot handle signal {signal}: {e}"));
        }
    }
    if let Err(e) = interrupt.set_nonblocking(true) {
        return fail(format_args!("cannot make the signal pipe non-blocking: {e}"));
    }
    let mut control = match args.control.as_deref().map(Control::bind).transpose() {
        Ok(control) => control,
        Err(e) => return fail(format_args!("cannot listen on {}: {e}", args.control.as_deref().map(|p| p.display().to_string()).unwrap_or_default())),
    };
    let watch = match Watch::start(runner.elements(), Duration::from_millis(args.time_limit_ms), runner.clock()) {
        Ok(watch) => watch,
        Err(e) => return fail(format_args!("cannot start the watchdog: {e}")),
    };
    if let Some(bytes) = args.memory_limit {
        if let Err(e) = limit_memory(bytes) {
            return fail(format_args!("cannot set the memory limit of {bytes} bytes: {e}"));
        }
    }
    super::say!(
        "vdp-engine: tenant '{}': {} elements, {} tasks over a channel of {} rings of {} slots; time limit {} ms",
        args.tenant,
        runner.graph().element_count(),
        runner.graph().task_count(),
        channel.geometry().rings(),
        channel.geometry().slots(),
        args.time_limit_ms
    );
    if let Some(fd) = args.ready_fd {
        if let Err(e) = say_ready(fd) {
            return fail(format_args!("cannot report readiness on descriptor {fd}: {e}"));
        }
    }
    match runner.run(watch, &stop, &interrupt, control.as_mut()) {
        Ok(()) => {
            summary(&channel);
            ExitCode::SUCCESS
        }
        Err(e) => failure(e, &channel),
    }
}

/// Writes `ready` on the inherited descriptor `fd` and closes it.
fn say_ready(fd: i32) -> std::io::Result<()> {
    use std::io::Write;
    // SAFETY: F_GETFD only asks whether the descriptor is open.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such open file descriptor"));
    }
    // SAFETY: the descriptor is open (checked above) and was handed to this process for this
    // one line; nothing else in it uses the number.
    let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    file.write_all(b"ready\n")
}

/// The boundary counters, written when the engine stops.
fn summary(channel: &Channel) {
    let mut line = String::from("vdp-engine: stopped;");
    channel.for_each_counter(|class, index, name, value| {
        if value != 0 || name == "packets" {
            line.push_str(&format!(" {class}({index}).{name}={value}"));
        }
    });
    if channel.unbound_drops() > 0 {
        line.push_str(&format!(" unbound_down_ring_drops={}", channel.unbound_drops()));
    }
    super::say!("{line}");
}

fn failure(failure: Failure, channel: &Channel) -> ExitCode {
    match failure {
        Failure::Build(text) => fail(format_args!("cannot build the container part: {text}")),
        Failure::Trap(text) => {
            super::say!("vdp-engine: {text}; stopping the engine");
            summary(channel);
            ExitCode::from(EXIT_TRAP)
        }
        Failure::HungUp => {
            super::say!("vdp-engine: the channel was replaced by a newer one or the tenant was deleted; stopping");
            summary(channel);
            ExitCode::from(EXIT_HUNG_UP)
        }
        Failure::Io(text) => {
            summary(channel);
            fail(text)
        }
    }
}

/// Exit statuses, for tests and supervisors.
pub mod status {
    pub use super::super::watchdog::{EXIT_TIME_LIMIT as TIME_LIMIT, EXIT_TRAP as TRAP};
    pub use super::EXIT_HUNG_UP as HUNG_UP;
}

const _: () = assert!(EXIT_TIME_LIMIT != EXIT_TRAP && EXIT_HUNG_UP != EXIT_TIME_LIMIT && EXIT_HUNG_UP != EXIT_TRAP);
