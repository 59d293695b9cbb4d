//! PaintTee: sends every packet to output 0, and first a copy of each whose paint annotation
//! is COLOR to output 1 (the copy for a redirect's ICMPError). The `color` handler reads and
//! changes COLOR; CheckPaint shares it.
//!
//! Where vdp differs from Click: there is no ANNO argument. vdp's one-byte annotations are
//! typed, not a byte array, and paint is the one Paint sets.

use crate::catalog::{base, int, required, ElementClass, PortRange};
use crate::element::handler::{handlers, parse_int_in, reply, HandlerError};
use crate::element::{Build, ConstructError, Cx, Element, PacketBuf, Platform};
use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering::Relaxed};

/// PaintTee's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::exactly(2),
    processing: "a/ah",
    args: &[required("COLOR", int(0, 255))],
    cost_cycles: 150,
    ..base("PaintTee", "Sends every packet to output 0 and a copy of those painted COLOR to output 1")
};

handlers! {
    pub enum Read {
        Color = "color": Integer,
    }
}

handlers! {
    pub enum Write {
        Color = "color": Integer,
    }
}

/// COLOR, as the `color` handler may change it.
pub struct Color(AtomicU8);

impl Color {
    pub(super) fn new<P: Platform>(build: &Build<'_, P>) -> Result<Color, ConstructError> {
        Ok(Color(AtomicU8::new(build.int_as("COLOR")?)))
    }

    pub(super) fn matches<T: PacketBuf>(&self, packet: &T) -> bool {
        packet.paint() == self.0.load(Relaxed)
    }

    pub(super) fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Color => reply(write!(out, "{}", self.0.load(Relaxed))),
        }
    }

    pub(super) fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::Color => self.0.store(parse_int_in(value, 0, 255)? as u8, Relaxed),
        }
        Ok(())
    }
}

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
