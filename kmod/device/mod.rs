//! Tenants' virtual devices: GRE tunnels multiplexed over shared physical devices ("ports").
//!
//! The coordinator attaches ports and creates each tenant's virtual devices from the system
//! config; a tenant graph's `FromDevice(eth1)`/`ToDevice(eth1)` then bind to that tenant's device
//! `eth1` when the graph is built, so a graph can only ever reach its own tenant's tunnels.
//!
//! Ingress runs in the port's rx_handler (softirq): the packet logic of `portable::tunnel`
//! decides, the packet is decapsulated and queued on the device's [`RxQueue`], and the tenant's
//! doorbell wakes its thread, where `FromDevice` pushes it into the graph. All the tenant's
//! processing is therefore done, and billed, on its own thread. Egress runs on the tenant thread
//! too: `ToDevice` encapsulates and hands the frame to the physical device.
//!
//! The registry is a global mutex-protected list touched only by control-plane commands; the
//! data path sees only the immutable per-port [`Table`], replaced whole under RCU.

use crate::packet::Packet;
use crate::portable::tunnel::{self, InnerKind, RxReason, TunnelSpec, TxReason};
use crate::portable::wire::checksum::Sum;
use crate::portable::wire::ipv4::Address;
use crate::sys::netdev::{Borrowed, PortTable, RawPort, RxQueue};
use crate::sys::thread::Doorbell;
use crate::tenant::TenantState;
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

/// Most ports the module attaches at once.
pub(crate) const PORTS_MAX: usize = 16;
/// Most virtual devices one tenant has.
pub(crate) const DEVICES_PER_TENANT_MAX: usize = 16;
/// Packets a device's receive queue holds before it drops.
const RX_QUEUE_CAPACITY: u32 = 1024;
/// Longest device name, as Linux bounds interface names (IFNAMSIZ - 1).
pub(crate) const DEVICE_NAME_MAX: usize = 15;

const ETHER_HEADER_LEN: usize = 14;
const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];

kernel::sync::global_lock! {
    // SAFETY: `init` is called from module init before the netlink family, the only user, is
    // registered.
    unsafe(uninit) static DEVICES: Mutex<Registry> = Registry { ports: KVec::new(), devices: KVec::new() };
}

/// Must run once, from module init, before any other function here.
pub(crate) fn init() {
    // SAFETY: called exactly once, from module init (see the static's comment).
    unsafe { DEVICES.init() };
}

pub(crate) struct Registry {
    ports: KVec<Arc<Port>>,
    devices: KVec<Arc<VirtualDevice>>,
}

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

/// Receive drops a device counts besides the classifier's reasons.
#[derive(Clone, Copy)]
enum RxLocalDrop {
    /// The tenant's receive queue was full: its thread is not keeping up.
    QueueFull = 0,
    /// Decapsulating needed memory that was not there.
    NoMemory = 1,
}

const RX_LOCAL_NAMES: [&str; 2] = ["queue_full", "no_memory"];

/// Transmit drops besides the encapsulation's own reasons.
#[derive(Clone, Copy)]
enum TxLocalDrop {
    /// Shorter than an Ethernet header.
    TooShort = 0,
    /// An IP tunnel was given a frame that is not IPv4.
    NotIpv4 = 1,
    NoMemory = 2,
    /// The port is detached, its device gone or down.
    PortDown = 3,
    /// The device or its queue refused the frame.
    DeviceDropped = 4,
}

const TX_LOCAL_NAMES: [&str; 5] = ["too_short", "not_ipv4", "no_memory", "port_down", "device_dropped"];

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// One physical device vdp may carry tunnels over.
pub(crate) struct Port {
    name: Name,
    raw: RawPort<Table>,
    /// Packets aimed at this port's tunnel endpoints that were dropped before any one device
    /// could be told (by [`RxReason`]).
    rx_drops: [AtomicU64; RxReason::COUNT],
}

impl Port {
    pub(crate) fn name(&self) -> &[u8] {
        self.name.as_bytes()
    }

    pub(crate) fn attached(&self) -> bool {
        self.raw.attached()
    }

    /// (name, count) for every drop reason of the port.
    pub(crate) fn counters(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        RxReason::ALL
            .iter()
            .filter(|reason| !reason.is_for_host())
            .map(|reason| (reason.name(), self.rx_drops.get(reason.index()).map_or(0, |c| c.load(Ordering::Relaxed))))
    }
}

/// The immutable lookup table a port's receive path uses: its tunnels and their devices.
pub(crate) struct Table {
    specs: KVec<TunnelSpec>,
    devices: KVec<Arc<VirtualDevice>>,
    port: Arc<Port>,
}

impl Table {
    /// The only device whose tunnel uses these endpoints, to charge a drop to.
    fn device_for_endpoints(&self, packet: &[u8]) -> Option<&VirtualDevice> {
        let src = Address(packet.get(12..16)?.try_into().ok()?);
        let dst = Address(packet.get(16..20)?.try_into().ok()?);
        let mut matching = self.specs.iter().zip(self.devices.iter()).filter(|(spec, _)| spec.local == dst && spec.remote == src);
        let (_, device) = matching.next()?;
        matching.next().is_none().then_some(&**device)
    }
}

impl PortTable for Table {
    fn receive(&self, packet: Borrowed<'_>) -> bool {
        match tunnel::classify(packet.data(), &self.specs[..]) {
            Err(reason) if reason.is_for_host() => false,
            Err(reason) => {
                match self.device_for_endpoints(packet.data()) {
                    Some(device) => device.count_rx_reason(reason),
                    None => {
                        if let Some(counter) = self.port.rx_drops.get(reason.index()) {
                            bump(counter);
                        }
                    }
                }
                drop(packet.take());
                true
            }
            Ok(found) => {
                if let Some(device) = self.devices.get(found.tunnel) {
                    device.deliver(packet, &found);
                } else {
                    drop(packet.take());
                }
                true
            }
        }
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
pub(crate) struct VirtualDevice {
    tenant: u32,
    config: DeviceConfig,
    port: Arc<Port>,
    rx_queue: RxQueue,
    doorbell: Arc<Doorbell>,
    /// Graph elements bound to this device; a device in use cannot be deleted.
    users: AtomicU32,
    /// IPv4 identification of outer headers.
    ident: AtomicU16,
    rx_packets: AtomicU64,
    rx_bytes: AtomicU64,
    tx_packets: AtomicU64,
    tx_bytes: AtomicU64,
    rx_drops: [AtomicU64; RxReason::COUNT],
    rx_local_drops: [AtomicU64; 2],
    tx_drops: [AtomicU64; TxReason::COUNT],
    tx_local_drops: [AtomicU64; 5],
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

    fn count_rx_reason(&self, reason: RxReason) {
        if let Some(counter) = self.rx_drops.get(reason.index()) {
            bump(counter);
        }
    }

    fn count_rx_local(&self, reason: RxLocalDrop) {
        if let Some(counter) = self.rx_local_drops.get(reason as usize) {
            bump(counter);
        }
    }

    fn count_tx_reason(&self, reason: TxReason) {
        if let Some(counter) = self.tx_drops.get(reason.index()) {
            bump(counter);
        }
    }

    fn count_tx_local(&self, reason: TxLocalDrop) {
        if let Some(counter) = self.tx_local_drops.get(reason as usize) {
            bump(counter);
        }
    }

    /// Softirq: strips the outer headers of a packet of this device's tunnel and queues the
    /// inner one for the tenant's thread. IP tunnels get an Ethernet header, as tenants read
    /// frames from `FromDevice`.
    fn deliver(&self, packet: Borrowed<'_>, found: &tunnel::Decapsulated) {
        let Some(mut packet) = packet.take() else {
            self.count_rx_local(RxLocalDrop::NoMemory);
            return;
        };
        let (Ok(end), Ok(start)) = (u32::try_from(found.inner_end), u32::try_from(found.inner_start)) else {
            self.count_rx_local(RxLocalDrop::NoMemory);
            return;
        };
        let mut decapsulated = packet.trim(end).and_then(|()| packet.pull(start));
        if decapsulated.is_ok() && found.inner == InnerKind::Ipv4 {
            decapsulated = self.add_ether_header(&mut packet);
        }
        if decapsulated.is_err() {
            self.count_rx_local(RxLocalDrop::NoMemory);
            return;
        }
        let bytes = packet.len() as u64;
        match self.rx_queue.push(packet) {
            Ok(length) => {
                self.rx_packets.fetch_add(1, Ordering::Relaxed);
                self.rx_bytes.fetch_add(bytes, Ordering::Relaxed);
                // The thread drains the queue before it sleeps, so only the first packet after
                // it went empty needs to wake it.
                if length == 1 {
                    self.doorbell.ring();
                }
            }
            Err(packet) => {
                self.count_rx_local(RxLocalDrop::QueueFull);
                drop(packet);
            }
        }
    }

    fn add_ether_header(&self, packet: &mut Packet) -> Result {
        packet.push(ETHER_HEADER_LEN as u32)?;
        let data = packet.data_mut()?;
        let header = data.get_mut(..ETHER_HEADER_LEN).ok_or(EINVAL)?;
        header[..6].copy_from_slice(&self.config.mac);
        header[6..12].copy_from_slice(&self.config.peer_mac);
        header[12..].copy_from_slice(&ETHERTYPE_IPV4);
        Ok(())
    }

    /// The next received packet, for `FromDevice`.
    pub(crate) fn receive(&self) -> Option<Packet> {
        self.rx_queue.pop()
    }

    /// Encapsulates a frame from the tenant's graph and sends it over the port. Every packet is
    /// either sent or counted under the reason it was dropped.
    pub(crate) fn transmit(&self, mut packet: Packet) {
        let spec = &self.config.spec;
        if spec.inner == InnerKind::Ipv4 {
            let data = packet.data();
            if data.len() < ETHER_HEADER_LEN {
                return self.count_tx_local(TxLocalDrop::TooShort);
            }
            if data.get(12..14) != Some(&ETHERTYPE_IPV4[..]) {
                return self.count_tx_local(TxLocalDrop::NotIpv4);
            }
            if packet.pull(ETHER_HEADER_LEN as u32).is_err() {
                return self.count_tx_local(TxLocalDrop::TooShort);
            }
        }
        let inner_len = packet.len();
        if inner_len > spec.max_inner_len() {
            return self.count_tx_reason(TxReason::ExceedsMtu);
        }
        let inner_sum = if spec.checksum { Sum::ZERO.add_bytes(packet.data()) } else { Sum::ZERO };
        let outer_len = ETHER_HEADER_LEN + spec.encap_len();
        if packet.push(outer_len as u32).is_err() {
            return self.count_tx_local(TxLocalDrop::NoMemory);
        }
        let ident = self.ident.fetch_add(1, Ordering::Relaxed);
        let written = match packet.data_mut() {
            Ok(data) => {
                let (ether, rest) = data.split_at_mut(ETHER_HEADER_LEN.min(data.len()));
                if ether.len() == ETHER_HEADER_LEN {
                    ether[..6].copy_from_slice(&self.config.peer_mac);
                    // The source is the device's own address, written by the transmit path.
                    ether[12..].copy_from_slice(&ETHERTYPE_IPV4);
                }
                tunnel::encapsulate(spec, ident, rest, inner_len, inner_sum).map_err(Some)
            }
            Err(_) => Err(None),
        };
        match written {
            Ok(_) => {}
            Err(Some(reason)) => return self.count_tx_reason(reason),
            Err(None) => return self.count_tx_local(TxLocalDrop::NoMemory),
        }
        match self.port.raw.transmit(packet) {
            Ok(()) => {
                self.tx_packets.fetch_add(1, Ordering::Relaxed);
                self.tx_bytes.fetch_add(inner_len as u64, Ordering::Relaxed);
            }
            Err(e) if e == ENETDOWN => self.count_tx_local(TxLocalDrop::PortDown),
            Err(_) => self.count_tx_local(TxLocalDrop::DeviceDropped),
        }
    }

    pub(crate) fn rx_packets(&self) -> u64 {
        self.rx_packets.load(Ordering::Relaxed)
    }

    pub(crate) fn tx_packets(&self) -> u64 {
        self.tx_packets.load(Ordering::Relaxed)
    }

    pub(crate) fn rx_queue_len(&self) -> u32 {
        self.rx_queue.len()
    }

    /// Every receive counter as (name, value): packets, bytes, then drops by reason.
    pub(crate) fn rx_counters(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let reasons = RxReason::ALL
            .iter()
            .filter(|reason| !reason.is_for_host())
            .map(move |reason| (reason.name(), self.rx_drops.get(reason.index()).map_or(0, load)));
        let local = RX_LOCAL_NAMES.iter().zip(self.rx_local_drops.iter()).map(move |(name, c)| (*name, load(c)));
        let totals = [("packets", load(&self.rx_packets)), ("bytes", load(&self.rx_bytes))];
        Iterator::chain(Iterator::chain(totals.into_iter(), reasons), local)
    }

    /// Every transmit counter as (name, value): packets, bytes, then drops by reason.
    pub(crate) fn tx_counters(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let reasons = TxReason::ALL.iter().map(move |reason| (reason.name(), self.tx_drops.get(reason.index()).map_or(0, load)));
        let local = TX_LOCAL_NAMES.iter().zip(self.tx_local_drops.iter()).map(move |(name, c)| (*name, load(c)));
        let totals = [("packets", load(&self.tx_packets)), ("bytes", load(&self.tx_bytes))];
        Iterator::chain(Iterator::chain(totals.into_iter(), reasons), local)
    }

    pub(crate) fn rx_drops(&self) -> u64 {
        self.rx_counters().skip(2).fold(0u64, |sum, (_, n)| sum.wrapping_add(n))
    }

    pub(crate) fn tx_drops(&self) -> u64 {
        self.tx_counters().skip(2).fold(0u64, |sum, (_, n)| sum.wrapping_add(n))
    }

    /// Zeroes every counter (the elements' `reset_counts` handler).
    pub(crate) fn reset_counters(&self) {
        let totals = [&self.rx_packets, &self.rx_bytes, &self.tx_packets, &self.tx_bytes];
        let drops = [&self.rx_drops[..], &self.rx_local_drops[..], &self.tx_drops[..], &self.tx_local_drops[..]];
        for counter in totals {
            counter.store(0, Ordering::Relaxed);
        }
        for counter in drops.iter().flat_map(|group| group.iter()) {
            counter.store(0, Ordering::Relaxed);
        }
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
            if registry.ports.len() >= PORTS_MAX {
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
    if own.count() >= DEVICES_PER_TENANT_MAX {
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
            rx_queue: RxQueue::new(RX_QUEUE_CAPACITY)?,
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
