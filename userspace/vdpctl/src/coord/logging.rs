//! The coordinator's log: records of the `log` crate written to stderr, one line each, as
//! `vdpd: MESSAGE`, whatever their level (the journal, or whoever reads stderr, adds the time).
//! `--log-level` or `VDP_LOG` sets the least severe level written: `error` (the coordinator
//! cannot do something it should), `warn` (something refused or left as it was: a reload, a
//! saved configuration that no longer passes, callers over their connection cap), `info` (the
//! default: every action taken, and requests refused or failed), `debug` (every request), `trace`.
//! Records of other crates (netlink's) are written from `warn` up only.

use anyhow::{bail, Result};
use log::{LevelFilter, Log, Metadata, Record};
use std::io::Write as _;

/// The environment variable read for the level when `--log-level` is not given.
pub const ENV: &str = "VDP_LOG";

/// The prefix of every line, which scripts and operators grep for.
pub const PREFIX: &str = "vdpd: ";

/// The level from `--log-level`, else from `VDP_LOG`, else `info`. A value that names no level
/// is an error, not a silent default.
pub fn level(flag: Option<&str>, env: Option<&str>) -> Result<LevelFilter> {
    let (value, from) = match (flag, env.filter(|v| !v.trim().is_empty())) {
        (Some(value), _) => (value, "--log-level"),
        (None, Some(value)) => (value, ENV),
        (None, None) => return Ok(LevelFilter::Info),
    };
    match value.trim().parse::<LevelFilter>() {
        Ok(level) => Ok(level),
        Err(_) => bail!("{from} '{value}' is not a log level: error, warn, info, debug, trace or off"),
    }
}

/// Text on one line: its non-blank lines joined with ` | ` (rendered diagnostics, errors with
/// their causes), so that each record stays one line of the log.
pub fn one_line(text: &str) -> String {
    text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join(" | ")
}

/// The line written for a message, newline included.
pub fn format_line(message: &str) -> String {
    format!("{PREFIX}{}\n", one_line(message))
}

pub struct Logger {
    level: LevelFilter,
}

impl Logger {
    pub fn new(level: LevelFilter) -> Logger {
        Logger { level }
    }

    /// Whether a record of `metadata` is written: this crate's at the level chosen, other
    /// crates' at it but never below `warn`.
    pub fn allows(&self, metadata: &Metadata) -> bool {
        let ours = metadata.target().split("::").next() == Some(env!("CARGO_CRATE_NAME"));
        let most = if ours { self.level } else { self.level.min(LevelFilter::Warn) };
        metadata.level() <= most
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        self.allows(metadata)
    }

    fn log(&self, record: &Record) {
        if !self.allows(record.metadata()) {
            return;
        }
        // One write a line, so that lines from the connection threads never interleave.
        let line = format_line(&record.args().to_string());
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// Makes [`Logger`] at `level` the process's logger. A second call (tests) changes nothing.
pub fn init(level: LevelFilter) {
    if log::set_boxed_logger(Box::new(Logger::new(level))).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use log::Level;

    fn allows(logger: &Logger, level: Level, target: &str) -> bool {
        logger.allows(&Metadata::builder().level(level).target(target).build())
    }

    #[test]
    fn the_level_comes_from_the_flag_then_the_environment() {
        assert_eq!(level(None, None).unwrap(), LevelFilter::Info);
        assert_eq!(level(None, Some("")).unwrap(), LevelFilter::Info);
        assert_eq!(level(None, Some("debug")).unwrap(), LevelFilter::Debug);
        assert_eq!(level(Some("WARN"), Some("debug")).unwrap(), LevelFilter::Warn);
        assert_eq!(level(Some("off"), None).unwrap(), LevelFilter::Off);
        let bad = level(None, Some("loud")).unwrap_err().to_string();
        assert!(bad.contains("VDP_LOG 'loud' is not a log level"), "{bad}");
        let bad = level(Some("verbose"), Some("info")).unwrap_err().to_string();
        assert!(bad.contains("--log-level 'verbose'"), "{bad}");
    }

    #[test]
    fn the_filter_keeps_what_the_level_allows() {
        let target = "vdpctl::coord::daemon";
        let info = Logger::new(LevelFilter::Info);
        assert!(allows(&info, Level::Error, target));
        assert!(allows(&info, Level::Warn, target));
        assert!(allows(&info, Level::Info, target));
        assert!(!allows(&info, Level::Debug, target), "per-request lines are debug");
        let warn = Logger::new(LevelFilter::Warn);
        assert!(!allows(&warn, Level::Info, target));
        assert!(allows(&warn, Level::Warn, target));
        let debug = Logger::new(LevelFilter::Debug);
        assert!(allows(&debug, Level::Debug, target));
        assert!(!allows(&debug, Level::Trace, target));
        let off = Logger::new(LevelFilter::Off);
        assert!(!allows(&off, Level::Error, target));
        // Other crates: warnings and errors only, even at trace.
        let trace = Logger::new(LevelFilter::Trace);
        assert!(!allows(&trace, Level::Debug, "netlink_sys::socket"));
        assert!(allows(&trace, Level::Warn, "netlink_sys::socket"));
        assert!(allows(&trace, Level::Debug, "vdpctl"));
        assert!(!allows(&trace, Level::Debug, "vdpctlx"), "a name that only starts like the crate is another crate");
    }

    #[test]
    fn each_record_is_one_prefixed_line() {
        assert_eq!(format_line("reloaded /etc/vdp/system.toml: 0 added"), "vdpd: reloaded /etc/vdp/system.toml: 0 added\n");
        assert_eq!(
            format_line("reload refused: t.click:1:1: error: x\n  --> t.click:1:1\n  |\n\n  = note: y\n\n"),
            "vdpd: reload refused: t.click:1:1: error: x |   --> t.click:1:1 |   | |   = note: y\n"
        );
    }
}
