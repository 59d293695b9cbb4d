//! FromDevice: a tenant graph's entry from one of its own virtual devices; and PollDevice,
//! Click's polling receive, which in vdp is FromDevice under Click's name and keywords (every
//! vdp device is drained by a task, as Click's PollDevice drains its card).
//!
//! Devices set each packet's timestamp annotation when they receive it. PollDevice's
//! `TIMESTAMP false` clears it instead, so its packets go on without one.
//!
//! The element binds, when the graph is built, to the device of that name among the building
//! tenant's devices; another tenant's device of the same name is never visible. The counters
//! live in the device, so they go on across hotswaps (and in the kernel they are the ones the
//! root's `VDEV_GET` reports).

use super::to_device::write_stats;
use crate::catalog::{base, int, keyword, positional, required, ArgKind, ArgSpec, ElementClass, Level, PortRange, TaskRule, MAX_BURST};
use crate::element::handler::{handlers, parse_int_in, reply, HandlerError};
use crate::element::{Build, ConstructError, Cx, DeviceEnd, Element, PacketBuf, Platform};
use crate::element_args::ArgValue;
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

const ARGS: &[ArgSpec] = &[
    required("DEVNAME", ArgKind::DeviceName),
    keyword("PROMISC", ArgKind::Bool, Some("false")),
    keyword("SNIFFER", ArgKind::Bool, Some("false")),
    keyword("BURST", int(1, MAX_BURST), Some("8")),
];

const POLL_ARGS: &[ArgSpec] = &[
    required("DEVNAME", ArgKind::DeviceName),
    // Click's PollDevice also takes PROMISC and BURST by position (`PollDevice(eth1, true)`).
    positional("PROMISC", ArgKind::Bool, Some("false")),
    positional("BURST", int(1, MAX_BURST), Some("8")),
    keyword("TIMESTAMP", ArgKind::Bool, Some("true")),
];

/// PollDevice's catalog entry: FromDevice's code, with Click's PollDevice keywords.
pub const POLL_DEVICE: ElementClass =
    ElementClass { name: "PollDevice", summary: "Polls a device for packets and pushes them out", args: POLL_ARGS, ..CLASS };

/// FromDevice's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    inputs: PortRange::exactly(0),
    processing: "/h",
    args: ARGS,
    task: TaskRule::Always,
    cost_cycles: 800,
    // The tenant's devices (its GRE tunnels) live in the kernel.
    level: Level::Kernel,
    ..base("FromDevice", "Receives packets from a device and pushes them out")
};

handlers! {
    pub enum Read {
        Count = "count": Integer,
        Drops = "drops": Integer,
        Burst = "burst": Integer,
        QueueLength = "queue_length": Integer,
        Stats = "stats": Lines,
    }
}

handlers! {
    /// FromDevice's and ToDevice's write handlers.
    pub enum Write {
        ResetCounts = "reset_counts": Action,
        Burst = "burst": Integer,
    }
}

pub struct FromDevice<P: Platform> {
    device: P::Device,
    burst: AtomicU32,
    /// Keep the timestamps the device set (PollDevice's TIMESTAMP; FromDevice always does).
    timestamp: bool,
}

/// The device DEVNAME names, bound through the building tenant's devices.
pub(super) fn bind<P: Platform>(build: &Build<'_, P>) -> Result<P::Device, ConstructError> {
    let Some(ArgValue::Device(name)) = build.value("DEVNAME") else {
        return Err(ConstructError::BadArgument("DEVNAME"));
    };
    build.devices.bind(name).ok_or(ConstructError::NoSuchDevice)
}

impl<P: Platform> Element<P> for FromDevice<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let timestamp = build.args.bool("TIMESTAMP").unwrap_or(true);
        Ok(FromDevice { device: bind(build)?, burst: AtomicU32::new(build.int_as("BURST")?), timestamp })
    }

    fn run_task(&self, cx: &Cx<'_, P>) -> bool {
        if self.timestamp {
            receive_burst(cx, &self.device, self.burst.load(Relaxed))
        } else {
            receive_burst_with(cx, &self.device, self.burst.load(Relaxed), |packet| packet.set_timestamp_anno(0))
        }
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        read(&self.device, &self.burst, handler, out)
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        write(&self.device, &self.burst, handler, value)
    }
}

/// Pushes out up to `burst` packets received on `device`; whether any moved.
pub(super) fn receive_burst<P: Platform>(cx: &Cx<'_, P>, device: &P::Device, burst: u32) -> bool {
    receive_burst_with(cx, device, burst, |_| {})
}

/// [`receive_burst`], with `prepare` applied to each packet before it is pushed.
/// The packets are taken off the device's queue together (`DeviceEnd::receive_batch`).
pub(super) fn receive_burst_with<P: Platform>(cx: &Cx<'_, P>, device: &P::Device, burst: u32, prepare: impl Fn(&mut P::Packet)) -> bool {
    let moved = device.receive_batch(burst, |mut packet| {
        prepare(&mut packet);
        cx.push(0, packet);
    });
    moved > 0
}

/// A read of FromDevice (or of a boundary's receiving end).
pub(super) fn read<D: DeviceEnd<Pk>, Pk>(device: &D, burst: &AtomicU32, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
    reply(match handler {
        Read::Count => write!(out, "{}", device.rx_packets()),
        Read::Drops => write!(out, "{}", device.rx_drops()),
        Read::Burst => write!(out, "{}", burst.load(Relaxed)),
        Read::QueueLength => write!(out, "{}", device.rx_queue_len()),
        Read::Stats => write_stats(out, device),
    })
}

/// A write to FromDevice or ToDevice: the device's counters or the element's burst.
pub(super) fn write<D: DeviceEnd<Pk>, Pk>(device: &D, burst: &AtomicU32, handler: Write, value: &str) -> Result<(), HandlerError> {
    match handler {
        Write::ResetCounts => device.reset_counters(),
        Write::Burst => burst.store(u32::try_from(parse_int_in(value, 1, MAX_BURST)?).unwrap_or(1), Relaxed),
    }
    Ok(())
}
