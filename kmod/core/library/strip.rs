//! Strip and Unstrip: remove or restore bytes at the front of each packet.

use crate::catalog::{base, int, required, ElementClass, MAX_HEADER_BYTES};
use crate::element::agnostic::Action;
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform};
use core::fmt;

/// Strip's catalog entry (its id and handler tables come from the registry).
pub const STRIP: ElementClass = ElementClass {
    args: &[required("LENGTH", int(0, MAX_HEADER_BYTES))],
    cost_cycles: 50,
    ..base("Strip", "Removes LENGTH bytes from the front of each packet")
};

/// Unstrip's catalog entry (its id and handler tables come from the registry).
pub const UNSTRIP: ElementClass = ElementClass {
    args: &[required("LENGTH", int(0, MAX_HEADER_BYTES))],
    cost_cycles: 50,
    ..base("Unstrip", "Restores LENGTH bytes previously stripped")
};

pub struct Strip {
    bytes: usize,
}

pub struct Unstrip {
    bytes: usize,
}

impl<P: Platform> Action<P> for Strip {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(Strip { bytes: build.int_as("LENGTH")? })
    }

    /// Like Click, a packet shorter than LENGTH loses all its bytes rather than being dropped.
    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        let n = self.bytes.min(packet.len());
        packet.pull(n).ok()?;
        Some((0, packet))
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}

impl<P: Platform> Action<P> for Unstrip {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(Unstrip { bytes: build.int_as("LENGTH")? })
    }

    /// A packet without LENGTH bytes of headroom, and no memory to make them, is dropped.
    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        packet.push(self.bytes).ok()?;
        Some((0, packet))
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
