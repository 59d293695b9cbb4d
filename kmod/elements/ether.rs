//! EtherEncap and EtherMirror: writing and swapping Ethernet addresses.

use super::agnostic::{Action, Agnostic};
use super::{boxed, int_arg, ConstructError};
use crate::engine::Element;
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::{ArgValue, ElementArgs};
use crate::portable::wire::ethernet::{self, Address, EtherType, Frame};
use kernel::prelude::*;

struct EtherEncap {
    ethertype: u16,
    src: Address,
    dst: Address,
}

pub(super) fn construct_encap(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let ethertype = u16::try_from(int_arg(args, "ETHERTYPE")?).map_err(|_| ConstructError::BadArgument("ETHERTYPE"))?;
    let Some(ArgValue::Ether(src)) = args.value("SRC") else { return Err(ConstructError::BadArgument("SRC")) };
    let Some(ArgValue::Ether(dst)) = args.value("DST") else { return Err(ConstructError::BadArgument("DST")) };
    boxed(Agnostic(EtherEncap { ethertype, src: Address(src), dst: Address(dst) }))
}

impl Action for EtherEncap {
    fn act(&self, mut packet: Packet) -> Option<(u16, Packet)> {
        packet.push(ethernet::HEADER_LEN as u32).ok()?;
        let mut frame = Frame::new_checked(packet.data_mut().ok()?).ok()?;
        frame.set_dst_addr(self.dst);
        frame.set_src_addr(self.src);
        frame.set_ethertype(EtherType::from(self.ethertype));
        Some((0, packet))
    }
}

struct EtherMirror;

pub(super) fn construct_mirror(_: &ElementView<'_>, _: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    boxed(Agnostic(EtherMirror))
}

impl Action for EtherMirror {
    /// A packet too short for an Ethernet header is dropped.
    fn act(&self, mut packet: Packet) -> Option<(u16, Packet)> {
        let mut frame = Frame::new_checked(packet.data_mut().ok()?).ok()?;
        let (src, dst) = (frame.src_addr(), frame.dst_addr());
        frame.set_src_addr(dst);
        frame.set_dst_addr(src);
        Some((0, packet))
    }
}
