//! Binding a tenant's channel: the coordinator opens `/dev/vdp`, binds the file to the tenant
//! with the geometry its partition needs, and hands the file to the tenant's container
//! (`docs/multi-level.md`). Only the root context can do this; the tenant never opens the device.

use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd};
use vdp_core::channel::Geometry;

use vdp_core::uapi::channel::{Bind, DEVICE_PATH as DEVICE, IOCTL_TYPE};

nix::ioctl_write_ptr!(channel_bind, IOCTL_TYPE, 0x01, Bind);

/// Opens the device and binds a fresh channel of `geometry` to tenant `id`.
pub fn bind(id: u32, geometry: Geometry) -> Result<OwnedFd> {
    let file = std::fs::OpenOptions::new().read(true).write(true).open(DEVICE).with_context(|| format!("cannot open {DEVICE}"))?;
    let request = Bind { tenant_id: id, rings: geometry.rings(), slots: geometry.slots(), flags: 0 };
    // SAFETY: `request` is a live, properly laid out `Bind` for the duration of the call,
    // and the kernel only reads it.
    unsafe { channel_bind(file.as_raw_fd(), &request) }.with_context(|| format!("the module refused to bind a channel to tenant {id}"))?;
    Ok(OwnedFd::from(file))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bind_request_is_the_modules_number() {
        let encoded = nix::request_code_write!(super::IOCTL_TYPE, 0x01, std::mem::size_of::<super::Bind>());
        assert_eq!(encoded as u32, vdp_core::uapi::channel::BIND);
    }
}
