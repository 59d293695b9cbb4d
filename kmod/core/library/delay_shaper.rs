//! DelayShaper: a pull element that lets each packet out no earlier than DELAY after its
//! timestamp annotation.
//!
//! As in Click, it holds at most one packet. A packet pulled from upstream without a timestamp
//! is stamped with the current time; DELAY is added to its timestamp, and it is handed on once
//! the platform clock reaches that, with its timestamp then set to the current time. Until
//! then every pull returns nothing and asks the pulling task to run again when the packet is
//! due (`Cx::wake_at`), so its thread sleeps until then (a timer in the kernel, a wake-up time in
//! the user-level engine's virtual clock) instead of polling. A hotswapped DelayShaper of the
//! same name takes over the packet the old one holds.

use crate::catalog::{base, required, ArgKind, ArgSpec, ElementClass};
use crate::click_value;
use crate::element::handler::{handlers, reply, HandlerError};
use crate::element::{Build, ConstructError, Cx, Element, PacketBuf, Platform};
use crate::element_args::ArgValue;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const ARGS: &[ArgSpec] = &[required("DELAY", ArgKind::Time)];

/// DelayShaper's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    processing: "l/l",
    args: ARGS,
    cost_cycles: 200,
    ..base("DelayShaper", "Lets each pulled packet out no earlier than DELAY after its timestamp")
};

handlers! {
    pub enum Read {
        Delay = "delay": Lines,
    }
}

handlers! {
    pub enum Write {
        Delay = "delay": Lines,
    }
}

pub struct DelayShaper<P: Platform> {
    delay: AtomicU64,
    /// The packet waiting for its time, whose timestamp is that time.
    held: P::Locked<Option<P::Packet>>,
    /// A pull is under way: a pull that overlaps it (a second puller on another thread) returns
    /// nothing rather than pull a second packet.
    busy: AtomicBool,
}

impl<P: Platform> DelayShaper<P> {
    fn pull_one(&self, cx: &Cx<'_, P>) -> Option<P::Packet> {
        let held = P::lock(&self.held).take();
        let mut packet = match held {
            Some(packet) => packet,
            None => {
                let mut packet = cx.pull(0)?;
                let stamp = packet.timestamp_anno().unwrap_or_else(P::now_ns);
                packet.set_timestamp_anno(stamp.saturating_add(self.delay.load(Ordering::Relaxed)));
                packet
            }
        };
        let due = packet.timestamp_anno().unwrap_or(0);
        let now = P::now_ns();
        if due <= now {
            packet.set_timestamp_anno(now);
            return Some(packet);
        }
        cx.wake_at(due);
        // The slot is empty (only this pull fills it); a packet freed under the lock is allowed.
        *P::lock(&self.held) = Some(packet);
        None
    }
}

impl<P: Platform> Element<P> for DelayShaper<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let Some(ArgValue::Time(delay)) = build.value("DELAY") else {
            return Err(ConstructError::BadArgument("DELAY"));
        };
        Ok(DelayShaper { delay: AtomicU64::new(delay), held: P::locked(None)?, busy: AtomicBool::new(false) })
    }

    fn pull(&self, cx: &Cx<'_, P>, _port: u16) -> Option<P::Packet> {
        if self.busy.swap(true, Ordering::Acquire) {
            return None;
        }
        let packet = self.pull_one(cx);
        self.busy.store(false, Ordering::Release);
        packet
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Delay => reply(click_value::write_interval(out, self.delay.load(Ordering::Relaxed))),
        }
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::Delay => {
                let delay = click_value::parse_time_ns(value.trim()).map_err(|_| HandlerError::BadValue("delay must be a time, like 10ms"))?;
                self.delay.store(delay, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    fn take_state(&mut self, old: &Self) {
        let packet = P::lock(&old.held).take();
        if packet.is_some() {
            *P::lock(&self.held) = packet;
        }
    }
}
