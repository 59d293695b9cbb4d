//! Paint: sets the paint annotation of each packet.

use crate::catalog::{base, int, required, ElementClass};
use crate::element::agnostic::Action;
use crate::element::handler::{handlers, parse_int_in, reply, HandlerError};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering::Relaxed};

/// Paint's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[required("COLOR", int(0, 255))],
    cost_cycles: 50,
    ..base("Paint", "Sets the paint annotation to COLOR")
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

/// COLOR, as the `color` handler may change it: Paint's, PaintTee's and CheckPaint's.
pub struct Color(AtomicU8);

impl Color {
    pub(super) fn new<P: Platform>(build: &Build<'_, P>) -> Result<Color, ConstructError> {
        Ok(Color(AtomicU8::new(build.int_as("COLOR")?)))
    }

    /// Whether `packet` has this paint.
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

pub struct Paint {
    color: Color,
}

impl<P: Platform> Action<P> for Paint {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(Paint { color: Color::new(build)? })
    }

    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        packet.set_paint(self.color.0.load(Relaxed));
        Some((0, packet))
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        self.color.read(handler, out)
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        self.color.write(handler, value)
    }
}
