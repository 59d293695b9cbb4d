//! The IPv4 header elements: CheckIPHeader, DecIPTTL, SetIPChecksum, IPEncap and GetIPAddress.
//! The header logic is the portable core's (`wire::ipv4`, `ip_actions`); these wrappers only
//! find the header in the packet and route the result.

use crate::sys::memcg::tenant_gfp;
use super::agnostic::{Action, Agnostic};
use super::{boxed, int_arg, ConstructError};
use crate::engine::{handler::{HandlerError, HandlerText}, Element};
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::{ArgValue, ElementArgs};
use crate::portable::ip_actions::{check_ip, SourceRules};
use crate::portable::wire::ipv4::{self, Address, Repr};
use core::fmt::Write;
use core::sync::atomic::{AtomicU16, AtomicU64, Ordering::Relaxed};
use kernel::prelude::*;

fn offset_arg(args: &ElementArgs<'_>) -> Result<usize, ConstructError> {
    usize::try_from(int_arg(args, "OFFSET")?).map_err(|_| ConstructError::BadArgument("OFFSET"))
}

/// Sends a refused packet to output 1 when the element has one, or drops it.
fn reject(has_reject_output: bool, packet: Packet) -> Option<(u16, Packet)> {
    if has_reject_output {
        Some((1, packet))
    } else {
        drop(packet);
        None
    }
}

struct CheckIpHeader {
    offset: usize,
    verify_checksum: bool,
    bad_sources: KVec<u8>,
    interfaces: KVec<u8>,
    has_reject_output: bool,
    drops: AtomicU64,
}

pub(super) fn construct_check_ip_header(view: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let mut bad_sources = KVec::new();
    if let Some(ArgValue::AddrList { bytes, .. }) = args.value("BADSRC") {
        bad_sources.extend_from_slice(bytes, tenant_gfp())?;
    }
    let mut interfaces = KVec::new();
    if let Some(ArgValue::PrefixList { bytes, .. }) = args.value("INTERFACES") {
        interfaces.extend_from_slice(bytes, tenant_gfp())?;
    }
    boxed(Agnostic(CheckIpHeader {
        offset: offset_arg(args)?,
        verify_checksum: args.bool("CHECKSUM").unwrap_or(true),
        bad_sources,
        interfaces,
        has_reject_output: view.outputs > 1,
        drops: AtomicU64::new(0),
    }))
}

impl Action for CheckIpHeader {
    fn act(&self, mut packet: Packet) -> Option<(u16, Packet)> {
        let rules = SourceRules { bad_sources: &self.bad_sources, interfaces: &self.interfaces };
        let checked = check_ip(packet.data(), self.offset, self.verify_checksum, &rules);
        let end = match checked {
            Ok(end) => end,
            Err(_) => {
                self.drops.fetch_add(1, Relaxed);
                return reject(self.has_reject_output, packet);
            }
        };
        // Trailing link-layer padding goes, as in Click; then the annotations later IP
        // elements rely on: where the header is, and the destination to route on.
        if end < packet.len() {
            packet.trim(u32::try_from(end).ok()?).ok()?;
        }
        packet.set_network_offset(self.offset);
        let destination = ipv4::Packet::new_unchecked(packet.data().get(self.offset..)?).dst_addr();
        packet.set_dst_ip_anno(destination.0);
        Some((0, packet))
    }

    fn read(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        match name {
            "drops" => write!(out, "{}", self.drops.load(Relaxed)).map_err(|_| HandlerError::Refused("reply too long")),
            _ => Err(HandlerError::NoSuchHandler),
        }
    }
}

struct DecIpTtl {
    has_reject_output: bool,
}

pub(super) fn construct_dec_ip_ttl(view: &ElementView<'_>, _: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    boxed(Agnostic(DecIpTtl { has_reject_output: view.outputs > 1 }))
}

impl Action for DecIpTtl {
    fn act(&self, mut packet: Packet) -> Option<(u16, Packet)> {
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
            return reject(self.has_reject_output, packet);
        }
        Some((0, packet))
    }
}

struct SetIpChecksum;

pub(super) fn construct_set_ip_checksum(_: &ElementView<'_>, _: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    boxed(Agnostic(SetIpChecksum))
}

impl Action for SetIpChecksum {
    /// A packet whose header does not fit is dropped, as in Click.
    fn act(&self, mut packet: Packet) -> Option<(u16, Packet)> {
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
}

struct IpEncap {
    header: Repr,
    ident: AtomicU16,
}

pub(super) fn construct_ip_encap(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let Some(ArgValue::Protocol(protocol)) = args.value("PROTO") else { return Err(ConstructError::BadArgument("PROTO")) };
    let Some(ArgValue::Ipv4(src)) = args.value("SRC") else { return Err(ConstructError::BadArgument("SRC")) };
    let Some(ArgValue::Ipv4(dst)) = args.value("DST") else { return Err(ConstructError::BadArgument("DST")) };
    let header = Repr {
        src_addr: Address(src),
        dst_addr: Address(dst),
        protocol: protocol.into(),
        payload_len: 0,
        ttl: u8::try_from(int_arg(args, "TTL")?).map_err(|_| ConstructError::BadArgument("TTL"))?,
        ident: 0,
        dont_fragment: args.bool("DF").unwrap_or(false),
        tos: u8::try_from(int_arg(args, "TOS")?).map_err(|_| ConstructError::BadArgument("TOS"))?,
    };
    boxed(Agnostic(IpEncap { header, ident: AtomicU16::new(1) }))
}

impl Action for IpEncap {
    /// A packet that would exceed 65535 bytes with the header is dropped.
    fn act(&self, mut packet: Packet) -> Option<(u16, Packet)> {
        let header = Repr { payload_len: packet.len(), ident: self.ident.fetch_add(1, Relaxed), ..self.header };
        header.total_len()?;
        packet.push(ipv4::MIN_HEADER_LEN as u32).ok()?;
        header.emit(packet.data_mut().ok()?).ok()?;
        packet.set_network_offset(0);
        packet.set_dst_ip_anno(header.dst_addr.0);
        Some((0, packet))
    }
}

struct GetIpAddress {
    offset: usize,
}

pub(super) fn construct_get_ip_address(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    boxed(Agnostic(GetIpAddress { offset: offset_arg(args)? }))
}

impl Action for GetIpAddress {
    /// A packet too short to hold the address is dropped.
    fn act(&self, mut packet: Packet) -> Option<(u16, Packet)> {
        let field = packet.data().get(self.offset..self.offset.checked_add(4)?)?;
        let mut address = [0u8; 4];
        address.copy_from_slice(field);
        packet.set_dst_ip_anno(address);
        Some((0, packet))
    }
}
