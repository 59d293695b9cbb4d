//! SetIPChecksum: recomputes the checksum of the IPv4 header at the network offset (the
//! packet's start when none is marked).
//!
//! The header logic is the portable core's (`wire::ipv4`).

use crate::catalog::{base, ElementClass};
use crate::element::agnostic::Action;
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use crate::wire::ipv4;
use core::fmt;

/// SetIPChecksum's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    cost_cycles: 300,
    ..base("SetIPChecksum", "Recomputes the IP header checksum")
};

pub struct SetIpChecksum;

impl<P: Platform> Action<P> for SetIpChecksum {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(_: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(SetIpChecksum)
    }

    /// A packet whose header does not fit is dropped, as in Click.
    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        let offset = packet.network_offset().unwrap_or(0);
        {
            let data = packet.data_mut().ok()?;
            let mut ip = ipv4::Packet::new_unchecked(data.get_mut(offset..)?);
            let header_len = ip.header_len();
            if header_len < ipv4::MIN_HEADER_LEN || ip.header().len() < header_len {
                return None;
            }
            ip.fill_checksum();
        }
        Some((0, packet))
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
