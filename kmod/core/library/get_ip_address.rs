//! GetIPAddress: copies the four bytes at OFFSET into the destination IP annotation, which the
//! route lookups use.

use crate::catalog::{base, int, required, ElementClass, MAX_HEADER_BYTES};
use crate::element::agnostic::Action;
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use core::fmt;

/// GetIPAddress's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[required("OFFSET", int(0, MAX_HEADER_BYTES))],
    cost_cycles: 50,
    ..base("GetIPAddress", "Copies the IP address at OFFSET into the destination annotation")
};

pub struct GetIpAddress {
    offset: usize,
}

impl<P: Platform> Action<P> for GetIpAddress {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(GetIpAddress { offset: build.int_as("OFFSET")? })
    }

    /// A packet too short to hold the address is dropped.
    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        let field = packet.data().get(self.offset..self.offset.checked_add(4)?)?;
        let address = <[u8; 4]>::try_from(field).ok()?;
        packet.set_dst_ip_anno(address);
        Some((0, packet))
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
