//! Paint: sets the paint annotation of each packet.

use super::agnostic::{Action, Agnostic};
use super::{boxed, int_arg, ConstructError};
use crate::engine::{handler::{parse_int_in, HandlerError, HandlerText}, Element};
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use core::fmt::Write;
use core::sync::atomic::{AtomicU8, Ordering::Relaxed};
use kernel::prelude::*;

struct Paint {
    color: AtomicU8,
}

pub(super) fn construct(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let color = u8::try_from(int_arg(args, "COLOR")?).map_err(|_| ConstructError::BadArgument("COLOR"))?;
    boxed(Agnostic(Paint { color: AtomicU8::new(color) }))
}

impl Action for Paint {
    fn act(&self, mut packet: Packet) -> Option<(u16, Packet)> {
        packet.set_paint(self.color.load(Relaxed));
        Some((0, packet))
    }

    fn read(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        match name {
            "color" => write!(out, "{}", self.color.load(Relaxed)).map_err(|_| HandlerError::Refused("reply too long")),
            _ => Err(HandlerError::NoSuchHandler),
        }
    }

    fn write(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        match name {
            "color" => {
                self.color.store(parse_int_in(value, 0, 255)? as u8, Relaxed);
                Ok(())
            }
            _ => Err(HandlerError::NoSuchHandler),
        }
    }
}
