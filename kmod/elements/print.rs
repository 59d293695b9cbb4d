//! Print: logs each packet's length and first bytes, at most RATE lines per second, so a busy
//! path can never flood the kernel log. Lines are `vdp: LABEL: LEN | HEX`; the label is reduced
//! to log-safe characters (`ip_actions::log_safe`).

use crate::sys::memcg::tenant_gfp;
use super::agnostic::{Action, Agnostic};
use super::{boxed, int_arg, ConstructError};
use crate::engine::{handler::{parse_bool, HandlerError, HandlerText}, Element};
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use crate::portable::ip_actions::log_safe;
use crate::portable::token_bucket::TokenBucket;
use crate::sys::time::now_ns;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use kernel::new_spinlock;
use kernel::prelude::*;
use kernel::sync::SpinLock;

/// Longest label kept, and most packet bytes shown, whatever MAXLENGTH says: one log line.
const MAX_LABEL: usize = 64;
const MAX_SHOWN: usize = 256;

struct Print {
    label: KVec<u8>,
    max_length: usize,
    lines: Pin<KBox<SpinLock<TokenBucket>>>,
    active: AtomicBool,
    /// Lines not printed because of the rate limit.
    suppressed: AtomicU64,
}

pub(super) fn construct(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let mut label = KVec::new();
    for byte in args.bytes("LABEL").unwrap_or(&[]).iter().take(MAX_LABEL) {
        label.push(log_safe(*byte) as u8, tenant_gfp())?;
    }
    let rate = u64::try_from(int_arg(args, "RATE")?).map_err(|_| ConstructError::BadArgument("RATE"))?;
    let max_length = usize::try_from(int_arg(args, "MAXLENGTH")?).map_err(|_| ConstructError::BadArgument("MAXLENGTH"))?;
    let bucket = TokenBucket::new(rate, rate, now_ns());
    boxed(Agnostic(Print {
        label,
        max_length: max_length.min(MAX_SHOWN),
        lines: KBox::pin_init(new_spinlock!(bucket, "vdp_print_rate"), tenant_gfp())?,
        active: AtomicBool::new(true),
        suppressed: AtomicU64::new(0),
    }))
}

/// A line being built in memory allocated without sleeping (the packet path may hold locks).
struct Line(KVec<u8>);

impl Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes(), GFP_ATOMIC).map_err(|_| core::fmt::Error)
    }
}

impl Print {
    fn log(&self, packet: &Packet) -> core::fmt::Result {
        let data = packet.data();
        let shown = data.get(..self.max_length.min(data.len())).unwrap_or(&[]);
        let mut line = Line(KVec::with_capacity(self.label.len() + 16 + shown.len() * 9 / 4, GFP_ATOMIC).map_err(|_| core::fmt::Error)?);
        for byte in self.label.iter() {
            line.write_char(char::from(*byte))?;
        }
        write!(line, ": {:4} |", data.len())?;
        for (index, byte) in shown.iter().enumerate() {
            if index % 4 == 0 {
                line.write_char(' ')?;
            }
            write!(line, "{:02x}", byte)?;
        }
        // Only log-safe label bytes, digits and hex went in, so the line is ASCII.
        let text = core::str::from_utf8(&line.0).map_err(|_| core::fmt::Error)?;
        pr_info!("{}\n", text);
        Ok(())
    }
}

impl Action for Print {
    fn act(&self, packet: Packet) -> Option<(u16, Packet)> {
        if self.active.load(Relaxed) {
            if self.lines.lock().try_take(now_ns(), 1) {
                let _ = self.log(&packet);
            } else {
                self.suppressed.fetch_add(1, Relaxed);
            }
        }
        Some((0, packet))
    }

    fn read(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        match name {
            "active" => write!(out, "{}", self.active.load(Relaxed)).map_err(|_| HandlerError::Refused("reply too long")),
            _ => Err(HandlerError::NoSuchHandler),
        }
    }

    fn write(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        match name {
            "active" => {
                self.active.store(parse_bool(value)?, Relaxed);
                Ok(())
            }
            _ => Err(HandlerError::NoSuchHandler),
        }
    }
}
