//! GREEncap: prepends a GRE header (RFC 2784, with the key of RFC 2890) carrying PROTOCOL as
//! its protocol type and, when KEY is given, the key with the K flag. No checksum and no
//! sequence number are sent; the version is 0.
//!
//! Only the coordinator's merge step places it (tenants must not forge tunnel traffic). The
//! header is written by the portable core's GRE code (`wire::gre`), the same that the tunnels of
//! `tunnel.rs` send.

use crate::catalog::{base, int, keyword, required, Audience, ElementClass, Level};
use crate::element::agnostic::Action;
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use crate::element_args::ArgValue;
use crate::wire::checksum::Sum;
use crate::wire::gre;
use core::fmt;

/// GREEncap's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[required("PROTOCOL", int(0, 0xffff)), keyword("KEY", int(0, u32::MAX as i64), None)],
    cost_cycles: 150,
    audience: Audience::CoordinatorOnly,
    level: Level::Kernel,
    ..base("GREEncap", "Prepends a GRE header carrying PROTOCOL and, if given, KEY")
};

pub struct GreEncap {
    header: gre::Repr,
}

impl<P: Platform> Action<P> for GreEncap {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let key = match build.value("KEY") {
            None => None,
            Some(ArgValue::Int(key)) => Some(u32::try_from(key).map_err(|_| ConstructError::BadArgument("KEY"))?),
            Some(_) => return Err(ConstructError::BadArgument("KEY")),
        };
        let header = gre::Repr { protocol_type: build.int_as("PROTOCOL")?, checksum: false, key, sequence: None };
        Ok(GreEncap { header })
    }

    /// A packet with no headroom left, when there is no memory to grow it, is dropped.
    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        packet.push(self.header.header_len()).ok()?;
        // Without the C flag the payload's sum is never read, so there is no pass over it.
        self.header.emit(packet.data_mut().ok()?, Sum::ZERO).ok()?;
        Some((0, packet))
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
