//! `vdp-test-engine`: a tenant engine the QEMU scenarios use (`container-level`), with two
//! custom classes a well-behaved tenant would not ship:
//!
//! - `FlowSampler(COLOR)`: the same class name as the worked example's FlowSampler
//!   (docs/examples/custom-element), declared differently (one output, a required COLOR), to show
//!   that two tenants' classes of one name never meet: each is checked against its own engine's
//!   declaration and runs in its own engine. It paints each packet COLOR and counts it.
//! - `Hang(AFTER)`: passes AFTER packets, then loops forever on the next one, the way a buggy
//!   element would; the engine's time limit must stop the engine, and nothing else.

use std::fmt;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use vdp_core::catalog::{base, int, required, ElementClass, PortRange};
use vdp_core::element::handler::reply;
use vdp_core::element::{Build, ConstructError, Cx, Element, HandlerError, NoHandlers, PacketBuf};
use vdp_core::handlers;
use vdp_engine::{custom_class, User, UserPacket};

const PAINTER: ElementClass = ElementClass {
    inputs: PortRange::exactly(1),
    outputs: PortRange::exactly(1),
    processing: "h/h",
    args: &[required("COLOR", int(0, 255))],
    ..base("FlowSampler", "Paints every packet COLOR and counts it (the test engine's own FlowSampler)")
};

handlers! {
    pub enum PainterRead {
        Painted = "painted": Integer,
    }
}

struct Painter {
    color: u8,
    painted: AtomicU64,
}

impl Element<User> for Painter {
    type Read = PainterRead;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, User>) -> Result<Self, ConstructError> {
        Ok(Painter { color: build.int_as("COLOR")?, painted: AtomicU64::new(0) })
    }

    fn push(&self, cx: &Cx<'_, User>, _port: u16, mut packet: UserPacket) {
        packet.set_paint(self.color);
        self.painted.fetch_add(1, Relaxed);
        cx.push(0, packet);
    }

    fn read(&self, handler: PainterRead, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            PainterRead::Painted => reply(write!(out, "{}", self.painted.load(Relaxed))),
        }
    }

    fn write(&self, handler: NoHandlers, _value: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}

const HANG: ElementClass = ElementClass {
    inputs: PortRange::exactly(1),
    outputs: PortRange::exactly(1),
    processing: "h/h",
    args: &[required("AFTER", int(0, 1_000_000))],
    ..base("Hang", "Passes AFTER packets, then never returns from the next one (a test of the engine's time limit)")
};

handlers! {
    pub enum HangRead {
        Passed = "passed": Integer,
    }
}

struct Hang {
    after: u64,
    passed: AtomicU64,
}

impl Element<User> for Hang {
    type Read = HangRead;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, User>) -> Result<Self, ConstructError> {
        Ok(Hang { after: build.int_as("AFTER")?, passed: AtomicU64::new(0) })
    }

    fn push(&self, cx: &Cx<'_, User>, _port: u16, packet: UserPacket) {
        if self.passed.load(Relaxed) < self.after {
            self.passed.fetch_add(1, Relaxed);
            cx.push(0, packet);
            return;
        }
        // The bug this class stands for: a loop whose exit never comes.
        let mut spins: u64 = 0;
        loop {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
    }

    fn read(&self, handler: HangRead, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            HangRead::Passed => reply(write!(out, "{}", self.passed.load(Relaxed))),
        }
    }

    fn write(&self, handler: NoHandlers, _value: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}

fn main() -> ExitCode {
    vdp_engine::container::main(&[custom_class::<Painter>(PAINTER), custom_class::<Hang>(HANG)])
}
