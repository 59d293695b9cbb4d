//! Counter: counts packets and bytes, and the packet and byte rates of the last full second.
//!
//! The counts are shared state that a hotswapped Counter of the same name adopts, so packets
//! the old graph counts until it stops are not lost.

use crate::catalog::{base, ElementClass};
use crate::element::agnostic::Action;
use crate::element::handler::{handlers, reply, HandlerError};
use crate::element::{Build, ConstructError, Platform};
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counter's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    cost_cycles: 700,
    ..base("Counter", "Counts packets and bytes passing through")
};

handlers! {
    pub enum Read {
        Count = "count": Integer,
        ByteCount = "byte_count": Integer,
        Rate = "rate": Integer,
        BitRate = "bit_rate": Integer,
        ByteRate = "byte_rate": Integer,
    }
}

handlers! {
    pub enum Write {
        Reset = "reset": Action,
    }
}

pub struct Counter<P: Platform> {
    counts: P::Shared<Counts>,
}

pub struct Counts {
    count: AtomicU64,
    bytes: AtomicU64,
    /// Second (of the platform clock) the current window counts, and its packets and bytes.
    window_second: AtomicU64,
    window_packets: AtomicU64,
    window_bytes: AtomicU64,
    /// Packets and bytes of the last complete second.
    last_packets: AtomicU64,
    last_bytes: AtomicU64,
}

const NS_PER_SECOND: u64 = 1_000_000_000;

impl Counts {
    /// Closes the rate window if its second is over. Racing threads may each close it; the
    /// rates are estimates, the totals are exact.
    fn roll_window(&self, second: u64) {
        let window = self.window_second.load(Relaxed);
        if second == window {
            return;
        }
        let (packets, bytes) = if second == window + 1 {
            (self.window_packets.swap(0, Relaxed), self.window_bytes.swap(0, Relaxed))
        } else {
            // A second or more passed without packets.
            self.window_packets.store(0, Relaxed);
            self.window_bytes.store(0, Relaxed);
            (0, 0)
        };
        self.last_packets.store(packets, Relaxed);
        self.last_bytes.store(bytes, Relaxed);
        self.window_second.store(second, Relaxed);
    }
}

impl<P: Platform> Action<P> for Counter<P> {
    type Read = Read;
    type Write = Write;

    fn construct(_: &Build<'_, P>) -> Result<Self, ConstructError> {
        let counts = Counts {
            count: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            window_second: AtomicU64::new(P::now_ns() / NS_PER_SECOND),
            window_packets: AtomicU64::new(0),
            window_bytes: AtomicU64::new(0),
            last_packets: AtomicU64::new(0),
            last_bytes: AtomicU64::new(0),
        };
        Ok(Counter { counts: P::shared(counts)? })
    }

    fn act(&self, packet: P::Packet) -> Option<(u16, P::Packet)> {
        use crate::element::PacketBuf;
        let c = &*self.counts;
        let len = packet.len() as u64;
        c.count.fetch_add(1, Relaxed);
        c.bytes.fetch_add(len, Relaxed);
        c.roll_window(P::now_ns() / NS_PER_SECOND);
        c.window_packets.fetch_add(1, Relaxed);
        c.window_bytes.fetch_add(len, Relaxed);
        Some((0, packet))
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        let c = &*self.counts;
        c.roll_window(P::now_ns() / NS_PER_SECOND);
        let value = match handler {
            Read::Count => c.count.load(Relaxed),
            Read::ByteCount => c.bytes.load(Relaxed),
            Read::Rate => c.last_packets.load(Relaxed),
            Read::ByteRate => c.last_bytes.load(Relaxed),
            Read::BitRate => c.last_bytes.load(Relaxed).saturating_mul(8),
        };
        reply(write!(out, "{}", value))
    }

    fn write(&self, handler: Write, _value: &str) -> Result<(), HandlerError> {
        let c = &*self.counts;
        match handler {
            Write::Reset => {
                for counter in [&c.count, &c.bytes, &c.window_packets, &c.window_bytes, &c.last_packets, &c.last_bytes] {
                    counter.store(0, Relaxed);
                }
            }
        }
        Ok(())
    }

    fn take_state(&mut self, old: &Self) {
        self.counts = old.counts.clone();
    }
}
