//! RoundRobinSwitch: sends packets to its outputs in turn.

use crate::catalog::{base, ElementClass, PortRange};
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, Cx, Element, Platform};
use core::fmt;
use core::num::NonZeroU32;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// RoundRobinSwitch's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    processing: "h/h",
    cost_cycles: 100,
    ..base("RoundRobinSwitch", "Sends packets to its outputs in turn")
};

pub struct RoundRobinSwitch {
    next: AtomicU32,
    /// Non-zero by type, so the modulo below has no division-by-zero path.
    outputs: NonZeroU32,
}

impl<P: Platform> Element<P> for RoundRobinSwitch {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let outputs = NonZeroU32::new(u32::from(build.outputs())).ok_or(ConstructError::BadArgument("outputs"))?;
        Ok(RoundRobinSwitch { next: AtomicU32::new(0), outputs })
    }

    fn push(&self, cx: &Cx<'_, P>, _port: u16, packet: P::Packet) {
        let turn = self.next.fetch_add(1, Relaxed) % self.outputs;
        cx.push(u16::try_from(turn).unwrap_or(0), packet);
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
