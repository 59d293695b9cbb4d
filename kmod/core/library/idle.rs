//! Idle: never emits a packet and drops whatever it is pushed.

use crate::catalog::{base, ElementClass, PortRange};
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, Element, Platform};
use core::fmt;

/// Idle's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    inputs: PortRange::at_least(0),
    outputs: PortRange::at_least(0),
    cost_cycles: 0,
    ..base("Idle", "Never emits packets and drops what it receives")
};

pub struct Idle;

// The trait's defaults are exactly Idle: pushes are dropped, pulls return nothing.
impl<P: Platform> Element<P> for Idle {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(_: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(Idle)
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
