//! The counters of one tenant's boundaries (`library/boundary.rs`): per boundary index and
//! direction, packets and bytes moved and drops by reason. They belong to the tenant, not to a
//! graph or a channel, so they go on across hotswaps and engine re-binds; the boundary
//! elements' `stats` handler lists them through `DeviceEnd::for_each_counter`. The container
//! engine counts its boundary ends (`FromKernel`, `ToKernel`) with the same [`EndCounters`]
//! (kept per mapped channel there: a restarted engine starts from 0), so both sides' counters
//! have the same names.
//!
//! A sending boundary counts on its transmit side, a receiving one on its receive side.

use crate::channel::{RingError, MAX_RINGS};
use crate::element::Direction;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Why a sending boundary (`ToContainer`, `ToKernel`) dropped a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendDrop {
    /// No channel is bound: no engine attached (or the kernel part went away).
    NoChannel = 0,
    /// The ring had no free slot: the other side is slow or stopped.
    RingFull = 1,
    /// Longer than a slot holds (`channel::SLOT_DATA`).
    TooBig = 2,
    /// The other side published an impossible index.
    Corrupt = 3,
}

pub const SEND_DROP_NAMES: [&str; 4] = ["no_channel", "ring_full", "too_big", "corrupt"];

/// Why a receiving boundary (`FromContainer`, `FromKernel`) lost a slot or a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiveDrop {
    /// A slot's header claimed more bytes than a slot holds; it was released unread.
    BadSlot = 0,
    /// The other side published an impossible index (counted once per attempt).
    Corrupt = 1,
    /// No memory for the packet the slot's bytes were copied into.
    NoMemory = 2,
}

pub const RECEIVE_DROP_NAMES: [&str; 3] = ["bad_slot", "corrupt", "no_memory"];

impl SendDrop {
    /// The drop a ring refusal counts as.
    pub fn of(error: RingError) -> SendDrop {
        match error {
            RingError::Full => SendDrop::RingFull,
            RingError::TooBig => SendDrop::TooBig,
            RingError::Corrupt | RingError::BadSlot => SendDrop::Corrupt,
        }
    }
}

impl ReceiveDrop {
    pub fn of(error: RingError) -> ReceiveDrop {
        match error {
            RingError::BadSlot => ReceiveDrop::BadSlot,
            RingError::Corrupt | RingError::Full | RingError::TooBig => ReceiveDrop::Corrupt,
        }
    }
}

/// One direction of one boundary.
#[derive(Default)]
pub struct EndCounters {
    packets: AtomicU64,
    bytes: AtomicU64,
    send_drops: [AtomicU64; SEND_DROP_NAMES.len()],
    receive_drops: [AtomicU64; RECEIVE_DROP_NAMES.len()],
}

impl EndCounters {
    pub fn count_packet(&self, len: usize) {
        self.packets.fetch_add(1, Relaxed);
        self.bytes.fetch_add(len as u64, Relaxed);
    }

    pub fn count_send_drop(&self, reason: SendDrop) {
        if let Some(counter) = self.send_drops.get(reason as usize) {
            counter.fetch_add(1, Relaxed);
        }
    }

    pub fn count_receive_drop(&self, reason: ReceiveDrop) {
        if let Some(counter) = self.receive_drops.get(reason as usize) {
            counter.fetch_add(1, Relaxed);
        }
    }

    pub fn packets(&self) -> u64 {
        self.packets.load(Relaxed)
    }

    pub fn send_drops(&self) -> u64 {
        self.send_drops.iter().fold(0u64, |sum, c| sum.wrapping_add(c.load(Relaxed)))
    }

    pub fn receive_drops(&self) -> u64 {
        self.receive_drops.iter().fold(0u64, |sum, c| sum.wrapping_add(c.load(Relaxed)))
    }

    /// The drops of one reason of a receiving end.
    pub fn receive_drops_of(&self, reason: ReceiveDrop) -> u64 {
        self.receive_drops.get(reason as usize).map_or(0, |c| c.load(Relaxed))
    }

    /// `packets`, `bytes`, then the drop reasons of a sending end (`sending`) or of a
    /// receiving one, all on `direction`.
    pub fn for_each(&self, sending: bool, direction: Direction, f: &mut dyn FnMut(Direction, &'static str, u64) -> fmt::Result) -> fmt::Result {
        f(direction, "packets", self.packets.load(Relaxed))?;
        f(direction, "bytes", self.bytes.load(Relaxed))?;
        if sending {
            for (name, counter) in SEND_DROP_NAMES.iter().zip(self.send_drops.iter()) {
                f(direction, name, counter.load(Relaxed))?;
            }
        } else {
            for (name, counter) in RECEIVE_DROP_NAMES.iter().zip(self.receive_drops.iter()) {
                f(direction, name, counter.load(Relaxed))?;
            }
        }
        Ok(())
    }

    pub fn reset(&self) {
        let all = [&self.packets, &self.bytes].into_iter().chain(self.send_drops.iter()).chain(self.receive_drops.iter());
        for counter in all {
            counter.store(0, Relaxed);
        }
    }
}

/// Every boundary of a tenant: `sending[k]` for the sending end of boundary `k` on this side,
/// `receiving[k]` for the receiving end.
#[derive(Default)]
pub struct BoundaryCounters {
    pub sending: [EndCounters; MAX_RINGS as usize],
    pub receiving: [EndCounters; MAX_RINGS as usize],
}

impl BoundaryCounters {
    pub fn sending(&self, index: u16) -> Option<&EndCounters> {
        self.sending.get(usize::from(index))
    }

    pub fn receiving(&self, index: u16) -> Option<&EndCounters> {
        self.receiving.get(usize::from(index))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn listing(end: &EndCounters, sending: bool) -> Vec<(&'static str, u64)> {
        let mut out = Vec::new();
        end.for_each(sending, Direction::Transmit, &mut |_, name, value| {
            out.push((name, value));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn counts_by_reason_and_resets() {
        let counters = BoundaryCounters::default();
        let end = counters.sending(3).unwrap();
        end.count_packet(60);
        end.count_packet(40);
        end.count_send_drop(SendDrop::of(RingError::Full));
        end.count_send_drop(SendDrop::NoChannel);
        end.count_send_drop(SendDrop::of(RingError::Corrupt));
        assert_eq!(end.packets(), 2);
        assert_eq!(end.send_drops(), 3);
        assert_eq!(
            listing(end, true),
            [("packets", 2), ("bytes", 100), ("no_channel", 1), ("ring_full", 1), ("too_big", 0), ("corrupt", 1)]
        );
        // Other boundaries and the receiving side are untouched.
        assert_eq!(counters.sending(2).unwrap().packets(), 0);
        assert_eq!(counters.receiving(3).unwrap().receive_drops(), 0);
        end.reset();
        assert!(listing(end, true).iter().all(|(_, v)| *v == 0));
        assert!(counters.sending(MAX_RINGS as u16).is_none());
    }

    #[test]
    fn receive_reasons() {
        let end = EndCounters::default();
        end.count_receive_drop(ReceiveDrop::of(RingError::BadSlot));
        end.count_receive_drop(ReceiveDrop::of(RingError::Corrupt));
        end.count_receive_drop(ReceiveDrop::NoMemory);
        let names: String = listing(&end, false).iter().map(|(n, v)| std::format!("{n}={v} ")).collect();
        assert_eq!(names, "packets=0 bytes=0 bad_slot=1 corrupt=1 no_memory=1 ");
        assert_eq!(end.receive_drops(), 3);
        assert_eq!(end.receive_drops_of(ReceiveDrop::BadSlot), 1);
    }
}
