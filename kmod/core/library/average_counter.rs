//! AverageCounter: counts packets and bytes, and their average rate between the first packet
//! and the latest one.
//!
//! Click measures the interval in jiffies; vdp counts in milliseconds on the platform clock
//! (`Platform::now_ns`: the kernel's monotonic clock, or the user-level engine's virtual one),
//! which is Click's user-level jiffy. The rates are Click's: count × 1000 / interval, with an
//! interval of less than one millisecond counted as one, and the first IGNORE seconds after the
//! first packet not counted and not part of the interval. The counts are shared state that a
//! hotswapped AverageCounter of the same name adopts, as vdp's Counter does.

use crate::catalog::{base, int, positional, ArgSpec, ElementClass};
use crate::element::agnostic::Action;
use crate::element::handler::{handlers, reply, HandlerError};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

const ARGS: &[ArgSpec] = &[positional("IGNORE", int(0, u32::MAX as i64), Some("0"))];

/// AverageCounter's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: ARGS,
    cost_cycles: 250,
    ..base("AverageCounter", "Counts packets and bytes and their average rate since the first packet")
};

handlers! {
    pub enum Read {
        Count = "count": Integer,
        ByteCount = "byte_count": Integer,
        Rate = "rate": Integer,
        ByteRate = "byte_rate": Integer,
    }
}

handlers! {
    pub enum Write {
        Reset = "reset": Action,
    }
}

/// The clock's unit for the interval: one millisecond.
const NS_PER_TICK: u64 = 1_000_000;
const TICKS_PER_SECOND: u64 = 1000;
/// `first` before any packet (and after a reset).
const UNSET: u64 = u64::MAX;

pub struct Counts {
    count: AtomicU64,
    bytes: AtomicU64,
    /// Ticks (ms) of the first packet since the last reset, or [`UNSET`].
    first: AtomicU64,
    /// Ticks of the latest packet.
    last: AtomicU64,
}

pub struct AverageCounter<P: Platform> {
    counts: P::Shared<Counts>,
    /// IGNORE in ticks.
    ignore: u64,
}

impl<P: Platform> Action<P> for AverageCounter<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let ignore = build.int_as::<u64>("IGNORE")?.saturating_mul(TICKS_PER_SECOND);
        let counts = Counts { count: AtomicU64::new(0), bytes: AtomicU64::new(0), first: AtomicU64::new(UNSET), last: AtomicU64::new(0) };
        Ok(AverageCounter { counts: P::shared(counts)?, ignore })
    }

    fn act(&self, packet: P::Packet) -> Option<(u16, P::Packet)> {
        let c = &*self.counts;
        let now = P::now_ns() / NS_PER_TICK;
        // The first packet since the reset marks the start; racing threads agree on one.
        let first = match c.first.compare_exchange(UNSET, now, Relaxed, Relaxed) {
            Ok(_) => now,
            Err(first) => first,
        };
        if now.saturating_sub(first) >= self.ignore {
            c.count.fetch_add(1, Relaxed);
            c.bytes.fetch_add(packet.len() as u64, Relaxed);
        }
        c.last.store(now, Relaxed);
        Some((0, packet))
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        let c = &*self.counts;
        let value = match handler {
            Read::Count => c.count.load(Relaxed),
            Read::ByteCount => c.bytes.load(Relaxed),
            Read::Rate => self.rate(c.count.load(Relaxed)),
            Read::ByteRate => self.rate(c.bytes.load(Relaxed)),
        };
        reply(write!(out, "{}", value))
    }

    fn write(&self, handler: Write, _value: &str) -> Result<(), HandlerError> {
        let c = &*self.counts;
        match handler {
            Write::Reset => {
                c.count.store(0, Relaxed);
                c.bytes.store(0, Relaxed);
                c.last.store(0, Relaxed);
                c.first.store(UNSET, Relaxed);
            }
        }
        Ok(())
    }

    fn take_state(&mut self, old: &Self) {
        self.counts = old.counts.clone();
    }
}

impl<P: Platform> AverageCounter<P> {
    /// `amount` per second over the counted interval: from the first packet plus IGNORE to the
    /// latest packet, at least one tick.
    fn rate(&self, amount: u64) -> u64 {
        let c = &*self.counts;
        let first = c.first.load(Relaxed);
        let interval = match first {
            UNSET => 0,
            first => c.last.load(Relaxed).saturating_sub(first).saturating_sub(self.ignore),
        };
        amount.saturating_mul(TICKS_PER_SECOND).checked_div(interval.max(1)).unwrap_or(0)
    }
}
