//! Counter: counts packets and bytes, and the packet and byte rates of the last full second.
//!
//! The counts live behind an `Arc` that a hotswapped Counter of the same name adopts, so packets
//! the old graph counts until it stops are not lost.

use crate::sys::memcg::tenant_gfp;
use super::agnostic::{Action, Agnostic};
use super::{boxed, ConstructError};
use crate::engine::{handler::{HandlerError, HandlerText}, Element};
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use crate::sys::time::now_ms;
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::prelude::*;
use kernel::sync::Arc;

struct Counter {
    counts: Arc<Counts>,
}

struct Counts {
    count: AtomicU64,
    bytes: AtomicU64,
    /// Second (of `now_ms`) the current window counts, and its packets and bytes so far.
    window_second: AtomicU64,
    window_packets: AtomicU64,
    window_bytes: AtomicU64,
    /// Packets and bytes of the last complete second.
    last_packets: AtomicU64,
    last_bytes: AtomicU64,
}

pub(super) fn construct(_: &ElementView<'_>, _: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let counts = Counts {
        count: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        window_second: AtomicU64::new(now_ms() / 1000),
        window_packets: AtomicU64::new(0),
        window_bytes: AtomicU64::new(0),
        last_packets: AtomicU64::new(0),
        last_bytes: AtomicU64::new(0),
    };
    boxed(Agnostic(Counter { counts: Arc::new(counts, tenant_gfp())? }))
}

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

impl Action for Counter {
    fn act(&self, packet: Packet) -> Option<(u16, Packet)> {
        let c = &*self.counts;
        let len = packet.len() as u64;
        c.count.fetch_add(1, Relaxed);
        c.bytes.fetch_add(len, Relaxed);
        c.roll_window(now_ms() / 1000);
        c.window_packets.fetch_add(1, Relaxed);
        c.window_bytes.fetch_add(len, Relaxed);
        Some((0, packet))
    }

    fn read(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        let c = &*self.counts;
        c.roll_window(now_ms() / 1000);
        let value = match name {
            "count" => c.count.load(Relaxed),
            "byte_count" => c.bytes.load(Relaxed),
            "rate" => c.last_packets.load(Relaxed),
            "byte_rate" => c.last_bytes.load(Relaxed),
            "bit_rate" => c.last_bytes.load(Relaxed).saturating_mul(8),
            _ => return Err(HandlerError::NoSuchHandler),
        };
        write!(out, "{}", value).map_err(|_| HandlerError::Refused("reply too long"))
    }

    fn write(&self, name: &str, _value: &str) -> Result<(), HandlerError> {
        let c = &*self.counts;
        match name {
            "reset" => {
                for counter in [&c.count, &c.bytes, &c.window_packets, &c.window_bytes, &c.last_packets, &c.last_bytes] {
                    counter.store(0, Relaxed);
                }
                Ok(())
            }
            _ => Err(HandlerError::NoSuchHandler),
        }
    }

    fn take_state(&mut self, old: &Self) {
        self.counts = old.counts.clone();
    }
}
