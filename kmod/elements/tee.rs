//! Tee: a copy of each packet out of every output; the last output gets the original.

use super::{boxed, ConstructError};
use crate::engine::{Cx, Element};
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use kernel::prelude::*;

struct Tee {
    outputs: u16,
}

pub(super) fn construct(view: &ElementView<'_>, _: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    boxed(Tee { outputs: view.outputs })
}

impl Element for Tee {
    fn push(&self, cx: &Cx<'_>, _port: u16, packet: Packet) {
        let Some(last) = self.outputs.checked_sub(1) else { return };
        for port in 0..last {
            // A clone that cannot be made is a drop on that output only.
            if let Some(copy) = packet.clone_packet() {
                cx.push(port, copy);
            }
        }
        cx.push(last, packet);
    }
}
