//! A tenant's virtual devices at user level: the frames the engine hands in wait in a bounded
//! receive queue for `FromDevice`, and what `ToDevice` sends is recorded with its virtual time.
//!
//! They mirror the kernel's devices (`kmod/device/`) wherever the graph or its handlers can tell,
//! and the differential scenario (`qemu-tests/scenarios/differential.sh`) holds them to it. A
//! frame handed in is what the kernel's receive path would have left after taking off the outer
//! IPv4 and GRE headers (`receive.rs`):
//!
//! - an inner packet shorter than its own header (20 bytes of IPv4, 14 of Ethernet) is dropped
//!   as `rx_inner_truncated`, as `tunnel::classify` drops it;
//! - a device that carries IPv4 gives FromDevice each packet behind an Ethernet header from the
//!   tunnel's next hop to the device's address;
//! - each frame's link-level packet type (host, broadcast, multicast, other host) comes from its
//!   destination Ethernet address against the device's own, by the rule the kernel's receive
//!   path applies (`LinkPacketType::of_destination`);
//! - the receive queue holds as many frames as the kernel's and counts `rx_queue_full` beyond.
//! - the receive queue holds as many frames as the kernel's and counts `rx_queue_full` beyond;
//! - each frame's timestamp annotation is the engine's time when it arrives.
//!
//! What ToDevice sends goes through the kernel's transmit checks (`transmit.rs`): a device that
//! carries IPv4 sends only frames with an Ethernet header of EtherType 0x0800
//! (`tx_too_short`, `tx_not_ipv4`), and without that header; an Ethernet device sends any frame,
//! even one shorter than a header, as the kernel does; a packet that would make an outer packet
//! larger than the tunnel's MTU is dropped as `tx_exceeds_mtu`. The counters are the kernel's,
//! by name and in the order the `stats` handlers list them. Outer-header drops (bad checksums,
//! unknown keys and the like) cannot happen to frames handed in already decapsulated, and memory,
//! port and physical-device failures are not modelled: those counters stay at 0.

use crate::container::RingEnd;
use crate::packet::UserPacket;
use crate::platform::User;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use vdp_core::element::{self, Direction, LinkPacketType, PacketBuf, Platform};
use vdp_core::tunnel::{InnerKind, RxReason, TunnelSpec, TxReason, RX_LOCAL_DROP_NAMES, TX_LOCAL_DROP_NAMES};
use vdp_core::wire::{ethernet, ipv4};

/// Frames a device's receive queue holds, as in the kernel.
pub use vdp_core::tunnel::RX_QUEUE_CAPACITY;

const ETHER_HEADER_LEN: usize = 14;
const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];

// Indices into the local drop counters, as `kmod/device/counters.rs` numbers them.
const RX_QUEUE_FULL: usize = 0;
const TX_TOO_SHORT: usize = 0;
const TX_NOT_IPV4: usize = 1;

/// One device of the tenant, as the system config describes it: its tunnel (what it carries,
/// its MTU and the outer headers' size), its own Ethernet address (the destination of the header
/// an IPv4 device's packets get on receive) and its next hop's (their source).
#[derive(Clone, Debug)]
pub struct DeviceSetup {
    pub name: String,
    pub spec: TunnelSpec,
    pub mac: [u8; 6],
    pub peer_mac: [u8; 6],
}

struct Counters {
    rx_packets: AtomicU64,
    rx_bytes: AtomicU64,
    /// By [`RxReason::index`], as the kernel's device keeps them.
    rx_drops: [AtomicU64; RxReason::COUNT],
    /// By [`RX_LOCAL_DROP_NAMES`].
    rx_local_drops: [AtomicU64; RX_LOCAL_DROP_NAMES.len()],
    tx_packets: AtomicU64,
    tx_bytes: AtomicU64,
    /// By [`TxReason::index`].
    tx_drops: [AtomicU64; TxReason::COUNT],
    /// By [`TX_LOCAL_DROP_NAMES`].
    tx_local_drops: [AtomicU64; TX_LOCAL_DROP_NAMES.len()],
}

impl Counters {
    fn new() -> Counters {
        Counters {
            rx_packets: AtomicU64::new(0),
            rx_bytes: AtomicU64::new(0),
            rx_drops: std::array::from_fn(|_| AtomicU64::new(0)),
            rx_local_drops: std::array::from_fn(|_| AtomicU64::new(0)),
            tx_packets: AtomicU64::new(0),
            tx_bytes: AtomicU64::new(0),
            tx_drops: std::array::from_fn(|_| AtomicU64::new(0)),
            tx_local_drops: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Every receive counter as (name, value), in the kernel's order: packets, bytes, the
    /// classifier's reasons that are vdp's (not the host's), then the local drops.
    fn rx(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let totals = [("packets", self.rx_packets.load(Relaxed)), ("bytes", self.rx_bytes.load(Relaxed))];
        let reasons = RxReason::ALL.iter().filter(|r| !r.is_for_host()).map(|r| (r.name(), self.rx_drops[r.index()].load(Relaxed)));
        let local = RX_LOCAL_DROP_NAMES.iter().zip(&self.rx_local_drops).map(|(name, c)| (*name, c.load(Relaxed)));
        totals.into_iter().chain(reasons).chain(local)
    }

    /// Every transmit counter as (name, value): packets, bytes, the encapsulation's reasons,
    /// then the local drops.
    fn tx(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let totals = [("packets", self.tx_packets.load(Relaxed)), ("bytes", self.tx_bytes.load(Relaxed))];
        let reasons = TxReason::ALL.iter().map(|r| (r.name(), self.tx_drops[r.index()].load(Relaxed)));
        let local = TX_LOCAL_DROP_NAMES.iter().zip(&self.tx_local_drops).map(|(name, c)| (*name, c.load(Relaxed)));
        totals.into_iter().chain(reasons).chain(local)
    }

    fn all(&self) -> impl Iterator<Item = &AtomicU64> {
        [&self.rx_packets, &self.rx_bytes, &self.tx_packets, &self.tx_bytes]
            .into_iter()
            .chain(&self.rx_drops)
            .chain(&self.rx_local_drops)
            .chain(&self.tx_drops)
            .chain(&self.tx_local_drops)
    }
}

pub(crate) struct Device {
    pub(crate) setup: DeviceSetup,
    rx: Mutex<VecDeque<UserPacket>>,
    tx: Mutex<Vec<(u64, Vec<u8>)>>,
    /// Every frame transmitted, never reset: the engine's budget counts these.
    transmitted: AtomicU64,
    counters: Counters,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Relaxed);
}

impl Device {
    pub(crate) fn new(setup: DeviceSetup) -> Arc<Device> {
        Arc::new(Device {
            setup,
            rx: Mutex::new(VecDeque::new()),
            tx: Mutex::new(Vec::new()),
            transmitted: AtomicU64::new(0),
            counters: Counters::new(),
        })
    }

    /// An inner packet arrives, as the tunnel delivers it; returns whether it was queued (else
    /// it was counted as a drop).
    pub(crate) fn arrive(&self, bytes: &[u8]) -> bool {
        let counters = &self.counters;
        let inner = self.setup.spec.inner;
        let min_len = match inner {
            InnerKind::Ipv4 => ipv4::MIN_HEADER_LEN,
            InnerKind::Ethernet => ethernet::HEADER_LEN,
        };
        if bytes.len() < min_len {
            bump(&counters.rx_drops[RxReason::InnerTruncated.index()]);
            return false;
        }
        let packet = match inner {
            InnerKind::Ethernet => UserPacket::from_bytes(bytes),
            InnerKind::Ipv4 => {
                let mut framed = Vec::with_capacity(ETHER_HEADER_LEN + bytes.len());
                framed.extend_from_slice(&self.setup.mac);
                framed.extend_from_slice(&self.setup.peer_mac);
                framed.extend_from_slice(&ETHERTYPE_IPV4);
                framed.extend_from_slice(bytes);
                UserPacket::from_bytes(&framed)
            }
        };
        let Some(mut packet) = packet else { return false };
        // The link-level packet type from the frame's destination against the device's address,
        // as the kernel's receive path sets `skb->pkt_type` (an IP device's frames carry the
        // device's own address: the host's).
        if let Some(destination) = packet.data().get(..6).and_then(|d| <[u8; 6]>::try_from(d).ok()) {
            packet.set_link_packet_type(LinkPacketType::of_destination(&destination, &self.setup.mac));
        }
        // Stamped on arrival, as the kernel's receive path stamps it.
        packet.set_timestamp_anno(User::now_ns());
        let mut rx = self.rx.lock().unwrap_or_else(|p| p.into_inner());
        if rx.len() >= RX_QUEUE_CAPACITY {
            bump(&counters.rx_local_drops[RX_QUEUE_FULL]);
            return false;
        }
        bump(&counters.rx_packets);
        counters.rx_bytes.fetch_add(packet.len() as u64, Relaxed);
        rx.push_back(packet);
        true
    }

    pub(crate) fn take_transmitted(&self) -> Vec<(u64, Vec<u8>)> {
        std::mem::take(&mut *self.tx.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Frames transmitted since the device was made (resets of the counters aside).
    pub(crate) fn transmitted_total(&self) -> u64 {
        self.transmitted.load(Relaxed)
    }

    /// What the kernel's transmit would send of `data` (the inner packet), or None when it drops
    /// it, counted.
    fn encapsulable<'a>(&self, data: &'a [u8]) -> Option<&'a [u8]> {
        let counters = &self.counters;
        let spec = &self.setup.spec;
        let inner = match spec.inner {
            InnerKind::Ethernet => data,
            InnerKind::Ipv4 => {
                if data.len() < ETHER_HEADER_LEN {
                    bump(&counters.tx_local_drops[TX_TOO_SHORT]);
                    return None;
                }
                if data.get(12..14) != Some(&ETHERTYPE_IPV4[..]) {
                    bump(&counters.tx_local_drops[TX_NOT_IPV4]);
                    return None;
                }
                data.get(ETHER_HEADER_LEN..).unwrap_or(&[])
            }
        };
        if inner.len() > spec.max_inner_len() {
            bump(&counters.tx_drops[TxReason::ExceedsMtu.index()]);
            return None;
        }
        Some(inner)
    }
}

/// An element's hold on a device.
pub struct DeviceEnd(pub(crate) Arc<Device>);

impl element::DeviceEnd<UserPacket> for DeviceEnd {
    fn receive(&self) -> Option<UserPacket> {
        self.0.rx.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
    }

    fn transmit(&self, packet: UserPacket) {
        let device = &self.0;
        let Some(sent) = device.encapsulable(packet.data()) else { return };
        bump(&device.counters.tx_packets);
        device.counters.tx_bytes.fetch_add(sent.len() as u64, Relaxed);
        device.transmitted.fetch_add(1, Relaxed);
        let record = (User::now_ns(), sent.to_vec());
        device.tx.lock().unwrap_or_else(|p| p.into_inner()).push(record);
    }

    fn rx_packets(&self) -> u64 {
        self.0.counters.rx_packets.load(Relaxed)
    }
    fn tx_packets(&self) -> u64 {
        self.0.counters.tx_packets.load(Relaxed)
    }
    fn rx_drops(&self) -> u64 {
        self.0.counters.rx().skip(2).fold(0u64, |sum, (_, n)| sum.wrapping_add(n))
    }
    fn tx_drops(&self) -> u64 {
        self.0.counters.tx().skip(2).fold(0u64, |sum, (_, n)| sum.wrapping_add(n))
    }
    fn rx_queue_len(&self) -> u64 {
        self.0.rx.lock().unwrap_or_else(|p| p.into_inner()).len() as u64
    }
    fn for_each_counter(&self, f: &mut dyn FnMut(Direction, &'static str, u64) -> fmt::Result) -> fmt::Result {
        let counters = &self.0.counters;
        for (name, value) in counters.rx() {
            f(Direction::Receive, name, value)?;
        }
        for (name, value) in counters.tx() {
            f(Direction::Transmit, name, value)?;
        }
        Ok(())
    }
    fn reset_counters(&self) {
        for counter in self.0.counters.all() {
            counter.store(0, Relaxed);
        }
    }
}

/// The user platform's device: a tenant's virtual device, or one end of a ring of its channel
/// (a boundary element's).
pub enum UserDevice {
    Tunnel(DeviceEnd),
    Boundary(RingEnd),
}

/// Runs `$body` on whichever end `$device` holds, as `$end`.
macro_rules! on_end {
    ($device:expr, $end:ident => $body:expr) => {
        match $device {
            UserDevice::Tunnel($end) => $body,
            UserDevice::Boundary($end) => $body,
        }
    };
}

impl element::DeviceEnd<UserPacket> for UserDevice {
    fn receive(&self) -> Option<UserPacket> {
        on_end!(self, end => end.receive())
    }
    fn transmit(&self, packet: UserPacket) {
        on_end!(self, end => end.transmit(packet))
    }
    fn rx_packets(&self) -> u64 {
        on_end!(self, end => end.rx_packets())
    }
    fn tx_packets(&self) -> u64 {
        on_end!(self, end => end.tx_packets())
    }
    fn rx_drops(&self) -> u64 {
        on_end!(self, end => end.rx_drops())
    }
    fn tx_drops(&self) -> u64 {
        on_end!(self, end => end.tx_drops())
    }
    fn rx_queue_len(&self) -> u64 {
        on_end!(self, end => end.rx_queue_len())
    }
    fn for_each_counter(&self, f: &mut dyn FnMut(Direction, &'static str, u64) -> fmt::Result) -> fmt::Result {
        on_end!(self, end => end.for_each_counter(f))
    }
    fn reset_counters(&self) {
        on_end!(self, end => end.reset_counters())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use element::DeviceEnd as _;
    use vdp_core::wire::ipv4::Address;

    const MAC: [u8; 6] = [2, 0, 0, 0, 0xb1, 1];
    const PEER: [u8; 6] = [2, 0, 0, 0, 0xff, 1];

    fn device(inner: InnerKind, key: Option<u32>) -> DeviceEnd {
        let spec = TunnelSpec::new(Address([192, 0, 2, 1]), Address([192, 0, 2, 11]), key, inner);
        DeviceEnd(Device::new(DeviceSetup { name: "eth1".into(), spec, mac: MAC, peer_mac: PEER }))
    }

    fn stats(device: &DeviceEnd) -> Vec<String> {
        let mut lines = Vec::new();
        device
            .for_each_counter(&mut |direction, name, value| {
                let side = if direction == Direction::Receive { "rx" } else { "tx" };
                lines.push(format!("{side}_{name} {value}"));
                Ok(())
            })
            .unwrap();
        lines
    }

    fn counter(device: &DeviceEnd, name: &str) -> u64 {
        let line = stats(device).into_iter().find(|l| l.split(' ').next() == Some(name)).unwrap_or_else(|| panic!("no counter {name}"));
        line.split(' ').nth(1).unwrap().parse().unwrap()
    }

    fn packet(bytes: &[u8]) -> UserPacket {
        UserPacket::from_bytes(bytes).unwrap()
    }

    #[test]
    fn the_counters_are_the_kernels_by_name_and_order() {
        let names: Vec<String> = stats(&device(InnerKind::Ethernet, None)).iter().map(|l| l.split(' ').next().unwrap().to_string()).collect();
        // As kmod/device/counters.rs lists them (rx_counters, then tx_counters).
        assert_eq!(
            names,
            [
                "rx_packets", "rx_bytes", "rx_truncated", "rx_bad_ip_header", "rx_bad_ip_checksum", "rx_outer_fragment",
                "rx_unsupported_gre_version", "rx_unsupported_gre_flags", "rx_bad_gre_checksum", "rx_unsupported_inner_protocol",
                "rx_unknown_key", "rx_inner_truncated", "rx_queue_full", "rx_no_memory", "tx_packets", "tx_bytes",
                "tx_no_headroom", "tx_exceeds_mtu", "tx_too_short", "tx_not_ipv4", "tx_no_memory", "tx_port_down",
                "tx_device_dropped", "tx_over_cap", "tx_over_tenant_cap",
            ]
        );
    }

    #[test]
    fn inner_packets_shorter_than_their_header_are_dropped_as_the_kernel_drops_them() {
        let ip = device(InnerKind::Ipv4, Some(11));
        assert!(!ip.0.arrive(&[0x45; 19]));
        assert!(ip.0.arrive(&[0x45; 20]));
        assert_eq!((counter(&ip, "rx_inner_truncated"), counter(&ip, "rx_packets"), ip.rx_drops()), (1, 1, 1));
        let frame = ip.receive().unwrap();
        assert_eq!(frame.data()[..14], [MAC, PEER].concat().into_iter().chain([8, 0]).collect::<Vec<u8>>()[..]);
        assert_eq!(counter(&ip, "rx_bytes"), 34);

        let ether = device(InnerKind::Ethernet, None);
        assert!(!ether.0.arrive(&[]));
        assert!(!ether.0.arrive(&[0xff; 13]));
        assert!(ether.0.arrive(&[0xff; 14]));
        assert_eq!((counter(&ether, "rx_inner_truncated"), counter(&ether, "rx_packets")), (2, 1));
        assert_eq!(ether.receive().unwrap().data(), [0xff; 14]);
    }

    #[test]
    fn frames_get_their_link_level_type_from_their_destination_as_in_the_kernel() {
        use vdp_core::element::LinkPacketType::{Broadcast, Host, Multicast, OtherHost};
        let ether = device(InnerKind::Ethernet, None);
        let destinations = [MAC, PEER, [0xff; 6], [0x01, 0, 0x5e, 0, 0, 1], [0x33, 0x33, 0, 0, 0, 1], [0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]];
        for destination in destinations {
            assert!(ether.0.arrive(&[destination.as_slice(), &PEER, &[8, 0]].concat()));
        }
        let types: Vec<_> = std::iter::from_fn(|| ether.receive()).map(|p| p.link_packet_type()).collect();
        assert_eq!(types, [Host, OtherHost, Broadcast, Multicast, Multicast, Multicast]);
        // An IP tunnel's packets get the device's own address: the host's.
        let ip = device(InnerKind::Ipv4, Some(11));
        assert!(ip.0.arrive(&[0x45; 20]));
        assert_eq!(ip.receive().unwrap().link_packet_type(), Host);
    }

    #[test]
    fn an_ethernet_device_sends_frames_of_any_length_as_the_kernel_does() {
        let ether = device(InnerKind::Ethernet, None);
        for len in [0, 1, 13, 14] {
            ether.transmit(packet(&vec![7; len]));
        }
        let sent: Vec<usize> = ether.0.take_transmitted().iter().map(|(_, f)| f.len()).collect();
        assert_eq!(sent, [0, 1, 13, 14]);
        assert_eq!((counter(&ether, "tx_packets"), counter(&ether, "tx_bytes"), ether.tx_drops()), (4, 28, 0));
    }

    #[test]
    fn an_ip_device_sends_ipv4_frames_without_their_header() {
        let ip = device(InnerKind::Ipv4, Some(11));
        ip.transmit(packet(&[1; 13]));
        ip.transmit(packet(&[[0u8; 12].as_slice(), &[0x86, 0xdd], &[0x60; 40]].concat()));
        ip.transmit(packet(&[[0u8; 12].as_slice(), &[8, 0], &[0x45; 20]].concat()));
        assert_eq!(ip.0.take_transmitted().iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(), [vec![0x45; 20]]);
        assert_eq!((counter(&ip, "tx_too_short"), counter(&ip, "tx_not_ipv4"), counter(&ip, "tx_bytes"), ip.tx_drops()), (1, 1, 20, 2));
    }

    #[test]
    fn packets_past_the_tunnels_mtu_are_dropped_as_exceeds_mtu() {
        // A keyed IP tunnel: 20 bytes of outer IPv4 and 8 of GRE leave 1472 of 1500.
        let ip = device(InnerKind::Ipv4, Some(11));
        let frame = |inner: usize| packet(&[[0u8; 12].as_slice(), &[8, 0], &vec![0x45; inner]].concat());
        ip.transmit(frame(1472));
        ip.transmit(frame(1473));
        assert_eq!((counter(&ip, "tx_packets"), counter(&ip, "tx_exceeds_mtu")), (1, 1));
        // A keyless Ethernet tunnel: 4 bytes of GRE leave 1476, the whole frame.
        let ether = device(InnerKind::Ethernet, None);
        ether.transmit(packet(&[0; 1476]));
        ether.transmit(packet(&[0; 1477]));
        assert_eq!((counter(&ether, "tx_packets"), counter(&ether, "tx_exceeds_mtu"), ether.tx_drops()), (1, 1, 1));
    }

    #[test]
    fn reset_zeroes_every_counter() {
        let ip = device(InnerKind::Ipv4, Some(11));
        ip.0.arrive(&[0x45; 3]);
        ip.0.arrive(&[0x45; 30]);
        ip.transmit(packet(&[1; 3]));
        ip.reset_counters();
        assert!(stats(&ip).iter().all(|l| l.ends_with(" 0")), "{:?}", stats(&ip));
    }
}
