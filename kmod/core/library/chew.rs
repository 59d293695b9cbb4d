//! Chew: spends CYCLES cycles of busy work on each packet, to model expensive elements.

use crate::catalog::{base, int, required, ElementClass, MAX_CHEW_CYCLES};
use crate::element::agnostic::Action;
use crate::element::handler::{handlers, parse_int_in, reply, HandlerError};
use crate::element::{Build, ConstructError, Platform};
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Chew's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[required("CYCLES", int(0, MAX_CHEW_CYCLES))],
    cost_cycles: 20,
    cost_argument: Some("CYCLES"),
    ..base("Chew", "Spends CYCLES cycles of busy work on each packet")
};

handlers! {
    pub enum Read {
        Cycles = "cycles": Integer,
    }
}

handlers! {
    pub enum Write {
        Cycles = "cycles": Integer,
    }
}

pub struct Chew {
    cycles: AtomicU64,
}

/// Spins until the platform's cycle counter has advanced by `amount`. Each pass of the loop
/// takes at least one cycle, so the pass count bounds the wait even where the counter does not
/// run (`Platform::cycles` is 0 where there is none).
fn chew<P: Platform>(amount: u64) {
    let start = P::cycles();
    let mut passes = 0u64;
    while P::cycles().wrapping_sub(start) < amount && passes < amount {
        core::hint::spin_loop();
        passes += 1;
    }
}

impl<P: Platform> Action<P> for Chew {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(Chew { cycles: AtomicU64::new(build.int_as("CYCLES")?) })
    }

    fn act(&self, packet: P::Packet) -> Option<(u16, P::Packet)> {
        chew::<P>(self.cycles.load(Relaxed));
        Some((0, packet))
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Cycles => reply(write!(out, "{}", self.cycles.load(Relaxed))),
        }
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            // In range: parse_int_in bounds it to 0..=MAX_CHEW_CYCLES.
            Write::Cycles => self.cycles.store(parse_int_in(value, 0, MAX_CHEW_CYCLES)? as u64, Relaxed),
        }
        Ok(())
    }
}
