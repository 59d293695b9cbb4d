//! IPEncap: prepends a 20-byte IPv4 header (PROTO, SRC, DST, TOS, TTL, DF), with a fresh
//! identification per packet, and sets the annotations later IP elements rely on.
//!
//! The header is written by the portable core (`wire::ipv4::Repr`).

use crate::catalog::{base, int, keyword, required, ArgKind, ElementClass};
use crate::element::agnostic::Action;
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use crate::element_args::ArgValue;
use crate::wire::ipv4::{self, Address, Repr};
use core::fmt;
use core::sync::atomic::{AtomicU16, Ordering::Relaxed};

/// IPEncap's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[
        required("PROTO", ArgKind::IpProtocol),
        required("SRC", ArgKind::Ipv4Addr),
        required("DST", ArgKind::Ipv4Addr),
        keyword("TOS", int(0, 255), Some("0")),
        keyword("TTL", int(1, 255), Some("250")),
        keyword("DF", ArgKind::Bool, Some("false")),
    ],
    cost_cycles: 300,
    ..base("IPEncap", "Prepends an IP header")
};

pub struct IpEncap {
    /// The header every packet gets, but for its payload length and identification.
    header: Repr,
    ident: AtomicU16,
}

impl<P: Platform> Action<P> for IpEncap {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let Some(ArgValue::Protocol(protocol)) = build.value("PROTO") else { return Err(ConstructError::BadArgument("PROTO")) };
        let Some(ArgValue::Ipv4(src)) = build.value("SRC") else { return Err(ConstructError::BadArgument("SRC")) };
        let Some(ArgValue::Ipv4(dst)) = build.value("DST") else { return Err(ConstructError::BadArgument("DST")) };
        let header = Repr {
            src_addr: Address(src),
            dst_addr: Address(dst),
            protocol: protocol.into(),
            payload_len: 0,
            ttl: build.int_as("TTL")?,
            ident: 0,
            dont_fragment: build.args.bool("DF").unwrap_or(false),
            tos: build.int_as("TOS")?,
        };
        Ok(IpEncap { header, ident: AtomicU16::new(1) })
    }

    /// A packet that would exceed 65535 bytes with the header is dropped, and so is one that
    /// has no headroom left when there is no memory to grow it.
    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        let header = Repr { payload_len: packet.len(), ident: self.ident.fetch_add(1, Relaxed), ..self.header };
        header.total_len()?;
        packet.push(ipv4::MIN_HEADER_LEN).ok()?;
        header.emit(packet.data_mut().ok()?).ok()?;
        packet.set_network_offset(0);
        packet.set_dst_ip_anno(header.dst_addr.0);
        Some((0, packet))
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
