//! The limits an operator may set when loading the module (`insmod vdp.ko max_ports=32`, or
//! `options vdp ...` for modprobe), each with its bounds.
//!
//! Module init calls [`check`] before it registers anything, and refuses to load with `EINVAL`
//! when a value is out of bounds, so every reader afterwards sees a value within them. The
//! parameters are read-only: they are fixed for the life of the module.

use crate::module_parameters as params;
use kernel::prelude::*;

/// One load-time limit: its parameter's name, its bounds and its default.
pub(crate) struct Limit {
    pub(crate) name: &'static str,
    pub(crate) min: u32,
    pub(crate) max: u32,
    pub(crate) default: u32,
}

/// Physical devices attached at once. The registry scans its ports linearly when a port is
/// attached, detached or looked up by name (never per packet), so the bound keeps that short.
pub(crate) const PORTS: Limit = Limit { name: "max_ports", min: 1, max: 256, default: 16 };
/// Virtual devices of one tenant.
pub(crate) const TENANT_DEVICES: Limit = Limit { name: "max_tenant_devices", min: 1, max: 256, default: 16 };
/// Packets a virtual device's receive queue holds before it drops. The bound keeps what one
/// device can hold to 16384 `sk_buff`s.
pub(crate) const RX_QUEUE: Limit =
    Limit { name: "rx_queue_len", min: 16, max: 16384, default: crate::portable::tunnel::RX_QUEUE_CAPACITY as u32 };

/// Most ports the module attaches at once.
pub(crate) fn ports() -> usize {
    params::max_ports.value() as usize
}

/// Most virtual devices one tenant has.
pub(crate) fn tenant_devices() -> usize {
    params::max_tenant_devices.value() as usize
}

/// Packets each virtual device's receive queue holds.
pub(crate) fn rx_queue() -> u32 {
    params::rx_queue_len.value()
}

/// Refuses a value out of its bounds, naming the parameter and the bounds; logs the values in
/// force otherwise.
pub(crate) fn check() -> Result {
    for (limit, value) in [
        (&PORTS, params::max_ports.value()),
        (&TENANT_DEVICES, params::max_tenant_devices.value()),
        (&RX_QUEUE, params::rx_queue_len.value()),
    ] {
        if !(limit.min..=limit.max).contains(&value) {
            pr_err!(
                "{}={} is out of bounds: it must be {} to {} (default {})\n",
                limit.name,
                value,
                limit.min,
                limit.max,
                limit.default
            );
            return Err(EINVAL);
        }
    }
    pr_info!(
        "limits: {} {}, {} {}, {} {}\n",
        PORTS.name,
        ports(),
        TENANT_DEVICES.name,
        tenant_devices(),
        RX_QUEUE.name,
        rx_queue()
    );
    Ok(())
}
