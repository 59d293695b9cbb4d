//! Ingress: the per-port lookup table the rx_handler consults (softirq), the decapsulation of a
//! tunnel's packet onto its device's receive queue, and `FromDevice`'s end of that queue.

use super::counters::RxLocalDrop;
use super::types::{Port, VirtualDevice};
use super::{ETHERTYPE_IPV4, ETHER_HEADER_LEN};
use crate::packet::Packet;
use crate::portable::element::LinkPacketType;
use crate::portable::tunnel::{self, InnerKind, TunnelSpec};
use crate::portable::wire::ipv4::Address;
use crate::sys::netdev::{Borrowed, PortTable, RxBatch};
use core::sync::atomic::Ordering;
use kernel::prelude::*;
use kernel::sync::Arc;

/// The immutable lookup table a port's receive path uses: its tunnels and their devices.
///
/// # Invariants
///
/// `specs[i]` is the tunnel of `devices[i]`, and every device is over `port`. Published under
/// RCU by the registry and never changed afterwards.
pub(crate) struct Table {
    pub(super) specs: KVec<TunnelSpec>,
    pub(super) devices: KVec<Arc<VirtualDevice>>,
    pub(super) port: Arc<Port>,
}

impl Table {
    /// The only device whose tunnel uses these endpoints, to charge a drop to.
    fn device_for_endpoints(&self, packet: &[u8]) -> Option<&VirtualDevice> {
        let src = Address(packet.get(12..16)?.try_into().ok()?);
        let dst = Address(packet.get(16..20)?.try_into().ok()?);
        let mut matching = self.specs.iter().zip(self.devices.iter()).filter(|(spec, _)| spec.local == dst && spec.remote == src);
        let (_, device) = matching.next()?;
        matching.next().is_none().then_some(&**device)
    }
}

impl PortTable for Table {
    fn receive(&self, packet: Borrowed<'_>) -> bool {
        match tunnel::classify(packet.data(), &self.specs[..]) {
            Err(reason) if reason.is_for_host() => false,
            Err(reason) => {
                match self.device_for_endpoints(packet.data()) {
                    Some(device) => device.count_rx_reason(reason),
                    None => self.port.count_rx_reason(reason),
                }
                drop(packet.take());
                true
            }
            Ok(found) => {
                if let Some(device) = self.devices.get(found.tunnel) {
                    device.deliver(packet, &found);
                } else {
                    drop(packet.take());
                }
                true
            }
        }
    }
}

impl VirtualDevice {
    /// Softirq: strips the outer headers of a packet of this device's tunnel and queues the
    /// inner one for the tenant's thread. IP tunnels get an Ethernet header, as tenants read
    /// frames from `FromDevice`.
    fn deliver(&self, packet: Borrowed<'_>, found: &tunnel::Decapsulated) {
        let Some(mut packet) = packet.take() else {
            self.count_rx_local(RxLocalDrop::NoMemory);
            return;
        };
        let (Ok(end), Ok(start)) = (u32::try_from(found.inner_end), u32::try_from(found.inner_start)) else {
            self.count_rx_local(RxLocalDrop::NoMemory);
            return;
        };
        let mut decapsulated = packet.trim(end).and_then(|()| packet.pull(start));
        if decapsulated.is_ok() && found.inner == InnerKind::Ipv4 {
            decapsulated = self.add_ether_header(&mut packet);
        }
        if decapsulated.is_err() {
            self.count_rx_local(RxLocalDrop::NoMemory);
            return;
        }
        // The link-level packet type is the inner frame's, against this device's address: the
        // outer frame's, which the port's eth_type_trans set, says nothing about it. An IP
        // tunnel's frames carry our address, so they are the host's.
        let destination = packet.data().get(..6).and_then(|d| <[u8; 6]>::try_from(d).ok());
        if let Some(destination) = destination {
            packet.set_pkt_type(LinkPacketType::of_destination(&destination, &self.config.mac) as u8);
        }
        // Click's timestamp annotation: when the packet arrived.
        packet.set_timestamp_ns(crate::sys::time::now_ns());
        let bytes = packet.len() as u64;
        match self.rx_queue.push(packet) {
            Ok(length) => {
                self.rx_packets.fetch_add(1, Ordering::Relaxed);
                self.rx_bytes.fetch_add(bytes, Ordering::Relaxed);
                // The thread drains the queue before it sleeps, so only the first packet after
                // it went empty needs to wake it.
                if length == 1 {
                    self.doorbell.ring();
                }
            }
            Err(packet) => {
                self.count_rx_local(RxLocalDrop::QueueFull);
                drop(packet);
            }
        }
    }

    fn add_ether_header(&self, packet: &mut Packet) -> Result {
        packet.push(ETHER_HEADER_LEN as u32)?;
        let data = packet.data_mut()?;
        let header = data.get_mut(..ETHER_HEADER_LEN).ok_or(EINVAL)?;
        header[..6].copy_from_slice(&self.config.mac);
        header[6..12].copy_from_slice(&self.config.peer_mac);
        header[12..].copy_from_slice(&ETHERTYPE_IPV4);
        Ok(())
    }

    /// The next received packet, for `FromDevice`.
    pub(crate) fn receive(&self) -> Option<Packet> {
        self.rx_queue.pop()
    }

    /// Up to `max` received packets, taken off the queue together, for `FromDevice`'s burst.
    pub(crate) fn receive_batch(&self, max: u32) -> RxBatch {
        self.rx_queue.take(max)
    }
}
