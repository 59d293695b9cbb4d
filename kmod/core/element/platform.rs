//! What an element needs from the place it runs: packets, memory, locks, time and devices.
//!
//! The element library (`kmod/core/elements/`) is written once against [`Platform`] and
//! compiled twice: into `vdp.ko` over `sk_buff`s, the kernel's allocators and spinlocks
//! (`kmod/platform.rs`), and into user space over plain buffers, `std` containers and a virtual
//! clock (`vdp-core`'s `user` module). Nothing here names a kernel type.
//!
//! Every allocation is fallible and says so ([`NoMemory`]); nothing here panics. Every handle is
//! `Unpin`, so that element state can sit behind the kernel's spinlocks, whose guards give
//! `&mut` only to `Unpin` data.
//!
//! # Locks
//!
//! [`Platform::Locked`] is a spinlock in the kernel: while it is held the holder must not
//! sleep, allocate with [`Platform::vec_with_capacity`] (which may sleep), push or pull a packet,
//! or take another element's lock. Element locks are therefore leaves, and all of them share one
//! lock class. [`Platform::Writer`] is a sleeping lock that serialises handler writers; it may
//! be held while allocating and while taking the element's `Locked` state, never the other way
//! round.

use core::fmt;
use core::ops::{Deref, DerefMut};

/// An allocation failed: the tenant's memory cgroup is at its limit, or the system is out of
/// memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoMemory;

/// A packet operation that cannot be done: a pull past the end, a push with no headroom left
/// and no memory to grow it, a trim beyond the length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketError;

/// One packet with Click's annotations. Each value is the only owner of its buffer: moving it
/// hands the packet on, [`PacketBuf::consume`] ends its life as delivered, dropping it counts as
/// a drop. Its bytes are always one slice.
pub trait PacketBuf: Sized + Send + Sync + Unpin + 'static {
    /// A zero-filled packet of `len` bytes with the platform's default headroom, or `None` when
    /// memory is short. Called on the packet path: never sleeps.
    fn alloc(len: usize) -> Option<Self>;
    fn data(&self) -> &[u8];
    /// The bytes for writing; unshares them first if a clone shares them.
    fn data_mut(&mut self) -> Result<&mut [u8], NoMemory>;
    fn len(&self) -> usize {
        self.data().len()
    }
    /// Removes `n` bytes from the front.
    fn pull(&mut self, n: usize) -> Result<(), PacketError>;
    /// Adds `n` bytes at the front (their contents are unspecified until written).
    fn push(&mut self, n: usize) -> Result<(), PacketError>;
    /// Shortens the packet to `len` bytes.
    fn trim(&mut self, len: usize) -> Result<(), PacketError>;
    /// A second packet with the same bytes and annotations; writers unshare through `data_mut`.
    /// Takes `&mut self` because cloning marks the original as shared: a shared reference
    /// gives read access only, which is what makes packets `Sync`.
    fn clone_packet(&mut self) -> Option<Self>;
    /// Click's paint annotation.
    fn paint(&self) -> u8;
    fn set_paint(&mut self, color: u8);
    /// Click's destination IP annotation, when an element set one.
    fn dst_ip_anno(&self) -> Option<[u8; 4]>;
    fn set_dst_ip_anno(&mut self, address: [u8; 4]);
    /// Offset of the IP header from the start of the data, if one is marked inside the packet.
    fn network_offset(&self) -> Option<usize>;
    /// Marks the IP header `offset` bytes into the data; an offset outside the packet is ignored.
    fn set_network_offset(&mut self, offset: usize);

    // ---- The link-level packet type, the Fix IP Source flag and the ICMP parameter-problem
    // offset (ICMPError, IPGWOptions, FixIPSrc, DropBroadcasts), and what makes a packet from
    // another one (IPFragmenter). A fresh packet has type `Host`, no flag and offset 0.

    /// How the packet arrived at the link level (Click's packet type annotation). The device's
    /// receive path sets it from the frame's destination Ethernet address
    /// ([`LinkPacketType::of_destination`]); the kernel keeps it in `skb->pkt_type`.
    fn link_packet_type(&self) -> LinkPacketType;
    fn set_link_packet_type(&mut self, kind: LinkPacketType);
    /// Click's Fix IP Source annotation: ICMPError sets it, FixIPSrc rewrites the source of a
    /// packet that has it and clears it.
    fn fix_ip_src(&self) -> bool;
    fn set_fix_ip_src(&mut self, fix: bool);
    /// Click's ICMP parameter-problem annotation: the offset of the bad byte from the start of
    /// the IP header, which IPGWOptions sets and ICMPError reports as the pointer.
    fn icmp_param_offset(&self) -> u8;
    fn set_icmp_param_offset(&mut self, offset: u8);
    /// Gives this packet every annotation `from` has (paint, destination, packet type, Fix IP
    /// Source, parameter-problem offset, timestamp), as Click's `copy_annotations` does; the bytes and the
    /// network-header mark stay this packet's own.
    fn copy_annotations(&mut self, from: &Self);
    /// As [`PacketBuf::alloc`], with `headroom` bytes free in front of the data.
    fn alloc_with_headroom(headroom: usize, len: usize) -> Option<Self>;
    // ---- End of the packet type, Fix IP Source and parameter-problem block.
    // Timestamps and alignment (SetTimestamp, DelayShaper, Align).
    /// Click's timestamp annotation, in nanoseconds on the platform's clock
    /// ([`Platform::now_ns`]); `None` when nothing set it. Devices set it when a packet is
    /// received; packets an element makes start without one.
    fn timestamp_anno(&self) -> Option<u64>;
    /// Sets the timestamp annotation; 0 reads back as unset, as in Click.
    fn set_timestamp_anno(&mut self, ns: u64);
    /// Copies the packet into a fresh buffer whose data starts `offset` bytes past a
    /// `modulus`-byte boundary (`modulus` 2, 4 or 8, `offset` below it), with the same bytes,
    /// headroom for later pushes and every annotation. On the packet path: never sleeps.
    /// `Err` when memory is short; the packet is unchanged then.
    fn realign(&mut self, modulus: usize, offset: usize) -> Result<(), NoMemory>;

    /// Ends the packet's life normally (it was delivered or deliberately discarded).
    fn consume(self);
}

/// How a frame arrived at the link level: Click's packet types, numbered as Linux numbers
/// `skb->pkt_type` (`PACKET_HOST` 0 … `PACKET_OTHERHOST` 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum LinkPacketType {
    /// Addressed to this device (and every packet the graph makes).
    Host = 0,
    /// To the Ethernet broadcast address.
    Broadcast = 1,
    /// To a group address other than broadcast.
    Multicast = 2,
    /// To another host's unicast address.
    OtherHost = 3,
}

impl LinkPacketType {
    /// The type of a frame whose destination Ethernet address is `destination`, received on a
    /// device whose own address is `own`, by the rule of Linux's `eth_type_trans`: the device's
    /// own address first, then the group bit (all ones is broadcast), else another host.
    pub fn of_destination(destination: &[u8; 6], own: &[u8; 6]) -> LinkPacketType {
        if destination == own {
            LinkPacketType::Host
        } else if destination[0] & 0x01 != 0 {
            if *destination == [0xff; 6] {
                LinkPacketType::Broadcast
            } else {
                LinkPacketType::Multicast
            }
        } else {
            LinkPacketType::OtherHost
        }
    }

    /// The type a stored number means; numbers no receive path stores (Linux's outgoing and
    /// loopback types) read as `Host`.
    pub fn from_number(number: u8) -> LinkPacketType {
        match number {
            1 => LinkPacketType::Broadcast,
            2 => LinkPacketType::Multicast,
            3 => LinkPacketType::OtherHost,
            _ => LinkPacketType::Host,
        }
    }
}

/// Gives `take` what `next` yields until it yields nothing or `max` were given; how many.
pub fn take_each<P>(max: u32, mut next: impl FnMut() -> Option<P>, mut take: impl FnMut(P)) -> u32 {
    let mut moved = 0;
    while moved < max {
        let Some(packet) = next() else { break };
        take(packet);
        moved += 1;
    }
    moved
}

/// One end of a tenant's virtual device, bound when a graph is built.
pub trait DeviceEnd<P>: Send + Sync + Unpin + 'static {
    /// The next packet received on the device, if one is waiting.
    fn receive(&self) -> Option<P>;
    /// Gives up to `max` received packets to `take`, oldest first; returns how many. A device
    /// whose queue can hand several over at once (the kernel's) overrides this, so that a burst
    /// costs one hand-over of the queue rather than one a packet.
    fn receive_batch<F: FnMut(P)>(&self, max: u32, mut take: F) -> u32
    where
        Self: Sized,
    {
        take_each(max, || self.receive(), &mut take)
    }
    /// Sends `packet` on the device (or drops it, counted, when the device cannot).
    fn transmit(&self, packet: P);
    /// Sends every packet of `packets` in order, as [`DeviceEnd::transmit`] does each. A device
    /// whose sends are cheaper together (the kernel's: the receive work each send triggers runs
    /// once for the lot) overrides this.
    fn transmit_batch(&self, packets: impl Iterator<Item = P>)
    where
        Self: Sized,
    {
        for packet in packets {
            self.transmit(packet);
        }
    }
    fn rx_packets(&self) -> u64;
    fn tx_packets(&self) -> u64;
    fn rx_drops(&self) -> u64;
    fn tx_drops(&self) -> u64;
    /// Packets received and not yet taken by [`DeviceEnd::receive`].
    fn rx_queue_len(&self) -> u64;
    /// Every counter of the device as `(name, value)`, receive side then transmit side.
    fn for_each_counter(&self, f: &mut dyn FnMut(Direction, &'static str, u64) -> fmt::Result) -> fmt::Result;
    fn reset_counters(&self);
}

/// Which side of a device a counter belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Receive,
    Transmit,
}

/// Which of a graph's drop counters a packet was counted in, for [`Platform::packet_dropped`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphDrop {
    /// An element lost it (`Cx::drop_packet`: a full queue, a failed check, an output with no
    /// connection), counted in the element's drops.
    Lost,
    /// An element discarded it on purpose (`Cx::discard`: Discard), counted in its drops.
    Discarded,
    /// A push dropped or a pull refused at the call-depth or hop bound, counted in the graph's
    /// depth drops (a dropped push is then also counted as `Lost` by the pushing element).
    Depth,
}

impl GraphDrop {
    /// The reason's name, as the kernel's `vdp_drop` tracepoint reports it.
    pub const fn name(self) -> &'static str {
        match self {
            GraphDrop::Lost => "lost",
            GraphDrop::Discarded => "discarded",
            GraphDrop::Depth => "depth",
        }
    }
}

/// Tells the tenant's threads that work is waiting.
pub trait Doorbell: Send + Sync + 'static {
    fn ring(&self);
}

/// The services of one place elements run in. All functions are associated functions so that
/// element state holds only the platform's handles, never a reference to an environment.
pub trait Platform: Sized + Send + Sync + 'static {
    type Packet: PacketBuf;
    type Device: DeviceEnd<Self::Packet>;
    type Doorbell: Doorbell;
    /// A growable array whose growth can fail.
    type Vec<T: Send + Sync + Unpin + 'static>: Deref<Target = [T]> + DerefMut + Send + Sync + Unpin;
    /// Reference-counted shared state (an `Arc`).
    type Shared<T: Send + Sync + 'static>: Deref<Target = T> + Clone + Send + Sync + Unpin;
    /// Reference-counted state behind a spinlock (see the module doc for what a holder may do).
    type Locked<T: Send + Unpin + 'static>: Clone + Send + Sync + Unpin;
    type Guard<'a, T: Send + Unpin + 'static>: DerefMut<Target = T>
    where
        T: 'a;
    /// A reference-counted sleeping lock that serialises handler writers.
    type Writer: Clone + Send + Sync + Unpin;
    /// Elements of classes the platform supplies (custom classes, [`super::extension`]); the
    /// kernel's is [`super::NoExtension`], which has no values.
    type Extension: super::ExtensionElement<Self> + Unpin;

    /// An empty array; allocates nothing, so cannot fail.
    fn vec_new<T: Send + Sync + Unpin + 'static>() -> Self::Vec<T>;
    /// An empty array with room for `capacity` elements, allocated for the tenant (may sleep;
    /// not on the packet path, not under a `Locked`).
    fn vec_with_capacity<T: Send + Sync + Unpin + 'static>(capacity: usize) -> Result<Self::Vec<T>, NoMemory>;
    /// As [`Platform::vec_with_capacity`], without sleeping: for the packet path and under locks.
    fn vec_with_capacity_atomic<T: Send + Sync + Unpin + 'static>(capacity: usize) -> Result<Self::Vec<T>, NoMemory>;
    /// Appends `value`, growing the array (may sleep) when it is full; hands `value` back when
    /// memory is short.
    fn vec_push<T: Send + Sync + Unpin + 'static>(vec: &mut Self::Vec<T>, value: T) -> Result<(), T>;
    /// Appends `value` only if there is room without allocating.
    fn vec_push_within_capacity<T: Send + Sync + Unpin + 'static>(vec: &mut Self::Vec<T>, value: T) -> Result<(), T>;
    fn vec_pop<T: Send + Sync + Unpin + 'static>(vec: &mut Self::Vec<T>) -> Option<T>;
    fn vec_capacity<T: Send + Sync + Unpin + 'static>(vec: &Self::Vec<T>) -> usize;

    fn shared<T: Send + Sync + 'static>(value: T) -> Result<Self::Shared<T>, NoMemory>;
    fn same_shared<T: Send + Sync + 'static>(a: &Self::Shared<T>, b: &Self::Shared<T>) -> bool;
    fn locked<T: Send + Unpin + 'static>(value: T) -> Result<Self::Locked<T>, NoMemory>;
    fn lock<T: Send + Unpin + 'static>(locked: &Self::Locked<T>) -> Self::Guard<'_, T>;
    fn writer() -> Result<Self::Writer, NoMemory>;
    /// Runs `f` holding `writer`.
    fn write_serialised<R>(writer: &Self::Writer, f: impl FnOnce() -> R) -> R;

    /// Nanoseconds on the platform's monotonic clock: the kernel's, or the user-level engine's
    /// virtual clock (the packets' timestamps), so that timed elements behave the same on any
    /// machine.
    fn now_ns() -> u64;
    /// Nanoseconds since the Unix epoch, for what must carry the time of day (IPGWOptions'
    /// timestamps): the kernel's real-time clock; at user level the virtual clock, which the
    /// captures' timestamps set (a container engine's, which follows real time: the system's).
    fn wall_clock_ns() -> u64;
    /// The CPU's cycle counter, for elements that spend a number of cycles; 0 where there is none.
    fn cycles() -> u64;
    /// Packets a virtual device's receive queue holds before it drops: the module's
    /// `rx_queue_len` parameter in the kernel, [`crate::tunnel::RX_QUEUE_CAPACITY`] at user level.
    fn rx_queue_capacity() -> u64;
    /// Logs one line (Print). The kernel rate-limits nothing here: Print limits itself.
    fn log(line: fmt::Arguments<'_>);
    /// A seed for an element's own pseudo-random generator (RED), taken when the element is
    /// built. The kernel's is random and allocates nothing; the user-level engine's follows
    /// its seed, so that a run can be repeated.
    fn random_seed() -> u64;

    /// Element `element` (its index in the running graph) is about to handle a task run, a push
    /// or a pull; returns what [`Platform::left_element`] gets back when that call returns. The
    /// container engine's watchdog uses it to name the element that overran its time limit or
    /// trapped; the default does nothing.
    #[inline(always)]
    fn entering_element(element: u32) -> u32 {
        element
    }
    /// The call [`Platform::entering_element`] announced returned; `outer` is what it returned.
    #[inline(always)]
    fn left_element(outer: u32) {
        let _ = outer;
    }
    /// Whether [`Platform::packet_dropped`] records anything now: the graph tests this before it
    /// looks up the dropping element's name. The kernel tests its `vdp_drop` tracepoint's key;
    /// the default records nothing.
    #[inline(always)]
    fn packet_drop_traced() -> bool {
        false
    }
    /// A packet of tenant `tenant`'s graph was just counted as dropped for `reason`, at element
    /// `element` (its index in the graph) named `name`. On the packet path: the kernel fires
    /// its `vdp_drop` tracepoint, a key test when the event is off; the default does nothing.
    #[inline(always)]
    fn packet_dropped(tenant: u32, element: u32, name: &[u8], reason: GraphDrop) {
        let _ = (tenant, element, name, reason);
    }
}
