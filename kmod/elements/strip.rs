//! Strip and Unstrip: remove or restore bytes at the front of each packet.

use super::agnostic::{Action, Agnostic};
use super::{boxed, int_arg, ConstructError};
use crate::engine::Element;
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use kernel::prelude::*;

struct Strip {
    bytes: u32,
}

struct Unstrip {
    bytes: u32,
}

fn length_arg(args: &ElementArgs<'_>) -> Result<u32, ConstructError> {
    u32::try_from(int_arg(args, "LENGTH")?).map_err(|_| ConstructError::BadArgument("LENGTH"))
}

pub(super) fn construct_strip(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    boxed(Agnostic(Strip { bytes: length_arg(args)? }))
}

pub(super) fn construct_unstrip(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    boxed(Agnostic(Unstrip { bytes: length_arg(args)? }))
}

impl Action for Strip {
    /// Like Click, a packet shorter than LENGTH loses all its bytes rather than being dropped.
    fn act(&self, mut packet: Packet) -> Option<(u16, Packet)> {
        let n = self.bytes.min(u32::try_from(packet.len()).unwrap_or(u32::MAX));
        packet.pull(n).ok()?;
        Some((0, packet))
    }
}

impl Action for Unstrip {
    fn act(&self, mut packet: Packet) -> Option<(u16, Packet)> {
        packet.push(self.bytes).ok()?;
        Some((0, packet))
    }
}
