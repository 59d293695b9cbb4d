//! PaintTee: sends every packet to output 0, and first a copy of each whose paint annotation
//! is COLOR to output 1 (the copy for a redirect's ICMPError). The `color` handler reads and
//! changes COLOR, as Paint's does.
//!
//! Where vdp differs from Click: there is no ANNO argument. vdp's one-byte annotations are
//! typed, not a byte array, and paint is the one Paint sets.

use super::paint::{Color, Read, Write};
use crate::catalog::{base, int, required, ElementClass, PortRange};
use crate::element::handler::HandlerError;
use crate::element::{Build, ConstructError, Cx, Element, PacketBuf, Platform};
use core::fmt;

/// PaintTee's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::exactly(2),
    processing: "a/ah",
    args: &[required("COLOR", int(0, 255))],
    cost_cycles: 150,
    ..base("PaintTee", "Sends every packet to output 0 and a copy of those painted COLOR to output 1")
};

pub struct PaintTee(Color);

impl PaintTee {
    /// The copy for output 1, when the packet has the paint (a copy that cannot be made is a
    /// drop on that output only).
    fn copy<T: PacketBuf>(&self, packet: &mut T) -> Option<T> {
        if self.0.matches(packet) {
            packet.clone_packet()
        } else {
            None
        }
    }
}

impl<P: Platform> Element<P> for PaintTee {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(PaintTee(Color::new(build)?))
    }

    fn push(&self, cx: &Cx<'_, P>, _port: u16, mut packet: P::Packet) {
        if let Some(copy) = self.copy(&mut packet) {
            cx.push(1, copy);
        }
        cx.push(0, packet);
    }

    fn pull(&self, cx: &Cx<'_, P>, _port: u16) -> Option<P::Packet> {
        let mut packet = cx.pull(0)?;
        if let Some(copy) = self.copy(&mut packet) {
            cx.push(1, copy);
        }
        Some(packet)
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        self.0.read(handler, out)
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        self.0.write(handler, value)
    }
}
