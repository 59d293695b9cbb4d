//! The boundary elements that join a tenant's kernel part and its container part (see
//! `channel.rs` and `docs/multi-level.md`). The coordinator's partitioner places them at each
//! connection it cuts; tenants cannot write them.
//!
//! Kernel→container boundary `k` is `ToContainer(k)` in the kernel graph and `FromKernel(k)` in
//! the container graph; container→kernel boundary `k` is `ToKernel(k)` and `FromContainer(k)`.
//! Each binds, when its graph is built, to ring `k` of the tenant's channel through the
//! platform's [`DeviceBinder::bind_boundary`]: the kernel binds only the kernel-side classes and
//! the engine only the container-side ones. A boundary whose ring is missing (no engine attached,
//! or a slow one whose ring is full) drops and counts; its counters are the ring's, so they go on
//! across hotswaps.

use super::from_device;
use super::to_device::write_stats;
use crate::catalog::{base, int, keyword, required, ArgSpec, Audience, ElementClass, Level, PortRange, TaskRule, MAX_BURST};
use crate::channel::MAX_RINGS;
use crate::element::class::BoundaryEnd;
use crate::element::handler::{handlers, reply, HandlerError};
use crate::element::{Build, ConstructError, Cx, DeviceEnd, Element, Platform};
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Boundaries per direction a tenant may have: one ring each.
pub const MAX_BOUNDARIES: u32 = MAX_RINGS;

const SEND_ARGS: &[ArgSpec] = &[required("INDEX", int(0, MAX_BOUNDARIES as i64 - 1))];
const RECEIVE_ARGS: &[ArgSpec] = &[required("INDEX", int(0, MAX_BOUNDARIES as i64 - 1)), keyword("BURST", int(1, MAX_BURST), Some("32"))];

const fn sender(name: &'static str, level: Level, summary: &'static str) -> ElementClass {
    ElementClass {
        level,
        outputs: PortRange::exactly(0),
        processing: "h/",
        args: SEND_ARGS,
        cost_cycles: 600,
        audience: Audience::CoordinatorOnly,
        ..base(name, summary)
    }
}

const fn receiver(name: &'static str, level: Level, summary: &'static str) -> ElementClass {
    ElementClass {
        level,
        inputs: PortRange::exactly(0),
        processing: "/h",
        args: RECEIVE_ARGS,
        task: TaskRule::Always,
        cost_cycles: 600,
        audience: Audience::CoordinatorOnly,
        ..base(name, summary)
    }
}

pub const TO_CONTAINER: ElementClass = sender("ToContainer", Level::Kernel, "Sends pushed packets over the tenant's channel to its container engine");
pub const FROM_CONTAINER: ElementClass = receiver("FromContainer", Level::Kernel, "Pushes out packets the tenant's container engine sent over its channel");
pub const FROM_KERNEL: ElementClass = receiver("FromKernel", Level::Container, "Pushes out packets the tenant's kernel part sent over its channel");
pub const TO_KERNEL: ElementClass = sender("ToKernel", Level::Container, "Sends pushed packets over the tenant's channel to its kernel part");

handlers! {
    pub enum SendRead {
        Count = "count": Integer,
        Drops = "drops": Integer,
        Stats = "stats": Lines,
    }
}

handlers! {
    pub enum SendWrite {
        ResetCounts = "reset_counts": Action,
    }
}

/// Which end of a boundary a sending or receiving class is; the const parameter of
/// [`Sender`] and [`Receiver`].
pub const KERNEL_SIDE: u8 = 0;
pub const CONTAINER_SIDE: u8 = 1;

fn bind<P: Platform>(build: &Build<'_, P>, end: BoundaryEnd) -> Result<P::Device, ConstructError> {
    let index = build.int_as::<u16>("INDEX")?;
    build.devices.bind_boundary(end, index).ok_or(ConstructError::NoSuchDevice)
}

/// `ToContainer` (`SIDE` = [`KERNEL_SIDE`]) or `ToKernel` ([`CONTAINER_SIDE`]).
pub struct Sender<P: Platform, const SIDE: u8> {
    ring: P::Device,
}

impl<P: Platform, const SIDE: u8> Element<P> for Sender<P, SIDE> {
    type Read = SendRead;
    type Write = SendWrite;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let end = if SIDE == KERNEL_SIDE { BoundaryEnd::ToContainer } else { BoundaryEnd::ToKernel };
        Ok(Sender { ring: bind(build, end)? })
    }

    fn push(&self, _cx: &Cx<'_, P>, _port: u16, packet: P::Packet) {
        self.ring.transmit(packet);
    }

    fn read(&self, handler: SendRead, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        reply(match handler {
            SendRead::Count => write!(out, "{}", self.ring.tx_packets()),
            SendRead::Drops => write!(out, "{}", self.ring.tx_drops()),
            SendRead::Stats => write_stats(out, &self.ring),
        })
    }

    fn write(&self, handler: SendWrite, _value: &str) -> Result<(), HandlerError> {
        match handler {
            SendWrite::ResetCounts => self.ring.reset_counters(),
        }
        Ok(())
    }
}

/// `FromContainer` (`SIDE` = [`KERNEL_SIDE`]) or `FromKernel` ([`CONTAINER_SIDE`]): a task that
/// pushes out up to BURST packets from its ring each run.
pub struct Receiver<P: Platform, const SIDE: u8> {
    ring: P::Device,
    burst: AtomicU32,
}

impl<P: Platform, const SIDE: u8> Element<P> for Receiver<P, SIDE> {
    type Read = from_device::Read;
    type Write = from_device::Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let end = if SIDE == KERNEL_SIDE { BoundaryEnd::FromContainer } else { BoundaryEnd::FromKernel };
        Ok(Receiver { ring: bind(build, end)?, burst: AtomicU32::new(build.int_as("BURST")?) })
    }

    fn run_task(&self, cx: &Cx<'_, P>) -> bool {
        from_device::receive_burst(cx, &self.ring, self.burst.load(Relaxed))
    }

    fn read(&self, handler: from_device::Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        from_device::read(&self.ring, &self.burst, handler, out)
    }

    fn write(&self, handler: from_device::Write, value: &str) -> Result<(), HandlerError> {
        from_device::write(&self.ring, &self.burst, handler, value)
    }
}
