//! EtherMirror: swaps the Ethernet source and destination addresses.
//!
//! The header is read and written by the portable core (`wire::ethernet`).

use crate::catalog::{base, ElementClass};
use crate::element::agnostic::Action;
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use crate::wire::ethernet::Frame;
use core::fmt;

/// EtherMirror's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    cost_cycles: 100,
    ..base("EtherMirror", "Swaps the Ethernet source and destination addresses")
};

pub struct EtherMirror;

impl<P: Platform> Action<P> for EtherMirror {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(_: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(EtherMirror)
    }

    /// A packet too short for an Ethernet header is dropped.
    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        let mut frame = Frame::new_checked(packet.data_mut().ok()?).ok()?;
        let (src, dst) = (frame.src_addr(), frame.dst_addr());
        frame.set_src_addr(dst);
        frame.set_dst_addr(src);
        Some((0, packet))
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
