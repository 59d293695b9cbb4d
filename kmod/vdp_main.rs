// SPDX-License-Identifier: GPL-2.0
//! vdp: a virtualized data plane. Tenants' Click graphs, merged in userspace, run here as one
//! element graph; this crate root wires the module's parts together.

use kernel::prelude::*;

#[path = "core/mod.rs"]
#[allow(dead_code, unused_imports, unreachable_pub)] // the module uses a subset of what userspace shares with it
mod portable;
// The portable core names its modules from the crate root (`crate::catalog`), as it is the root
// of the userspace `vdp-core` crate; this makes the same paths resolve inside the module.
#[allow(unused_imports)]
use portable::*;

mod device;
mod platform;
mod engine;
mod limits;
mod netlink;
mod sys;
use sys::packet;
mod tenant;

module! {
    type: Vdp,
    name: "vdp",
    authors: ["vdp developers"],
    description: "vdp virtualized data plane: tenants' Click graphs as one in-kernel graph",
    license: "GPL",
    // The bounds and defaults are `limits`'; the descriptions repeat them for modinfo.
    params: {
        max_ports: u32 {
            default: crate::limits::PORTS.default,
            description: "Most physical devices vdp attaches at once (1 to 256, default 16)",
        },
        max_tenant_devices: u32 {
            default: crate::limits::TENANT_DEVICES.default,
            description: "Most virtual devices of one tenant (1 to 256, default 16)",
        },
        rx_queue_len: u32 {
            default: crate::limits::RX_QUEUE.default,
            description: "Packets each virtual device's receive queue holds (16 to 16384, default 1024)",
        },
    },
}

struct Vdp {
    family: Option<sys::genl::Family>,
    notifier: Option<sys::netdev::Notifier>,
    channel: Option<sys::channel::Device>,
}

impl kernel::Module for Vdp {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        limits::check()?;
        sys::globals::init();
        let notifier = sys::netdev::Notifier::register().inspect_err(|e| {
            pr_err!("cannot register the network device notifier: {:?}\n", e);
        })?;
        let family = sys::genl::Family::register().inspect_err(|e| {
            pr_err!("cannot register the generic netlink family: {:?}\n", e);
        })?;
        // After the family: a channel binds to a tenant the family created.
        let channel = sys::channel::Device::register().inspect_err(|e| {
            pr_err!("cannot register the channel device /dev/vdp: {:?}\n", e);
        })?;
        pr_info!("vdp {} loaded\n", portable::VERSION);
        Ok(Vdp { family: Some(family), notifier: Some(notifier), channel: Some(channel) })
    }
}

impl Drop for Vdp {
    fn drop(&mut self) {
        // No request may reach a tenant while it is torn down: the channel device goes first
        // (no new opens; an open file holds the module, so none is open any more), then the
        // family, whose unregistering waits for requests already in progress.
        drop(self.channel.take());
        drop(self.family.take());
        tenant::shutdown();
        device::shutdown();
        drop(self.notifier.take());
        pr_info!("vdp unloaded\n");
    }
}
