//! Queue (and SimpleQueue): stores pushed packets until they are pulled; drops when full.
//!
//! Pushers and pullers may run on different threads of a tenant, so the ring sits behind the
//! platform's lock.
//!
//! Hotswap: a new Queue of the same name takes the old one's packets (Click's semantics) by
//! adopting the old ring itself, refilled in place with the new capacity. Both graphs then share
//! one ring, so a packet the old graph pushes after the transfer (before the swap, or in a pass
//! a thread is finishing on the old graph) is queued for the new graph, not lost; and one the old
//! graph pulls in that window is processed by it, as if it had come a moment earlier.
//!
//! A Queue is a Storage element: its length is also kept outside the lock, with the ring (so a
//! hotswap carries it along), for the elements that watch it (RED).

use crate::catalog::{base, int, positional, ArgSpec, ElementClass, Resource, MAX_QUEUE_CAPACITY};
use crate::element::handler::{handlers, parse_int_in, reply, HandlerError};
use crate::element::{Build, ConstructError, Cx, Element, NoMemory, Platform, StorageLength, Vector};
use core::fmt;

const QUEUE_ARGS: &[ArgSpec] = &[positional("CAPACITY", int(1, MAX_QUEUE_CAPACITY), Some("1000"))];

/// Queue's catalog entry (its id and handler tables come from the registry).
pub const QUEUE: ElementClass = ElementClass {
    processing: "h/l",
    args: QUEUE_ARGS,
    cost_cycles: 150,
    resource: Resource::QueueCapacity("CAPACITY"),
    ..base("Queue", "Stores pushed packets until they are pulled; drops when full")
};

/// SimpleQueue's catalog entry: the same code as Queue (the kernel's queues are all
/// thread-safe); Click's SimpleQueue is the cheaper single-thread one, hence the lower cost.
pub const SIMPLE_QUEUE: ElementClass = ElementClass {
    processing: "h/l",
    args: QUEUE_ARGS,
    cost_cycles: 120,
    resource: Resource::QueueCapacity("CAPACITY"),
    ..base("SimpleQueue", "Queue without the thread-safety of Queue")
};

handlers! {
    pub enum Read {
        Length = "length": Integer,
        HighwaterLength = "highwater_length": Integer,
        Capacity = "capacity": Integer,
        Drops = "drops": Integer,
    }
}

handlers! {
    pub enum Write {
        Capacity = "capacity": Integer,
        Reset = "reset": Action,
        ResetCounts = "reset_counts": Action,
    }
}

/// A bounded FIFO of packets.
struct Ring<P: Platform> {
    slots: Vector<P, Option<P::Packet>>,
    head: usize,
    len: usize,
    highwater: usize,
    drops: u64,
    /// `len` for watchers; a ring made to replace another takes over the other's.
    length: Option<StorageLength<P>>,
}

impl<P: Platform> Ring<P> {
    /// A ring without a watched length yet.
    fn with_capacity(capacity: usize) -> Result<Self, NoMemory> {
        let mut slots = Vector::with_capacity(capacity)?;
        for _ in 0..capacity {
            slots.push_within_capacity(None).map_err(|_| NoMemory)?;
        }
        Ok(Ring { slots, head: 0, len: 0, highwater: 0, drops: 0, length: None })
    }

    /// A ring of capacity zero, which costs no allocation.
    fn empty() -> Self {
        Ring { slots: Vector::new(), head: 0, len: 0, highwater: 0, drops: 0, length: None }
    }

    fn set_len(&mut self, len: usize) {
        self.len = len;
        if let Some(length) = &self.length {
            length.set(len as u64);
        }
    }

    fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Moves `old`'s packets, oldest first, into `self` (empty); those that do not fit are
    /// dropped and counted, as when Click shrinks a queue. The counts carry over.
    fn refill_from(&mut self, old: &mut Self) {
        while let Some(packet) = old.dequeue() {
            if let Err(packet) = self.enqueue(packet) {
                drop(packet);
            }
        }
        self.drops = self.drops.saturating_add(old.drops);
        self.highwater = old.highwater.min(self.capacity()).max(self.len);
    }

    /// Stores `packet`, or hands it back when the ring is full.
    fn enqueue(&mut self, packet: P::Packet) -> Result<(), P::Packet> {
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
        self.set_len(self.len + 1);
        self.highwater = self.highwater.max(self.len);
        Ok(())
    }

    fn dequeue(&mut self) -> Option<P::Packet> {
        if self.len == 0 {
            return None;
        }
        let packet = self.slots.get_mut(self.head)?.take();
        self.head = (self.head + 1) % self.capacity();
        self.set_len(self.len - 1);
        packet
    }
}

pub struct Queue<P: Platform> {
    /// Shared with the Queue of the same name in the next graph after a hotswap.
    ring: P::Locked<Ring<P>>,
}

impl<P: Platform> Element<P> for Queue<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let mut ring = Ring::with_capacity(build.int_as("CAPACITY")?)?;
        ring.length = Some(StorageLength::new()?);
        Ok(Queue { ring: P::locked(ring)? })
    }

    fn push(&self, cx: &Cx<'_, P>, _port: u16, packet: P::Packet) {
        let (was_empty, refused) = {
            let mut ring = P::lock(&self.ring);
            let was_empty = ring.len == 0;
            (was_empty, ring.enqueue(packet).err())
        };
        match refused {
            Some(packet) => cx.drop_packet(packet),
            None if was_empty => cx.wake_tasks(),
            None => {}
        }
    }

    fn pull(&self, _cx: &Cx<'_, P>, _port: u16) -> Option<P::Packet> {
        P::lock(&self.ring).dequeue()
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        let value = {
            let ring = P::lock(&self.ring);
            match handler {
                Read::Length => ring.len as u64,
                Read::HighwaterLength => ring.highwater as u64,
                Read::Capacity => ring.capacity() as u64,
                Read::Drops => ring.drops,
            }
        };
        reply(write!(out, "{}", value))
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::ResetCounts => {
                let mut ring = P::lock(&self.ring);
                ring.drops = 0;
                ring.highwater = ring.len;
            }
            Write::Reset => {
                let mut ring = P::lock(&self.ring);
                // Freeing a packet is allowed under the lock.
                while let Some(packet) = ring.dequeue() {
                    drop(packet);
                }
                ring.drops = 0;
                ring.highwater = 0;
            }
            Write::Capacity => {
                let capacity = parse_int_in(value, 1, MAX_QUEUE_CAPACITY)? as usize;
                // Allocated before the lock is taken.
                let mut fresh = Ring::with_capacity(capacity)?;
                let mut ring = P::lock(&self.ring);
                // Watchers keep their view: the new ring takes the length over (no allocation),
                // before the old one's dequeues could write it.
                fresh.length = ring.length.take();
                // Keep the oldest packets that fit; the rest are dropped, as in Click.
                fresh.refill_from(&mut ring);
                fresh.highwater = fresh.len;
                // The old slots are freed after the lock is released.
                let old = core::mem::replace(&mut *ring, fresh);
                drop(ring);
                drop(old);
            }
        }
        Ok(())
    }

    fn occupancy(&self) -> Option<(u64, u64)> {
        let ring = P::lock(&self.ring);
        Some((ring.len as u64, ring.capacity() as u64))
    }

    fn storage_length(&self) -> Option<StorageLength<P>> {
        P::lock(&self.ring).length.clone()
    }

    fn take_state(&mut self, old: &Self) {
        // This queue's ring was allocated at construction with the new capacity and is still
        // private (the graph is not installed yet); take its storage out so that the two locks
        // are never held together.
        let mut fresh = core::mem::replace(&mut *P::lock(&self.ring), Ring::empty());
        {
            let mut shared = P::lock(&old.ring);
            fresh.refill_from(&mut shared);
            core::mem::swap(&mut *shared, &mut fresh);
        }
        // `fresh` now holds the old, emptied slots and the old length; the shared ring keeps
        // this queue's length, which this graph's watchers were given. Freeing needs no lock.
        drop(fresh);
        self.ring = old.ring.clone();
    }
}
