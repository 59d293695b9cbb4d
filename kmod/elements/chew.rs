//! Chew: spends CYCLES cycles of busy work on each packet, to model expensive elements.

use super::agnostic::{Action, Agnostic};
use super::{boxed, int_arg, ConstructError};
use crate::engine::{handler::{parse_int_in, HandlerError, HandlerText}, Element};
use crate::packet::Packet;
use crate::portable::catalog::MAX_CHEW_CYCLES;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use crate::sys::time::cycles;
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::prelude::*;

struct Chew {
    cycles: AtomicU64,
}

pub(super) fn construct(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let cycles = u64::try_from(int_arg(args, "CYCLES")?).map_err(|_| ConstructError::BadArgument("CYCLES"))?;
    boxed(Agnostic(Chew { cycles: AtomicU64::new(cycles) }))
}

/// Spins until the cycle counter has advanced by `amount`. Each pass of the loop takes at least
/// one cycle, so the pass count bounds the wait even where the counter does not run.
fn chew(amount: u64) {
    let start = cycles();
    let mut passes = 0u64;
    while cycles().wrapping_sub(start) < amount && passes < amount {
        core::hint::spin_loop();
        passes += 1;
    }
}

impl Action for Chew {
    fn act(&self, packet: Packet) -> Option<(u16, Packet)> {
        chew(self.cycles.load(Relaxed));
        Some((0, packet))
    }

    fn read(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        match name {
            "cycles" => write!(out, "{}", self.cycles.load(Relaxed)).map_err(|_| HandlerError::Refused("reply too long")),
            _ => Err(HandlerError::NoSuchHandler),
        }
    }

    fn write(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        match name {
            "cycles" => {
                self.cycles.store(parse_int_in(value, 0, MAX_CHEW_CYCLES)? as u64, Relaxed);
                Ok(())
            }
            _ => Err(HandlerError::NoSuchHandler),
        }
    }
}
