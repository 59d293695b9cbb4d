//! Discard: consumes every packet; as a task it pulls them itself when its input is pull.

use crate::sys::memcg::tenant_gfp;
use super::{boxed, ConstructError};
use crate::engine::{handler::{HandlerError, HandlerText}, same_class, Cx, Element};
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::prelude::*;
use kernel::sync::Arc;

/// Packets a pulling Discard takes per task run, like Click's burst.
const PULL_BURST: usize = 32;

struct Discard {
    /// Shared with the namesake in the next graph after a hotswap, so the count goes on.
    count: Arc<AtomicU64>,
}

pub(super) fn construct(_: &ElementView<'_>, _: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    boxed(Discard { count: Arc::new(AtomicU64::new(0), tenant_gfp())? })
}

impl Element for Discard {
    fn push(&self, _cx: &Cx<'_>, _port: u16, packet: Packet) {
        self.count.fetch_add(1, Relaxed);
        packet.consume();
    }

    fn run_task(&self, cx: &Cx<'_>) -> bool {
        let mut worked = false;
        for _ in 0..PULL_BURST {
            let Some(packet) = cx.pull(0) else { break };
            self.count.fetch_add(1, Relaxed);
            packet.consume();
            worked = true;
        }
        worked
    }

    fn read_handler(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        match name {
            "count" => write!(out, "{}", self.count.load(Relaxed)).map_err(|_| HandlerError::Refused("reply too long")),
            _ => Err(HandlerError::NoSuchHandler),
        }
    }

    fn write_handler(&self, name: &str, _value: &str) -> Result<(), HandlerError> {
        match name {
            "reset_counts" => {
                self.count.store(0, Relaxed);
                Ok(())
            }
            _ => Err(HandlerError::NoSuchHandler),
        }
    }

    fn take_state(&mut self, old: &dyn Element) {
        if let Some(old) = same_class::<Discard>(old) {
            self.count = old.count.clone();
        }
    }
}
