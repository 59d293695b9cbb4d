//! The ends of a boundary's ring as a graph's boundary elements use them: a send that counts
//! what it drops, and a receiving end that keeps the wake-up protocol (`channel.rs`, "Wake-ups")
//! and skips a bounded number of bad slots. The kernel's ToContainer and FromContainer use them
//! (`kmod/tenant/channel.rs`); nothing here names a platform type.

use crate::boundary_stats::{EndCounters, ReceiveDrop, SendDrop};
use crate::channel::{Consumer, Producer, Region, RingError, SlotData, SlotMeta};

/// Most slots with a bad length one [`ReceivingRing::receive`] releases unread before it gives
/// up for the call.
pub const BAD_SLOTS_PER_RECEIVE: u32 = 32;

/// Sends one packet on `producer`'s ring, counting it or the reason it was dropped. Returns
/// `Some(waiting)` when sent (`waiting`: the consumer must be woken), `None` when dropped.
pub fn send<R: Region + ?Sized>(producer: &mut Producer, region: &R, counters: &EndCounters, meta: SlotMeta, data: &[u8]) -> Option<bool> {
    match producer.push(region, meta, data) {
        Ok(waiting) => {
            counters.count_packet(data.len());
            Some(waiting)
        }
        Err(error) => {
            counters.count_send_drop(SendDrop::of(error));
            None
        }
    }
}

/// The consuming end of one ring, and whether it told the producer it sleeps.
pub struct ReceivingRing {
    consumer: Consumer,
    waiting: bool,
}

impl ReceivingRing {
    pub fn new(consumer: Consumer) -> ReceivingRing {
        ReceivingRing { consumer, waiting: false }
    }

    /// Tells the producer of a fresh ring that the consumer waits, so that its first packet
    /// wakes it.
    pub fn arm<R: Region + ?Sized>(&mut self, region: &R) {
        self.waiting = self.consumer.prepare_wait(region).unwrap_or(false);
    }

    /// Whether the producer was told to wake this end.
    pub fn waiting(&self) -> bool {
        self.waiting
    }

    /// Slots published and not yet taken (0 when the ring is corrupt).
    pub fn available<R: Region + ?Sized>(&self, region: &R) -> u32 {
        self.consumer.available(region).unwrap_or(0)
    }

    /// The next packet: `make` turns a slot into one (`None`: no memory, counted, and the slot
    /// is gone). Slots with a bad length are released and counted, at most
    /// [`BAD_SLOTS_PER_RECEIVE`] a call. An empty ring sets `waiting` and looks once more
    /// before it answers `None`; a taken packet clears it.
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
                        self.consumer.end_wait(region);
                        self.waiting = false;
                    }
                    counters.count_packet(len);
                    return Some(packet);
                }
                Ok(Some(None)) => {
                    counters.count_receive_drop(ReceiveDrop::NoMemory);
                    return None;
                }
                Ok(None) => {
                    if self.waiting || looked_again {
                        return None;
                    }
                    match self.consumer.prepare_wait(region) {
                        Ok(true) => {
                            self.waiting = true;
                            return None;
                        }
                        Ok(false) => looked_again = true,
                        Err(error) => {
                            counters.count_receive_drop(ReceiveDrop::of(error));
                            return None;
                        }
                    }
                }
                Err(RingError::BadSlot) => counters.count_receive_drop(ReceiveDrop::BadSlot),
                Err(error) => {
                    counters.count_receive_drop(ReceiveDrop::of(error));
                    return None;
                }
            }
        }
        None
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
        let ring = ReceivingRing::new(Consumer::new(g, Direction::Up, 0).unwrap());
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
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), b"one"), Some(true));
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), b"two"), Some(true));
        assert_eq!(take(&mut ring, &memory, &received).as_deref(), Some(&b"one"[..]));
        assert!(!ring.waiting());
        // Busy: no wake-up asked for.
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), b"three"), Some(false));
        assert_eq!(take(&mut ring, &memory, &received).as_deref(), Some(&b"two"[..]));
        assert_eq!(take(&mut ring, &memory, &received).as_deref(), Some(&b"three"[..]));
        // Empty: the end waits again, and the next packet asks for a wake-up.
        assert_eq!(take(&mut ring, &memory, &received), None);
        assert!(ring.waiting());
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), b"four"), Some(true));
        assert_eq!((sent.packets(), received.packets(), received.receive_drops()), (4, 3, 0));
    }

    #[test]
    fn drops_are_counted_by_reason() {
        let (_, memory, mut producer, mut ring, sent, received) = setup();
        for _ in 0..16 {
            send(&mut producer, &memory, &sent, SlotMeta::default(), &[0; 60]).unwrap();
        }
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), &[0; 60]), None);
        assert_eq!(send(&mut producer, &memory, &sent, SlotMeta::default(), &[0; SLOT_DATA + 1]), None);
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
        // A head the producer cannot have published.
        memory.store(head, 1000);
        assert_eq!(take(&mut ring, &memory, &received), None);
        assert_eq!(received.receive_drops(), 4);
        assert_eq!(ring.available(&memory), 0);
    }

    #[test]
    fn a_ring_of_bad_slots_costs_a_bounded_call() {
        let g = Geometry::new(1, 64).unwrap();
        let memory = Memory::new(g);
        let mut ring = ReceivingRing::new(Consumer::new(g, Direction::Up, 0).unwrap());
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
