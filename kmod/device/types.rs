//! What the registry holds: device and port names ([`Name`]), physical devices ([`Port`]),
//! tenants' virtual devices ([`VirtualDevice`]) and how one is set up ([`DeviceConfig`]), with
//! their plain accessors.

use super::receive::Table;
use super::DEVICE_NAME_MAX;
use crate::portable::tunnel::{RxReason, TunnelSpec, TxReason, TX_LOCAL_DROP_NAMES};
use crate::portable::tx_cap::TxCap;
use super::shaping::TenantTxCap;
use crate::sys::netdev::{RawPort, RxQueue};
use crate::sys::thread::Doorbell;
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64};
use kernel::prelude::*;
use kernel::sync::{Arc, SpinLock};

/// A short name (interface or device), stored inline.
#[derive(Clone, Copy)]
pub(crate) struct Name {
    bytes: [u8; DEVICE_NAME_MAX],
    len: usize,
}

impl Name {
    /// `None` unless 1 to 15 bytes of printable ASCII without `/` or spaces (Linux's rule for
    /// interface names, which tenants' device names follow too).
    pub(crate) fn new(text: &[u8]) -> Option<Name> {
        if text.is_empty() || text.len() > DEVICE_NAME_MAX || text == b"." || text == b".." {
            return None;
        }
        if !text.iter().all(|b| b.is_ascii_graphic() && *b != b'/' && *b != b':') {
            return None;
        }
        let mut bytes = [0u8; DEVICE_NAME_MAX];
        bytes.get_mut(..text.len())?.copy_from_slice(text);
        Some(Name { bytes, len: text.len() })
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

/// One physical device vdp may carry tunnels over.
pub(crate) struct Port {
    pub(super) name: Name,
    pub(super) raw: RawPort<Table>,
    /// Packets aimed at this port's tunnel endpoints that were dropped before any one device
    /// could be told (by [`RxReason`]).
    pub(super) rx_drops: [AtomicU64; RxReason::COUNT],
}

impl Port {
    pub(crate) fn name(&self) -> &[u8] {
        self.name.as_bytes()
    }

    pub(crate) fn attached(&self) -> bool {
        self.raw.attached()
    }
}

/// How a tenant device is set up; `VDEV_NEW` carries it.
pub(crate) struct DeviceConfig {
    pub(crate) name: Name,
    pub(crate) port: Name,
    pub(crate) spec: TunnelSpec,
    /// The device's own Ethernet address: destination of frames delivered from an IP tunnel.
    pub(crate) mac: [u8; 6],
    /// The next hop towards the tunnel's remote end: destination of every frame sent.
    pub(crate) peer_mac: [u8; 6],
}

/// A tenant's virtual device: one GRE tunnel over a port.
///
/// # Invariants
///
/// `users` is raised only under the registry lock (by `bind`), so a device the registry finds
/// unused while holding it stays unused until the lock is released.
pub(crate) struct VirtualDevice {
    pub(super) tenant: u32,
    pub(super) config: DeviceConfig,
    pub(super) port: Arc<Port>,
    pub(super) rx_queue: RxQueue,
    pub(super) doorbell: Arc<Doorbell>,
    /// Graph elements bound to this device; a device in use cannot be deleted.
    pub(super) users: AtomicU32,
    /// IPv4 identification of outer headers.
    pub(super) ident: AtomicU16,
    pub(super) rx_packets: AtomicU64,
    pub(super) rx_bytes: AtomicU64,
    pub(super) tx_packets: AtomicU64,
    pub(super) tx_bytes: AtomicU64,
    pub(super) rx_drops: [AtomicU64; RxReason::COUNT],
    pub(super) rx_local_drops: [AtomicU64; 2],
    pub(super) tx_drops: [AtomicU64; TxReason::COUNT],
    pub(super) tx_local_drops: [AtomicU64; TX_LOCAL_DROP_NAMES.len()],
    /// The operator's cap on what this device sends (`SHAPE_SET`); the tenant's aggregate is
    /// `tenant_cap`, shared by all its devices. Taken device first, then tenant.
    pub(super) tx_cap: Pin<KBox<SpinLock<TxCap>>>,
    pub(super) tenant_cap: Arc<TenantTxCap>,
}

impl VirtualDevice {
    pub(crate) fn tenant(&self) -> u32 {
        self.tenant
    }

    pub(crate) fn config(&self) -> &DeviceConfig {
        &self.config
    }

    pub(crate) fn port_attached(&self) -> bool {
        self.port.attached()
    }
}
