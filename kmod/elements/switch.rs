//! HashSwitch and RoundRobinSwitch: spreading packets over outputs.

use super::{boxed, int_arg, ConstructError};
use crate::engine::{Cx, Element};
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use crate::portable::ip_actions::hash_output;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};
use kernel::prelude::*;

struct HashSwitch {
    offset: usize,
    length: usize,
    outputs: u16,
}

pub(super) fn construct_hash(view: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let offset = usize::try_from(int_arg(args, "OFFSET")?).map_err(|_| ConstructError::BadArgument("OFFSET"))?;
    let length = usize::try_from(int_arg(args, "LENGTH")?).map_err(|_| ConstructError::BadArgument("LENGTH"))?;
    boxed(HashSwitch { offset, length, outputs: view.outputs })
}

impl Element for HashSwitch {
    /// A packet too short for the hashed bytes is dropped.
    fn push(&self, cx: &Cx<'_>, _port: u16, packet: Packet) {
        match hash_output(packet.data(), self.offset, self.length, self.outputs) {
            Some(port) => cx.push(port, packet),
            None => drop(packet),
        }
    }
}

struct RoundRobinSwitch {
    next: AtomicU32,
    /// Non-zero by type, so the modulo below has no division-by-zero path.
    outputs: core::num::NonZeroU32,
}

pub(super) fn construct_round_robin(view: &ElementView<'_>, _: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let outputs = core::num::NonZeroU32::new(u32::from(view.outputs)).ok_or(ConstructError::BadArgument("outputs"))?;
    boxed(RoundRobinSwitch { next: AtomicU32::new(0), outputs })
}

impl Element for RoundRobinSwitch {
    fn push(&self, cx: &Cx<'_>, _port: u16, packet: Packet) {
        let turn = self.next.fetch_add(1, Relaxed) % self.outputs;
        cx.push(u16::try_from(turn).unwrap_or(0), packet);
    }
}
