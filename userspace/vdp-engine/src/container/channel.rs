//! The container side of a tenant's channel (`kmod/core/channel.rs`): the region mapped from
//! the channel file the coordinator passed in, the boundary elements' ends of its rings, the
//! kick that wakes the kernel side, and the wait for packets from it.
//!
//! A [`Channel`] is shared by every boundary element bound to it. Each ring has one producer
//! and one consumer; each may be bound by one element only (a second `FromKernel(0)` is
//! refused), so the rings stay single-producer, single-consumer. In a container engine
//! ([`Mode::Container`]) only `FromKernel` (consumer of down ring k) and `ToKernel` (producer
//! of up ring k) bind; a [`Mode::Loopback`] channel, in anonymous memory, binds all four
//! classes, so that `vdpctl run` and the tests can run both parts of a graph in one engine.

use super::mapping::Mapping;
use crate::packet::UserPacket;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use vdp_core::channel::{Consumer, Direction, Geometry, HeaderError, Producer, Region, RingError, SlotMeta, HDR_RINGS, HDR_SLOTS, HEADER_SIZE};
use vdp_core::element::{self, BoundaryEnd, PacketBuf};
use vdp_core::uapi::channel::KICK as VDP_CHANNEL_KICK;

/// How long a wait on a channel file that is not the kernel's device sleeps at most: a plain
/// file or memfd cannot signal new packets, so the engine looks again this often.
pub const FILE_POLL_INTERVAL: Duration = Duration::from_millis(1);

/// Which boundary classes a channel binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The container side of a kernel channel: `FromKernel` and `ToKernel`.
    Container,
    /// Both sides in this process: all four boundary classes.
    Loopback,
}

/// What the region's file is, which decides how kicks and waits work.
enum Signal {
    /// The kernel's channel device: kicks are ioctls, waits poll it.
    Device(OwnedFd),
    /// A plain file or memfd (a test's channel; the mapping outlives the descriptor): kicks do
    /// nothing, waits sleep.
    File,
    /// Anonymous memory: nothing to kick, nothing to wait on.
    None,
}

/// Why a channel file could not be used.
#[derive(Debug)]
pub enum ChannelError {
    Io(&'static str, io::Error),
    /// The file is shorter than what it must hold.
    Short { len: u64, need: u64 },
    Header(HeaderError),
    /// The header read after mapping the whole region is not the one read before.
    Changed,
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::Io(what, e) => write!(f, "{what}: {e}"),
            ChannelError::Short { len, need } => write!(f, "the channel file holds {len} bytes, fewer than the {need} its header needs"),
            ChannelError::Header(e) => write!(f, "{}", header_error_text(e)),
            ChannelError::Changed => write!(f, "the channel header changed while it was being mapped"),
        }
    }
}

impl std::error::Error for ChannelError {}

fn header_error_text(e: &HeaderError) -> String {
    match e {
        HeaderError::Short => "the channel region is shorter than its header says".to_string(),
        HeaderError::Magic => "the channel region has no channel header (bad magic)".to_string(),
        HeaderError::Version(v) => format!("the channel region is of version {v}; this engine speaks version {}", vdp_core::channel::VERSION),
        HeaderError::SlotSize => format!("the channel region's slots are not {} bytes", vdp_core::channel::SLOT_SIZE),
        HeaderError::Geometry(g) => format!("the channel header's ring geometry is invalid ({g:?})"),
    }
}

/// The receiving end's counters (`rx_*` in the `stats` handler).
#[derive(Default)]
struct RxCounters {
    packets: AtomicU64,
    bytes: AtomicU64,
    corrupt_ring: AtomicU64,
    bad_slot: AtomicU64,
    no_memory: AtomicU64,
}

/// The sending end's counters (`tx_*`).
#[derive(Default)]
struct TxCounters {
    packets: AtomicU64,
    bytes: AtomicU64,
    ring_full: AtomicU64,
    too_big: AtomicU64,
    corrupt_ring: AtomicU64,
}

struct Ring {
    direction: Direction,
    index: u32,
    consumer: Mutex<Consumer>,
    producer: Mutex<Producer>,
    consumer_bound: AtomicBool,
    producer_bound: AtomicBool,
    /// The other side published an impossible index: the ring is not used again.
    corrupt: AtomicBool,
    rx: RxCounters,
    tx: TxCounters,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A mapped channel and the state of its rings.
pub struct Channel {
    mapping: Mapping,
    geometry: Geometry,
    mode: Mode,
    signal: Signal,
    down: Vec<Ring>,
    up: Vec<Ring>,
    /// A push found the kernel's consumer waiting since the last kick.
    kick_pending: AtomicBool,
    /// Packets found on down rings no element consumes (the two parts disagree), dropped.
    unbound_drops: AtomicU64,
}

/// How a [`Channel::wait`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Woken {
    /// Packets are waiting, the timeout passed, or the wait was interrupted: look again.
    Look,
    /// One of the other descriptors the wait watched is readable (a signal, a handler client).
    Others,
    /// The channel was replaced by a newer one or the tenant was deleted (`EPOLLHUP`).
    HungUp,
}

impl Channel {
    /// Maps the channel region of `fd` (the kernel's channel device, or a file or memfd holding
    /// a region): the header page first, checked, then the whole region, checked again.
    pub fn open(fd: OwnedFd) -> Result<Arc<Channel>, ChannelError> {
        // SAFETY: an all-zero `stat` is a valid value for fstat to fill in.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `fd` is open for the call's duration and `stat` is a valid out-pointer.
        if unsafe { libc::fstat(fd.as_raw_fd(), &mut stat) } != 0 {
            return Err(ChannelError::Io("cannot stat the channel file", io::Error::last_os_error()));
        }
        let file_len = ((stat.st_mode & libc::S_IFMT) == libc::S_IFREG).then_some(stat.st_size as u64);
        // Touching a file's mapping past its end faults (SIGBUS): a plain file must hold what
        // is mapped of it.
        let fits = |need: usize| match file_len {
            Some(len) if len < need as u64 => Err(ChannelError::Short { len, need: need as u64 }),
            _ => Ok(()),
        };
        fits(HEADER_SIZE)?;
        let header = Mapping::file(fd.as_fd(), HEADER_SIZE).map_err(|e| ChannelError::Io("cannot map the channel header", e))?;
        // The header page alone is short of the region, so a header that is right in every
        // other way reads as Short; anything else is what is wrong with it.
        let geometry = match Geometry::read_header(&header) {
            Err(HeaderError::Short) => Geometry::new(header.load(HDR_RINGS), header.load(HDR_SLOTS)).map_err(|e| ChannelError::Header(HeaderError::Geometry(e)))?,
            Err(e) => return Err(ChannelError::Header(e)),
            Ok(geometry) => geometry,
        };
        drop(header);
        fits(geometry.region_size())?;
        let mapping = Mapping::file(fd.as_fd(), geometry.region_size()).map_err(|e| ChannelError::Io("cannot map the channel region", e))?;
        match Geometry::read_header(&mapping) {
            Ok(again) if again == geometry => {}
            Ok(_) => return Err(ChannelError::Changed),
            Err(e) => return Err(ChannelError::Header(e)),
        }
        let signal = if file_len.is_some() { Signal::File } else { Signal::Device(fd) };
        Ok(Channel::new(mapping, geometry, Mode::Container, signal))
    }

    /// A channel in anonymous memory whose both sides this process plays.
    pub fn loopback(geometry: Geometry) -> io::Result<Arc<Channel>> {
        let mapping = Mapping::anonymous(geometry.region_size())?;
        geometry.write_header(&mapping);
        Ok(Channel::new(mapping, geometry, Mode::Loopback, Signal::None))
    }

    fn new(mapping: Mapping, geometry: Geometry, mode: Mode, signal: Signal) -> Arc<Channel> {
        let rings = |direction| {
            (0..geometry.rings())
                .filter_map(|index| {
                    Some(Ring {
                        direction,
                        index,
                        consumer: Mutex::new(Consumer::new(geometry, direction, index)?),
                        producer: Mutex::new(Producer::new(geometry, direction, index)?),
                        consumer_bound: AtomicBool::new(false),
                        producer_bound: AtomicBool::new(false),
                        corrupt: AtomicBool::new(false),
                        rx: RxCounters::default(),
                        tx: TxCounters::default(),
                    })
                })
                .collect()
        };
        Arc::new(Channel {
            mapping,
            geometry,
            mode,
            signal,
            down: rings(Direction::Down),
            up: rings(Direction::Up),
            kick_pending: AtomicBool::new(false),
            unbound_drops: AtomicU64::new(0),
        })
    }

    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// The region, for code playing the other side (tests, the loopback).
    pub fn region(&self) -> &dyn Region {
        &self.mapping
    }

    fn ring(&self, direction: Direction, index: u32) -> Option<&Ring> {
        match direction {
            Direction::Down => self.down.get(index as usize),
            Direction::Up => self.up.get(index as usize),
        }
    }

    /// Binds one end of boundary `index` for an element; `None` when this channel does not
    /// bind that end, has no such ring, or the end is bound already.
    pub fn bind(self: &Arc<Channel>, end: BoundaryEnd, index: u16) -> Option<RingEnd> {
        let (direction, role) = match end {
            BoundaryEnd::FromKernel => (Direction::Down, Role::Receive),
            BoundaryEnd::ToKernel => (Direction::Up, Role::Transmit),
            BoundaryEnd::ToContainer if self.mode == Mode::Loopback => (Direction::Down, Role::Transmit),
            BoundaryEnd::FromContainer if self.mode == Mode::Loopback => (Direction::Up, Role::Receive),
            BoundaryEnd::ToContainer | BoundaryEnd::FromContainer => return None,
        };
        let ring = self.ring(direction, u32::from(index))?;
        let claimed = match role {
            Role::Receive => &ring.consumer_bound,
            Role::Transmit => &ring.producer_bound,
        };
        if claimed.swap(true, Relaxed) {
            return None;
        }
        Some(RingEnd { channel: self.clone(), direction, index: u32::from(index), role })
    }

    /// Rings the kernel's doorbell if a push since the last call found its consumer waiting.
    pub fn flush_kick(&self) -> io::Result<()> {
        if !self.kick_pending.swap(false, Relaxed) {
            return Ok(());
        }
        self.kick()
    }

    /// The `VDP_CHANNEL_KICK` ioctl on the kernel's device; nothing on any other channel.
    pub fn kick(&self) -> io::Result<()> {
        let Signal::Device(fd) = &self.signal else { return Ok(()) };
        // SAFETY: VDP_CHANNEL_KICK takes no argument; `fd` is open.
        if unsafe { libc::ioctl(fd.as_raw_fd(), VDP_CHANNEL_KICK as _) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Packets dropped from down rings that no element of this engine consumes.
    pub fn unbound_drops(&self) -> u64 {
        self.unbound_drops.load(Relaxed)
    }

    /// Takes and drops what waits on down rings no element consumes, so that the kernel's
    /// readiness does not stay up for packets nobody takes; returns how many.
    fn drain_unbound(&self) -> u64 {
        let mut dropped = 0;
        for ring in self.down.iter().filter(|ring| !ring.consumer_bound.load(Relaxed) && !ring.corrupt.load(Relaxed)) {
            let mut consumer = lock(&ring.consumer);
            for _ in 0..self.geometry.slots() {
                match consumer.receive(&self.mapping, |_, _| ()) {
                    Ok(Some(())) | Err(RingError::BadSlot) => dropped += 1,
                    Ok(None) => break,
                    Err(_) => {
                        ring.corrupt.store(true, Relaxed);
                        break;
                    }
                }
            }
        }
        self.unbound_drops.fetch_add(dropped, Relaxed);
        dropped
    }

    /// Waits for packets on the down rings this engine consumes, at most `timeout` (`None`:
    /// without end), or until one of `also` (the signals' self-pipe, the handler socket) is
    /// readable. Each bound ring
    /// first announces the wait (`prepare_wait`); a ring that got packets meanwhile ends it at
    /// once. The waiting flags are cleared again before this returns.
    pub fn wait(&self, timeout: Option<Duration>, also: &[BorrowedFd<'_>]) -> io::Result<Woken> {
        if self.drain_unbound() > 0 {
            return Ok(Woken::Look);
        }
        let bound: Vec<&Ring> = self.down.iter().filter(|ring| ring.consumer_bound.load(Relaxed) && !ring.corrupt.load(Relaxed)).collect();
        let mut ready = false;
        for ring in &bound {
            match lock(&ring.consumer).prepare_wait(&self.mapping) {
                Ok(true) => {}
                Ok(false) => ready = true,
                // Left for the element's next receive to count and report.
                Err(_) => ready = true,
            }
        }
        let woken = if ready { Ok(Woken::Look) } else { self.sleep(timeout, also) };
        for ring in &bound {
            lock(&ring.consumer).end_wait(&self.mapping);
        }
        woken
    }

    fn sleep(&self, timeout: Option<Duration>, also: &[BorrowedFd<'_>]) -> io::Result<Woken> {
        let (fd, timeout) = match &self.signal {
            Signal::Device(fd) => (Some(fd.as_raw_fd()), timeout),
            Signal::File | Signal::None => (None, Some(timeout.map_or(FILE_POLL_INTERVAL, |t| t.min(FILE_POLL_INTERVAL)))),
        };
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(1 + also.len());
        if let Some(fd) = fd {
            fds.push(libc::pollfd { fd, events: libc::POLLIN, revents: 0 });
        }
        for other in also {
            fds.push(libc::pollfd { fd: other.as_raw_fd(), events: libc::POLLIN, revents: 0 });
        }
        // Round up, so that a wait for a timer never returns just before it is due.
        let millis = timeout.map_or(-1, |t| i32::try_from(t.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX));
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures for the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted { Ok(Woken::Look) } else { Err(e) };
        }
        if fd.is_some() && fds[0].revents & (libc::POLLHUP | libc::POLLERR) != 0 {
            return Ok(Woken::HungUp);
        }
        let others = if fd.is_some() { &fds[1..] } else { &fds[..] };
        Ok(if others.iter().any(|p| p.revents != 0) { Woken::Others } else { Woken::Look })
    }

    /// Every bound end's counters, for the engine's summary: (class, index, name, value).
    pub fn for_each_counter(&self, mut f: impl FnMut(&'static str, u32, &'static str, u64)) {
        for ring in self.down.iter().chain(&self.up) {
            let (receiver, sender) = match ring.direction {
                Direction::Down => ("FromKernel", "ToContainer"),
                Direction::Up => ("FromContainer", "ToKernel"),
            };
            if ring.consumer_bound.load(Relaxed) {
                for (name, value) in rx_counters(&ring.rx) {
                    f(receiver, ring.index, name, value);
                }
            }
            if ring.producer_bound.load(Relaxed) {
                for (name, value) in tx_counters(&ring.tx) {
                    f(sender, ring.index, name, value);
                }
            }
        }
    }
}

fn rx_counters(c: &RxCounters) -> [(&'static str, u64); 5] {
    [
        ("packets", c.packets.load(Relaxed)),
        ("bytes", c.bytes.load(Relaxed)),
        ("corrupt_ring", c.corrupt_ring.load(Relaxed)),
        ("bad_slot", c.bad_slot.load(Relaxed)),
        ("no_memory", c.no_memory.load(Relaxed)),
    ]
}

fn tx_counters(c: &TxCounters) -> [(&'static str, u64); 5] {
    [
        ("packets", c.packets.load(Relaxed)),
        ("bytes", c.bytes.load(Relaxed)),
        ("ring_full", c.ring_full.load(Relaxed)),
        ("too_big", c.too_big.load(Relaxed)),
        ("corrupt_ring", c.corrupt_ring.load(Relaxed)),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Receive,
    Transmit,
}

/// A boundary element's end of one ring: the platform device of `FromKernel`, `ToKernel` (and,
/// on a loopback channel, `ToContainer`, `FromContainer`).
pub struct RingEnd {
    channel: Arc<Channel>,
    direction: Direction,
    index: u32,
    role: Role,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Relaxed);
}

impl RingEnd {
    fn ring(&self) -> Option<&Ring> {
        self.channel.ring(self.direction, self.index)
    }

    fn corrupted(&self, ring: &Ring) {
        if !ring.corrupt.swap(true, Relaxed) {
            super::say!(
                "vdp-engine: {} ring {} of the channel holds an impossible index; the ring is no longer used",
                if self.direction == Direction::Down { "down" } else { "up" },
                self.index
            );
        }
    }

    fn take(&self, ring: &Ring) -> Option<UserPacket> {
        let mut consumer = lock(&ring.consumer);
        // Bounded by the ring: each pass of the loop releases a slot or ends it.
        for _ in 0..self.channel.geometry.slots() {
            let taken = consumer.receive(&self.channel.mapping, |meta, data| {
                let mut packet = UserPacket::alloc(data.len())?;
                data.copy_to(packet.data_mut().ok()?);
                packet.set_paint(meta.paint);
                if let Some(address) = meta.dst_ip {
                    packet.set_dst_ip_anno(address);
                }
                if let Some(offset) = meta.network_offset {
                    packet.set_network_offset(usize::from(offset));
                }
                Some(packet)
            });
            match taken {
                Ok(Some(Some(packet))) => {
                    bump(&ring.rx.packets);
                    ring.rx.bytes.fetch_add(packet.len() as u64, Relaxed);
                    return Some(packet);
                }
                Ok(Some(None)) => bump(&ring.rx.no_memory),
                Ok(None) => return None,
                Err(RingError::BadSlot) => bump(&ring.rx.bad_slot),
                Err(RingError::Corrupt | RingError::Full | RingError::TooBig) => {
                    bump(&ring.rx.corrupt_ring);
                    self.corrupted(ring);
                    return None;
                }
            }
        }
        None
    }
}

impl element::DeviceEnd<UserPacket> for RingEnd {
    fn receive(&self) -> Option<UserPacket> {
        let ring = self.ring()?;
        if self.role != Role::Receive || ring.corrupt.load(Relaxed) {
            return None;
        }
        self.take(ring)
    }

    fn transmit(&self, packet: UserPacket) {
        let Some(ring) = self.ring() else { return };
        if self.role != Role::Transmit {
            return;
        }
        if ring.corrupt.load(Relaxed) {
            bump(&ring.tx.corrupt_ring);
            return;
        }
        let meta = SlotMeta {
            paint: packet.paint(),
            dst_ip: packet.dst_ip_anno(),
            network_offset: packet.network_offset().and_then(|offset| u16::try_from(offset).ok()),
        };
        let pushed = lock(&ring.producer).push(&self.channel.mapping, meta, packet.data());
        match pushed {
            Ok(waiting) => {
                bump(&ring.tx.packets);
                ring.tx.bytes.fetch_add(packet.len() as u64, Relaxed);
                if waiting {
                    self.channel.kick_pending.store(true, Relaxed);
                }
            }
            Err(RingError::Full) => bump(&ring.tx.ring_full),
            Err(RingError::TooBig) => bump(&ring.tx.too_big),
            Err(RingError::Corrupt | RingError::BadSlot) => {
                bump(&ring.tx.corrupt_ring);
                self.corrupted(ring);
            }
        }
    }

    fn rx_packets(&self) -> u64 {
        self.ring().map_or(0, |ring| ring.rx.packets.load(Relaxed))
    }
    fn tx_packets(&self) -> u64 {
        self.ring().map_or(0, |ring| ring.tx.packets.load(Relaxed))
    }
    fn rx_drops(&self) -> u64 {
        self.ring().map_or(0, |ring| rx_counters(&ring.rx).iter().skip(2).map(|(_, n)| n).sum())
    }
    fn tx_drops(&self) -> u64 {
        self.ring().map_or(0, |ring| tx_counters(&ring.tx).iter().skip(2).map(|(_, n)| n).sum())
    }
    fn rx_queue_len(&self) -> u64 {
        match (self.role, self.ring()) {
            (Role::Receive, Some(ring)) => u64::from(lock(&ring.consumer).available(&self.channel.mapping).unwrap_or(0)),
            _ => 0,
        }
    }
    fn for_each_counter(&self, f: &mut dyn FnMut(element::Direction, &'static str, u64) -> fmt::Result) -> fmt::Result {
        let Some(ring) = self.ring() else { return Ok(()) };
        match self.role {
            Role::Receive => rx_counters(&ring.rx).iter().try_for_each(|(name, value)| f(element::Direction::Receive, name, *value)),
            Role::Transmit => tx_counters(&ring.tx).iter().try_for_each(|(name, value)| f(element::Direction::Transmit, name, *value)),
        }
    }
    fn reset_counters(&self) {
        let Some(ring) = self.ring() else { return };
        let counters: [&AtomicU64; 5] = match self.role {
            Role::Receive => [&ring.rx.packets, &ring.rx.bytes, &ring.rx.corrupt_ring, &ring.rx.bad_slot, &ring.rx.no_memory],
            Role::Transmit => [&ring.tx.packets, &ring.tx.bytes, &ring.tx.ring_full, &ring.tx.too_big, &ring.tx.corrupt_ring],
        };
        for counter in counters {
            counter.store(0, Relaxed);
        }
    }
}

/// Slots of each ring of a [`LoopbackBinder`]'s channel.
pub const LOOPBACK_SLOTS: u32 = 256;

/// Binds boundary elements of a graph that runs both parts in this process to one loopback
/// channel, made when the first boundary binds (a graph without boundaries maps nothing).
#[derive(Default)]
pub struct LoopbackBinder(std::sync::OnceLock<Option<Arc<Channel>>>);

impl LoopbackBinder {
    pub fn bind(&self, end: BoundaryEnd, index: u16) -> Option<RingEnd> {
        let channel = self.0.get_or_init(|| {
            let geometry = Geometry::new(vdp_core::channel::MAX_RINGS, LOOPBACK_SLOTS).ok()?;
            Channel::loopback(geometry).ok()
        });
        channel.as_ref()?.bind(end, index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use element::DeviceEnd as _;

    fn loopback() -> Arc<Channel> {
        Channel::loopback(Geometry::new(2, 16).unwrap()).unwrap()
    }

    #[test]
    fn each_end_binds_once_and_a_container_channel_binds_only_its_side() {
        let channel = loopback();
        assert!(channel.bind(BoundaryEnd::FromKernel, 1).is_some());
        assert!(channel.bind(BoundaryEnd::FromKernel, 1).is_none(), "two consumers on one ring");
        assert!(channel.bind(BoundaryEnd::ToContainer, 1).is_some());
        assert!(channel.bind(BoundaryEnd::ToKernel, 2).is_none(), "no ring 2");
        let geometry = Geometry::new(1, 16).unwrap();
        let container = Channel::new(Mapping::anonymous(geometry.region_size()).unwrap(), geometry, Mode::Container, Signal::None);
        assert!(container.bind(BoundaryEnd::ToContainer, 0).is_none());
        assert!(container.bind(BoundaryEnd::FromContainer, 0).is_none());
        assert!(container.bind(BoundaryEnd::FromKernel, 0).is_some());
        assert!(container.bind(BoundaryEnd::ToKernel, 0).is_some());
    }

    #[test]
    fn a_full_ring_drops_counted_and_the_wait_sees_waiting_packets() {
        let channel = loopback();
        let sender = channel.bind(BoundaryEnd::ToContainer, 0).unwrap();
        let receiver = channel.bind(BoundaryEnd::FromKernel, 0).unwrap();
        for _ in 0..17 {
            sender.transmit(UserPacket::from_bytes(&[1; 60]).unwrap());
        }
        assert_eq!((sender.tx_packets(), sender.tx_drops()), (16, 1));
        assert_eq!(receiver.rx_queue_len(), 16);
        // Packets are waiting: the wait returns at once, with no timeout to run out.
        let started = std::time::Instant::now();
        assert_eq!(channel.wait(Some(Duration::from_secs(5)), &[]).unwrap(), Woken::Look);
        assert!(started.elapsed() < Duration::from_secs(1));
        let mut taken = 0;
        while receiver.receive().is_some() {
            taken += 1;
        }
        assert_eq!((taken, receiver.rx_packets()), (16, 16));
    }

    #[test]
    fn a_corrupt_index_is_counted_and_the_ring_left_alone() {
        let channel = loopback();
        let receiver = channel.bind(BoundaryEnd::FromKernel, 0).unwrap();
        // The down ring's head, claiming far more than the ring holds.
        channel.region().store(vdp_core::channel::HDR_CONTROL, 1000);
        assert!(receiver.receive().is_none());
        assert!(receiver.receive().is_none());
        let mut stats = Vec::new();
        receiver
            .for_each_counter(&mut |_, name, value| {
                stats.push((name, value));
                Ok(())
            })
            .unwrap();
        assert!(stats.contains(&("corrupt_ring", 1)), "{stats:?}");
    }

    #[test]
    fn packets_on_a_ring_nobody_consumes_are_dropped_counted() {
        let channel = loopback();
        let sender = channel.bind(BoundaryEnd::ToContainer, 1).unwrap();
        sender.transmit(UserPacket::from_bytes(&[1; 60]).unwrap());
        assert_eq!(channel.wait(Some(Duration::from_millis(1)), &[]).unwrap(), Woken::Look);
        assert_eq!(channel.unbound_drops(), 1);
    }
}
