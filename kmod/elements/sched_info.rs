//! StaticThreadSched and ScheduleInfo: scheduling directives, not packet handlers. The engine
//! reads task placement from the compiled graph's task records; these elements keep their
//! arguments so that their `config` read handler shows what was asked for, one
//! `ELEMENT-INDEX VALUE` line per entry (a thread number, or tickets in 1/1024ths of the default).

use crate::sys::memcg::tenant_gfp;
use super::{boxed, ConstructError};
use crate::engine::{handler::{HandlerError, HandlerText}, Element};
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::{ArgValue, ElementArgs};
use core::fmt::Write;
use kernel::prelude::*;

struct Directives {
    entries: KVec<(u32, u32)>,
}

pub(super) fn construct(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let mut entries = KVec::with_capacity(args.repeated_count() as usize, tenant_gfp())?;
    for value in args.repeated() {
        let Ok(ArgValue::Thread { element, number }) = value else { return Err(ConstructError::BadArgument("entry")) };
        entries.push((element, number), tenant_gfp())?;
    }
    boxed(Directives { entries })
}

impl Element for Directives {
    fn read_handler(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        match name {
            "config" => self
                .entries
                .iter()
                .try_for_each(|(element, value)| writeln!(out, "{} {}", element, value))
                .map_err(|_| HandlerError::Refused("reply too long")),
            _ => Err(HandlerError::NoSuchHandler),
        }
    }
}
