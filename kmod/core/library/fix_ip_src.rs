//! FixIPSrc: gives a packet whose Fix IP Source annotation is set (ICMPError sets it) the source
//! address IPADDR, the address of the interface it leaves by (RFC 1812 4.3.2.4), with the header
//! checksum computed afresh, and clears the annotation. Other packets pass untouched.
//!
//! Where vdp differs from Click: the header is found at the network-header mark or at the start
//! of the packet, and a marked packet too short for its header is dropped.

use crate::catalog::{base, required, ArgKind, ElementClass};
use crate::element::agnostic::Action;
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use crate::element_args::ArgValue;
use crate::wire::checksum;
use core::fmt;

/// FixIPSrc's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[required("IPADDR", ArgKind::Ipv4Addr)],
    cost_cycles: 150,
    ..base("FixIPSrc", "Sets the IP source to IPADDR on packets marked for it (ICMP errors)")
};

pub struct FixIpSrc {
    address: [u8; 4],
}

impl<P: Platform> Action<P> for FixIpSrc {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        match build.value("IPADDR") {
            Some(ArgValue::Ipv4(address)) => Ok(FixIpSrc { address }),
            _ => Err(ConstructError::BadArgument("IPADDR")),
        }
    }

    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        if !packet.fix_ip_src() {
            return Some((0, packet));
        }
        let at = packet.network_offset().unwrap_or(0);
        {
            let data = packet.data_mut().ok()?;
            let ip = data.get_mut(at..)?;
            let header_len = usize::from(ip.first()? & 0x0f) * 4;
            let header = ip.get_mut(..header_len).filter(|h| h.len() >= 20)?;
            header.get_mut(12..16)?.copy_from_slice(&self.address);
            header.get_mut(10..12)?.fill(0);
            let sum = checksum::checksum(header);
            header.get_mut(10..12)?.copy_from_slice(&sum.to_be_bytes());
        }
        packet.set_fix_ip_src(false);
        Some((0, packet))
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
