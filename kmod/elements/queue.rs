//! Queue (and SimpleQueue): stores pushed packets until they are pulled; drops when full.
//!
//! Pushers and pullers may run on different threads of a tenant, so the ring sits behind a
//! spinlock.
//!
//! Hotswap: a new Queue of the same name takes the old one's packets (Click's semantics) by
//! adopting the old ring itself, resized in place to the new capacity. Both graphs then share one
//! ring, so a packet the old graph pushes after the transfer (before the swap, or in a pass a
//! thread is finishing on the old graph) is queued for the new graph, not lost; and one the old
//! graph pulls in that window is processed by it, as if it had come a moment earlier.

use crate::sys::memcg::tenant_gfp;
use super::{boxed, int_arg, ConstructError};
use crate::engine::{handler::{parse_int_in, HandlerError, HandlerText}, same_class, Cx, Element};
use crate::packet::Packet;
use crate::portable::catalog::MAX_QUEUE_CAPACITY;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use core::fmt::Write;
use kernel::new_spinlock;
use kernel::prelude::*;
use kernel::sync::{Arc, SpinLock};

/// A bounded FIFO of packets.
struct Ring {
    slots: KVVec<Option<Packet>>,
    head: usize,
    len: usize,
    highwater: usize,
    drops: u64,
}

impl Ring {
    fn with_capacity(capacity: usize) -> Result<Ring, ConstructError> {
        let mut slots = KVVec::with_capacity(capacity, tenant_gfp())?;
        for _ in 0..capacity {
            slots.push(None, tenant_gfp())?;
        }
        Ok(Ring { slots, head: 0, len: 0, highwater: 0, drops: 0 })
    }

    /// A ring of capacity zero, which costs no allocation.
    fn empty() -> Ring {
        Ring { slots: KVVec::new(), head: 0, len: 0, highwater: 0, drops: 0 }
    }

    fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Moves `old`'s packets, oldest first, into `self` (empty); those that do not fit are
    /// dropped and counted, as when Click shrinks a queue. The counts carry over.
    fn refill_from(&mut self, old: &mut Ring) {
        while let Some(packet) = old.dequeue() {
            if let Err(packet) = self.enqueue(packet) {
                drop(packet);
            }
        }
        self.drops = self.drops.saturating_add(old.drops);
        self.highwater = old.highwater.min(self.capacity()).max(self.len);
    }

    /// Stores `packet`, or hands it back when the ring is full.
    fn enqueue(&mut self, packet: Packet) -> Result<(), Packet> {
        let capacity = self.capacity();
        if self.len >= capacity {
            self.drops += 1;
            return Err(packet);
        }
        let tail = (self.head + self.len) % capacity;
        match self.slots.get_mut(tail) {
            Some(slot) => *slot = Some(packet),
            None => return Err(packet),
        }
        self.len += 1;
        self.highwater = self.highwater.max(self.len);
        Ok(())
    }

    fn dequeue(&mut self) -> Option<Packet> {
        if self.len == 0 {
            return None;
        }
        let packet = self.slots.get_mut(self.head)?.take();
        self.head = (self.head + 1) % self.capacity();
        self.len -= 1;
        packet
    }
}

struct Queue {
    /// Shared with the Queue of the same name in the next graph after a hotswap.
    ring: Arc<SpinLock<Ring>>,
}

pub(super) fn construct(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let capacity = usize::try_from(int_arg(args, "CAPACITY")?).map_err(|_| ConstructError::BadArgument("CAPACITY"))?;
    let ring = Ring::with_capacity(capacity)?;
    let ring = Arc::pin_init(new_spinlock!(ring, "vdp_queue"), tenant_gfp())?;
    boxed(Queue { ring })
}

impl Element for Queue {
    fn push(&self, cx: &Cx<'_>, _port: u16, packet: Packet) {
        let (was_empty, refused) = {
            let mut ring = self.ring.lock();
            let was_empty = ring.len == 0;
            (was_empty, ring.enqueue(packet).err())
        };
        match refused {
            Some(packet) => drop(packet),
            None if was_empty => cx.wake_tasks(),
            None => {}
        }
    }

    fn pull(&self, _cx: &Cx<'_>, _port: u16) -> Option<Packet> {
        self.ring.lock().dequeue()
    }

    fn read_handler(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        let value = {
            let ring = self.ring.lock();
            match name {
                "length" => ring.len as u64,
                "highwater_length" => ring.highwater as u64,
                "capacity" => ring.capacity() as u64,
                "drops" => ring.drops,
                _ => return Err(HandlerError::NoSuchHandler),
            }
        };
        write!(out, "{}", value).map_err(|_| HandlerError::Refused("reply too long"))
    }

    fn write_handler(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        match name {
            "reset_counts" => {
                let mut ring = self.ring.lock();
                ring.drops = 0;
                ring.highwater = ring.len;
                Ok(())
            }
            "reset" => {
                let mut ring = self.ring.lock();
                // Freeing an sk_buff is allowed under a spinlock.
                while let Some(packet) = ring.dequeue() {
                    drop(packet);
                }
                ring.drops = 0;
                ring.highwater = 0;
                Ok(())
            }
            "capacity" => {
                let capacity = parse_int_in(value, 1, MAX_QUEUE_CAPACITY)? as usize;
                let mut fresh = Ring::with_capacity(capacity).map_err(|_| HandlerError::NoMemory)?;
                let mut ring = self.ring.lock();
                // Keep the oldest packets that fit; the rest are dropped, as in Click.
                fresh.refill_from(&mut ring);
                fresh.highwater = fresh.len;
                *ring = fresh;
                Ok(())
            }
            _ => Err(HandlerError::NoSuchHandler),
        }
    }

    fn take_state(&mut self, old: &dyn Element) {
        let Some(old) = same_class::<Queue>(old) else { return };
        // This queue's ring was allocated at construction with the new capacity and is still
        // private (the graph is not installed yet); take its storage out so that the two locks
        // are never held together.
        let mut fresh = core::mem::replace(&mut *self.ring.lock(), Ring::empty());
        {
            let mut shared = old.ring.lock();
            fresh.refill_from(&mut shared);
            core::mem::swap(&mut *shared, &mut fresh);
        }
        // `fresh` now holds the old, emptied slots; freeing them needs no lock.
        drop(fresh);
        self.ring = old.ring.clone();
    }
}
