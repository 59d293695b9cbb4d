//! PaintSwitch: sends each packet to the output its paint annotation names.

use super::{boxed, ConstructError};
use crate::engine::{Cx, Element};
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use kernel::prelude::*;

struct PaintSwitch {
    outputs: u16,
}

pub(super) fn construct(view: &ElementView<'_>, _: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    boxed(PaintSwitch { outputs: view.outputs })
}

impl Element for PaintSwitch {
    /// A paint with no matching output drops the packet, as in Click.
    fn push(&self, cx: &Cx<'_>, _port: u16, packet: Packet) {
        let port = u16::from(packet.paint());
        if port < self.outputs {
            cx.push(port, packet);
        }
    }
}
