//! EtherEncap: prepends a 14-byte Ethernet header with ETHERTYPE, SRC and DST.
//!
//! The header is written by the portable core (`wire::ethernet`).

use crate::catalog::{base, int, required, ArgKind, ElementClass};
use crate::element::agnostic::Action;
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use crate::element_args::ArgValue;
use crate::wire::ethernet::{self, Address, EtherType, Frame};
use core::fmt;

/// EtherEncap's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[
        required("ETHERTYPE", int(0, 0xffff)),
        required("SRC", ArgKind::EtherAddr),
        required("DST", ArgKind::EtherAddr),
    ],
    cost_cycles: 150,
    ..base("EtherEncap", "Prepends an Ethernet header")
};

pub struct EtherEncap {
    ethertype: u16,
    src: Address,
    dst: Address,
}

impl<P: Platform> Action<P> for EtherEncap {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let ethertype = build.int_as("ETHERTYPE")?;
        let Some(ArgValue::Ether(src)) = build.value("SRC") else { return Err(ConstructError::BadArgument("SRC")) };
        let Some(ArgValue::Ether(dst)) = build.value("DST") else { return Err(ConstructError::BadArgument("DST")) };
        Ok(EtherEncap { ethertype, src: Address(src), dst: Address(dst) })
    }

    /// A packet with no headroom left, when there is no memory to grow it, is dropped.
    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        packet.push(ethernet::HEADER_LEN).ok()?;
        let mut frame = Frame::new_checked(packet.data_mut().ok()?).ok()?;
        frame.set_dst_addr(self.dst);
        frame.set_src_addr(self.src);
        frame.set_ethertype(EtherType::from(self.ethertype));
        Some((0, packet))
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
