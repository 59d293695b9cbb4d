//! DecIPTTL: decrements the TTL of the IPv4 header at the network offset (the packet's start
//! when none is marked) and updates its checksum; packets whose TTL expires go to output 1, or
//! are dropped when there is none.
//!
//! The header logic is the portable core's (`wire::ipv4`).

use crate::catalog::{base, ElementClass, PortRange};
use crate::element::agnostic::Action;
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use crate::wire::ipv4;
use core::fmt;

/// DecIPTTL's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 2),
    processing: "a/ah",
    cost_cycles: 200,
    ..base("DecIPTTL", "Decrements the IP TTL; expired packets go to output 1")
};

pub struct DecIpTtl {
    has_reject_output: bool,
}

impl<P: Platform> Action<P> for DecIpTtl {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(DecIpTtl { has_reject_output: build.outputs() > 1 })
    }

    /// A packet too short for an IP header is dropped.
    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        let offset = packet.network_offset().unwrap_or(0);
        let expired = {
            let data = packet.data_mut().ok()?;
            let mut ip = ipv4::Packet::new_unchecked(data.get_mut(offset..)?);
            if ip.header().len() < ipv4::MIN_HEADER_LEN {
                return None;
            }
            ip.decrement_ttl().is_err()
        };
        if expired {
            if self.has_reject_output {
                return Some((1, packet));
            }
            drop(packet);
            return None;
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
