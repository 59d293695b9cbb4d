//! ToHost and FromHost: Click's way to and from the host's own network stack.
//!
//! A vdp tenant reaches its host stack through one of its devices, the one the system config
//! names as the tenant's `host_device` (`docs/system-config.md`); later each tenant will have
//! an interface of its own in its container, and these two classes will move to it. Until
//! then:
//!
//! - `ToHost([DEVNAME])` sends each pushed packet out of the host device, as ToDevice would.
//!   Click's DEVNAME is the device the host should see the packet arrive on; in vdp that can only
//!   be the host device, so the front end refuses any other name and fills in the host device
//!   when DEVNAME is absent. `drops` is the device's transmit drops.
//! - `FromHost(DEVNAME)` pushes what arrives on the host device, BURST packets per task run.
//!   Click's DEVNAME names the interface the host sends through, which in vdp is the host
//!   device, so it must name it. The frames are Ethernet frames (Click's default TYPE ETHER);
//!   the interface's addresses and MTU are the system config's, so Click's PREFIX, TYPE, ETHER,
//!   MTU, CAPACITY and CLEAR_ANNO are not accepted. `length` and `capacity` are the device's
//!   receive queue, `drops` its receive drops.
//!
//! Both bind their device like FromDevice and ToDevice (`from_device::bind`), so in the kernel
//! they only ever reach the building tenant's own devices, whatever the blob says.

use super::from_device::bind;
use crate::catalog::{base, int, keyword, positional, required, ArgKind, ElementClass, Level, PortRange, TaskRule, MAX_BURST};
use crate::element::handler::{handlers, parse_int_in, reply, HandlerError};
use crate::element::{Build, ConstructError, Cx, DeviceEnd, Element, NoHandlers, Platform};
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// ToHost's catalog entry (its id and handler tables come from the registry).
pub const TO_HOST: ElementClass = ElementClass {
    outputs: PortRange::exactly(0),
    processing: "h/",
    args: &[positional("DEVNAME", ArgKind::DeviceName, None)],
    cost_cycles: 800,
    // The tenant's devices live in the kernel.
    level: Level::Kernel,
    ..base("ToHost", "Hands pushed packets to the host, through the tenant's host device")
};

/// FromHost's catalog entry.
pub const FROM_HOST: ElementClass = ElementClass {
    inputs: PortRange::exactly(0),
    processing: "/h",
    args: &[required("DEVNAME", ArgKind::DeviceName), keyword("BURST", int(1, MAX_BURST), Some("8"))],
    task: TaskRule::Always,
    cost_cycles: 800,
    level: Level::Kernel,
    ..base("FromHost", "Pushes out the packets the host sends through the tenant's host device")
};

handlers! {
    pub enum ToHostRead {
        Drops = "drops": Integer,
    }
}

handlers! {
    pub enum FromHostRead {
        Length = "length": Integer,
        Capacity = "capacity": Integer,
        Drops = "drops": Integer,
        Burst = "burst": Integer,
    }
}

handlers! {
    pub enum FromHostWrite {
        Burst = "burst": Integer,
    }
}

pub struct ToHost<P: Platform> {
    device: P::Device,
}

impl<P: Platform> Element<P> for ToHost<P> {
    type Read = ToHostRead;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(ToHost { device: bind(build)? })
    }

    fn push(&self, _cx: &Cx<'_, P>, _port: u16, packet: P::Packet) {
        self.device.transmit(packet);
    }

    fn read(&self, handler: ToHostRead, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            ToHostRead::Drops => reply(write!(out, "{}", self.device.tx_drops())),
        }
    }

    fn write(&self, handler: NoHandlers, _value: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}

pub struct FromHost<P: Platform> {
    device: P::Device,
    burst: AtomicU32,
}

impl<P: Platform> Element<P> for FromHost<P> {
    type Read = FromHostRead;
    type Write = FromHostWrite;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(FromHost { device: bind(build)?, burst: AtomicU32::new(build.int_as("BURST")?) })
    }

    fn run_task(&self, cx: &Cx<'_, P>) -> bool {
        super::from_device::receive_burst(cx, &self.device, self.burst.load(Relaxed))
    }

    fn read(&self, handler: FromHostRead, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        let device = &self.device;
        reply(match handler {
            FromHostRead::Length => write!(out, "{}", device.rx_queue_len()),
            FromHostRead::Capacity => write!(out, "{}", P::rx_queue_capacity()),
            FromHostRead::Drops => write!(out, "{}", device.rx_drops()),
            FromHostRead::Burst => write!(out, "{}", self.burst.load(Relaxed)),
        })
    }

    fn write(&self, handler: FromHostWrite, value: &str) -> Result<(), HandlerError> {
        match handler {
            FromHostWrite::Burst => self.burst.store(u32::try_from(parse_int_in(value, 1, MAX_BURST)?).unwrap_or(1), Relaxed),
        }
        Ok(())
    }
}
