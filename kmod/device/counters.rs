//! The counters of ports and devices: the drop reasons of our own, counting, the readings the
//! elements' handlers and `VDEV_GET`/`PORT_GET` report, and resetting them. Every drop counted
//! here also fires the `vdp_drop` tracepoint (`docs/tracing.md`).

use super::types::{Port, VirtualDevice};
use crate::portable::tunnel::{RxReason, TxReason, RX_LOCAL_DROP_NAMES, TX_LOCAL_DROP_NAMES};
use crate::sys::trace::{self, DropKind};
use core::sync::atomic::{AtomicU64, Ordering};

/// Receive drops a device counts besides the classifier's reasons; named by
/// `tunnel::RX_LOCAL_DROP_NAMES`, which the user-level engine's devices share.
#[derive(Clone, Copy)]
pub(super) enum RxLocalDrop {
    /// The tenant's receive queue was full: its thread is not keeping up.
    QueueFull = 0,
    /// Decapsulating needed memory that was not there.
    NoMemory = 1,
}

/// Transmit drops besides the encapsulation's own reasons; named by
/// `tunnel::TX_LOCAL_DROP_NAMES`.
#[derive(Clone, Copy)]
pub(super) enum TxLocalDrop {
    /// Shorter than an Ethernet header.
    TooShort = 0,
    /// An IP tunnel was given a frame that is not IPv4.
    NotIpv4 = 1,
    NoMemory = 2,
    /// The port is detached, its device gone or down.
    PortDown = 3,
    /// The device or its queue refused the frame.
    DeviceDropped = 4,
    /// The device's transmit cap was spent (`VirtualDevice::tx_cap`).
    OverCap = 5,
    /// The tenant's aggregate transmit cap was spent.
    OverTenantCap = 6,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Port {
    /// (name, count) for every drop reason of the port.
    pub(crate) fn counters(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        RxReason::ALL
            .iter()
            .filter(|reason| !reason.is_for_host())
            .map(|reason| (reason.name(), self.rx_drops.get(reason.index()).map_or(0, |c| c.load(Ordering::Relaxed))))
    }
}

impl Port {
    /// Counts a receive drop no one device could be charged with (`vdp_drop` with tenant 0).
    pub(super) fn count_rx_reason(&self, reason: RxReason) {
        if let Some(counter) = self.rx_drops.get(reason.index()) {
            bump(counter);
            trace::packet_drop(0, DropKind::PortRx, None, self.name(), reason.name());
        }
    }
}

impl VirtualDevice {
    /// Counts one drop in `counters[index]`, and fires `vdp_drop` for it under `reason`.
    fn count_drop(&self, counters: &[AtomicU64], index: usize, kind: DropKind, reason: &str) {
        if let Some(counter) = counters.get(index) {
            bump(counter);
            trace::packet_drop(self.tenant, kind, None, self.config.name.as_bytes(), reason);
        }
    }

    pub(super) fn count_rx_reason(&self, reason: RxReason) {
        self.count_drop(&self.rx_drops, reason.index(), DropKind::DeviceRx, reason.name());
    }

    pub(super) fn count_rx_local(&self, reason: RxLocalDrop) {
        let name = RX_LOCAL_DROP_NAMES.get(reason as usize).copied().unwrap_or("");
        self.count_drop(&self.rx_local_drops, reason as usize, DropKind::DeviceRx, name);
    }

    pub(super) fn count_tx_reason(&self, reason: TxReason) {
        self.count_drop(&self.tx_drops, reason.index(), DropKind::DeviceTx, reason.name());
    }

    pub(super) fn count_tx_local(&self, reason: TxLocalDrop) {
        let name = TX_LOCAL_DROP_NAMES.get(reason as usize).copied().unwrap_or("");
        self.count_drop(&self.tx_local_drops, reason as usize, DropKind::DeviceTx, name);
    }

    pub(crate) fn rx_packets(&self) -> u64 {
        self.rx_packets.load(Ordering::Relaxed)
    }

    pub(crate) fn tx_packets(&self) -> u64 {
        self.tx_packets.load(Ordering::Relaxed)
    }

    pub(crate) fn rx_queue_len(&self) -> u32 {
        self.rx_queue.len()
    }

    /// Every receive counter as (name, value): packets, bytes, then drops by reason.
    pub(crate) fn rx_counters(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let reasons = RxReason::ALL
            .iter()
            .filter(|reason| !reason.is_for_host())
            .map(move |reason| (reason.name(), self.rx_drops.get(reason.index()).map_or(0, load)));
        let local = RX_LOCAL_DROP_NAMES.iter().zip(self.rx_local_drops.iter()).map(move |(name, c)| (*name, load(c)));
        let totals = [("packets", load(&self.rx_packets)), ("bytes", load(&self.rx_bytes))];
        Iterator::chain(Iterator::chain(totals.into_iter(), reasons), local)
    }

    /// Every transmit counter as (name, value): packets, bytes, then drops by reason.
    pub(crate) fn tx_counters(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let reasons = TxReason::ALL.iter().map(move |reason| (reason.name(), self.tx_drops.get(reason.index()).map_or(0, load)));
        let local = TX_LOCAL_DROP_NAMES.iter().zip(self.tx_local_drops.iter()).map(move |(name, c)| (*name, load(c)));
        let totals = [("packets", load(&self.tx_packets)), ("bytes", load(&self.tx_bytes))];
        Iterator::chain(Iterator::chain(totals.into_iter(), reasons), local)
    }

    pub(crate) fn rx_drops(&self) -> u64 {
        self.rx_counters().skip(2).fold(0u64, |sum, (_, n)| sum.wrapping_add(n))
    }

    pub(crate) fn tx_drops(&self) -> u64 {
        self.tx_counters().skip(2).fold(0u64, |sum, (_, n)| sum.wrapping_add(n))
    }

    /// Zeroes every counter (the elements' `reset_counts` handler).
    pub(crate) fn reset_counters(&self) {
        let totals = [&self.rx_packets, &self.rx_bytes, &self.tx_packets, &self.tx_bytes];
        let drops = [&self.rx_drops[..], &self.rx_local_drops[..], &self.tx_drops[..], &self.tx_local_drops[..]];
        for counter in totals {
            counter.store(0, Ordering::Relaxed);
        }
        for counter in drops.iter().flat_map(|group| group.iter()) {
            counter.store(0, Ordering::Relaxed);
        }
    }
}
