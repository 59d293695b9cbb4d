//! StripIPHeader: removes the IP header (and whatever lies in front of it) from each packet: the
//! bytes up to the network-header mark (the start of the packet when none is set) plus the
//! header's own length. The mark is left where it was, outside the packet now, as Click leaves
//! it; a later CheckIPHeader marks an inner header. Like Click, a packet shorter than that loses
//! all its bytes rather than being dropped.

use crate::catalog::{base, ElementClass};
use crate::element::agnostic::Action;
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use core::fmt;

/// StripIPHeader's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass { cost_cycles: 50, ..base("StripIPHeader", "Removes the IP header from the front of each packet") };

pub struct StripIpHeader;

impl<P: Platform> Action<P> for StripIpHeader {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(_: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(StripIpHeader)
    }

    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        let at = packet.network_offset().unwrap_or(0);
        let header_len = packet.data().get(at).map_or(0, |byte| usize::from(byte & 0x0f) * 4);
        let n = (at + header_len).min(packet.len());
        packet.pull(n).ok()?;
        Some((0, packet))
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
