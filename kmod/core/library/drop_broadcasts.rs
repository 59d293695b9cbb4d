//! DropBroadcasts: drops packets that arrived as link-level broadcasts or multicasts (their
//! packet-type annotation, which the device sets on receive), or sends them to output 1 when
//! there is one, as a router must not forward them (RFC 1812 5.3.4); `drops` counts them, and
//! the first is logged.

use crate::catalog::{base, ElementClass, PortRange};
use crate::element::agnostic::Action;
use crate::element::handler::{handlers, reply, HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, LinkPacketType, PacketBuf, Platform};
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// DropBroadcasts' catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 2),
    processing: "a/ah",
    cost_cycles: 50,
    ..base("DropBroadcasts", "Drops link-level broadcast and multicast packets, or sends them to output 1")
};

handlers! {
    pub enum Read {
        Drops = "drops": Integer,
    }
}

pub struct DropBroadcasts {
    has_reject_output: bool,
    drops: AtomicU64,
}

impl<P: Platform> Action<P> for DropBroadcasts {
    type Read = Read;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(DropBroadcasts { has_reject_output: build.outputs() > 1, drops: AtomicU64::new(0) })
    }

    fn act(&self, packet: P::Packet) -> Option<(u16, P::Packet)> {
        if !matches!(packet.link_packet_type(), LinkPacketType::Broadcast | LinkPacketType::Multicast) {
            return Some((0, packet));
        }
        if self.drops.fetch_add(1, Relaxed) == 0 {
            P::log(format_args!("DropBroadcasts: dropped a packet"));
        }
        self.has_reject_output.then_some((1, packet))
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Drops => reply(write!(out, "{}", self.drops.load(Relaxed))),
        }
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
