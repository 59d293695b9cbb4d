//! Egress: `ToDevice`'s frames held to the operator's caps, encapsulated in the device's tunnel
//! and handed to the port's physical device, on the tenant's thread.
//!
//! The caps (`shaping.rs`) count the bytes `tx_bytes` counts: the inner packet as the tunnel
//! carries it (an IP tunnel's without the Ethernet header the graph gave it). A frame over a
//! cap is dropped before it is encapsulated and counted as `over_cap` (the device's own cap)
//! or `over_tenant_cap` (the tenant's aggregate), with a `vdp_drop` event; it costs neither
//! cap anything.

use super::counters::TxLocalDrop;
use super::types::VirtualDevice;
use super::{ETHERTYPE_IPV4, ETHER_HEADER_LEN};
use crate::packet::Packet;
use crate::portable::tunnel::{self, InnerKind, TxReason};
use crate::portable::tx_cap::Verdict;
use crate::portable::wire::checksum::Sum;
use core::sync::atomic::Ordering;
use kernel::prelude::*;

impl VirtualDevice {
    /// Encapsulates a frame from the tenant's graph and sends it over the port. Every packet is
    /// either sent or counted under the reason it was dropped.
    pub(crate) fn transmit(&self, mut packet: Packet) {
        let spec = &self.config.spec;
        if spec.inner == InnerKind::Ipv4 {
            let data = packet.data();
            if data.len() < ETHER_HEADER_LEN {
                return self.count_tx_local(TxLocalDrop::TooShort);
            }
            if data.get(12..14) != Some(&ETHERTYPE_IPV4[..]) {
                return self.count_tx_local(TxLocalDrop::NotIpv4);
            }
            if packet.pull(ETHER_HEADER_LEN as u32).is_err() {
                return self.count_tx_local(TxLocalDrop::TooShort);
            }
        }
        let inner_len = packet.len();
        if inner_len > spec.max_inner_len() {
            return self.count_tx_reason(TxReason::ExceedsMtu);
        }
        match self.admit(inner_len as u64) {
            Verdict::Send => {}
            Verdict::OverDeviceCap => return self.count_tx_local(TxLocalDrop::OverCap),
            Verdict::OverTenantCap => return self.count_tx_local(TxLocalDrop::OverTenantCap),
        }
        let inner_sum = if spec.checksum { Sum::ZERO.add_bytes(packet.data()) } else { Sum::ZERO };
        let outer_len = ETHER_HEADER_LEN + spec.encap_len();
        if packet.push(outer_len as u32).is_err() {
            return self.count_tx_local(TxLocalDrop::NoMemory);
        }
        let ident = self.ident.fetch_add(1, Ordering::Relaxed);
        let written = match packet.data_mut() {
            Ok(data) => {
                let (ether, rest) = data.split_at_mut(ETHER_HEADER_LEN.min(data.len()));
                if ether.len() == ETHER_HEADER_LEN {
                    ether[..6].copy_from_slice(&self.config.peer_mac);
                    // The source is the device's own address, written by the transmit path.
                    ether[12..].copy_from_slice(&ETHERTYPE_IPV4);
                }
                tunnel::encapsulate(spec, ident, rest, inner_len, inner_sum).map_err(Some)
            }
            Err(_) => Err(None),
        };
        match written {
            Ok(_) => {}
            Err(Some(reason)) => return self.count_tx_reason(reason),
            Err(None) => return self.count_tx_local(TxLocalDrop::NoMemory),
        }
        match self.port.raw.transmit(packet) {
            Ok(()) => {
                self.tx_packets.fetch_add(1, Ordering::Relaxed);
                self.tx_bytes.fetch_add(inner_len as u64, Ordering::Relaxed);
            }
            Err(e) if e == ENETDOWN => self.count_tx_local(TxLocalDrop::PortDown),
            Err(_) => self.count_tx_local(TxLocalDrop::DeviceDropped),
        }
    }
}
