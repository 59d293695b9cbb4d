//! StaticThreadSched and ScheduleInfo: scheduling directives, not packet handlers. The engine
//! takes task placement from the compiled graph's task records and ticket shares from
//! ScheduleInfo's arguments (`element::graph`, which knows them by their argument kind); these
//! elements keep their arguments so that their `config` read handler shows what was asked for,
//! one `ELEMENT-INDEX VALUE` line per entry (a thread number, or tickets in 1/1024ths of the
//! default).

use crate::catalog::{base, ArgKind, ElementClass, PortRange, RepeatedArgs};
use crate::element::handler::{handlers, reply, HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, Element, Platform, Vector};
use crate::element_args::ArgValue;
use core::fmt;

/// StaticThreadSched's catalog entry (its id and handler tables come from the registry).
pub const STATIC_THREAD_SCHED: ElementClass = ElementClass {
    inputs: PortRange::exactly(0),
    outputs: PortRange::exactly(0),
    processing: "/",
    repeated: Some(RepeatedArgs { kind: ArgKind::ThreadAssignment, min: 1, noun: "assignment" }),
    cost_cycles: 0,
    ..base("StaticThreadSched", "Pins tasks to threads: ELEMENT THREAD, ...")
};

/// ScheduleInfo's catalog entry (its id and handler tables come from the registry).
pub const SCHEDULE_INFO: ElementClass = ElementClass {
    inputs: PortRange::exactly(0),
    outputs: PortRange::exactly(0),
    processing: "/",
    repeated: Some(RepeatedArgs { kind: ArgKind::TicketShare, min: 1, noun: "share" }),
    cost_cycles: 0,
    ..base("ScheduleInfo", "Sets task tickets relative to the default: ELEMENT SHARE, ...")
};

handlers! {
    pub enum Read {
        Config = "config": Lines,
    }
}

pub struct Directives<P: Platform> {
    /// (element index, thread or tickets), in argument order.
    entries: Vector<P, (u32, u32)>,
}

impl<P: Platform> Element<P> for Directives<P> {
    type Read = Read;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let count = usize::try_from(build.args.repeated_count()).map_err(|_| ConstructError::NoMemory)?;
        let mut entries = Vector::with_capacity(count)?;
        for value in build.args.repeated() {
            let Ok(ArgValue::Thread { element, number }) = value else { return Err(ConstructError::BadArgument("entry")) };
            entries.push((element, number))?;
        }
        Ok(Directives { entries })
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Config => reply(self.entries.iter().try_for_each(|(element, value)| writeln!(out, "{} {}", element, value))),
        }
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
