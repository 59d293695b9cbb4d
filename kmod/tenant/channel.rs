//! A tenant's channel to its container engine: the channel currently bound to it (one file of
//! `/dev/vdp`, see `docs/channel.md`), the tenant's per-boundary counters, and the kernel ends
//! of its boundaries, `ToContainer(k)` (push into down ring `k`) and `FromContainer(k)` (take
//! from up ring `k`).
//!
//! Everything here is bounded whatever the engine does: a send copies one packet into a slot
//! or drops it (no channel, ring full, too big, corrupt ring: counted by reason); a receive
//! copies one slot out into a fresh `sk_buff`, skipping a bounded number of bad slots
//! (`kmod/core/boundary_ring.rs`, which also keeps the wake-up protocol); the ring code
//! (`kmod/core/channel.rs`) checks every index and length it reads.
//!
//! Locks (see the order in `mod.rs`): `TenantChannel::slot` and each channel's `down` and `up`
//! are spinlocks held for a clone, a swap, or one slot's copy, with nothing taken inside; the
//! poll wake-up and the doorbell ring come after they are let go. A channel's last reference
//! may go on a tenant thread, in a file's release or in a bind (all process context, no lock
//! held), which frees its ring memory.

use crate::packet::Packet;
use crate::portable::boundary_ring::{self, Announce, ReceivingRing};
use crate::portable::boundary_stats::{BoundaryCounters, EndCounters, SendDrop};
use crate::portable::channel::{Consumer, Direction as Ring, Geometry, Producer, MAX_RINGS};
use crate::portable::element::{BoundaryEnd, Direction};
use crate::portable::uapi::channel::Bind;
use crate::sys::channel::{ChannelFile, FileRef, SharedRegion};
use crate::sys::memcg::tenant_gfp;
use crate::sys::thread::Doorbell;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::new_spinlock;
use kernel::prelude::*;
use kernel::sync::{Arc, SpinLock};

const RINGS: usize = MAX_RINGS as usize;

/// The current channel, and whether the tenant is gone.
struct Slot {
    current: Option<Arc<Channel>>,
    /// Set once when the tenant is deleted: no channel may bind any more.
    closed: bool,
}

/// What a tenant keeps of its channel across binds and graph installs: the bound channel, the
/// counters of every boundary, and the doorbell that `KICK` rings.
pub(crate) struct TenantChannel {
    slot: Pin<KBox<SpinLock<Slot>>>,
    counters: BoundaryCounters,
    doorbell: Arc<Doorbell>,
}

/// One bound channel: the ring memory and the kernel ends of its rings.
///
/// # Invariants
///
/// `down[k]` and `up[k]` are `Some` exactly for the rings of the geometry `region` was
/// allocated and laid out for, and were made for that geometry.
pub(crate) struct Channel {
    tenant: Arc<TenantChannel>,
    file: FileRef,
    region: SharedRegion,
    /// Producers of the down rings; several tenant threads may push into one `ToContainer`.
    down: Pin<KBox<SpinLock<[Option<Producer>; RINGS]>>>,
    up: Pin<KBox<SpinLock<[Option<ReceivingRing>; RINGS]>>>,
    /// Set when a newer bind replaced this channel or the tenant was deleted.
    detached: AtomicBool,
}

impl TenantChannel {
    pub(crate) fn new(doorbell: Arc<Doorbell>) -> Result<Arc<TenantChannel>> {
        let channel = TenantChannel {
            slot: KBox::pin_init(new_spinlock!(Slot { current: None, closed: false }, "vdp_tenant_channel"), GFP_KERNEL)?,
            counters: BoundaryCounters::default(),
            doorbell,
        };
        Ok(Arc::new(channel, GFP_KERNEL)?)
    }

    fn current(&self) -> Option<Arc<Channel>> {
        self.slot.lock().current.clone()
    }

    /// Makes `channel` the current one, detaching the one it replaces. `ENOENT` once the
    /// tenant is deleted.
    fn attach(&self, channel: Arc<Channel>) -> Result {
        let old = {
            let mut slot = self.slot.lock();
            if slot.closed {
                return Err(ENOENT);
            }
            slot.current.replace(channel)
        };
        if let Some(old) = old {
            old.detach();
        }
        // The FromContainer tasks look at the new rings (and tell the engine they wait).
        self.doorbell.ring();
        Ok(())
    }

    /// The tenant is deleted: the channel detaches (its engine sees `EPOLLHUP`) and none may
    /// bind again. Its memory lives on while the file is open.
    pub(crate) fn close(&self) {
        let old = {
            let mut slot = self.slot.lock();
            slot.closed = true;
            slot.current.take()
        };
        if let Some(old) = old {
            old.detach();
        }
    }

    /// `ToContainer(index)` sends `packet`.
    fn send(&self, index: u16, packet: Packet) {
        let Some(counters) = self.counters.sending(index) else { return };
        let Some(channel) = self.current() else {
            counters.count_send_drop(SendDrop::NoChannel);
            return;
        };
        let sent = {
            let mut down = channel.down.lock();
            down.get_mut(usize::from(index))
                .and_then(Option::as_mut)
                .map(|producer| boundary_ring::send_packet(producer, &channel.region, counters, &packet))
        };
        match sent {
            Some(Ok(waiting)) => {
                packet.consume();
                if waiting {
                    channel.file.wake();
                }
            }
            // Dropped and counted (the packet is freed as a drop).
            Some(Err(_)) => {}
            // The bound channel has fewer rings than this boundary needs.
            None => counters.count_send_drop(SendDrop::NoChannel),
        }
    }

    /// `FromContainer(index)` takes the next packet the engine sent, if any.
    fn receive(&self, index: u16) -> Option<Packet> {
        let counters = self.counters.receiving(index)?;
        let channel = self.current()?;
        let mut up = channel.up.lock();
        let ring = up.get_mut(usize::from(index))?.as_mut()?;
        ring.receive_packet(&channel.region, counters)
    }

    /// Slots of up ring `index` published and not yet taken.
    fn waiting_slots(&self, index: u16) -> u64 {
        let Some(channel) = self.current() else { return 0 };
        let up = channel.up.lock();
        up.get(usize::from(index)).and_then(Option::as_ref).map_or(0, |ring| u64::from(ring.available(&channel.region)))
    }
}

impl Channel {
    /// Marks the channel replaced or its tenant gone, and tells the engine (`EPOLLHUP`).
    fn detach(&self) {
        self.detached.store(true, Ordering::Relaxed);
        self.file.hangup();
    }
}

impl ChannelFile for Channel {
    fn bind(file: FileRef, request: &Bind) -> Result<Arc<Channel>> {
        if request.flags != 0 {
            return Err(EINVAL);
        }
        let geometry = Geometry::new(request.rings, request.slots).map_err(|_| EINVAL)?;
        let tenant = super::find(request.tenant_id).map_err(|_| ENOENT)?;
        if tenant.is_closed() {
            return Err(ENOENT);
        }
        let owner = tenant.channel.clone();
        let channel = tenant.charged(|| -> Result<Arc<Channel>> {
            let region = SharedRegion::alloc(geometry.region_size())?;
            geometry.write_header(&region);
            let down = core::array::from_fn(|k| Producer::new(geometry, Ring::Down, k as u32));
            let up = core::array::from_fn(|k| Consumer::new(geometry, Ring::Up, k as u32).map(|c| ReceivingRing::new(c, Announce::WhenEmpty)));
            let down = KBox::pin_init(new_spinlock!(down, "vdp_channel_down"), tenant_gfp())?;
            let up = KBox::pin_init(new_spinlock!(up, "vdp_channel_up"), tenant_gfp())?;
            let channel = Channel { tenant: owner.clone(), file, region, down, up, detached: AtomicBool::new(false) };
            Ok(Arc::new(channel, tenant_gfp())?)
        })?;
        // Until the FromContainer tasks first look, the kernel counts as waiting on every up
        // ring, so the engine's first packet kicks.
        {
            let mut up = channel.up.lock();
            for ring in up.iter_mut().flatten() {
                ring.arm(&channel.region);
            }
        }
        owner.attach(channel.clone())?;
        Ok(channel)
    }

    fn region(&self) -> &SharedRegion {
        &self.region
    }

    fn readable(&self) -> bool {
        let down = self.down.lock();
        // A ring the engine corrupted counts as readable: the engine finds out when it reads.
        down.iter().flatten().any(|producer| producer.in_flight(&self.region) != Ok(0))
    }

    fn kick(&self) -> Result {
        if self.detached.load(Ordering::Relaxed) {
            return Err(EPIPE);
        }
        self.tenant.doorbell.ring();
        Ok(())
    }

    fn release(this: Arc<Channel>) {
        let current = {
            let mut slot = this.tenant.slot.lock();
            match &slot.current {
                Some(current) if Arc::ptr_eq(current, &this) => slot.current.take(),
                _ => None,
            }
        };
        drop(current);
        drop(this);
    }
}

/// A graph element's hold on one kernel end of one of its tenant's boundaries.
pub(crate) struct BoundaryBinding {
    tenant: Arc<TenantChannel>,
    sending: bool,
    index: u16,
}

impl BoundaryBinding {
    /// `ToContainer(index)` or `FromContainer(index)`; the container-side ends are not the
    /// kernel's, and `index` must name a boundary a channel can have.
    pub(crate) fn new(tenant: &Arc<TenantChannel>, end: BoundaryEnd, index: u16) -> Option<BoundaryBinding> {
        let sending = match end {
            BoundaryEnd::ToContainer => true,
            BoundaryEnd::FromContainer => false,
            BoundaryEnd::FromKernel | BoundaryEnd::ToKernel => return None,
        };
        (u32::from(index) < MAX_RINGS).then(|| BoundaryBinding { tenant: tenant.clone(), sending, index })
    }

    fn counters(&self) -> Option<&EndCounters> {
        if self.sending {
            self.tenant.counters.sending(self.index)
        } else {
            self.tenant.counters.receiving(self.index)
        }
    }

    pub(crate) fn receive(&self) -> Option<Packet> {
        if self.sending {
            return None;
        }
        self.tenant.receive(self.index)
    }

    pub(crate) fn transmit(&self, packet: Packet) {
        if self.sending {
            self.tenant.send(self.index, packet);
        }
        // A receiving end has no input; a packet reaching it is dropped.
    }

    pub(crate) fn rx_packets(&self) -> u64 {
        if self.sending { 0 } else { self.counters().map_or(0, EndCounters::packets) }
    }

    pub(crate) fn tx_packets(&self) -> u64 {
        if self.sending { self.counters().map_or(0, EndCounters::packets) } else { 0 }
    }

    pub(crate) fn rx_drops(&self) -> u64 {
        if self.sending { 0 } else { self.counters().map_or(0, EndCounters::receive_drops) }
    }

    pub(crate) fn tx_drops(&self) -> u64 {
        if self.sending { self.counters().map_or(0, EndCounters::send_drops) } else { 0 }
    }

    pub(crate) fn rx_queue_len(&self) -> u64 {
        if self.sending { 0 } else { self.tenant.waiting_slots(self.index) }
    }

    pub(crate) fn for_each_counter(&self, f: &mut dyn FnMut(Direction, &'static str, u64) -> fmt::Result) -> fmt::Result {
        let direction = if self.sending { Direction::Transmit } else { Direction::Receive };
        match self.counters() {
            Some(counters) => counters.for_each(self.sending, direction, f),
            None => Ok(()),
        }
    }

    pub(crate) fn reset_counters(&self) {
        if let Some(counters) = self.counters() {
            counters.reset();
        }
    }
}
