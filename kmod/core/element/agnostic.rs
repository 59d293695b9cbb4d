//! Click's "simple action" elements: one function per packet, usable in push or pull mode.

use super::class::{Build, ConstructError, Element};
use super::graph::Cx;
use super::handler::{HandlerError, HandlerSet};
use super::platform::Platform;
use core::fmt;

/// What a simple-action element does with one packet: send it out of a port, or drop it (the
/// element's drops count every `None`).
pub trait Action<P: Platform>: Sized + Send + Sync + 'static {
    type Read: HandlerSet;
    type Write: HandlerSet;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError>;

    fn act(&self, packet: P::Packet) -> Option<(u16, P::Packet)>;

    fn read(&self, handler: Self::Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError>;

    fn write(&self, handler: Self::Write, value: &str) -> Result<(), HandlerError>;

    /// Hotswap from the namesake of the same class (see [`Element::take_state`]).
    fn take_state(&mut self, old: &Self) {
        let _ = old;
    }
}

/// An [`Action`] as an element with agnostic ports.
pub struct Agnostic<A>(pub A);

/// Most packets one pull of a simple-action element takes from upstream while its action sends
/// them elsewhere or drops them; then the pull gives up with `None` (the caller, a task, tries
/// again on its next run). Without it an upstream that never runs dry would hold the thread.
pub const MAX_PULL_ATTEMPTS: u32 = 64;

impl<P: Platform, A: Action<P>> Element<P> for Agnostic<A> {
    type Read = A::Read;
    type Write = A::Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(Agnostic(A::construct(build)?))
    }

    fn push(&self, cx: &Cx<'_, P>, _port: u16, packet: P::Packet) {
        match self.0.act(packet) {
            Some((port, packet)) => cx.push(port, packet),
            None => cx.count_drop(),
        }
    }

    /// Pull mode: keep pulling until a packet comes out of output 0, at most
    /// [`MAX_PULL_ATTEMPTS`] times; packets the action sends elsewhere are pushed there, as in
    /// Click.
    fn pull(&self, cx: &Cx<'_, P>, _port: u16) -> Option<P::Packet> {
        for _ in 0..MAX_PULL_ATTEMPTS {
            let packet = cx.pull(0)?;
            match self.0.act(packet) {
                Some((0, packet)) => return Some(packet),
                Some((port, packet)) => cx.push(port, packet),
                None => cx.count_drop(),
            }
        }
        None
    }

    fn read(&self, handler: A::Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        self.0.read(handler, out)
    }

    fn write(&self, handler: A::Write, value: &str) -> Result<(), HandlerError> {
        self.0.write(handler, value)
    }

    fn take_state(&mut self, old: &Self) {
        self.0.take_state(&old.0);
    }
}
