//! The container engine: the process that runs a tenant's container part inside its
//! container, joined to the tenant's kernel part by the channel (`kmod/core/channel.rs`,
//! `docs/container-engine.md`).
//!
//! - [`mapping`]: the channel region mapped from its file, as a `Region`;
//! - [`channel`]: the rings' ends the boundary elements bind, kicks and waits;
//! - [`runner`]: the container part compiled from Click text and run in real time;
//! - [`watchdog`]: the per-task-run time limit, traps, the memory limit;
//! - [`control`]: the handler socket;
//! - [`cli`]: the command line, [`main`] for engine binaries.

/// Writes a line to stderr, the tenant's log; a log that went away does not stop the engine
/// (`eprintln!` would panic).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use say;

pub mod channel;
pub mod cli;
pub mod control;
pub mod mapping;
pub mod runner;
pub mod watchdog;

pub use channel::{Channel, ChannelError, LoopbackBinder, RingEnd};
pub use cli::{main, CustomClass};
