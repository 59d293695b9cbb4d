//! Align: makes each packet's data start OFFSET bytes past a MODULUS-byte boundary in memory.
//!
//! A packet already so placed passes untouched. Any other is copied into a fresh buffer placed
//! as asked (`PacketBuf::realign`, which keeps the bytes, the headroom and every annotation),
//! and the copy's placement is checked before it goes on. When the copy cannot be made (memory
//! is short) or does not come out aligned, the packet is dropped and counted.
//!
//! Click's Align has no handlers; vdp's counts the copies it made (`copies`) and the packets it
//! dropped (`drops`).

use crate::catalog::{base, int, required, ArgSpec, ElementClass};
use crate::element::agnostic::Action;
use crate::element::handler::{handlers, reply, HandlerError};
use crate::element::{Build, ConstructError, NoHandlers, PacketBuf, Platform};
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

const ARGS: &[ArgSpec] = &[required("MODULUS", int(2, 8)), required("OFFSET", int(0, 7))];

/// Align's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: ARGS,
    cost_cycles: 150,
    ..base("Align", "Copies packets whose data is not at OFFSET past a MODULUS-byte boundary")
};

/// The MODULUS values Click allows.
pub const MODULI: [i64; 3] = [2, 4, 8];

handlers! {
    pub enum Read {
        Copies = "copies": Integer,
        Drops = "drops": Integer,
    }
}

pub type Write = NoHandlers;

pub struct Align {
    modulus: usize,
    offset: usize,
    copies: AtomicU64,
    drops: AtomicU64,
}

impl Align {
    fn misplaced(&self, data: &[u8]) -> bool {
        (data.as_ptr() as usize).checked_rem(self.modulus) != Some(self.offset)
    }
}

impl<P: Platform> Action<P> for Align {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let modulus = build.int("MODULUS")?;
        if !MODULI.contains(&modulus) {
            return Err(ConstructError::BadArgument("MODULUS must be 2, 4 or 8"));
        }
        let offset = build.int("OFFSET")?;
        if !(0..modulus).contains(&offset) {
            return Err(ConstructError::BadArgument("OFFSET must be smaller than MODULUS"));
        }
        // Both in range: 2..=8 and 0..8.
        Ok(Align { modulus: modulus as usize, offset: offset as usize, copies: AtomicU64::new(0), drops: AtomicU64::new(0) })
    }

    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        if !self.misplaced(packet.data()) {
            return Some((0, packet));
        }
        if packet.realign(self.modulus, self.offset).is_err() || self.misplaced(packet.data()) {
            self.drops.fetch_add(1, Relaxed);
            return None;
        }
        self.copies.fetch_add(1, Relaxed);
        Some((0, packet))
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        let value = match handler {
            Read::Copies => self.copies.load(Relaxed),
            Read::Drops => self.drops.load(Relaxed),
        };
        reply(write!(out, "{}", value))
    }

    fn write(&self, handler: Write, _value: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
