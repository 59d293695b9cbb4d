//! Physical devices and receive queues, over `vdp_netdev.c`.
//!
//! A [`RawPort`] is one physical device vdp may attach to. While attached, the device's
//! rx_handler hands every IPv4 GRE packet to the Rust receive function together with the tunnel
//! table the port publishes ([`RawPort::publish`]). An [`RxQueue`] is the bounded queue between
//! that softirq path and a tenant thread.

use crate::packet::Packet;
use crate::sys::genl::ffi::sk_buff;
use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::prelude::*;

#[repr(C)]
struct CPort {
    _opaque: [u8; 0],
}

#[repr(C)]
struct CRxQueue {
    _opaque: [u8; 0],
}

extern "C" {
    fn vdp_port_new(name: *const u8, len: usize) -> *mut CPort;
    fn vdp_port_attach(port: *mut CPort) -> c_int;
    fn vdp_port_detach(port: *mut CPort);
    fn vdp_port_attached(port: *mut CPort) -> bool;
    fn vdp_port_free(port: *mut CPort);
    fn vdp_port_swap_table(port: *mut CPort, table: *mut c_void) -> *mut c_void;
    fn vdp_port_sync();
    fn vdp_port_xmit(port: *mut CPort, skb: *mut sk_buff) -> c_int;
    fn vdp_netdev_init() -> c_int;
    fn vdp_netdev_exit();
    fn vdp_rxq_new(capacity: u32) -> *mut CRxQueue;
    fn vdp_rxq_free(rxq: *mut CRxQueue);
    fn vdp_rxq_push(rxq: *mut CRxQueue, skb: *mut sk_buff) -> u32;
    fn vdp_rxq_pop(rxq: *mut CRxQueue) -> *mut sk_buff;
    fn vdp_rxq_len(rxq: *mut CRxQueue) -> u32;
    fn vdp_rxq_take(rxq: *mut CRxQueue, max: u32) -> *mut sk_buff;
    fn vdp_bh_disable();
    fn vdp_bh_enable();
    fn vdp_skb_chain_next(skb: *mut sk_buff) -> *mut sk_buff;
}

/// The unregister notifier: registered for the module's lifetime so that a device that goes
/// away is let go of, whichever port holds it.
pub(crate) struct Notifier(());

impl Notifier {
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: registered once, from module init; unregistered in `drop`.
        to_result(unsafe { vdp_netdev_init() })?;
        Ok(Notifier(()))
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        // SAFETY: registered in `register` (type invariant: a `Notifier` exists only then).
        unsafe { vdp_netdev_exit() };
    }
}

/// What a port's rx_handler looks packets up in. Implemented by the device layer; the C side
/// stores it as an opaque pointer.
pub(crate) trait PortTable: Send + Sync {
    /// Offered every IPv4 GRE packet the device receives, in softirq context. Returns true when
    /// it took the packet (delivered, or dropped and counted), false to leave it to the host.
    fn receive(&self, packet: Borrowed<'_>) -> bool;
}

/// A received packet still owned by the stack; [`Borrowed::take`] claims it.
pub(crate) struct Borrowed<'a> {
    skb: NonNull<sk_buff>,
    _stack: core::marker::PhantomData<&'a mut sk_buff>,
}

extern "C" {
    fn vdp_skb_data(skb: *mut sk_buff, len: *mut c_uint) -> *mut u8;
}

impl Borrowed<'_> {
    /// The packet from its IPv4 header on (the C side made it linear).
    pub(crate) fn data(&self) -> &[u8] {
        let mut len: c_uint = 0;
        // SAFETY: the skb is valid, unshared and linear for the rx_handler call this borrow lives
        // in; `len` bytes at the returned pointer are its data.
        unsafe {
            let data = vdp_skb_data(self.skb.as_ptr(), &mut len);
            core::slice::from_raw_parts(data, len as usize)
        }
    }

    /// Claims the packet, clearing the stack's state from it. `None` if it could not be
    /// prepared; it was then freed as a drop. Either way the stack no longer has it, so the
    /// receive callback must report it as taken.
    pub(crate) fn take(self) -> Option<Packet> {
        // SAFETY: the C side made the skb linear and unshared, and reporting it taken hands the
        // reference to us.
        let mut packet = unsafe { Packet::from_owned_linear(self.skb) };
        packet.clear_stack_state().ok()?;
        Some(packet)
    }
}

/// Receive entry point, called by the C rx_handler for IPv4 GRE packets.
///
/// # Safety
///
/// `table` is a pointer published with [`RawPort::publish`] for a `T` (the rx_handler runs in an
/// RCU read section, so it is not freed before this returns); `skb` is valid, unshared, linear.
unsafe fn receive<T: PortTable>(table: *const c_void, skb: *mut sk_buff) -> c_int {
    let Some(skb) = NonNull::new(skb) else { return 0 };
    // SAFETY: see the function's contract.
    let table = unsafe { &*table.cast::<T>() };
    c_int::from(table.receive(Borrowed { skb, _stack: core::marker::PhantomData }))
}

/// The one table type the module uses; `vdp_netdev.c` calls this symbol.
#[no_mangle]
pub(crate) unsafe extern "C" fn vdp_rs_port_receive(table: *const c_void, skb: *mut sk_buff) -> c_int {
    // SAFETY: only `RawPort<crate::device::Table>` publishes tables (see `RawPort::publish`), and
    // C passes them back with a valid skb under RCU.
    unsafe { receive::<crate::device::Table>(table, skb) }
}

/// One physical device vdp may attach to, with the tunnel table its receive path uses.
///
/// Invariant: `raw` is a live `struct vdp_port`, freed only in `drop`; `table` is null or a
/// `KBox<T>` leaked into the C side by `publish`, reclaimed only after a grace period.
pub(crate) struct RawPort<T: PortTable> {
    raw: NonNull<CPort>,
    _table: core::marker::PhantomData<KBox<T>>,
}

// SAFETY: the C port is used under RTNL and RCU; the table type is Send + Sync.
unsafe impl<T: PortTable> Send for RawPort<T> {}
// SAFETY: as above.
unsafe impl<T: PortTable> Sync for RawPort<T> {}

impl<T: PortTable> RawPort<T> {
    /// A port for the device `name` (not attached yet).
    pub(crate) fn new(name: &[u8]) -> Result<Self> {
        // SAFETY: `name` is `name.len()` readable bytes; C copies them and checks the length.
        let raw = unsafe { vdp_port_new(name.as_ptr(), name.len()) };
        Ok(RawPort { raw: NonNull::new(raw).ok_or(EINVAL)?, _table: core::marker::PhantomData })
    }

    /// Hooks the port onto its device. See `vdp_port_attach` for the errors.
    pub(crate) fn attach(&self) -> Result {
        // SAFETY: `raw` is live (type invariant).
        to_result(unsafe { vdp_port_attach(self.raw.as_ptr()) })
    }

    pub(crate) fn detach(&self) {
        // SAFETY: `raw` is live; detaching an unattached port does nothing.
        unsafe { vdp_port_detach(self.raw.as_ptr()) }
    }

    pub(crate) fn attached(&self) -> bool {
        // SAFETY: `raw` is live.
        unsafe { vdp_port_attached(self.raw.as_ptr()) }
    }

    /// Makes `table` the one received packets are looked up in (`None`: pass everything to the
    /// host). Returns once no receiver can still see the previous table, which is then freed.
    pub(crate) fn publish(&self, table: Option<KBox<T>>) {
        let new = table.map_or(core::ptr::null_mut(), |t| KBox::into_raw(t).cast::<c_void>());
        // SAFETY: `raw` is live; `new` is null or a leaked `KBox<T>` the C side now holds.
        let old = unsafe { vdp_port_swap_table(self.raw.as_ptr(), new) };
        if old.is_null() {
            return;
        }
        // SAFETY: after a grace period no rx_handler holds `old`, which was published by this
        // function from a `KBox<T>`; it is reclaimed exactly once, here.
        unsafe {
            vdp_port_sync();
            drop(KBox::from_raw(old.cast::<T>()));
        }
    }

    /// Sends a complete Ethernet frame (the source address is filled in with the device's).
    pub(crate) fn transmit(&self, packet: Packet) -> Result {
        let skb = packet.into_raw();
        // SAFETY: `raw` is live; ownership of `skb` passes to C, which frees it on every path.
        to_result(unsafe { vdp_port_xmit(self.raw.as_ptr(), skb.as_ptr()) })
    }
}

impl<T: PortTable> Drop for RawPort<T> {
    fn drop(&mut self) {
        self.detach();
        self.publish(None);
        // SAFETY: detached and without a table; nothing else refers to `raw`.
        unsafe { vdp_port_free(self.raw.as_ptr()) };
    }
}

/// Bottom halves (softirqs) held off on this CPU while it lives: softirqs raised meanwhile (the
/// receive a send to a veth or a local device queues) run when it is dropped, together. Only on
/// a tenant thread, around code that does not sleep: it sends packets and nothing else.
pub(crate) struct BottomHalvesOff(());

impl BottomHalvesOff {
    pub(crate) fn new() -> Self {
        // SAFETY: paired with the enable in `drop` on the same thread (the value cannot leave
        // it: the caller keeps it on its stack); nests with any other disable.
        unsafe { vdp_bh_disable() };
        BottomHalvesOff(())
    }
}

impl Drop for BottomHalvesOff {
    fn drop(&mut self) {
        // SAFETY: the disable in `new` is still held by this value.
        unsafe { vdp_bh_enable() };
    }
}

/// A bounded queue of packets from the receive path (softirq) to a tenant thread.
///
/// Invariant: `raw` is a live `struct vdp_rxq`, freed (with its packets) only in `drop`.
pub(crate) struct RxQueue {
    raw: NonNull<CRxQueue>,
}

// SAFETY: every operation takes the queue's irq-safe lock in C.
unsafe impl Send for RxQueue {}
// SAFETY: as above.
unsafe impl Sync for RxQueue {}

impl RxQueue {
    pub(crate) fn new(capacity: u32) -> Result<Self> {
        // SAFETY: plain allocation; checked for NULL.
        let raw = unsafe { vdp_rxq_new(capacity) };
        Ok(RxQueue { raw: NonNull::new(raw).ok_or(ENOMEM)? })
    }

    /// Queues `packet`; returns the new length, or gives the packet back when the queue is full.
    pub(crate) fn push(&self, packet: Packet) -> core::result::Result<u32, Packet> {
        let skb = packet.into_raw();
        // SAFETY: `raw` is live; on success the queue owns `skb`.
        match unsafe { vdp_rxq_push(self.raw.as_ptr(), skb.as_ptr()) } {
            // SAFETY: not queued, so we still own the reference we just took out.
            0 => Err(unsafe { Packet::from_owned_linear(skb) }),
            len => Ok(len),
        }
    }

    pub(crate) fn pop(&self) -> Option<Packet> {
        // SAFETY: `raw` is live; a dequeued skb is ours.
        let skb = NonNull::new(unsafe { vdp_rxq_pop(self.raw.as_ptr()) })?;
        // SAFETY: every queued packet came from `push`, so it is a linear skb we now own.
        Some(unsafe { Packet::from_owned_linear(skb) })
    }

    /// Takes up to `max` packets off the queue at once (one hold of its lock), oldest first.
    pub(crate) fn take(&self, max: u32) -> RxBatch {
        // SAFETY: `raw` is live; the dequeued chain is ours.
        RxBatch { next: NonNull::new(unsafe { vdp_rxq_take(self.raw.as_ptr(), max) }) }
    }

    pub(crate) fn len(&self) -> u32 {
        // SAFETY: `raw` is live.
        unsafe { vdp_rxq_len(self.raw.as_ptr()) }
    }
}

/// Packets taken off an [`RxQueue`] together, handed out in order; those not taken are freed
/// when it is dropped.
///
/// Invariant: `next` is `None` or the head of a chain from `vdp_rxq_take`, linked through
/// `skb->next`, every skb of it owned by this batch and queued by [`RxQueue::push`].
pub(crate) struct RxBatch {
    next: Option<NonNull<sk_buff>>,
}

impl Iterator for RxBatch {
    type Item = Packet;

    fn next(&mut self) -> Option<Packet> {
        let skb = self.next?;
        // SAFETY: `skb` heads a chain this batch owns (type invariant); unlinking it leaves the
        // rest, still ours, as the new head.
        self.next = NonNull::new(unsafe { vdp_skb_chain_next(skb.as_ptr()) });
        // SAFETY: every queued packet came from `push`, so it is a linear skb, now unlinked and
        // ours alone.
        Some(unsafe { Packet::from_owned_linear(skb) })
    }
}

impl Drop for RxBatch {
    fn drop(&mut self) {
        // Bounded by the batch's length, which `take`'s `max` bounds.
        for packet in self.by_ref() {
            drop(packet);
        }
    }
}

impl Drop for RxQueue {
    fn drop(&mut self) {
        // SAFETY: `raw` is live and this is its last use.
        unsafe { vdp_rxq_free(self.raw.as_ptr()) };
    }
}
