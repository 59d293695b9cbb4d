//! HashSwitch: spreads packets over its outputs by a hash of LENGTH bytes at OFFSET, so that
//! packets agreeing on those bytes (one flow) always take the same output.

use crate::catalog::{base, int, required, ElementClass, PortRange};
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, Cx, Element, PacketBuf, Platform};
use crate::ip_actions::hash_output;
use core::fmt;

/// HashSwitch's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    processing: "h/h",
    args: &[required("OFFSET", int(0, 1500)), required("LENGTH", int(1, 64))],
    cost_cycles: 450,
    ..base("HashSwitch", "Chooses an output by hashing LENGTH bytes at OFFSET")
};

pub struct HashSwitch {
    offset: usize,
    length: usize,
    outputs: u16,
}

impl<P: Platform> Element<P> for HashSwitch {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(HashSwitch { offset: build.int_as("OFFSET")?, length: build.int_as("LENGTH")?, outputs: build.outputs() })
    }

    /// A packet too short for the hashed bytes is dropped.
    fn push(&self, cx: &Cx<'_, P>, _port: u16, packet: P::Packet) {
        match hash_output(packet.data(), self.offset, self.length, self.outputs) {
            Some(port) => cx.push(port, packet),
            None => cx.drop_packet(packet),
        }
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
