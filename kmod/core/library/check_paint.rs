//! CheckPaint: sends packets whose paint annotation is COLOR to output 0 and the others to
//! output 1, or drops them when there is none. The `color` handler reads and changes COLOR.
//!
//! Where vdp differs from Click: there is no ANNO argument (see PaintTee).

use super::paint::{Color, Read, Write};
use crate::catalog::{base, int, required, ElementClass, PortRange};
use crate::element::agnostic::Action;
use crate::element::handler::HandlerError;
use crate::element::{Build, ConstructError, Platform};
use core::fmt;

/// CheckPaint's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 2),
    processing: "a/ah",
    args: &[required("COLOR", int(0, 255))],
    cost_cycles: 50,
    ..base("CheckPaint", "Sends packets painted COLOR to output 0, the others to output 1")
};

pub struct CheckPaint {
    color: Color,
    has_reject_output: bool,
}

impl<P: Platform> Action<P> for CheckPaint {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(CheckPaint { color: Color::new(build)?, has_reject_output: build.outputs() > 1 })
    }

    fn act(&self, packet: P::Packet) -> Option<(u16, P::Packet)> {
        if self.color.matches(&packet) {
            Some((0, packet))
        } else {
            self.has_reject_output.then_some((1, packet))
        }
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        self.color.read(handler, out)
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        self.color.write(handler, value)
    }
}
