//! The device registry: the global list of ports and virtual devices, the control-plane
//! commands that change it (attach, detach, create, delete), graph elements' bindings to
//! devices, and publishing each port's receive table.

use super::receive::Table;
use super::types::{DeviceConfig, Name, Port, VirtualDevice};
use crate::limits;
use crate::sys::netdev::{RawPort, RxQueue};
use crate::tenant::TenantState;
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

use crate::sys::globals::DEVICES;

/// # Invariants
///
/// - Every device's port is in `ports`; a port stays while it is attached or a device uses it.
/// - The table a port has published holds the devices of `devices` over that port, with two
///   out-of-memory exceptions that last until the port's next change: after [`remove_tenant`]
///   could not build a smaller table the port has none, and when `remove_at` could not put a
///   device back after a failed publish, the table still holds a device the list lost.
/// - No two devices of a tenant share a name, and no two devices over a port share endpoints,
///   inner protocol and key.
pub(crate) struct Registry {
    ports: KVec<Arc<Port>>,
    devices: KVec<Arc<VirtualDevice>>,
}

impl Registry {
    /// The empty registry the global starts as.
    pub(crate) const fn new() -> Self {
        Registry { ports: KVec::new(), devices: KVec::new() }
    }
}

/// A graph element's hold on its tenant's device: keeps the device from being deleted while a
/// graph uses it.
pub(crate) struct Binding {
    device: Arc<VirtualDevice>,
}

impl Binding {
    pub(crate) fn device(&self) -> &VirtualDevice {
        &self.device
    }
}

impl Drop for Binding {
    fn drop(&mut self) {
        self.device.users.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Why a device command was refused.
pub(crate) enum DeviceError {
    NoSuchPort,
    TooManyPorts,
    PortInUse,
    NoSuchDevice,
    NameTaken,
    TooManyDevices,
    /// Another tunnel on the port has the same endpoints, inner protocol and key.
    TunnelTaken,
    InUse,
    TenantGone,
    Kernel(Error),
}

impl From<Error> for DeviceError {
    fn from(e: Error) -> Self {
        DeviceError::Kernel(e)
    }
}

impl From<kernel::alloc::AllocError> for DeviceError {
    fn from(_: kernel::alloc::AllocError) -> Self {
        DeviceError::Kernel(ENOMEM)
    }
}

impl Registry {
    fn port(&self, name: &[u8]) -> Option<&Arc<Port>> {
        self.ports.iter().find(|p| p.name() == name)
    }

    /// Rebuilds and publishes the receive table of `port` from the devices over it.
    fn publish(&self, port: &Arc<Port>) -> Result<(), DeviceError> {
        let mut specs = KVec::new();
        let mut devices = KVec::new();
        for device in self.devices.iter().filter(|d| Arc::ptr_eq(&d.port, port)) {
            specs.push(device.config.spec, GFP_KERNEL)?;
            devices.push(device.clone(), GFP_KERNEL)?;
        }
        let table = if devices.is_empty() {
            None
        } else {
            Some(KBox::new(Table { specs, devices, port: port.clone() }, GFP_KERNEL)?)
        };
        port.raw.publish(table);
        Ok(())
    }

    /// Forgets `port` if it is detached and no device uses it.
    fn prune(&mut self, name: &[u8]) {
        let Some(index) = self.ports.iter().position(|p| p.name() == name) else { return };
        let port = &self.ports[index];
        if !port.attached() && !self.devices.iter().any(|d| Arc::ptr_eq(&d.port, port)) {
            if let Ok(port) = self.ports.remove(index) {
                port.raw.publish(None);
            }
        }
    }
}

/// Hooks vdp onto the physical device `name`. Attaching one already attached is refused.
pub(crate) fn attach(name: &[u8]) -> Result<(), DeviceError> {
    let name = Name::new(name).ok_or(DeviceError::NoSuchPort)?;
    let mut registry = DEVICES.lock();
    let port = match registry.port(name.as_bytes()) {
        Some(port) => port.clone(),
        None => {
            if registry.ports.len() >= limits::ports() {
                return Err(DeviceError::TooManyPorts);
            }
            let port = Arc::new(
                Port { name, raw: RawPort::new(name.as_bytes())?, rx_drops: Default::default() },
                GFP_KERNEL,
            )?;
            registry.ports.push(port.clone(), GFP_KERNEL)?;
            port
        }
    };
    let attached = port.raw.attach();
    if attached.is_err() {
        registry.prune(name.as_bytes());
    }
    attached.map_err(|e| if e == EALREADY { DeviceError::PortInUse } else { DeviceError::Kernel(e) })
}

/// Lets go of the physical device `name`. Its tunnels stay configured and resume when it is
/// attached again.
pub(crate) fn detach(name: &[u8]) -> Result<(), DeviceError> {
    let mut registry = DEVICES.lock();
    let port = registry.port(name).ok_or(DeviceError::NoSuchPort)?.clone();
    if !port.attached() {
        return Err(DeviceError::NoSuchPort);
    }
    port.raw.detach();
    registry.prune(name);
    Ok(())
}

/// Creates a tenant's virtual device over a known port.
pub(crate) fn create(owner: &TenantState, config: DeviceConfig) -> Result<Arc<VirtualDevice>, DeviceError> {
    let mut registry = DEVICES.lock();
    // A tenant's deletion sets `closed` and then removes its devices under this lock, so
    // checking here means no device outlives its tenant.
    if owner.is_closed() {
        return Err(DeviceError::TenantGone);
    }
    let (tenant, doorbell) = (owner.id, owner.doorbell());
    let port = registry.port(config.port.as_bytes()).ok_or(DeviceError::NoSuchPort)?.clone();
    let own = registry.devices.iter().filter(|d| d.tenant == tenant);
    if own.clone().any(|d| d.config.name.as_bytes() == config.name.as_bytes()) {
        return Err(DeviceError::NameTaken);
    }
    if own.count() >= limits::tenant_devices() {
        return Err(DeviceError::TooManyDevices);
    }
    let spec = &config.spec;
    if registry.devices.iter().any(|d| {
        let other = &d.config.spec;
        Arc::ptr_eq(&d.port, &port) && other.local == spec.local && other.remote == spec.remote && other.inner == spec.inner && other.key == spec.key
    }) {
        return Err(DeviceError::TunnelTaken);
    }
    let device = Arc::new(
        VirtualDevice {
            tenant,
            config,
            port: port.clone(),
            rx_queue: RxQueue::new(limits::rx_queue())?,
            doorbell,
            users: AtomicU32::new(0),
            ident: AtomicU16::new(0),
            rx_packets: AtomicU64::new(0),
            rx_bytes: AtomicU64::new(0),
            tx_packets: AtomicU64::new(0),
            tx_bytes: AtomicU64::new(0),
            rx_drops: Default::default(),
            rx_local_drops: Default::default(),
            tx_drops: Default::default(),
            tx_local_drops: Default::default(),
            tx_cap: super::shaping::new_device_cap()?,
            tenant_cap: owner.tx_cap(),
        },
        GFP_KERNEL,
    )?;
    registry.devices.push(device.clone(), GFP_KERNEL)?;
    if let Err(e) = registry.publish(&port) {
        registry.devices.pop();
        return Err(e);
    }
    Ok(device)
}

/// Deletes a tenant's device unless a graph uses it.
pub(crate) fn delete(tenant: u32, name: &[u8]) -> Result<(), DeviceError> {
    let mut registry = DEVICES.lock();
    let index = registry
        .devices
        .iter()
        .position(|d| d.tenant == tenant && d.config.name.as_bytes() == name)
        .ok_or(DeviceError::NoSuchDevice)?;
    if registry.devices[index].users.load(Ordering::Relaxed) > 0 {
        return Err(DeviceError::InUse);
    }
    remove_at(&mut registry, index)
}

fn remove_at(registry: &mut Registry, index: usize) -> Result<(), DeviceError> {
    let device = registry.devices.remove(index).map_err(|_| DeviceError::NoSuchDevice)?;
    if let Err(e) = registry.publish(&device.port) {
        // Keep the table and the registry in step: the device stays until a retry succeeds.
        registry.devices.push(device, GFP_KERNEL)?;
        return Err(e);
    }
    let port_name = device.port.name;
    drop(device);
    registry.prune(port_name.as_bytes());
    Ok(())
}

/// Deletes every device of a tenant that is going away (its graph is already gone).
pub(crate) fn remove_tenant(tenant: u32) {
    let mut registry = DEVICES.lock();
    while let Some(index) = registry.devices.iter().position(|d| d.tenant == tenant) {
        if remove_at(&mut registry, index).is_err() {
            // Out of memory for the smaller table: take the device out of the registry anyway
            // and stop the port's receive path from reaching any device until the next change.
            let device = registry.devices.remove(index).ok();
            if let Some(device) = device {
                device.port.raw.publish(None);
            }
        }
    }
}

/// Binds a graph element to the tenant's device `name`.
pub(crate) fn bind(tenant: u32, name: &[u8]) -> Option<Binding> {
    let registry = DEVICES.lock();
    let device = registry.devices.iter().find(|d| d.tenant == tenant && d.config.name.as_bytes() == name)?.clone();
    device.users.fetch_add(1, Ordering::Relaxed);
    Some(Binding { device })
}

/// The devices of `tenant` (all tenants' with `None`), for `VDEV_GET`.
pub(crate) fn devices(tenant: Option<u32>) -> Result<KVec<Arc<VirtualDevice>>> {
    let registry = DEVICES.lock();
    let mut out = KVec::new();
    for device in registry.devices.iter().filter(|d| tenant.map_or(true, |t| d.tenant == t)) {
        out.push(device.clone(), GFP_KERNEL)?;
    }
    Ok(out)
}

/// Every known port, for `PORT_GET`.
pub(crate) fn ports() -> Result<KVec<Arc<Port>>> {
    let registry = DEVICES.lock();
    let mut out = KVec::new();
    for port in registry.ports.iter() {
        out.push(port.clone(), GFP_KERNEL)?;
    }
    Ok(out)
}

/// Module unload: lets go of every device and port. Tenants and their graphs are gone already.
pub(crate) fn shutdown() {
    let mut registry = DEVICES.lock();
    // Tables hold devices and devices hold their port: clear the tables to break the cycle.
    for port in registry.ports.iter() {
        port.raw.detach();
        port.raw.publish(None);
    }
    // Take the vectors themselves: the registry is a static, so buffers left behind would leak.
    drop(core::mem::take(&mut registry.devices));
    drop(core::mem::take(&mut registry.ports));
}
