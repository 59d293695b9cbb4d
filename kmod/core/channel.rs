//! The channel between a tenant's kernel graph and its container engine: single-producer,
//! single-consumer rings of fixed-size slots in one memory region that the kernel allocates and
//! the engine maps (`mmap` of the tenant's channel file; see `docs/multi-level.md`).
//!
//! # Layout
//!
//! ```text
//! 0                 HEADER_SIZE                                              region_size()
//! | header | control blocks |  down ring 0 slots | … | up ring 0 slots | … |
//! ```
//!
//! The header holds [`MAGIC`], [`VERSION`] and the [`Geometry`]. Each ring has one control
//! block of two cache lines: the producer's `head` on the first, the consumer's `tail` and its
//! `waiting` flag on the second, so the two sides never write the same line. Down rings carry
//! packets from the kernel to the container (boundary `k` is `ToContainer(k)` → `FromKernel(k)`),
//! up rings from the container to the kernel (`ToKernel(k)` → `FromContainer(k)`). A slot is
//! [`SLOT_SIZE`] bytes: a [`SLOT_HEADER`]-byte header (length, paint, annotation flags,
//! destination address annotation, network header offset, link-level packet type, ICMP
//! parameter-problem offset) and the packet's bytes.
//!
//! # Trust
//!
//! The region is shared with a process the kernel does not trust, which may write anything
//! anywhere in it at any time. Each side therefore keeps its own index privately and only
//! publishes it; it reads the other side's index, checks it (a producer claiming more than the
//! ring holds, or a consumer claiming to have taken more than was produced, is
//! [`RingError::Corrupt`]), and reaches slots only through its own index masked to the ring.
//! Offsets come from the [`Geometry`] alone, which the kernel validated, never from the region.
//! A slot's length is read once and bounded before any byte is copied, and the bytes are
//! copied out before anything is done with them, so a writer racing the copy can only spoil its
//! own packet.
//!
//! # Wake-ups
//!
//! A consumer that finds its ring empty sets `waiting`, issues a full fence and looks again
//! ([`Consumer::prepare_wait`]); a producer publishes `head`, issues a full fence and reads
//! `waiting` ([`Producer::push`] returns whether the consumer must be woken). One of the two
//! always sees the other, so no packet is left behind a sleeping consumer, and a busy consumer
//! costs no wake-ups.

use core::sync::atomic::{fence, AtomicU32, Ordering};

/// "VDPC".
pub const MAGIC: u32 = 0x5644_5043;
pub const VERSION: u32 = 1;
/// Bytes before the first slot: the header and every ring's control block.
pub const HEADER_SIZE: usize = 4096;
/// Bytes of one control block (two cache lines).
pub const CONTROL_SIZE: usize = 128;
pub const SLOT_SIZE: usize = 2048;
pub const SLOT_HEADER: usize = 16;
/// The largest packet a slot holds.
pub const SLOT_DATA: usize = SLOT_SIZE - SLOT_HEADER;
/// Rings per direction: one a boundary.
pub const MAX_RINGS: u32 = 8;
pub const MIN_SLOTS: u32 = 16;
pub const MAX_SLOTS: u32 = 1024;

/// Header offsets.
pub const HDR_MAGIC: usize = 0;
pub const HDR_VERSION: usize = 4;
pub const HDR_RINGS: usize = 8;
pub const HDR_SLOTS: usize = 12;
pub const HDR_SLOT_SIZE: usize = 16;
/// Control blocks start here.
pub const HDR_CONTROL: usize = 64;

/// Control block offsets.
const CTL_HEAD: usize = 0;
const CTL_TAIL: usize = 64;
const CTL_WAITING: usize = 68;

/// Slot header offsets.
const SLOT_LEN: usize = 0;
const SLOT_PAINT: usize = 2;
const SLOT_FLAGS: usize = 3;
const SLOT_DST_IP: usize = 4;
const SLOT_NETWORK: usize = 8;
const SLOT_LINK_TYPE: usize = 10;
const SLOT_ICMP_PARAM: usize = 11;

const FLAG_DST_IP: u8 = 1;
const FLAG_NETWORK: u8 = 2;
const FLAG_FIX_IP_SRC: u8 = 4;

// Every control block fits before the first slot.
const _: () = assert!(HDR_CONTROL + 2 * MAX_RINGS as usize * CONTROL_SIZE <= HEADER_SIZE);

/// Which way a ring carries packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Kernel to container.
    Down,
    /// Container to kernel.
    Up,
}

/// How many rings of how many slots a channel has; the same for both directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    rings: u32,
    slots: u32,
}

/// Why a geometry was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeometryError {
    Rings,
    Slots,
}

impl Geometry {
    /// `rings` from 1 to [`MAX_RINGS`], `slots` a power of two from [`MIN_SLOTS`] to [`MAX_SLOTS`].
    pub const fn new(rings: u32, slots: u32) -> Result<Geometry, GeometryError> {
        if rings == 0 || rings > MAX_RINGS {
            return Err(GeometryError::Rings);
        }
        if slots < MIN_SLOTS || slots > MAX_SLOTS || !slots.is_power_of_two() {
            return Err(GeometryError::Slots);
        }
        Ok(Geometry { rings, slots })
    }

    pub const fn rings(&self) -> u32 {
        self.rings
    }

    pub const fn slots(&self) -> u32 {
        self.slots
    }

    /// Bytes of the whole region (at most 4 KiB + 2 × 8 × 1024 × 2 KiB = 32 MiB + 4 KiB).
    pub const fn region_size(&self) -> usize {
        HEADER_SIZE + 2 * self.rings as usize * self.slots as usize * SLOT_SIZE
    }

    fn ring_number(&self, direction: Direction, ring: u32) -> usize {
        let base = match direction {
            Direction::Down => 0,
            Direction::Up => self.rings as usize,
        };
        base + ring as usize
    }

    fn control(&self, direction: Direction, ring: u32) -> usize {
        HDR_CONTROL + self.ring_number(direction, ring) * CONTROL_SIZE
    }

    fn slot(&self, direction: Direction, ring: u32, index: u32) -> usize {
        let slot = (index & (self.slots - 1)) as usize;
        HEADER_SIZE + (self.ring_number(direction, ring) * self.slots as usize + slot) * SLOT_SIZE
    }

    /// Writes the header of a fresh (zeroed) region.
    pub fn write_header<R: Region + ?Sized>(&self, region: &R) {
        region.store(HDR_MAGIC, MAGIC);
        region.store(HDR_VERSION, VERSION);
        region.store(HDR_RINGS, self.rings);
        region.store(HDR_SLOTS, self.slots);
        region.store(HDR_SLOT_SIZE, SLOT_SIZE as u32);
    }

    /// Reads and checks the header of a mapped region of `len` bytes (the engine's side).
    pub fn read_header<R: Region + ?Sized>(region: &R) -> Result<Geometry, HeaderError> {
        if region.len() < HEADER_SIZE {
            return Err(HeaderError::Short);
        }
        if region.load(HDR_MAGIC) != MAGIC {
            return Err(HeaderError::Magic);
        }
        let version = region.load(HDR_VERSION);
        if version != VERSION {
            return Err(HeaderError::Version(version));
        }
        if region.load(HDR_SLOT_SIZE) != SLOT_SIZE as u32 {
            return Err(HeaderError::SlotSize);
        }
        let geometry = Geometry::new(region.load(HDR_RINGS), region.load(HDR_SLOTS)).map_err(HeaderError::Geometry)?;
        if region.len() < geometry.region_size() {
            return Err(HeaderError::Short);
        }
        Ok(geometry)
    }
}

/// Why a mapped region is not a channel this code understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    Short,
    Magic,
    Version(u32),
    SlotSize,
    Geometry(GeometryError),
}

/// The shared memory, as each side reaches it. Offsets passed in are always in bounds and
/// 4-byte aligned for `load`/`store`: they come from a validated [`Geometry`]. Each side's
/// mapping implements [`RawRegion`] and gets this trait, bounds-checked, from the
/// implementation below.
pub trait Region {
    fn len(&self) -> usize;
    /// An acquire load of the 32-bit word at `offset`.
    fn load(&self, offset: usize) -> u32;
    /// A release store of the 32-bit word at `offset`.
    fn store(&self, offset: usize, value: u32);
    /// Copies `out.len()` bytes from `offset`.
    fn read(&self, offset: usize, out: &mut [u8]);
    /// Copies `data` to `offset`.
    fn write(&self, offset: usize, data: &[u8]);
}

/// One side's mapping of the region, as the words it holds. The other side may write any byte
/// of it at any time, so the memory is only ever seen as atomics: each side makes this slice
/// once over its own mapping (the kernel over its `vmalloc` memory, the engine over its
/// `mmap`), and everything here is safe code over it. Bytes sit in the words in memory order
/// (`to_ne_bytes`), as a byte copy would leave them.
pub trait RawRegion {
    fn words(&self) -> &[AtomicU32];
}

/// Whether `len` bytes from `offset` lie inside `size` bytes.
fn in_bounds(size: usize, offset: usize, len: usize) -> bool {
    offset.checked_add(len).is_some_and(|end| end <= size)
}

/// The word holding byte `at`, and where in it that byte is.
fn word_of(words: &[AtomicU32], at: usize) -> Option<(&AtomicU32, usize)> {
    Some((words.get(at / 4)?, at % 4))
}

/// Every mapping is a [`Region`] whose accesses are checked against it: a word load outside it
/// (or unaligned) reads 0, a store there is ignored, a copy out of it reads zeros and a copy
/// into it does nothing. The ring code never asks for such an access with a valid geometry, so
/// this only stands between a bug and memory outside the mapping.
impl<M: RawRegion + ?Sized> Region for M {
    fn len(&self) -> usize {
        self.words().len() * 4
    }

    fn load(&self, offset: usize) -> u32 {
        if !offset.is_multiple_of(4) {
            return 0;
        }
        self.words().get(offset / 4).map_or(0, |word| word.load(Ordering::Acquire))
    }

    fn store(&self, offset: usize, value: u32) {
        if offset.is_multiple_of(4) {
            if let Some(word) = self.words().get(offset / 4) {
                word.store(value, Ordering::Release);
            }
        }
    }

    fn read(&self, offset: usize, out: &mut [u8]) {
        let words = self.words();
        if !in_bounds(words.len() * 4, offset, out.len()) {
            out.fill(0);
            return;
        }
        // A word at a time: the first and last may be partly outside the span.
        let mut done = 0;
        while let Some(rest) = out.get_mut(done..).filter(|rest| !rest.is_empty()) {
            let Some((word, skip)) = word_of(words, offset + done) else { return };
            let bytes = word.load(Ordering::Relaxed).to_ne_bytes();
            let n = (4 - skip).min(rest.len());
            for (dst, src) in rest.iter_mut().zip(bytes.iter().skip(skip)).take(n) {
                *dst = *src;
            }
            done += n;
        }
    }

    fn write(&self, offset: usize, data: &[u8]) {
        let words = self.words();
        if !in_bounds(words.len() * 4, offset, data.len()) {
            return;
        }
        let mut done = 0;
        while let Some(rest) = data.get(done..).filter(|rest| !rest.is_empty()) {
            let Some((word, skip)) = word_of(words, offset + done) else { return };
            let n = (4 - skip).min(rest.len());
            // A partial word keeps its other bytes (the other side's writes to them may be
            // lost, which only spoils what it wrote itself).
            let mut bytes = if n == 4 { [0; 4] } else { word.load(Ordering::Relaxed).to_ne_bytes() };
            for (dst, src) in bytes.iter_mut().skip(skip).zip(rest.iter()).take(n) {
                *dst = *src;
            }
            word.store(u32::from_ne_bytes(bytes), Ordering::Relaxed);
            done += n;
        }
    }
}

/// The annotations a packet keeps across the channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlotMeta {
    pub paint: u8,
    pub dst_ip: Option<[u8; 4]>,
    /// Offset of the IP header from the start of the data.
    pub network_offset: Option<u16>,
    /// The link-level packet type, as `LinkPacketType` numbers it (any byte reads as a type).
    pub link_type: u8,
    pub fix_ip_src: bool,
    pub icmp_param_offset: u8,
}

/// Why a ring operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingError {
    /// The ring has no free slot.
    Full,
    /// The packet is longer than [`SLOT_DATA`].
    TooBig,
    /// The other side published an index that cannot be (it wrote the region at random, or
    /// is not speaking this protocol). The ring is unusable until the channel is bound again.
    Corrupt,
    /// A slot's header claims more bytes than a slot holds.
    BadSlot,
}

/// The producing end of one ring: writes slots and publishes `head`.
pub struct Producer {
    geometry: Geometry,
    direction: Direction,
    ring: u32,
    head: u32,
}

impl Producer {
    /// Ring `ring` of `direction`; `ring` must be below the geometry's ring count, else `None`.
    pub fn new(geometry: Geometry, direction: Direction, ring: u32) -> Option<Producer> {
        (ring < geometry.rings).then_some(Producer { geometry, direction, ring, head: 0 })
    }

    /// Slots the consumer has not yet taken back.
    pub fn in_flight<R: Region + ?Sized>(&self, region: &R) -> Result<u32, RingError> {
        let tail = region.load(self.geometry.control(self.direction, self.ring) + CTL_TAIL);
        let used = self.head.wrapping_sub(tail);
        if used > self.geometry.slots {
            return Err(RingError::Corrupt);
        }
        Ok(used)
    }

    /// Copies one packet into the next slot and publishes it. Returns whether the consumer is
    /// waiting for a wake-up.
    pub fn push<R: Region + ?Sized>(&mut self, region: &R, meta: SlotMeta, data: &[u8]) -> Result<bool, RingError> {
        if data.len() > SLOT_DATA {
            return Err(RingError::TooBig);
        }
        if self.in_flight(region)? == self.geometry.slots {
            return Err(RingError::Full);
        }
        let slot = self.geometry.slot(self.direction, self.ring, self.head);
        let mut header = [0u8; SLOT_HEADER];
        header[SLOT_LEN..SLOT_LEN + 2].copy_from_slice(&(data.len() as u16).to_le_bytes());
        header[SLOT_PAINT] = meta.paint;
        let mut flags = 0;
        if let Some(address) = meta.dst_ip {
            flags |= FLAG_DST_IP;
            header[SLOT_DST_IP..SLOT_DST_IP + 4].copy_from_slice(&address);
        }
        if let Some(offset) = meta.network_offset {
            flags |= FLAG_NETWORK;
            header[SLOT_NETWORK..SLOT_NETWORK + 2].copy_from_slice(&offset.to_le_bytes());
        }
        if meta.fix_ip_src {
            flags |= FLAG_FIX_IP_SRC;
        }
        header[SLOT_LINK_TYPE] = meta.link_type;
        header[SLOT_ICMP_PARAM] = meta.icmp_param_offset;
        header[SLOT_FLAGS] = flags;
        region.write(slot, &header);
        region.write(slot + SLOT_HEADER, data);
        self.head = self.head.wrapping_add(1);
        let control = self.geometry.control(self.direction, self.ring);
        region.store(control + CTL_HEAD, self.head);
        fence(Ordering::SeqCst);
        Ok(region.load(control + CTL_WAITING) != 0)
    }
}

/// The consuming end of one ring: reads slots and publishes `tail`.
pub struct Consumer {
    geometry: Geometry,
    direction: Direction,
    ring: u32,
    tail: u32,
}

/// One received slot's bytes, copied out by [`SlotData::copy_to`].
pub struct SlotData<'a, R: Region + ?Sized> {
    region: &'a R,
    offset: usize,
    len: usize,
}

impl<R: Region + ?Sized> SlotData<'_, R> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies the packet's bytes into `out`, which must be [`SlotData::len`] long (a shorter
    /// `out` takes only its length).
    pub fn copy_to(&self, out: &mut [u8]) {
        let n = out.len().min(self.len);
        self.region.read(self.offset, &mut out[..n]);
    }
}

impl Consumer {
    /// Ring `ring` of `direction`; `ring` must be below the geometry's ring count, else `None`.
    pub fn new(geometry: Geometry, direction: Direction, ring: u32) -> Option<Consumer> {
        (ring < geometry.rings).then_some(Consumer { geometry, direction, ring, tail: 0 })
    }

    /// Slots published and not yet taken.
    pub fn available<R: Region + ?Sized>(&self, region: &R) -> Result<u32, RingError> {
        let head = region.load(self.geometry.control(self.direction, self.ring) + CTL_HEAD);
        let ready = head.wrapping_sub(self.tail);
        if ready > self.geometry.slots {
            return Err(RingError::Corrupt);
        }
        Ok(ready)
    }

    /// Takes the next packet, if one is ready: `take` sees its annotations and bytes, and the
    /// slot is released when `take` returns. A slot whose length is out of bounds is released
    /// unread ([`RingError::BadSlot`]).
    pub fn receive<R: Region + ?Sized, T>(&mut self, region: &R, take: impl FnOnce(SlotMeta, SlotData<'_, R>) -> T) -> Result<Option<T>, RingError> {
        if self.available(region)? == 0 {
            return Ok(None);
        }
        let slot = self.geometry.slot(self.direction, self.ring, self.tail);
        let mut header = [0u8; SLOT_HEADER];
        region.read(slot, &mut header);
        let len = usize::from(u16::from_le_bytes([header[SLOT_LEN], header[SLOT_LEN + 1]]));
        let result = if len > SLOT_DATA {
            Err(RingError::BadSlot)
        } else {
            let flags = header[SLOT_FLAGS];
            let meta = SlotMeta {
                paint: header[SLOT_PAINT],
                dst_ip: (flags & FLAG_DST_IP != 0).then(|| [header[SLOT_DST_IP], header[SLOT_DST_IP + 1], header[SLOT_DST_IP + 2], header[SLOT_DST_IP + 3]]),
                network_offset: (flags & FLAG_NETWORK != 0).then(|| u16::from_le_bytes([header[SLOT_NETWORK], header[SLOT_NETWORK + 1]])),
                link_type: header[SLOT_LINK_TYPE],
                fix_ip_src: flags & FLAG_FIX_IP_SRC != 0,
                icmp_param_offset: header[SLOT_ICMP_PARAM],
            };
            Ok(Some(take(meta, SlotData { region, offset: slot + SLOT_HEADER, len })))
        };
        self.tail = self.tail.wrapping_add(1);
        region.store(self.geometry.control(self.direction, self.ring) + CTL_TAIL, self.tail);
        result
    }

    /// Announces that the consumer is about to sleep, then looks again: returns `true` if the
    /// ring is still empty (sleep; the producer will wake it), `false` if a packet arrived in
    /// between (the flag is cleared again; go on receiving).
    pub fn prepare_wait<R: Region + ?Sized>(&self, region: &R) -> Result<bool, RingError> {
        let control = self.geometry.control(self.direction, self.ring);
        region.store(control + CTL_WAITING, 1);
        fence(Ordering::SeqCst);
        let empty = self.available(region)? == 0;
        if !empty {
            region.store(control + CTL_WAITING, 0);
        }
        Ok(empty)
    }

    /// Clears the waiting flag after a wake-up.
    pub fn end_wait<R: Region + ?Sized>(&self, region: &R) {
        region.store(self.geometry.control(self.direction, self.ring) + CTL_WAITING, 0);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// A region in ordinary memory, words as atomics so both ends may share it across threads.
    pub(crate) struct Memory(Vec<AtomicU32>);

    impl Memory {
        pub(crate) fn new(geometry: Geometry) -> Memory {
            Memory((0..geometry.region_size() / 4).map(|_| AtomicU32::new(0)).collect())
        }
    }

    impl RawRegion for Memory {
        fn words(&self) -> &[AtomicU32] {
            &self.0
        }
    }

    #[test]
    fn accesses_outside_the_region_are_refused() {
        let memory = Memory::new(Geometry::new(1, 16).unwrap());
        let end = memory.len();
        memory.store(end - 4, 7);
        assert_eq!(memory.load(end - 4), 7);
        // Past the end, straddling it, unaligned: loads read 0, stores do nothing.
        memory.store(end, 1);
        assert_eq!(memory.load(end), 0);
        memory.store(end - 2, 1);
        assert_eq!(memory.load(end - 4), 7);
        memory.store(8, 5);
        assert_eq!(memory.load(6), 0);
        assert_eq!(memory.load(8), 5);
        // A copy that would run past the end (or overflow) reads zeros and writes nothing.
        memory.write(end - 2, &[1, 2, 3]);
        assert_eq!(memory.load(end - 4), 7);
        let mut out = [9u8; 3];
        memory.read(usize::MAX - 1, &mut out);
        assert_eq!(out, [0; 3]);
        out = [9; 3];
        memory.read(end - 2, &mut out);
        assert_eq!(out, [0; 3]);
        memory.write(10, &[1, 2, 3]);
        memory.read(10, &mut out);
        assert_eq!(out, [1, 2, 3]);
    }

    #[test]
    fn copies_at_any_offset_keep_the_bytes_around_them() {
        let memory = Memory::new(Geometry::new(1, 16).unwrap());
        let all: Vec<u8> = (0..64u8).map(|b| b ^ 0xa5).collect();
        memory.write(0, &all);
        for offset in 0..12 {
            for len in 0..14 {
                let data: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(7).wrapping_add(offset as u8)).collect();
                memory.write(offset, &data);
                let mut back = vec![0u8; 64];
                memory.read(0, &mut back);
                let mut want = all.clone();
                want[offset..offset + len].copy_from_slice(&data);
                assert_eq!(back, want, "write of {len} bytes at {offset}");
                let mut part = vec![0u8; len];
                memory.read(offset, &mut part);
                assert_eq!(part, data);
                memory.write(0, &all);
            }
        }
        // Bytes are in memory order within a word, as a byte copy leaves them.
        memory.store(16, u32::from_ne_bytes([1, 2, 3, 4]));
        let mut out = [0u8; 4];
        memory.read(16, &mut out);
        assert_eq!(out, [1, 2, 3, 4]);
    }

    fn geometry() -> Geometry {
        Geometry::new(2, 16).unwrap()
    }

    #[test]
    fn geometry_bounds() {
        assert_eq!(Geometry::new(0, 16), Err(GeometryError::Rings));
        assert_eq!(Geometry::new(9, 16), Err(GeometryError::Rings));
        assert_eq!(Geometry::new(1, 8), Err(GeometryError::Slots));
        assert_eq!(Geometry::new(1, 24), Err(GeometryError::Slots));
        assert_eq!(Geometry::new(1, 2048), Err(GeometryError::Slots));
        assert_eq!(Geometry::new(MAX_RINGS, MAX_SLOTS).unwrap().region_size(), HEADER_SIZE + (32 << 20));
        assert!(Producer::new(geometry(), Direction::Down, 2).is_none());
    }

    #[test]
    fn header_round_trip_and_checks() {
        let g = geometry();
        let memory = Memory::new(g);
        assert_eq!(Geometry::read_header(&memory), Err(HeaderError::Magic));
        g.write_header(&memory);
        assert_eq!(Geometry::read_header(&memory), Ok(g));
        memory.store(HDR_VERSION, 7);
        assert_eq!(Geometry::read_header(&memory), Err(HeaderError::Version(7)));
    }

    #[test]
    fn packets_and_annotations_cross_in_order() {
        let g = geometry();
        let memory = Memory::new(g);
        let mut producer = Producer::new(g, Direction::Up, 1).unwrap();
        let mut consumer = Consumer::new(g, Direction::Up, 1).unwrap();
        let meta = SlotMeta { paint: 3, dst_ip: Some([10, 0, 0, 1]), network_offset: Some(14), link_type: 1, fix_ip_src: true, icmp_param_offset: 22 };
        for round in 0..100u32 {
            let data = round.to_le_bytes();
            assert_eq!(producer.push(&memory, meta, &data), Ok(false));
            let got = consumer
                .receive(&memory, |m, d| {
                    let mut out = [0u8; 4];
                    d.copy_to(&mut out);
                    (m, out, d.len())
                })
                .unwrap()
                .unwrap();
            assert_eq!(got, (meta, data, 4));
        }
        assert_eq!(consumer.receive(&memory, |_, _| ()), Ok(None));
        // The other ring and the other direction saw nothing.
        let other = Consumer::new(g, Direction::Down, 1).unwrap();
        assert_eq!(other.available(&memory), Ok(0));
    }

    #[test]
    fn full_ring_refuses_and_oversize_is_refused() {
        let g = geometry();
        let memory = Memory::new(g);
        let mut producer = Producer::new(g, Direction::Down, 0).unwrap();
        for _ in 0..16 {
            producer.push(&memory, SlotMeta::default(), &[1; 60]).unwrap();
        }
        assert_eq!(producer.push(&memory, SlotMeta::default(), &[1; 60]), Err(RingError::Full));
        let mut consumer = Consumer::new(g, Direction::Down, 0).unwrap();
        assert_eq!(consumer.receive(&memory, |_, d| d.len()), Ok(Some(60)));
        assert!(producer.push(&memory, SlotMeta::default(), &[1; 60]).is_ok());
        assert_eq!(producer.push(&memory, SlotMeta::default(), &[0; SLOT_DATA + 1]), Err(RingError::TooBig));
    }

    #[test]
    fn hostile_indexes_and_lengths_are_caught() {
        let g = geometry();
        let memory = Memory::new(g);
        let mut producer = Producer::new(g, Direction::Down, 0).unwrap();
        // A consumer claiming to have taken packets never produced.
        memory.store(g.control(Direction::Down, 0) + CTL_TAIL, 5);
        assert_eq!(producer.push(&memory, SlotMeta::default(), &[0; 10]), Err(RingError::Corrupt));
        // A producer claiming more than the ring holds.
        let mut consumer = Consumer::new(g, Direction::Up, 0).unwrap();
        memory.store(g.control(Direction::Up, 0) + CTL_HEAD, 17);
        assert_eq!(consumer.receive(&memory, |_, _| ()), Err(RingError::Corrupt));
        // A slot claiming more bytes than it holds is released unread.
        memory.store(g.control(Direction::Up, 0) + CTL_HEAD, 1);
        memory.write(g.slot(Direction::Up, 0, 0), &u16::MAX.to_le_bytes());
        assert_eq!(consumer.receive(&memory, |_, _| ()), Err(RingError::BadSlot));
        assert_eq!(consumer.available(&memory), Ok(0));
    }

    #[test]
    fn wake_protocol() {
        let g = geometry();
        let memory = Memory::new(g);
        let mut producer = Producer::new(g, Direction::Down, 0).unwrap();
        let mut consumer = Consumer::new(g, Direction::Down, 0).unwrap();
        assert_eq!(consumer.prepare_wait(&memory), Ok(true));
        assert_eq!(producer.push(&memory, SlotMeta::default(), &[1]), Ok(true));
        consumer.end_wait(&memory);
        assert_eq!(producer.push(&memory, SlotMeta::default(), &[2]), Ok(false));
        // Packets already waiting: no sleep, flag left clear.
        assert_eq!(consumer.prepare_wait(&memory), Ok(false));
        assert_eq!(producer.push(&memory, SlotMeta::default(), &[3]), Ok(false));
        assert_eq!(consumer.receive(&memory, |_, d| d.len()), Ok(Some(1)));
    }

    #[test]
    fn threads_pass_every_packet_in_order() {
        let g = Geometry::new(1, 16).unwrap();
        let memory = std::sync::Arc::new(Memory::new(g));
        let writer = memory.clone();
        const N: u32 = 20_000;
        let thread = std::thread::spawn(move || {
            let mut producer = Producer::new(g, Direction::Up, 0).unwrap();
            let mut sent = 0;
            while sent < N {
                match producer.push(&*writer, SlotMeta::default(), &sent.to_le_bytes()) {
                    Ok(_) => sent += 1,
                    Err(RingError::Full) => std::thread::yield_now(),
                    Err(e) => panic!("{e:?}"),
                }
            }
        });
        let mut consumer = Consumer::new(g, Direction::Up, 0).unwrap();
        let mut next = 0u32;
        while next < N {
            match consumer.receive(&*memory, |_, d| {
                let mut out = [0u8; 4];
                d.copy_to(&mut out);
                u32::from_le_bytes(out)
            }) {
                Ok(Some(value)) => {
                    assert_eq!(value, next);
                    next += 1;
                }
                Ok(None) => std::thread::yield_now(),
                Err(e) => panic!("{e:?}"),
            }
        }
        thread.join().unwrap();
    }
}
