//! Binding a tenant's channel: the coordinator opens `/dev/vdp`, binds the file to the tenant
//! with the geometry its partition needs, and hands the file to the tenant's container
//! (`docs/multi-level.md`). Only the root context can do this; the tenant never opens the device.

use anyhow::{Context, Result};
use std::os::fd::{AsRawFd, OwnedFd};
use vdp_core::channel::Geometry;

/// The module's channel device.
pub const DEVICE: &str = "/dev/vdp";

/// `struct vdp_channel_bind`, as the module reads it.
#[repr(C)]
pub struct ChannelBind {
    pub tenant_id: u32,
    pub rings: u32,
    pub slots: u32,
    pub flags: u32,
}

nix::ioctl_write_ptr!(channel_bind, b'V', 0x01, ChannelBind);

/// Opens the device and binds a fresh channel of `geometry` to tenant `id`.
pub fn bind(id: u32, geometry: Geometry) -> Result<OwnedFd> {
    let file = std::fs::OpenOptions::new().read(true).write(true).open(DEVICE).with_context(|| format!("cannot open {DEVICE}"))?;
    let request = ChannelBind { tenant_id: id, rings: geometry.rings(), slots: geometry.slots(), flags: 0 };
    // SAFETY: `request` is a live, properly laid out `ChannelBind` for the duration of the call,
    // and the kernel only reads it.
    unsafe { channel_bind(file.as_raw_fd(), &request) }.with_context(|| format!("the module refused to bind a channel to tenant {id}"))?;
    Ok(OwnedFd::from(file))
}
