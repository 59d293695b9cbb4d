//! CheckIPHeader: checks the IPv4 header OFFSET bytes into each packet as Click does, and sends
//! packets that fail to output 1 (or drops them when there is none).
//!
//! The checks are the portable core's (`ip_actions::check_ip`); this element finds the header,
//! routes the result and sets the annotations later IP elements rely on.

use crate::catalog::{base, int, keyword, positional, ArgKind, ElementClass, PortRange, MAX_HEADER_BYTES};
use crate::element::agnostic::Action;
use crate::element::handler::{handlers, reply, HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform, Vector};
use crate::element_args::ArgValue;
use crate::ip_actions::{check_ip, SourceRules};
use crate::wire::ipv4;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// CheckIPHeader's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 2),
    processing: "a/ah",
    args: &[
        // Click's one positional argument is OFFSET (`CheckIPHeader(14)`).
        positional("OFFSET", int(0, MAX_HEADER_BYTES), Some("0")),
        keyword("BADSRC", ArgKind::AddrList, None),
        keyword("INTERFACES", ArgKind::PrefixList, None),
        keyword("VERBOSE", ArgKind::Bool, Some("false")),
        keyword("CHECKSUM", ArgKind::Bool, Some("true")),
    ],
    cost_cycles: 400,
    ..base("CheckIPHeader", "Drops or diverts packets with invalid IP headers")
};

handlers! {
    pub enum Read {
        Drops = "drops": Integer,
    }
}

pub struct CheckIpHeader<P: Platform> {
    offset: usize,
    verify_checksum: bool,
    /// BADSRC as the compiled graph encodes it: 4-byte addresses.
    bad_sources: Vector<P, u8>,
    /// INTERFACES as the compiled graph encodes it: 5-byte prefixes (address, length).
    interfaces: Vector<P, u8>,
    has_reject_output: bool,
    drops: AtomicU64,
}

impl<P: Platform> Action<P> for CheckIpHeader<P> {
    type Read = Read;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let bad_sources = match build.value("BADSRC") {
            Some(ArgValue::AddrList { bytes, .. }) => Vector::from_slice(bytes)?,
            _ => Vector::new(),
        };
        let interfaces = match build.value("INTERFACES") {
            Some(ArgValue::PrefixList { bytes, .. }) => Vector::from_slice(bytes)?,
            _ => Vector::new(),
        };
        Ok(CheckIpHeader {
            offset: build.int_as("OFFSET")?,
            verify_checksum: build.args.bool("CHECKSUM").unwrap_or(true),
            bad_sources,
            interfaces,
            has_reject_output: build.outputs() > 1,
            drops: AtomicU64::new(0),
        })
    }

    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        let rules = SourceRules { bad_sources: &self.bad_sources, interfaces: &self.interfaces };
        let end = match check_ip(packet.data(), self.offset, self.verify_checksum, &rules) {
            Ok(end) => end,
            Err(_) => {
                self.drops.fetch_add(1, Relaxed);
                return reject(self.has_reject_output, packet);
            }
        };
        // Trailing link-layer padding goes, as in Click; then the annotations later IP
        // elements rely on: where the header is, and the destination to route on.
        if end < packet.len() {
            packet.trim(end).ok()?;
        }
        packet.set_network_offset(self.offset);
        let destination = ipv4::Packet::new_unchecked(packet.data().get(self.offset..)?).dst_addr();
        packet.set_dst_ip_anno(destination.0);
        Some((0, packet))
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Drops => reply(write!(out, "{}", self.drops.load(Relaxed))),
        }
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}

/// Sends a refused packet to output 1 when the element has one, or drops it.
fn reject<T>(has_reject_output: bool, packet: T) -> Option<(u16, T)> {
    if has_reject_output {
        Some((1, packet))
    } else {
        drop(packet);
        None
    }
}
