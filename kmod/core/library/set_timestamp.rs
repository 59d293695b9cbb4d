//! SetTimestamp: sets each packet's timestamp annotation to TIMESTAMP, or, without one, to the
//! time the packet reaches the element.
//!
//! vdp's timestamps are nanoseconds on the platform clock (`Platform::now_ns`: the kernel's
//! monotonic clock, the user-level engine's virtual one), not Click's wall-clock time, so a
//! TIMESTAMP (`12.5`, `300ms`) counts from that clock's start. Click's FIRST keyword (the
//! "first timestamp" annotation) is not accepted: vdp has no such annotation and no element
//! that reads one.

use crate::catalog::{base, positional, ArgKind, ArgSpec, ElementClass};
use crate::element::agnostic::Action;
use crate::element::handler::HandlerError;
use crate::element::{Build, ConstructError, NoHandlers, PacketBuf, Platform};
use crate::element_args::ArgValue;
use core::fmt;

const ARGS: &[ArgSpec] = &[positional("TIMESTAMP", ArgKind::Time, None)];

/// SetTimestamp's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: ARGS,
    cost_cycles: 80,
    ..base("SetTimestamp", "Sets the timestamp annotation to TIMESTAMP or to the current time")
};

pub struct SetTimestamp {
    /// TIMESTAMP, or `None` for the time of arrival.
    fixed: Option<u64>,
}

impl<P: Platform> Action<P> for SetTimestamp {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let fixed = match build.value("TIMESTAMP") {
            Some(ArgValue::Time(ns)) => Some(ns),
            None => None,
            Some(_) => return Err(ConstructError::BadArgument("TIMESTAMP")),
        };
        Ok(SetTimestamp { fixed })
    }

    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        packet.set_timestamp_anno(self.fixed.unwrap_or_else(P::now_ns));
        Some((0, packet))
    }

    fn read(&self, handler: NoHandlers, _out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _value: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
