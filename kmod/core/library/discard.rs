//! Discard: consumes every packet; as a task it pulls them itself when its input is pull.

use crate::catalog::{base, ElementClass, PortRange, TaskRule};
use crate::element::handler::{handlers, reply, HandlerError};
use crate::element::{Build, ConstructError, Cx, Element, Platform};
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Discard's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::exactly(0),
    processing: "a/",
    task: TaskRule::WhenInputPull,
    cost_cycles: 50,
    ..base("Discard", "Drops every packet; pulls them itself when its input is pull")
};

handlers! {
    pub enum Read {
        Count = "count": Integer,
    }
}

handlers! {
    pub enum Write {
        ResetCounts = "reset_counts": Action,
    }
}

/// Packets a pulling Discard takes per task run, like Click's burst.
const PULL_BURST: usize = 32;

pub struct Discard<P: Platform> {
    /// Shared with the namesake in the next graph after a hotswap, so the count goes on.
    count: P::Shared<AtomicU64>,
}

impl<P: Platform> Element<P> for Discard<P> {
    type Read = Read;
    type Write = Write;

    fn construct(_: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(Discard { count: P::shared(AtomicU64::new(0))? })
    }

    fn push(&self, cx: &Cx<'_, P>, _port: u16, packet: P::Packet) {
        self.count.fetch_add(1, Relaxed);
        cx.discard(packet);
    }

    fn run_task(&self, cx: &Cx<'_, P>) -> bool {
        let mut worked = false;
        for _ in 0..PULL_BURST {
            let Some(packet) = cx.pull(0) else { break };
            self.count.fetch_add(1, Relaxed);
            cx.discard(packet);
            worked = true;
        }
        worked
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Count => reply(write!(out, "{}", self.count.load(Relaxed))),
        }
    }

    fn write(&self, handler: Write, _value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::ResetCounts => self.count.store(0, Relaxed),
        }
        Ok(())
    }

    fn take_state(&mut self, old: &Self) {
        self.count = old.count.clone();
    }
}
