//! The kernel as a [`Platform`] for the portable element library: `sk_buff` packets, tenant
//! memory charged to the tenant's memory cgroup, spinlocks and mutexes, the monotonic clock and
//! the tenant's virtual devices and the kernel ends of its channel's boundaries.
//!
//! Element locks all share one lockdep class per kind (one `Locked` class, one `Writer` class):
//! the library's rule that element locks are leaves (see `element/platform.rs`) is what makes
//! that safe, and lockdep checks the rule holds on every path the tests take.

use crate::device::{self, Binding};
use crate::portable::element::{self, take_each, BoundaryEnd, DeviceEnd, Direction, GraphDrop, LinkPacketType, NoMemory, PacketBuf, PacketError, Platform};
use crate::sys::memcg::tenant_gfp;
use crate::sys::packet::Packet;
use crate::sys::thread;
use crate::sys::trace::{self, DropKind};
use crate::tenant::{BoundaryBinding, TenantChannel};
use core::fmt;
use kernel::alloc::KVVec;
use kernel::prelude::*;
use kernel::sync::lock::{spinlock::SpinLockBackend, Guard};
use kernel::sync::{Arc, Mutex, SpinLock};
use kernel::{new_mutex, new_spinlock};

/// The kernel platform; a type only, never a value.
pub(crate) enum Kernel {}

/// Flags of allocations that must not sleep (under a spinlock, on the packet path). The Rust
/// flags have no `__GFP_ACCOUNT` to add, so these are not charged to the tenant's memory cgroup:
/// the library makes them only for short-lived copies (a handler's reply taken from under a
/// lock), freed before the call returns.
fn tenant_gfp_atomic() -> kernel::alloc::Flags {
    GFP_ATOMIC | __GFP_NOWARN
}

impl PacketBuf for Packet {
    fn alloc(len: usize) -> Option<Self> {
        Packet::alloc(u32::try_from(len).ok()?)
    }
    fn data(&self) -> &[u8] {
        Packet::data(self)
    }
    fn data_mut(&mut self) -> Result<&mut [u8], NoMemory> {
        Packet::data_mut(self).map_err(|_| NoMemory)
    }
    fn len(&self) -> usize {
        Packet::len(self)
    }
    fn pull(&mut self, n: usize) -> Result<(), PacketError> {
        Packet::pull(self, u32::try_from(n).map_err(|_| PacketError)?).map_err(|_| PacketError)
    }
    fn push(&mut self, n: usize) -> Result<(), PacketError> {
        Packet::push(self, u32::try_from(n).map_err(|_| PacketError)?).map_err(|_| PacketError)
    }
    fn trim(&mut self, len: usize) -> Result<(), PacketError> {
        Packet::trim(self, u32::try_from(len).map_err(|_| PacketError)?).map_err(|_| PacketError)
    }
    fn clone_packet(&mut self) -> Option<Self> {
        Packet::clone_packet(self)
    }
    fn paint(&self) -> u8 {
        Packet::paint(self)
    }
    fn set_paint(&mut self, color: u8) {
        Packet::set_paint(self, color)
    }
    fn dst_ip_anno(&self) -> Option<[u8; 4]> {
        Packet::dst_ip_anno(self)
    }
    fn set_dst_ip_anno(&mut self, address: [u8; 4]) {
        Packet::set_dst_ip_anno(self, address)
    }
    fn network_offset(&self) -> Option<usize> {
        Packet::network_offset(self)
    }
    fn set_network_offset(&mut self, offset: usize) {
        Packet::set_network_offset(self, offset)
    }
    fn link_packet_type(&self) -> LinkPacketType {
        LinkPacketType::from_number(Packet::pkt_type(self))
    }
    fn set_link_packet_type(&mut self, kind: LinkPacketType) {
        Packet::set_pkt_type(self, kind as u8)
    }
    fn fix_ip_src(&self) -> bool {
        Packet::fix_ip_src(self)
    }
    fn set_fix_ip_src(&mut self, fix: bool) {
        Packet::set_fix_ip_src(self, fix)
    }
    fn icmp_param_offset(&self) -> u8 {
        Packet::icmp_param_offset(self)
    }
    fn set_icmp_param_offset(&mut self, offset: u8) {
        Packet::set_icmp_param_offset(self, offset)
    }
    fn copy_annotations(&mut self, from: &Self) {
        Packet::copy_annotations(self, from)
    }
    fn alloc_with_headroom(headroom: usize, len: usize) -> Option<Self> {
        Packet::alloc_with_headroom(u32::try_from(headroom).ok()?, u32::try_from(len).ok()?)
    }
    fn timestamp_anno(&self) -> Option<u64> {
        Packet::timestamp_ns(self)
    }
    fn set_timestamp_anno(&mut self, ns: u64) {
        Packet::set_timestamp_ns(self, ns)
    }
    fn realign(&mut self, modulus: usize, offset: usize) -> Result<(), NoMemory> {
        let (Ok(modulus), Ok(offset)) = (u32::try_from(modulus), u32::try_from(offset)) else { return Err(NoMemory) };
        Packet::realign(self, modulus, offset).map_err(|_| NoMemory)
    }
    fn consume(self) {
        Packet::consume(self)
    }
}

/// What a kernel graph's device elements hold: one of the tenant's tunnels (FromDevice,
/// ToDevice) or the kernel end of one of its boundaries (ToContainer, FromContainer).
pub(crate) enum KernelDevice {
    Tunnel(Binding),
    Boundary(BoundaryBinding),
}

impl DeviceEnd<Packet> for KernelDevice {
    fn receive(&self) -> Option<Packet> {
        match self {
            KernelDevice::Tunnel(binding) => binding.device().receive(),
            KernelDevice::Boundary(boundary) => boundary.receive(),
        }
    }
    fn receive_batch<F: FnMut(Packet)>(&self, max: u32, take: F) -> u32 {
        match self {
            KernelDevice::Tunnel(binding) => {
                let mut batch = binding.device().receive_batch(max);
                take_each(max, || batch.next(), take)
            }
            KernelDevice::Boundary(boundary) => take_each(max, || boundary.receive(), take),
        }
    }
    fn transmit(&self, packet: Packet) {
        match self {
            KernelDevice::Tunnel(binding) => binding.device().transmit(packet),
            KernelDevice::Boundary(boundary) => boundary.transmit(packet),
        }
    }
    fn transmit_batch(&self, packets: impl Iterator<Item = Packet>) {
        match self {
            KernelDevice::Tunnel(binding) => {
                let device = binding.device();
                // The port's device (a veth, a NIC's backlog) queues the receive work each send
                // raises; with bottom halves held off it runs once for the chunk when the hold
                // ends, not once a packet inside every send.
                let _held = crate::sys::netdev::BottomHalvesOff::new();
                for packet in packets {
                    device.transmit(packet);
                }
            }
            KernelDevice::Boundary(boundary) => {
                for packet in packets {
                    boundary.transmit(packet);
                }
            }
        }
    }
    fn rx_packets(&self) -> u64 {
        match self {
            KernelDevice::Tunnel(binding) => binding.device().rx_packets(),
            KernelDevice::Boundary(boundary) => boundary.rx_packets(),
        }
    }
    fn tx_packets(&self) -> u64 {
        match self {
            KernelDevice::Tunnel(binding) => binding.device().tx_packets(),
            KernelDevice::Boundary(boundary) => boundary.tx_packets(),
        }
    }
    fn rx_drops(&self) -> u64 {
        match self {
            KernelDevice::Tunnel(binding) => binding.device().rx_drops(),
            KernelDevice::Boundary(boundary) => boundary.rx_drops(),
        }
    }
    fn tx_drops(&self) -> u64 {
        match self {
            KernelDevice::Tunnel(binding) => binding.device().tx_drops(),
            KernelDevice::Boundary(boundary) => boundary.tx_drops(),
        }
    }
    fn rx_queue_len(&self) -> u64 {
        match self {
            KernelDevice::Tunnel(binding) => u64::from(binding.device().rx_queue_len()),
            KernelDevice::Boundary(boundary) => boundary.rx_queue_len(),
        }
    }
    fn for_each_counter(&self, f: &mut dyn FnMut(Direction, &'static str, u64) -> fmt::Result) -> fmt::Result {
        let device = match self {
            KernelDevice::Tunnel(binding) => binding.device(),
            KernelDevice::Boundary(boundary) => return boundary.for_each_counter(f),
        };
        for (name, value) in device.rx_counters() {
            f(Direction::Receive, name, value)?;
        }
        for (name, value) in device.tx_counters() {
            f(Direction::Transmit, name, value)?;
        }
        Ok(())
    }
    fn reset_counters(&self) {
        match self {
            KernelDevice::Tunnel(binding) => binding.device().reset_counters(),
            KernelDevice::Boundary(boundary) => boundary.reset_counters(),
        }
    }
}

impl element::Doorbell for Arc<thread::Doorbell> {
    fn ring(&self) {
        thread::Doorbell::ring(self)
    }
}

impl Platform for Kernel {
    type Packet = Packet;
    type Device = KernelDevice;
    type Doorbell = Arc<thread::Doorbell>;
    type Vec<T: Send + Sync + Unpin + 'static> = KVVec<T>;
    type Shared<T: Send + Sync + 'static> = Arc<T>;
    type Locked<T: Send + Unpin + 'static> = Arc<SpinLock<T>>;
    type Guard<'a, T: Send + Unpin + 'static>
        = Guard<'a, T, SpinLockBackend>
    where
        T: 'a;
    type Writer = Arc<Mutex<()>>;
    /// The kernel never runs a custom class: no value of this type exists.
    type Extension = element::NoExtension;

    fn vec_new<T: Send + Sync + Unpin + 'static>() -> KVVec<T> {
        KVVec::new()
    }
    fn vec_with_capacity<T: Send + Sync + Unpin + 'static>(capacity: usize) -> Result<KVVec<T>, NoMemory> {
        KVVec::with_capacity(capacity, tenant_gfp()).map_err(|_| NoMemory)
    }
    fn vec_with_capacity_atomic<T: Send + Sync + Unpin + 'static>(capacity: usize) -> Result<KVVec<T>, NoMemory> {
        KVVec::with_capacity(capacity, tenant_gfp_atomic()).map_err(|_| NoMemory)
    }
    fn vec_push<T: Send + Sync + Unpin + 'static>(vec: &mut KVVec<T>, value: T) -> Result<(), T> {
        if vec.reserve(1, tenant_gfp()).is_err() {
            return Err(value);
        }
        vec.push_within_capacity(value).map_err(|e| e.0)
    }
    fn vec_push_within_capacity<T: Send + Sync + Unpin + 'static>(vec: &mut KVVec<T>, value: T) -> Result<(), T> {
        vec.push_within_capacity(value).map_err(|e| e.0)
    }
    fn vec_pop<T: Send + Sync + Unpin + 'static>(vec: &mut KVVec<T>) -> Option<T> {
        vec.pop()
    }
    fn vec_capacity<T: Send + Sync + Unpin + 'static>(vec: &KVVec<T>) -> usize {
        vec.capacity()
    }

    fn shared<T: Send + Sync + 'static>(value: T) -> Result<Arc<T>, NoMemory> {
        Arc::new(value, tenant_gfp()).map_err(|_| NoMemory)
    }
    fn same_shared<T: Send + Sync + 'static>(a: &Arc<T>, b: &Arc<T>) -> bool {
        Arc::ptr_eq(a, b)
    }
    fn locked<T: Send + Unpin + 'static>(value: T) -> Result<Arc<SpinLock<T>>, NoMemory> {
        Arc::pin_init(new_spinlock!(value, "vdp_element"), tenant_gfp()).map_err(|_| NoMemory)
    }
    fn lock<T: Send + Unpin + 'static>(locked: &Arc<SpinLock<T>>) -> Guard<'_, T, SpinLockBackend> {
        locked.lock()
    }
    fn writer() -> Result<Arc<Mutex<()>>, NoMemory> {
        Arc::pin_init(new_mutex!((), "vdp_element_writer"), tenant_gfp()).map_err(|_| NoMemory)
    }
    fn write_serialised<R>(writer: &Arc<Mutex<()>>, f: impl FnOnce() -> R) -> R {
        let _held = writer.lock();
        f()
    }

    fn now_ns() -> u64 {
        crate::sys::time::now_ns()
    }
    fn rx_queue_capacity() -> u64 {
        u64::from(crate::limits::rx_queue())
    }
    fn wall_clock_ns() -> u64 {
        crate::sys::time::wall_clock_ns()
    }
    fn cycles() -> u64 {
        crate::sys::time::cycles()
    }
    fn log(line: fmt::Arguments<'_>) {
        pr_info!("{}\n", line);
    }
    fn random_seed() -> u64 {
        crate::sys::time::random_u64()
    }
    #[inline(always)]
    fn packet_drop_traced() -> bool {
        trace::packet_drop_enabled()
    }
    #[inline(always)]
    fn packet_dropped(tenant: u32, element: u32, name: &[u8], reason: GraphDrop) {
        trace::packet_drop(tenant, DropKind::Element, Some(element), name, reason.name());
    }
}

/// The building tenant's devices, for its graph's FromDevice and ToDevice, and its channel,
/// for the kernel ends of its boundaries.
pub(crate) struct TenantDevices<'a> {
    pub(crate) id: u32,
    pub(crate) channel: &'a Arc<TenantChannel>,
}

impl element::DeviceBinder<Kernel> for TenantDevices<'_> {
    fn bind(&self, name: &str) -> Option<KernelDevice> {
        device::bind(self.id, name.as_bytes()).map(KernelDevice::Tunnel)
    }

    fn tenant_id(&self) -> u32 {
        self.id
    }

    /// `ToContainer` and `FromContainer` only: the container-side ends are the engine's.
    fn bind_boundary(&self, end: BoundaryEnd, index: u16) -> Option<KernelDevice> {
        BoundaryBinding::new(self.channel, end, index).map(KernelDevice::Boundary)
    }
}
