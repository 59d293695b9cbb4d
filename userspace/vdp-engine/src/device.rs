//! A tenant's virtual devices at user level: the frames the engine hands in wait in a bounded
//! receive queue for `FromDevice`, and what `ToDevice` sends is recorded with its virtual time.
//!
//! They mirror the kernel's devices (`kmod/device/`) where the graph can tell: a device that
//! carries IPv4 takes bare IPv4 packets, which FromDevice sees with an Ethernet header from the
//! device's address to its peer's, and sends only IPv4 frames, without their Ethernet header;
//! the receive queue holds as many frames as the kernel's; the counters count the same things.

use crate::packet::UserPacket;
use crate::platform::User;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use vdp_core::element::{self, Direction, PacketBuf, Platform};

/// Frames a device's receive queue holds, as in the kernel (`RX_QUEUE_CAPACITY`).
pub const RX_QUEUE_CAPACITY: usize = 1024;

const ETHER_HEADER_LEN: usize = 14;
const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];

/// What a device's tunnel carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carries {
    Ethernet,
    Ipv4,
}

/// One device of the tenant, as the system config describes it.
#[derive(Clone, Debug)]
pub struct DeviceSetup {
    pub name: String,
    pub carries: Carries,
    /// The device's own address, and its peer's: the Ethernet header an IPv4 device's frames
    /// get on receive.
    pub mac: [u8; 6],
    pub peer_mac: [u8; 6],
}

#[derive(Default)]
struct Counters {
    rx_packets: AtomicU64,
    rx_bytes: AtomicU64,
    rx_queue_full: AtomicU64,
    tx_packets: AtomicU64,
    tx_bytes: AtomicU64,
    tx_too_short: AtomicU64,
    tx_not_ipv4: AtomicU64,
}

pub(crate) struct Device {
    pub(crate) setup: DeviceSetup,
    rx: Mutex<VecDeque<UserPacket>>,
    tx: Mutex<Vec<(u64, Vec<u8>)>>,
    /// Every frame transmitted, never reset: the engine's budget counts these.
    transmitted: AtomicU64,
    counters: Counters,
}

impl Device {
    pub(crate) fn new(setup: DeviceSetup) -> Arc<Device> {
        Arc::new(Device { setup, rx: Mutex::new(VecDeque::new()), tx: Mutex::new(Vec::new()), transmitted: AtomicU64::new(0), counters: Counters::default() })
    }

    /// A frame arrives; returns whether it was queued (else it was counted as a drop).
    pub(crate) fn arrive(&self, bytes: &[u8]) -> bool {
        let packet = match self.setup.carries {
            Carries::Ethernet => UserPacket::from_bytes(bytes),
            Carries::Ipv4 => {
                let mut framed = Vec::with_capacity(ETHER_HEADER_LEN + bytes.len());
                framed.extend_from_slice(&self.setup.mac);
                framed.extend_from_slice(&self.setup.peer_mac);
                framed.extend_from_slice(&ETHERTYPE_IPV4);
                framed.extend_from_slice(bytes);
                UserPacket::from_bytes(&framed)
            }
        };
        let Some(packet) = packet else { return false };
        let mut rx = self.rx.lock().unwrap_or_else(|p| p.into_inner());
        if rx.len() >= RX_QUEUE_CAPACITY {
            self.counters.rx_queue_full.fetch_add(1, Relaxed);
            return false;
        }
        self.counters.rx_packets.fetch_add(1, Relaxed);
        self.counters.rx_bytes.fetch_add(packet.len() as u64, Relaxed);
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
}

/// An element's hold on a device.
pub struct DeviceEnd(pub(crate) Arc<Device>);

impl element::DeviceEnd<UserPacket> for DeviceEnd {
    fn receive(&self) -> Option<UserPacket> {
        self.0.rx.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
    }

    fn transmit(&self, packet: UserPacket) {
        let device = &self.0;
        let data = packet.data();
        let sent = match device.setup.carries {
            Carries::Ethernet => {
                if data.len() < ETHER_HEADER_LEN {
                    device.counters.tx_too_short.fetch_add(1, Relaxed);
                    return;
                }
                data
            }
            Carries::Ipv4 => {
                if data.len() < ETHER_HEADER_LEN {
                    device.counters.tx_too_short.fetch_add(1, Relaxed);
                    return;
                }
                if data.get(12..14) != Some(&ETHERTYPE_IPV4[..]) {
                    device.counters.tx_not_ipv4.fetch_add(1, Relaxed);
                    return;
                }
                data.get(ETHER_HEADER_LEN..).unwrap_or(&[])
            }
        };
        device.counters.tx_packets.fetch_add(1, Relaxed);
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
        self.0.counters.rx_queue_full.load(Relaxed)
    }
    fn tx_drops(&self) -> u64 {
        self.0.counters.tx_too_short.load(Relaxed) + self.0.counters.tx_not_ipv4.load(Relaxed)
    }
    fn rx_queue_len(&self) -> u64 {
        self.0.rx.lock().unwrap_or_else(|p| p.into_inner()).len() as u64
    }
    fn for_each_counter(&self, f: &mut dyn FnMut(Direction, &'static str, u64) -> fmt::Result) -> fmt::Result {
        let c = &self.0.counters;
        for (name, value) in [("packets", &c.rx_packets), ("bytes", &c.rx_bytes), ("queue_full", &c.rx_queue_full)] {
            f(Direction::Receive, name, value.load(Relaxed))?;
        }
        for (name, value) in [("packets", &c.tx_packets), ("bytes", &c.tx_bytes), ("too_short", &c.tx_too_short), ("not_ipv4", &c.tx_not_ipv4)] {
            f(Direction::Transmit, name, value.load(Relaxed))?;
        }
        Ok(())
    }
    fn reset_counters(&self) {
        let c = &self.0.counters;
        for counter in [&c.rx_packets, &c.rx_bytes, &c.rx_queue_full, &c.tx_packets, &c.tx_bytes, &c.tx_too_short, &c.tx_not_ipv4] {
            counter.store(0, Relaxed);
        }
    }
}
