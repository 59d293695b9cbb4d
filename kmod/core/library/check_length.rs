//! CheckLength: packets longer than LENGTH leave on output 1, or are dropped without one.

use crate::catalog::{base, int, required, ElementClass, PortRange};
use crate::element::agnostic::Action;
use crate::element::handler::{handlers, parse_int_in, reply, HandlerError};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// CheckLength's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 2),
    processing: "a/ah",
    args: &[required("LENGTH", int(0, 65535))],
    cost_cycles: 400,
    ..base("CheckLength", "Packets longer than LENGTH go to output 1 or are dropped")
};

handlers! {
    pub enum Read {
        Length = "length": Integer,
    }
}

handlers! {
    pub enum Write {
        Length = "length": Integer,
    }
}

pub struct CheckLength {
    max: AtomicU32,
    has_reject_output: bool,
}

impl<P: Platform> Action<P> for CheckLength {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(CheckLength { max: AtomicU32::new(build.int_as("LENGTH")?), has_reject_output: build.outputs() > 1 })
    }

    fn act(&self, packet: P::Packet) -> Option<(u16, P::Packet)> {
        // A length too large for u32 is longer than any LENGTH.
        let fits = u32::try_from(packet.len()).is_ok_and(|len| len <= self.max.load(Relaxed));
        if fits {
            Some((0, packet))
        } else if self.has_reject_output {
            Some((1, packet))
        } else {
            None
        }
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Length => reply(write!(out, "{}", self.max.load(Relaxed))),
        }
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::Length => {
                let max = u32::try_from(parse_int_in(value, 0, 65535)?)
                    .map_err(|_| HandlerError::BadValue("expected an integer in range"))?;
                self.max.store(max, Relaxed);
            }
        }
        Ok(())
    }
}
