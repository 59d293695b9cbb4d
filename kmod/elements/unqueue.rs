//! Unqueue: a task that pulls up to BURST packets from its input and pushes them out.

use crate::sys::memcg::tenant_gfp;
use super::{boxed, int_arg, ConstructError};
use crate::engine::{handler::{parse_bool, parse_int_in, HandlerError, HandlerText}, same_class, Cx, Element};
use crate::portable::catalog::MAX_BURST;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::prelude::*;
use kernel::sync::Arc;

struct Unqueue {
    burst: AtomicU32,
    active: AtomicBool,
    /// Shared with the namesake in the next graph after a hotswap, so the count goes on.
    count: Arc<AtomicU64>,
}

pub(super) fn construct(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let burst = u32::try_from(int_arg(args, "BURST")?).map_err(|_| ConstructError::BadArgument("BURST"))?;
    let active = args.bool("ACTIVE").ok_or(ConstructError::BadArgument("ACTIVE"))?;
    boxed(Unqueue { burst: AtomicU32::new(burst), active: AtomicBool::new(active), count: Arc::new(AtomicU64::new(0), tenant_gfp())? })
}

impl Element for Unqueue {
    fn run_task(&self, cx: &Cx<'_>) -> bool {
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

    fn read_handler(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        let written = match name {
            "count" => write!(out, "{}", self.count.load(Relaxed)),
            "burst" => write!(out, "{}", self.burst.load(Relaxed)),
            "active" => write!(out, "{}", self.active.load(Relaxed)),
            _ => return Err(HandlerError::NoSuchHandler),
        };
        written.map_err(|_| HandlerError::Refused("reply too long"))
    }

    fn write_handler(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        match name {
            "reset" => self.count.store(0, Relaxed),
            "burst" => self.burst.store(parse_int_in(value, 1, MAX_BURST)? as u32, Relaxed),
            "active" => self.active.store(parse_bool(value)?, Relaxed),
            _ => return Err(HandlerError::NoSuchHandler),
        }
        Ok(())
    }

    fn take_state(&mut self, old: &dyn Element) {
        if let Some(old) = same_class::<Unqueue>(old) {
            self.count = old.count.clone();
        }
    }
}
