//! Tee: a copy of each packet out of every output; the last output gets the original.

use crate::catalog::{base, int, positional, ElementClass, OutputRule, PacketFlow, PortRange, MAX_PORTS};
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, Cx, Element, PacketBuf, Platform};
use core::fmt;

/// Tee's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    output_rule: OutputRule::IntArgument("N"),
    processing: "h/h",
    args: &[positional("N", int(1, MAX_PORTS as i64), None)],
    flow: PacketFlow::EveryOutput,
    cost_cycles: 200,
    ..base("Tee", "Pushes a copy of each packet out of every output")
};

pub struct Tee {
    outputs: u16,
}

impl<P: Platform> Element<P> for Tee {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(Tee { outputs: build.outputs() })
    }

    fn push(&self, cx: &Cx<'_, P>, _port: u16, mut packet: P::Packet) {
        let Some(last) = self.outputs.checked_sub(1) else { return cx.drop_packet(packet) };
        for port in 0..last {
            // A clone that cannot be made is a drop on that output only.
            match packet.clone_packet() {
                Some(copy) => cx.push(port, copy),
                None => cx.count_drop(),
            }
        }
        cx.push(last, packet);
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
