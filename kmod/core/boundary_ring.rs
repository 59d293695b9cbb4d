//! The ends of a boundary's ring as a graph's boundary elements use them: a send that counts
//! what it drops, a receiving end that keeps the wake-up protocol (`channel.rs`, "Wake-ups")
//! and skips a bounded number of bad slots, and the conversion between a packet and a slot's
//! annotations. Both sides use them: the kernel's ToContainer and FromContainer
//! (`kmod/tenant/channel.rs`) and the container engine's FromKernel and ToKernel
//! (`userspace/vdp-engine/src/container/channel.rs`), so both count alike; nothing here names
//! a platform type.

use crate::boundary_stats::{EndCounters, ReceiveDrop, SendDrop};
use crate::channel::{Consumer, Producer, Region, RingError, SlotData, SlotMeta};
use crate::element::{LinkPacketType, PacketBuf};

/// Most slots with a bad length one [`ReceivingRing::receive`] releases unread before it gives
/// up for the call.
pub const BAD_SLOTS_PER_RECEIVE: u32 = 32;

/// The annotations of `packet` that cross the channel: its paint, its destination address, its
/// network header offset (dropped when over a slot header's 16 bits, which no packet that fits
/// a slot reaches), its link-level packet type, Fix IP Source flag and ICMP parameter-problem
/// offset.
pub fn slot_meta<P: PacketBuf>(packet: &P) -> SlotMeta {
    SlotMeta {
        paint: packet.paint(),
        dst_ip: packet.dst_ip_anno(),
        network_offset: packet.network_offset().and_then(|offset| u16::try_from(offset).ok()),
        link_type: packet.link_packet_type() as u8,
        fix_ip_src: packet.fix_ip_src(),
        icmp_param_offset: packet.icmp_param_offset(),
    }
}

/// A fresh packet holding a received slot's bytes and annotations (a network header offset
/// outside the packet is ignored, as `PacketBuf::set_network_offset` does); `None` when there
/// is no memory for it.
pub fn packet_from_slot<P: PacketBuf, R: Region + ?Sized>(meta: SlotMeta, data: SlotData<'_, R>) -> Option<P> {
    let mut packet = P::alloc(data.len())?;
    data.copy_to(packet.data_mut().ok()?);
    packet.set_paint(meta.paint);
    if let Some(address) = meta.dst_ip {
        packet.set_dst_ip_anno(address);
    }
    if let Some(offset) = meta.network_offset {
        packet.set_network_offset(usize::from(offset));
    }
    packet.set_link_packet_type(LinkPacketType::from_number(meta.link_type));
    packet.set_fix_ip_src(meta.fix_ip_src);
    packet.set_icmp_param_offset(meta.icmp_param_offset);
    Some(packet)
}

/// Sends one packet on `producer`'s ring, counting it or the reason it was dropped. Returns
/// whether the consumer must be woken when sent, the reason (counted) when dropped.
pub fn send<R: Region + ?Sized>(producer: &mut Producer, region: &R, counters: &EndCounters, meta: SlotMeta, data: &[u8]) -> Result<bool, SendDrop> {
    match producer.push(region, meta, data) {
        Ok(waiting) => {
            counters.count_packet(data.len());
            Ok(waiting)
        }
        Err(error) => {
            let reason = SendDrop::of(error);
            counters.count_send_drop(reason);
            Err(reason)
        }
    }
}

/// [`send`] of a packet's bytes with its annotations ([`slot_meta`]). The packet stays the
/// caller's to consume or drop.
pub fn send_packet<P: PacketBuf, R: Region + ?Sized>(producer: &mut Producer, region: &R, counters: &EndCounters, packet: &P) -> Result<bool, SendDrop> {
    send(producer, region, counters, slot_meta(packet), packet.data())
}

/// When a receiving end tells the producer that it sleeps (sets the ring's `waiting`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Announce {
    /// Whenever a receive finds the ring empty: the kernel's `FromContainer`, whose task may
    /// sleep as soon as its ring is empty.
    WhenEmpty,
    /// Only in [`ReceivingRing::prepare_wait`]: the engine, which announces on all its rings at
    /// once just before it polls, so that a busy engine never touches the flag.
    BeforeSleep,
}

/// The consuming end of one ring, whether it told the producer it sleeps, and whether the
/// producer was ever found publishing an impossible index.
pub struct ReceivingRing {
    consumer: Consumer,
    announce: Announce,
    waiting: bool,
    corrupt: bool,
}

impl ReceivingRing {
    pub fn new(consumer: Consumer, announce: Announce) -> ReceivingRing {
        ReceivingRing { consumer, announce, waiting: false, corrupt: false }
    }

    /// Tells the producer of a fresh ring that the consumer waits, so that its first packet
    /// wakes it.
    pub fn arm<R: Region + ?Sized>(&mut self, region: &R) {
        // A corrupt ring is left for the next receive to count.
        let _ = self.prepare_wait(region);
    }

    /// Announces that the consumer is about to sleep and looks again (`Consumer::prepare_wait`):
    /// `Ok(true)` when the ring is still empty and the producer will wake this end, `Ok(false)`
    /// when packets arrived meanwhile. A corrupt ring is noted ([`ReceivingRing::corrupt`]) but
    /// not counted here: the next receive counts it.
    pub fn prepare_wait<R: Region + ?Sized>(&mut self, region: &R) -> Result<bool, RingError> {
        let empty = self.consumer.prepare_wait(region).inspect_err(|_| self.corrupt = true)?;
        self.waiting = empty;
        Ok(empty)
    }

    /// Clears the waiting flag after a sleep.
    pub fn end_wait<R: Region + ?Sized>(&mut self, region: &R) {
        self.consumer.end_wait(region);
        self.waiting = false;
    }

    /// Whether the producer was told to wake this end.
    pub fn waiting(&self) -> bool {
        self.waiting
    }

    /// Whether the producer was ever found publishing an impossible index. The kernel keeps
    /// looking (and counting); the engine stops using the ring.
    pub fn corrupt(&self) -> bool {
        self.corrupt
    }

    /// Slots published and not yet taken (0 when the ring is corrupt).
    pub fn available<R: Region + ?Sized>(&self, region: &R) -> u32 {
        self.consumer.available(region).unwrap_or(0)
    }

    /// The next packet: `make` turns a slot into one (`None`: no memory, counted, and the slot
    /// is gone). Slots with a bad length are released and counted, at most
    /// [`BAD_SLOTS_PER_RECEIVE`] a call. With [`Announce::WhenEmpty`], an empty ring sets
    /// `waiting` and looks once more before it answers `None`. A taken packet clears `waiting`.
    /// An impossible index is counted once a call.
    pub fn receive<R: Region + ?Sized, T>(&mut self, region: &R, counters: &EndCounters, mut make: impl FnMut(SlotMeta, SlotData<'_, R>) -> Option<T>) -> Option<T> {
        let mut looked_again = false;
        for _ in 0..=BAD_SLOTS_PER_RECEIVE {
            let taken = self.consumer.receive(region, |meta, data| {
                let len = data.len();
                make(meta, data).map(|packet| (packet, len))
            });
            match taken {
                Ok(Some(Some((packet, len)))) => {
                    if self.waiting {
                        self.end_wait(region);
                    }
                    counters.count_packet(len);
                    return Some(packet);
                }
                Ok(Some(None)) => {
                    counters.count_receive_drop(ReceiveDrop::NoMemory);
                    return None;
                }
                Ok(None) => {
                    if self.waiting || looked_again || self.announce == Announce::BeforeSleep {
                        return None;
                    }
                    match self.prepare_wait(region) {
                        Ok(true) => return None,
                        Ok(false) => looked_again = true,
                        Err(error) => {
                            counters.count_receive_drop(ReceiveDrop::of(error));
                            return None;
                        }
                    }
                }
                Err(RingError::BadSlot) => counters.count_receive_drop(ReceiveDrop::BadSlot),
                Err(error) => {
                    self.corrupt = true;
                    counters.count_receive_drop(ReceiveDrop::of(error));
                    return None;
                }
            }
        }
        None
    }

    /// [`ReceivingRing::receive`] into a fresh packet of the platform ([`packet_from_slot`]).
    pub fn receive_packet<P: PacketBuf, R: Region + ?Sized>(&mut self, region: &R, counters: &EndCounters) -> Option<P> {
        self.receive(region, counters, packet_from_slot)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::channel::tests::Memory;
    use crate::channel::{Direction, Geometry, CONTROL_SIZE, HDR_CONTROL, HEADER_SIZE, SLOT_DATA, SLOT_SIZE};
    use std::vec::Vec;

    fn setup() -> (Geometry, Memory, Producer, ReceivingRing, EndCounters, EndCounters) {
        let g = Geometry::new(1, 16).unwrap();
        let memory = Memory::new(g);
        let producer = Producer::new(g, Direction::Up, 0).unwrap();
        let ring = ReceivingRing::new(Consumer::new(g, Direction::Up, 0).unwrap(), Announce::WhenEmpty);
        (g, memory, producer, ring, EndCounters::default(), EndCounters::default())
    }

    fn take(ring: &mut ReceivingRing, memory: &Memory, counters: &EndCounters) -> Option<Vec<u8>> {
        ring.receive(memory, counters, |_, data| {
            let mut out = std::vec![0u8; data.len()];
            data.copy_to(&mut out);
            Some(out)
        })
    }

    #[test]
    fn armed_ring_wakes_on_first_packet_then_stays_quiet_while_busy() {
        let (_, memory, mut producer, mut ring, sent, received) = setup();
        ring.arm(&memory);
        assert!(ring.waiting());
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), b"one"), Ok(true));
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), b"two"), Ok(true));
        assert_eq!(take(&mut ring, &memory, &received).as_deref(), Some(&b"one"[..]));
        assert!(!ring.waiting());
        // Busy: no wake-up asked for.
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), b"three"), Ok(false));
        assert_eq!(take(&mut ring, &memory, &received).as_deref(), Some(&b"two"[..]));
        assert_eq!(take(&mut ring, &memory, &received).as_deref(), Some(&b"three"[..]));
        // Empty: the end waits again, and the next packet asks for a wake-up.
        assert_eq!(take(&mut ring, &memory, &received), None);
        assert!(ring.waiting());
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), b"four"), Ok(true));
        assert_eq!((sent.packets(), received.packets(), received.receive_drops()), (4, 3, 0));
    }

    #[test]
    fn an_end_announcing_before_sleep_leaves_the_flag_alone_until_then() {
        let g = Geometry::new(1, 16).unwrap();
        let memory = Memory::new(g);
        let mut producer = Producer::new(g, Direction::Up, 0).unwrap();
        let mut ring = ReceivingRing::new(Consumer::new(g, Direction::Up, 0).unwrap(), Announce::BeforeSleep);
        let (sent, received) = (EndCounters::default(), EndCounters::default());
        // Found empty: no announcement, so the producer asks for no wake-up.
        assert_eq!(take(&mut ring, &memory, &received), None);
        assert!(!ring.waiting());
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), b"one"), Ok(false));
        // Packets waiting: no sleep.
        assert_eq!(ring.prepare_wait(&memory), Ok(false));
        assert_eq!(take(&mut ring, &memory, &received).as_deref(), Some(&b"one"[..]));
        // Empty before a sleep: the next packet wakes, and the end clears the flag after it.
        assert_eq!(ring.prepare_wait(&memory), Ok(true));
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), b"two"), Ok(true));
        ring.end_wait(&memory);
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), b"three"), Ok(false));
    }

    #[test]
    fn drops_are_counted_by_reason() {
        let (_, memory, mut producer, mut ring, sent, received) = setup();
        for _ in 0..16 {
            send(&mut producer, &memory, &sent, SlotMeta::default(), &[0; 60]).unwrap();
        }
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), &[0; 60]), Err(SendDrop::RingFull));
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), &[0; SLOT_DATA + 1]), Err(SendDrop::TooBig));
        assert_eq!(sent.send_drops(), 2);
        // No memory for one packet: counted, and the slot is gone.
        assert!(ring.receive(&memory, &received, |_, _| None::<()>).is_none());
        assert_eq!(ring.available(&memory), 15);
        assert_eq!(received.receive_drops(), 1);
    }

    #[test]
    fn bad_slots_are_skipped_up_to_the_bound_and_corruption_counted() {
        let (g, memory, mut producer, mut ring, sent, received) = setup();
        let head = HDR_CONTROL + CONTROL_SIZE;
        // Three slots whose length is over what a slot holds, then a good one.
        for _ in 0..3 {
            send(&mut producer, &memory, &sent, SlotMeta::default(), b"x").unwrap();
        }
        send(&mut producer, &memory, &sent, SlotMeta::default(), b"good").unwrap();
        for slot in 0..3 {
            memory.write(HEADER_SIZE + (g.rings() as usize * 16 + slot) * SLOT_SIZE, &u16::MAX.to_le_bytes());
        }
        assert_eq!(take(&mut ring, &memory, &received).as_deref(), Some(&b"good"[..]));
        assert_eq!(received.receive_drops(), 3);
        assert!(!ring.corrupt());
        // A head the producer cannot have published.
        memory.store(head, 1000);
        assert_eq!(take(&mut ring, &memory, &received), None);
        assert_eq!(received.receive_drops(), 4);
        assert!(ring.corrupt());
        assert_eq!(ring.available(&memory), 0);
    }

    #[test]
    fn a_ring_of_bad_slots_costs_a_bounded_call() {
        let g = Geometry::new(1, 64).unwrap();
        let memory = Memory::new(g);
        let mut ring = ReceivingRing::new(Consumer::new(g, Direction::Up, 0).unwrap(), Announce::WhenEmpty);
        let received = EndCounters::default();
        // The producer claims every slot full and every slot bad.
        memory.store(HDR_CONTROL + CONTROL_SIZE, 64);
        for slot in 0..64 {
            memory.write(HEADER_SIZE + (64 + slot) * SLOT_SIZE, &u16::MAX.to_le_bytes());
        }
        let bound = u64::from(BAD_SLOTS_PER_RECEIVE) + 1;
        assert_eq!(take(&mut ring, &memory, &received), None);
        assert_eq!(received.receive_drops(), bound);
        assert_eq!(u64::from(ring.available(&memory)), 64 - bound);
        assert_eq!(take(&mut ring, &memory, &received), None);
        assert_eq!(received.receive_drops(), 64);
    }
}
