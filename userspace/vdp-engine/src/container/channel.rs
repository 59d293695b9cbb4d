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
//!
//! The ends send, receive, convert packets to slots and back, and count exactly as the kernel's
//! do, with the portable `vdp_core::boundary_ring` and `boundary_stats`; what is the engine's
//! own is binding, the kick batched to once a pass, the wait, and that a ring found corrupt is
//! not used again.

use super::mapping::Mapping;
use crate::packet::UserPacket;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest a wait looks at the rings before it sleeps, while traffic flows.
pub const SPIN: Duration = Duration::from_micros(50);
/// Traffic flows while the engine's sleeps end within this.
pub const BUSY_GAP: Duration = Duration::from_millis(1);
use vdp_core::boundary_ring::{self, Announce, ReceivingRing};
use vdp_core::boundary_stats::{EndCounters, ReceiveDrop, SendDrop};
use vdp_core::channel::{Consumer, Direction, Geometry, HeaderError, Producer, Region, HDR_RINGS, HDR_SLOTS, HEADER_SIZE};
use vdp_core::element::{self, BoundaryEnd};
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

/// One ring and both its ends, with their counters (the kernel's names: `boundary_stats.rs`).
struct Ring {
    direction: Direction,
    index: u32,
    consumer: Mutex<ReceivingRing>,
    producer: Mutex<Producer>,
    consumer_bound: AtomicBool,
    producer_bound: AtomicBool,
    /// The other side published an impossible index: the ring is not used again.
    corrupt: AtomicBool,
    /// The consuming end's counters (`rx_*` in the `stats` handler).
    rx: EndCounters,
    /// The producing end's counters (`tx_*`).
    tx: EndCounters,
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
    /// The last sleep ended within [`BUSY_GAP`]: traffic flows, so the next wait first looks at
    /// the rings for up to [`SPIN`] before it sleeps.
    busy: AtomicBool,
    /// What was taken from down rings no element consumes (the two parts disagree) and
    /// dropped.
    unbound: EndCounters,
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
                        consumer: Mutex::new(ReceivingRing::new(Consumer::new(geometry, direction, index)?, Announce::BeforeSleep)),
                        producer: Mutex::new(Producer::new(geometry, direction, index)?),
                        consumer_bound: AtomicBool::new(false),
                        producer_bound: AtomicBool::new(false),
                        corrupt: AtomicBool::new(false),
                        rx: EndCounters::default(),
                        tx: EndCounters::default(),
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
            busy: AtomicBool::new(false),
            unbound: EndCounters::default(),
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

    /// Packets (and slots with a bad length) dropped from down rings that no element of this
    /// engine consumes.
    pub fn unbound_drops(&self) -> u64 {
        self.unbound.packets() + self.unbound.receive_drops_of(ReceiveDrop::BadSlot)
    }

    /// Takes and drops what waits on down rings no element consumes, so that the kernel's
    /// readiness does not stay up for packets nobody takes; returns how many.
    fn drain_unbound(&self) -> u64 {
        let before = self.unbound_drops();
        for ring in self.down.iter().filter(|ring| !ring.consumer_bound.load(Relaxed) && !ring.corrupt.load(Relaxed)) {
            let mut consumer = lock(&ring.consumer);
            // Bounded by the ring: each pass takes a slot or ends the loop.
            for _ in 0..self.geometry.slots() {
                if consumer.receive(&self.mapping, &self.unbound, |_, _| Some(())).is_none() {
                    break;
                }
            }
            if consumer.corrupt() {
                ring.corrupt.store(true, Relaxed);
            }
        }
        self.unbound_drops().saturating_sub(before)
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
        // While traffic flows, a packet is usually due within microseconds: looking for it
        // costs less than the sleep and the kernel's wake-up it saves (bounded by SPIN).
        if self.busy.load(Relaxed) {
            let start = Instant::now();
            while start.elapsed() < SPIN {
                if bound.iter().any(|ring| lock(&ring.consumer).available(&self.mapping) > 0) {
                    return Ok(Woken::Look);
                }
                std::hint::spin_loop();
            }
        }
        let mut ready = false;
        for ring in &bound {
            match lock(&ring.consumer).prepare_wait(&self.mapping) {
                Ok(true) => {}
                Ok(false) => ready = true,
                // Left for the element's next receive to count and report.
                Err(_) => ready = true,
            }
        }
        let woken = if ready {
            Ok(Woken::Look)
        } else {
            let start = Instant::now();
            let woken = self.sleep(timeout, also);
            self.busy.store(start.elapsed() < BUSY_GAP, Relaxed);
            woken
        };
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
            let ends = [(ring.consumer_bound.load(Relaxed), false, receiver, &ring.rx), (ring.producer_bound.load(Relaxed), true, sender, &ring.tx)];
            for (_, sending, class, counters) in ends.into_iter().filter(|(bound, ..)| *bound) {
                // The closure never fails, so neither does the listing.
                let _ = list_counters(counters, sending, &mut |_, name, value| {
                    f(class, ring.index, name, value);
                    Ok(())
                });
            }
        }
    }
}

/// `packets`, `bytes` and the drop reasons of one end, on the side of the device it counts on.
fn list_counters(counters: &EndCounters, sending: bool, f: &mut dyn FnMut(element::Direction, &'static str, u64) -> fmt::Result) -> fmt::Result {
    let direction = if sending { element::Direction::Transmit } else { element::Direction::Receive };
    counters.for_each(sending, direction, f)
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

    /// The end's counters and whether it sends.
    fn counters(&self) -> Option<(&EndCounters, bool)> {
        let ring = self.ring()?;
        Some(match self.role {
            Role::Receive => (&ring.rx, false),
            Role::Transmit => (&ring.tx, true),
        })
    }
}

impl element::DeviceEnd<UserPacket> for RingEnd {
    fn receive(&self) -> Option<UserPacket> {
        let ring = self.ring()?;
        if self.role != Role::Receive || ring.corrupt.load(Relaxed) {
            return None;
        }
        let mut consumer = lock(&ring.consumer);
        let packet = consumer.receive_packet(&self.channel.mapping, &ring.rx);
        if packet.is_none() && consumer.corrupt() {
            drop(consumer);
            self.corrupted(ring);
        }
        packet
    }

    fn transmit(&self, packet: UserPacket) {
        let Some(ring) = self.ring() else { return };
        if self.role != Role::Transmit {
            return;
        }
        if ring.corrupt.load(Relaxed) {
            ring.tx.count_send_drop(SendDrop::Corrupt);
            return;
        }
        let sent = boundary_ring::send_packet(&mut lock(&ring.producer), &self.channel.mapping, &ring.tx, &packet);
        match sent {
            Ok(true) => self.channel.kick_pending.store(true, Relaxed),
            Ok(false) => {}
            Err(SendDrop::Corrupt) => self.corrupted(ring),
            // Dropped and counted.
            Err(SendDrop::RingFull | SendDrop::TooBig | SendDrop::NoChannel) => {}
        }
    }

    fn rx_packets(&self) -> u64 {
        self.ring().map_or(0, |ring| ring.rx.packets())
    }
    fn tx_packets(&self) -> u64 {
        self.ring().map_or(0, |ring| ring.tx.packets())
    }
    fn rx_drops(&self) -> u64 {
        self.ring().map_or(0, |ring| ring.rx.receive_drops())
    }
    fn tx_drops(&self) -> u64 {
        self.ring().map_or(0, |ring| ring.tx.send_drops())
    }
    fn rx_queue_len(&self) -> u64 {
        match (self.role, self.ring()) {
            (Role::Receive, Some(ring)) => u64::from(lock(&ring.consumer).available(&self.channel.mapping)),
            _ => 0,
        }
    }
    fn for_each_counter(&self, f: &mut dyn FnMut(element::Direction, &'static str, u64) -> fmt::Result) -> fmt::Result {
        let Some((counters, sending)) = self.counters() else { return Ok(()) };
        list_counters(counters, sending, f)
    }
    fn reset_counters(&self) {
        if let Some((counters, _)) = self.counters() {
            counters.reset();
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
    fn annotations_cross_both_ways() {
        use vdp_core::element::PacketBuf as _;
        let channel = loopback();
        for (send, take) in [(BoundaryEnd::ToContainer, BoundaryEnd::FromKernel), (BoundaryEnd::ToKernel, BoundaryEnd::FromContainer)] {
            let (sender, receiver) = (channel.bind(send, 1).unwrap(), channel.bind(take, 1).unwrap());
            let mut packet = UserPacket::from_bytes(&[7; 40]).unwrap();
            packet.set_paint(5);
            packet.set_dst_ip_anno([10, 1, 2, 3]);
            packet.set_network_offset(14);
            sender.transmit(packet);
            // No annotations set: none arrive.
            sender.transmit(UserPacket::from_bytes(&[8; 20]).unwrap());
            let got = receiver.receive().unwrap();
            assert_eq!((got.data(), got.paint(), got.dst_ip_anno(), got.network_offset()), (&[7u8; 40][..], 5, Some([10, 1, 2, 3]), Some(14)));
            let got = receiver.receive().unwrap();
            assert_eq!((got.data(), got.paint(), got.dst_ip_anno(), got.network_offset()), (&[8u8; 20][..], 0, None, None));
            assert!(receiver.receive().is_none());
        }
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
        assert!(stats.contains(&("corrupt", 1)), "{stats:?}");
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
