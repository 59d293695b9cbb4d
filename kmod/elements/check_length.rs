//! CheckLength: packets longer than LENGTH leave on output 1, or are dropped without one.

use super::agnostic::{Action, Agnostic};
use super::{boxed, int_arg, ConstructError};
use crate::engine::{handler::{parse_int_in, HandlerError, HandlerText}, Element};
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};
use kernel::prelude::*;

struct CheckLength {
    max: AtomicU32,
    has_reject_output: bool,
}

pub(super) fn construct(view: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let max = u32::try_from(int_arg(args, "LENGTH")?).map_err(|_| ConstructError::BadArgument("LENGTH"))?;
    boxed(Agnostic(CheckLength { max: AtomicU32::new(max), has_reject_output: view.outputs > 1 }))
}

impl Action for CheckLength {
    fn act(&self, packet: Packet) -> Option<(u16, Packet)> {
        if packet.len() as u64 <= u64::from(self.max.load(Relaxed)) {
            Some((0, packet))
        } else if self.has_reject_output {
            Some((1, packet))
        } else {
            None
        }
    }

    fn read(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        match name {
            "length" => write!(out, "{}", self.max.load(Relaxed)).map_err(|_| HandlerError::Refused("reply too long")),
            _ => Err(HandlerError::NoSuchHandler),
        }
    }

    fn write(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        match name {
            "length" => {
                self.max.store(parse_int_in(value, 0, 65535)? as u32, Relaxed);
                Ok(())
            }
            _ => Err(HandlerError::NoSuchHandler),
        }
    }
}
