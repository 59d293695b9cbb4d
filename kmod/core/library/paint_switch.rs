//! PaintSwitch: sends each packet to the output its paint annotation names.

use crate::catalog::{base, ElementClass, PortRange};
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, Cx, Element, PacketBuf, Platform};
use core::fmt;

/// PaintSwitch's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 256),
    processing: "h/h",
    cost_cycles: 100,
    ..base("PaintSwitch", "Sends each packet to the output numbered by its paint")
};

pub struct PaintSwitch {
    outputs: u16,
}

impl<P: Platform> Element<P> for PaintSwitch {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(PaintSwitch { outputs: build.outputs() })
    }

    /// A paint with no matching output drops the packet, as in Click.
    fn push(&self, cx: &Cx<'_, P>, _port: u16, packet: P::Packet) {
        let port = u16::from(packet.paint());
        if port < self.outputs {
            cx.push(port, packet);
        } else {
            cx.drop_packet(packet);
        }
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
