//! Unqueue: a task that pulls up to BURST packets from its input and pushes them out.
//!
//! The count is shared state that a hotswapped Unqueue of the same name adopts, so the count
//! goes on across the swap.

use crate::catalog::{base, int, keyword, positional, ArgKind, ElementClass, TaskRule, MAX_BURST};
use crate::element::handler::{handlers, parse_bool, parse_int_in, reply, HandlerError};
use crate::element::{Build, ConstructError, Cx, Element, Platform};
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};

/// Unqueue's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    processing: "l/h",
    args: &[
        positional("BURST", int(1, MAX_BURST), Some("1")),
        keyword("ACTIVE", ArgKind::Bool, Some("true")),
    ],
    task: TaskRule::Always,
    cost_cycles: 100,
    ..base("Unqueue", "Task that pulls packets from its input and pushes them out")
};

handlers! {
    pub enum Read {
        Count = "count": Integer,
        Burst = "burst": Integer,
        Active = "active": Boolean,
    }
}

handlers! {
    pub enum Write {
        Reset = "reset": Action,
        Burst = "burst": Integer,
        Active = "active": Boolean,
    }
}

pub struct Unqueue<P: Platform> {
    burst: AtomicU32,
    active: AtomicBool,
    /// Shared with the namesake in the next graph after a hotswap, so the count goes on.
    count: P::Shared<AtomicU64>,
}

impl<P: Platform> Element<P> for Unqueue<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(Unqueue {
            burst: AtomicU32::new(build.int_as("BURST")?),
            active: AtomicBool::new(build.bool("ACTIVE")?),
            count: P::shared(AtomicU64::new(0))?,
        })
    }

    fn run_task(&self, cx: &Cx<'_, P>) -> bool {
        if !self.active.load(Relaxed) {
            return false;
        }
        let mut moved = 0;
        while moved < self.burst.load(Relaxed) {
            let Some(packet) = cx.pull(0) else { break };
            cx.push(0, packet);
            moved += 1;
        }
        self.count.fetch_add(u64::from(moved), Relaxed);
        moved > 0
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        reply(match handler {
            Read::Count => write!(out, "{}", self.count.load(Relaxed)),
            Read::Burst => write!(out, "{}", self.burst.load(Relaxed)),
            Read::Active => write!(out, "{}", self.active.load(Relaxed)),
        })
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::Reset => self.count.store(0, Relaxed),
            // In range: parse_int_in bounds it to 1..=MAX_BURST.
            Write::Burst => self.burst.store(parse_int_in(value, 1, MAX_BURST)? as u32, Relaxed),
            Write::Active => self.active.store(parse_bool(value)?, Relaxed),
        }
        Ok(())
    }

    fn take_state(&mut self, old: &Self) {
        self.count = old.count.clone();
    }
}
