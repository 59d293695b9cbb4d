//! Classifier and IPClassifier: each packet leaves by the output of the first pattern it matches,
//! or is dropped. The compiled graph carries each pattern as a packet program, evaluated by the
//! portable core; IPClassifier's network and transport offsets come from the IP header.

use crate::sys::memcg::tenant_gfp;
use super::{boxed, ConstructError};
use crate::engine::{Cx, Element};
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::{ArgValue, ElementArgs};
use crate::portable::ip_actions::ip_headers;
use crate::portable::packet_program;
use kernel::prelude::*;

struct Classifier {
    /// One validated program per output, in output order.
    programs: KVec<KVec<u8>>,
}

pub(super) fn construct(view: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let mut programs = KVec::with_capacity(args.repeated_count() as usize, tenant_gfp())?;
    for value in args.repeated() {
        let Ok(ArgValue::Program(bytes)) = value else { return Err(ConstructError::BadArgument("pattern")) };
        packet_program::validate(bytes).map_err(|_| ConstructError::BadArgument("pattern"))?;
        let mut program = KVec::with_capacity(bytes.len(), tenant_gfp())?;
        program.extend_from_slice(bytes, tenant_gfp())?;
        programs.push(program, tenant_gfp())?;
    }
    if programs.len() != usize::from(view.outputs) {
        return Err(ConstructError::BadArgument("one output per pattern"));
    }
    boxed(Classifier { programs })
}

impl Classifier {
    /// The output `packet` leaves by. Not inlined: the programs' evaluation stack then lives in
    /// this frame, which is gone again before the packet is pushed on (a push chain nests one
    /// `push` frame per element, and the kernel bounds chains by their frames' size).
    #[inline(never)]
    fn classify(&self, packet: &Packet) -> Option<u16> {
        let headers = ip_headers(packet.data(), packet.network_offset().unwrap_or(0));
        let matched = self.programs.iter().position(|bytes| {
            // Validated at construction, so this cannot fail; a failure would match nothing.
            packet_program::validate(bytes).is_ok_and(|program| program.matches(packet.data(), headers))
        });
        matched.and_then(|port| u16::try_from(port).ok())
    }
}

impl Element for Classifier {
    fn push(&self, cx: &Cx<'_>, _port: u16, packet: Packet) {
        match self.classify(&packet) {
            Some(port) => cx.push(port, packet),
            None => drop(packet),
        }
    }
}
