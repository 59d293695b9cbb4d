//! Classifier and IPClassifier: each packet leaves by the output of the first pattern it matches,
//! or is dropped. The compiled graph carries each pattern as a packet program, evaluated by
//! `packet_program`; IPClassifier's network and transport offsets come from the IP header.
//!
//! The two classes share this code: they differ only in how their patterns are written, and the
//! compiler turns both into the same programs.

use crate::catalog::{base, ArgKind, ElementClass, OutputRule, PortRange, RepeatedArgs, Resource};
use crate::element::agnostic::Action;
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform, Vector};
use crate::element_args::ArgValue;
use crate::ip_actions::ip_headers;
use crate::packet_program;
use core::fmt;

/// Classifier's catalog entry (its id and handler tables come from the registry).
pub const CLASSIFIER: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    output_rule: OutputRule::OnePerRepeatedArgument,
    processing: "h/h",
    repeated: Some(RepeatedArgs { kind: ArgKind::ClassifierPattern, min: 1, noun: "pattern" }),
    cost_cycles: 300,
    cost_per_entry: 20,
    resource: Resource::TableEntries,
    ..base("Classifier", "Sends each packet to the output of the first pattern it matches")
};

/// IPClassifier's catalog entry (its id and handler tables come from the registry).
pub const IP_CLASSIFIER: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    output_rule: OutputRule::OnePerRepeatedArgument,
    processing: "h/h",
    repeated: Some(RepeatedArgs {
        kind: ArgKind::IpClassifierExpr,
        min: 1,
        noun: "expression",
    }),
    cost_cycles: 400,
    cost_per_entry: 30,
    resource: Resource::TableEntries,
    ..base("IPClassifier", "Classifies IP packets by tcpdump-like expressions")
};

pub struct Classifier<P: Platform> {
    /// One validated program per output, in output order.
    programs: Vector<P, Vector<P, u8>>,
}

impl<P: Platform> Classifier<P> {
    /// The output `packet` leaves by. Not inlined: the programs' evaluation stack then lives in
    /// this frame, which is gone again before the packet is pushed on (a push chain nests one
    /// `push` frame per element, and the kernel bounds chains by their frames' size).
    #[inline(never)]
    fn classify(&self, packet: &P::Packet) -> Option<u16> {
        let headers = ip_headers(packet.data(), packet.network_offset().unwrap_or(0));
        let matched = self.programs.iter().position(|bytes| {
            // Validated at construction, so this cannot fail; a failure would match nothing.
            packet_program::validate(bytes).is_ok_and(|program| program.matches(packet.data(), headers))
        });
        matched.and_then(|port| u16::try_from(port).ok())
    }
}

impl<P: Platform> Action<P> for Classifier<P> {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let count = usize::try_from(build.args.repeated_count()).map_err(|_| ConstructError::BadArgument("pattern"))?;
        let mut programs = Vector::with_capacity(count)?;
        for value in build.args.repeated() {
            let Ok(ArgValue::Program(bytes)) = value else { return Err(ConstructError::BadArgument("pattern")) };
            packet_program::validate(bytes).map_err(|_| ConstructError::BadArgument("pattern"))?;
            programs.push(Vector::from_slice(bytes)?)?;
        }
        if programs.len() != usize::from(build.outputs()) {
            return Err(ConstructError::BadArgument("one output per pattern"));
        }
        Ok(Classifier { programs })
    }

    /// A packet no pattern matches is dropped.
    fn act(&self, packet: P::Packet) -> Option<(u16, P::Packet)> {
        let port = self.classify(&packet)?;
        Some((port, packet))
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
