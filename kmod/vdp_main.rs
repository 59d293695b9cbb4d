// SPDX-License-Identifier: GPL-2.0
//! vdp: a virtualized data plane. Tenants' Click graphs, merged in userspace, run here as one
//! element graph; this crate root wires the module's parts together.

use kernel::prelude::*;

#[path = "core/mod.rs"]
#[allow(dead_code)] // the module uses a subset of what userspace shares with it
mod portable;

mod elements;
mod netlink;
mod sys;
mod tenant;

module! {
    type: Vdp,
    name: "vdp",
    authors: ["vdp developers"],
    description: "vdp virtualized data plane: tenants' Click graphs as one in-kernel graph",
    license: "GPL",
}

struct Vdp {
    _family: sys::genl::Family,
}

impl kernel::Module for Vdp {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let family = sys::genl::Family::register().inspect_err(|e| {
            pr_err!("cannot register the generic netlink family: {:?}\n", e);
        })?;
        pr_info!("vdp {} loaded\n", portable::VERSION);
        Ok(Vdp { _family: family })
    }
}

impl Drop for Vdp {
    fn drop(&mut self) {
        pr_info!("vdp unloading\n");
    }
}
