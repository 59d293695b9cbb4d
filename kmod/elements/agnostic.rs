//! Click's "simple action" elements: one function per packet, usable in push or pull mode.

use crate::engine::{same_class, Cx, Element, handler::{HandlerError, HandlerText}};
use crate::packet::Packet;

/// What a simple-action element does with one packet: send it out of a port, or drop it.
pub(super) trait Action: Send + Sync {
    fn act(&self, packet: Packet) -> Option<(u16, Packet)>;

    fn read(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        let _ = (name, out);
        Err(HandlerError::NoSuchHandler)
    }

    fn write(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        let _ = (name, value);
        Err(HandlerError::NoSuchHandler)
    }

    /// Hotswap from the namesake of the same class (see `Element::take_state`).
    fn take_state(&mut self, old: &Self)
    where
        Self: Sized,
    {
        let _ = old;
    }
}

pub(super) struct Agnostic<A: Action>(pub(super) A);

/// Most packets one pull of a simple-action element takes from upstream while its action sends
/// them elsewhere or drops them; then the pull gives up with `None` (the caller, a task, tries
/// again on its next run). Without it an upstream that never runs dry would hold the thread.
pub(super) const MAX_PULL_ATTEMPTS: u32 = 64;

impl<A: Action + 'static> Element for Agnostic<A> {
    fn push(&self, cx: &Cx<'_>, _port: u16, packet: Packet) {
        if let Some((port, packet)) = self.0.act(packet) {
            cx.push(port, packet);
        }
    }

    /// Pull mode: keep pulling until a packet comes out of output 0, at most
    /// [`MAX_PULL_ATTEMPTS`] times; packets the action sends elsewhere are pushed there, as in
    /// Click.
    fn pull(&self, cx: &Cx<'_>, _port: u16) -> Option<Packet> {
        for _ in 0..MAX_PULL_ATTEMPTS {
            let packet = cx.pull(0)?;
            match self.0.act(packet) {
                Some((0, packet)) => return Some(packet),
                Some((port, packet)) => cx.push(port, packet),
                None => {}
            }
        }
        None
    }

    fn read_handler(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        self.0.read(name, out)
    }

    fn write_handler(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        self.0.write(name, value)
    }

    fn take_state(&mut self, old: &dyn Element) {
        if let Some(old) = same_class::<Agnostic<A>>(old) {
            self.0.take_state(&old.0);
        }
    }
}
