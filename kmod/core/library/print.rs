//! Print: logs each packet's length and first bytes, at most RATE lines per second, so a busy
//! path can never flood the log (the kernel's, or the user-level engine's). A line is
//! `LABEL: LEN | HEX`, the bytes in groups of four, after the platform's own prefix (`vdp: ` in
//! the kernel log); the label is reduced to log-safe characters (`ip_actions::log_safe`).
//!
//! The line is formatted straight into the log ([`Platform::log`]): nothing is allocated for it
//! on the packet path.

use crate::catalog::{base, int, keyword, positional, ArgKind, ElementClass};
use crate::element::agnostic::Action;
use crate::element::handler::{handlers, parse_bool, reply, HandlerError};
use crate::element::{Build, ConstructError, PacketBuf, Platform, Vector};
use crate::ip_actions::log_safe;
use crate::token_bucket::TokenBucket;
use core::fmt::{self, Write as _};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// Print's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[
        positional("LABEL", ArgKind::String, Some("\"\"")),
        keyword("MAXLENGTH", int(0, 1500), Some("24")),
        keyword("RATE", int(1, 1000), Some("10")),
    ],
    cost_cycles: 2000,
    ..base("Print", "Logs packet contents, at most RATE lines per second")
};

handlers! {
    pub enum Read {
        Active = "active": Boolean,
    }
}

handlers! {
    pub enum Write {
        Active = "active": Boolean,
    }
}

/// Longest label kept, and most packet bytes shown, whatever MAXLENGTH says: one log line.
const MAX_LABEL: usize = 64;
const MAX_SHOWN: usize = 256;

pub struct Print<P: Platform> {
    /// LABEL's first [`MAX_LABEL`] bytes as given; made log-safe as they are printed.
    label: Vector<P, u8>,
    max_length: usize,
    lines: P::Locked<TokenBucket>,
    active: AtomicBool,
    /// Lines not printed because of the rate limit.
    suppressed: AtomicU64,
}

/// One log line, formatted as it is written.
struct Line<'a> {
    label: &'a [u8],
    len: usize,
    shown: &'a [u8],
}

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.label {
            f.write_char(log_safe(*byte))?;
        }
        write!(f, ": {:4} |", self.len)?;
        for (index, byte) in self.shown.iter().enumerate() {
            if index % 4 == 0 {
                f.write_char(' ')?;
            }
            write!(f, "{:02x}", byte)?;
        }
        Ok(())
    }
}

impl<P: Platform> Action<P> for Print<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let label = build.args.bytes("LABEL").unwrap_or(&[]);
        let label = Vector::from_slice(label.get(..MAX_LABEL).unwrap_or(label))?;
        let rate = build.int_as("RATE")?;
        let max_length: usize = build.int_as("MAXLENGTH")?;
        Ok(Print {
            label,
            max_length: max_length.min(MAX_SHOWN),
            lines: P::locked(TokenBucket::new(rate, rate, P::now_ns()))?,
            active: AtomicBool::new(true),
            suppressed: AtomicU64::new(0),
        })
    }

    fn act(&self, packet: P::Packet) -> Option<(u16, P::Packet)> {
        if self.active.load(Relaxed) {
            let now = P::now_ns();
            // Logged after the lock is released.
            let allowed = P::lock(&self.lines).try_take(now, 1);
            if allowed {
                let data = packet.data();
                let shown = data.get(..self.max_length.min(data.len())).unwrap_or(&[]);
                P::log(format_args!("{}", Line { label: &self.label, len: data.len(), shown }));
            } else {
                self.suppressed.fetch_add(1, Relaxed);
            }
        }
        Some((0, packet))
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Active => reply(write!(out, "{}", self.active.load(Relaxed))),
        }
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::Active => self.active.store(parse_bool(value)?, Relaxed),
        }
        Ok(())
    }
}
