//! FromDevice and ToDevice: a tenant graph's ends at its own virtual devices (GRE tunnels).
//!
//! Both bind, when the graph is built, to the device of that name among the building tenant's
//! devices; another tenant's device of the same name is never visible. The counters live in the
//! device, so they go on across hotswaps and are the same ones the root's `VDEV_GET` reports.

use crate::sys::memcg::tenant_gfp;
use super::{int_arg, ConstructError};
use crate::device::{self, Binding};
use crate::engine::{handler::{parse_int_in, HandlerError, HandlerText}, Cx, Element};
use crate::portable::catalog::MAX_BURST;
use crate::portable::element_args::{ArgValue, ElementArgs};
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};
use kernel::prelude::*;

/// Which direction of the device an element handles.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Receive,
    Transmit,
}

struct DeviceElement {
    binding: Binding,
    direction: Direction,
    burst: AtomicU32,
}

fn construct(args: &ElementArgs<'_>, tenant: u32, direction: Direction) -> Result<KBox<dyn Element>, ConstructError> {
    let Some(ArgValue::Device(name)) = args.value("DEVNAME") else {
        return Err(ConstructError::BadArgument("DEVNAME"));
    };
    let binding = device::bind(tenant, name.as_bytes()).ok_or(ConstructError::NoSuchDevice)?;
    let burst = u32::try_from(int_arg(args, "BURST")?).map_err(|_| ConstructError::BadArgument("BURST"))?;
    Ok(KBox::new(DeviceElement { binding, direction, burst: AtomicU32::new(burst) }, tenant_gfp())? as KBox<dyn Element>)
}

pub(super) fn construct_from(args: &ElementArgs<'_>, tenant: u32) -> Result<KBox<dyn Element>, ConstructError> {
    construct(args, tenant, Direction::Receive)
}

pub(super) fn construct_to(args: &ElementArgs<'_>, tenant: u32) -> Result<KBox<dyn Element>, ConstructError> {
    construct(args, tenant, Direction::Transmit)
}

impl Element for DeviceElement {
    fn run_task(&self, cx: &Cx<'_>) -> bool {
        let device = self.binding.device();
        let burst = self.burst.load(Relaxed);
        let mut moved = 0;
        while moved < burst {
            match self.direction {
                Direction::Receive => {
                    let Some(packet) = device.receive() else { break };
                    cx.push(0, packet);
                }
                Direction::Transmit => {
                    let Some(packet) = cx.pull(0) else { break };
                    device.transmit(packet);
                }
            }
            moved += 1;
        }
        moved > 0
    }

    fn read_handler(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        let device = self.binding.device();
        let written = match (name, self.direction) {
            ("count", Direction::Receive) => write!(out, "{}", device.rx_packets()),
            ("count", Direction::Transmit) => write!(out, "{}", device.tx_packets()),
            ("drops", Direction::Receive) => write!(out, "{}", device.rx_drops()),
            ("drops", Direction::Transmit) => write!(out, "{}", device.tx_drops()),
            ("burst", _) => write!(out, "{}", self.burst.load(Relaxed)),
            ("queue_length", Direction::Receive) => write!(out, "{}", device.rx_queue_len()),
            ("stats", _) => write_stats(out, device),
            _ => return Err(HandlerError::NoSuchHandler),
        };
        written.map_err(|_| HandlerError::Refused("reply too long"))
    }

    fn write_handler(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        match name {
            "reset_counts" => self.binding.device().reset_counters(),
            "burst" => self.burst.store(parse_int_in(value, 1, MAX_BURST)? as u32, Relaxed),
            _ => return Err(HandlerError::NoSuchHandler),
        }
        Ok(())
    }
}

/// Every counter of the device, both directions, one `rx_NAME VALUE` / `tx_NAME VALUE` per line.
fn write_stats(out: &mut HandlerText, device: &device::VirtualDevice) -> core::fmt::Result {
    for (name, value) in device.rx_counters() {
        writeln!(out, "rx_{name} {value}")?;
    }
    for (name, value) in device.tx_counters() {
        writeln!(out, "tx_{name} {value}")?;
    }
    Ok(())
}
