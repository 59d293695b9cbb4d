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

pub struct Paint {
    color: AtomicU8,
}

impl<P: Platform> Action<P> for Paint {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(Paint { color: AtomicU8::new(build.int_as("COLOR")?) })
    }

    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        packet.set_paint(self.color.load(Relaxed));
        Some((0, packet))
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Color => reply(write!(out, "{}", self.color.load(Relaxed))),
        }
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::Color => {
                let color = u8::try_from(parse_int_in(value, 0, 255)?)
                    .map_err(|_| HandlerError::BadValue("expected an integer in range"))?;
                self.color.store(color, Relaxed);
            }
        }
        Ok(())
    }
}
