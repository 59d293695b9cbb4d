//! ToDevice: a tenant graph's exit to one of its own virtual devices (see `from_device.rs` for
//! how devices are bound).

use super::from_device::bind;
use crate::catalog::{base, int, keyword, required, ArgKind, ArgSpec, ElementClass, Level, PortRange, TaskRule, MAX_BURST};
use crate::element::handler::{handlers, reply, HandlerError};
use crate::element::{Build, ConstructError, Cx, DeviceEnd, Direction, Element, Platform};
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Most packets ToDevice pulls before it sends them together (`DeviceEnd::transmit_batch`).
pub const TX_CHUNK: usize = 16;

const ARGS: &[ArgSpec] = &[required("DEVNAME", ArgKind::DeviceName), keyword("BURST", int(1, MAX_BURST), Some("16"))];

/// ToDevice's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::exactly(0),
    processing: "l/",
    args: ARGS,
    task: TaskRule::Always,
    cost_cycles: 800,
    // The tenant's devices (its GRE tunnels) live in the kernel.
    level: Level::Kernel,
    ..base("ToDevice", "Pulls packets from its input and sends them on a device")
};

handlers! {
    pub enum Read {
        Count = "count": Integer,
        Drops = "drops": Integer,
        Burst = "burst": Integer,
        Stats = "stats": Lines,
    }
}

pub use super::from_device::Write;

pub struct ToDevice<P: Platform> {
    device: P::Device,
    burst: AtomicU32,
}

/// Every counter of the device, both directions, one `rx_NAME VALUE` / `tx_NAME VALUE` per line.
pub(super) fn write_stats<D: DeviceEnd<Pk>, Pk>(out: &mut dyn fmt::Write, device: &D) -> fmt::Result {
    device.for_each_counter(&mut |direction, name, value| {
        let side = match direction {
            Direction::Receive => "rx",
            Direction::Transmit => "tx",
        };
        writeln!(out, "{side}_{name} {value}")
    })
}

impl<P: Platform> Element<P> for ToDevice<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(ToDevice { device: bind(build)?, burst: AtomicU32::new(build.int_as("BURST")?) })
    }

    /// Pulls up to BURST packets and sends them, [`TX_CHUNK`] at a time: each chunk is pulled
    /// first (the elements upstream run as usual) and then handed to the device together.
    fn run_task(&self, cx: &Cx<'_, P>) -> bool {
        let burst = self.burst.load(Relaxed);
        let mut moved = 0;
        // Each round moves at least one packet or ends the loop, so it runs at most BURST times.
        while moved < burst {
            let mut chunk: [Option<P::Packet>; TX_CHUNK] = core::array::from_fn(|_| None);
            let want = (burst - moved).min(TX_CHUNK as u32) as usize;
            let mut pulled = 0;
            for slot in chunk.iter_mut().take(want) {
                let Some(packet) = cx.pull(0) else { break };
                *slot = Some(packet);
                pulled += 1;
            }
            if pulled == 0 {
                break;
            }
            self.device.transmit_batch(chunk.iter_mut().filter_map(Option::take));
            moved += pulled as u32;
            if pulled < want {
                break;
            }
        }
        moved > 0
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        let device = &self.device;
        reply(match handler {
            Read::Count => write!(out, "{}", device.tx_packets()),
            Read::Drops => write!(out, "{}", device.tx_drops()),
            Read::Burst => write!(out, "{}", self.burst.load(Relaxed)),
            Read::Stats => write_stats(out, device),
        })
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        super::from_device::write(&self.device, &self.burst, handler, value)
    }
}
