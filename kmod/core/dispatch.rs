//! Dispatch of one tenant's received packets over several replicas of its graph (PdP's parallel
//! data plane): the root-owned step that picks, for each packet, the engine that processes it.
//!
//! Three policies:
//! - [`Policy::RoundRobin`]: engines in turn.
//! - [`Policy::Proportional`]: smooth weighted round-robin on each engine's weight (its share
//!   of CPU), so an engine of weight 3 gets three packets of every four against weight 1, spread
//!   through the period rather than in a run.
//! - [`Policy::FlowAffinity`]: the packet's flow (inner IPv4 5-tuple for TCP and UDP, the
//!   address pair for fragments and other protocols) is hashed into one of [`FLOW_BUCKETS`]
//!   buckets, and each bucket belongs to one engine, so a flow stays on one engine and leaves in
//!   the order it came.
//!
//! # Rebalancing without reordering
//!
//! Under flow affinity an engine whose backlog (packets dispatched to it and not yet reported
//! [`Dispatcher::done`]) passes the overload mark gives up the bucket of the packet at hand to
//! the least-loaded engine, but only when that bucket has no packet in flight. A bucket changes
//! engine only while none of its packets is anywhere in a replica, so no flow is ever reordered
//! by a move, whether it moves or not.
//!
//! # Invariants
//!
//! - `in_flight[b]` is the number of packets of bucket `b` dispatched and not yet done; the sum
//!   over buckets of one engine equals that engine's `backlog`.
//! - `bucket_engine[b] < engines` for every bucket.
//!
//! The caller reports [`Dispatcher::done`] when the packet has left the replica: after the last
//! element or per-replica queue it passes, not when it is first dequeued. A `done` for a choice
//! never made is ignored (counted in [`DispatchCounters::stray_done`]), never underflows.
//!
//! Everything is fixed-size: no allocation, and each call does a bounded amount of work (at most
//! [`MAX_ENGINES`] steps).

use crate::wire::ethernet::{EtherType, Frame};
use crate::wire::ipv4::{Packet as Ipv4Packet, Protocol};

/// Most engines one tenant's packets may be spread over.
pub const MAX_ENGINES: usize = 8;
/// Buckets the flow hash maps onto; a bucket is the unit that moves between engines.
pub const FLOW_BUCKETS: usize = 256;

/// How packets are spread over the engines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    RoundRobin,
    Proportional,
    FlowAffinity,
}

/// Why a dispatcher cannot be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DispatchError {
    /// No engine, or more than [`MAX_ENGINES`].
    EngineCount(usize),
    /// [`Policy::Proportional`] with an engine of weight 0 (its index).
    ZeroWeight(usize),
}

impl core::fmt::Display for DispatchError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DispatchError::EngineCount(n) => write!(f, "{n} engines: a tenant's packets go to 1 to {MAX_ENGINES} engines"),
            DispatchError::ZeroWeight(i) => write!(f, "engine {i} has no share: the proportional policy needs a share on every engine"),
        }
    }
}

/// Where one packet went: the engine, and the flow bucket to hand back to [`Dispatcher::done`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub engine: u8,
    pub bucket: u8,
}

/// What the dispatcher has done, for the tenant's statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DispatchCounters {
    /// Packets given to each engine.
    pub dispatched: [u64; MAX_ENGINES],
    /// Buckets moved off an overloaded engine.
    pub moves: u64,
    /// Times an engine was overloaded but the bucket at hand had packets in flight, so it stayed.
    pub moves_held: u64,
    /// `done` calls that matched no packet in flight.
    pub stray_done: u64,
}

/// The dispatcher of one tenant.
#[derive(Clone, Debug)]
pub struct Dispatcher {
    policy: Policy,
    engines: usize,
    weights: [u32; MAX_ENGINES],
    weight_total: i64,
    /// Smooth weighted round-robin: each engine's running credit.
    credit: [i64; MAX_ENGINES],
    next: usize,
    seed: u32,
    /// Backlog at or above which an engine counts as overloaded (flow affinity).
    overload: u32,
    bucket_engine: [u8; FLOW_BUCKETS],
    in_flight: [u32; FLOW_BUCKETS],
    backlog: [u32; MAX_ENGINES],
    counters: DispatchCounters,
}

impl Dispatcher {
    /// A dispatcher over `weights.len()` engines. `weights` are the engines' shares (used by
    /// [`Policy::Proportional`]; the other policies need them only to count the engines).
    /// `seed` keys the flow hash, so a sender cannot aim every flow at one bucket without
    /// knowing it; `overload` is the backlog at which an engine sheds idle buckets (0: never).
    pub fn new(policy: Policy, weights: &[u32], seed: u32, overload: u32) -> Result<Dispatcher, DispatchError> {
        let engines = weights.len();
        if engines == 0 || engines > MAX_ENGINES {
            return Err(DispatchError::EngineCount(engines));
        }
        if policy == Policy::Proportional {
            if let Some(zero) = weights.iter().position(|w| *w == 0) {
                return Err(DispatchError::ZeroWeight(zero));
            }
        }
        let mut own = [0u32; MAX_ENGINES];
        own[..engines].copy_from_slice(weights);
        let mut bucket_engine = [0u8; FLOW_BUCKETS];
        for (bucket, engine) in bucket_engine.iter_mut().enumerate() {
            // engines <= MAX_ENGINES (8), so the remainder fits a u8.
            *engine = (bucket % engines) as u8;
        }
        Ok(Dispatcher {
            policy,
            engines,
            weights: own,
            weight_total: own.iter().map(|w| i64::from(*w)).sum(),
            credit: [0; MAX_ENGINES],
            next: 0,
            seed,
            overload,
            bucket_engine,
            in_flight: [0; FLOW_BUCKETS],
            backlog: [0; MAX_ENGINES],
            counters: DispatchCounters::default(),
        })
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    pub fn engines(&self) -> usize {
        self.engines
    }

    pub fn counters(&self) -> &DispatchCounters {
        &self.counters
    }

    /// Packets dispatched to `engine` and not yet done.
    pub fn backlog(&self, engine: usize) -> u32 {
        self.backlog.get(engine).copied().unwrap_or(0)
    }

    /// The engine bucket `bucket` belongs to under flow affinity.
    pub fn bucket_engine(&self, bucket: u8) -> u8 {
        self.bucket_engine[usize::from(bucket)]
    }

    /// Picks the engine for `frame` (an Ethernet frame as the tenant's device receives it).
    pub fn dispatch(&mut self, frame: &[u8]) -> Choice {
        let bucket = flow_bucket(frame, self.seed);
        let engine = match self.policy {
            Policy::RoundRobin => {
                let engine = self.next % self.engines;
                self.next = (engine + 1) % self.engines;
                engine
            }
            Policy::Proportional => self.weighted_next(),
            Policy::FlowAffinity => self.affine(bucket),
        };
        self.in_flight[usize::from(bucket)] = self.in_flight[usize::from(bucket)].saturating_add(1);
        self.backlog[engine] = self.backlog[engine].saturating_add(1);
        self.counters.dispatched[engine] = self.counters.dispatched[engine].wrapping_add(1);
        // engine < self.engines <= MAX_ENGINES.
        Choice { engine: engine as u8, bucket }
    }

    /// Reports that the packet of `choice` has left its replica.
    pub fn done(&mut self, choice: Choice) {
        let engine = usize::from(choice.engine);
        let bucket = usize::from(choice.bucket);
        if engine >= self.engines || self.in_flight[bucket] == 0 || self.backlog[engine] == 0 {
            self.counters.stray_done = self.counters.stray_done.wrapping_add(1);
            return;
        }
        self.in_flight[bucket] -= 1;
        self.backlog[engine] -= 1;
    }

    /// Smooth weighted round-robin: every engine gains its weight, the richest is chosen and
    /// pays the total. Over any `weight_total` picks each engine is chosen exactly its weight.
    fn weighted_next(&mut self) -> usize {
        let mut best = 0;
        for engine in 0..self.engines {
            self.credit[engine] += i64::from(self.weights[engine]);
            if self.credit[engine] > self.credit[best] {
                best = engine;
            }
        }
        self.credit[best] -= self.weight_total;
        best
    }

    fn affine(&mut self, bucket: u8) -> usize {
        let index = usize::from(bucket);
        let owner = usize::from(self.bucket_engine[index]);
        if self.overload == 0 || self.backlog[owner] < self.overload {
            return owner;
        }
        let least = (0..self.engines).min_by_key(|e| self.backlog[*e]).unwrap_or(owner);
        if least == owner || self.backlog[least] >= self.backlog[owner] {
            return owner;
        }
        if self.in_flight[index] != 0 {
            self.counters.moves_held = self.counters.moves_held.wrapping_add(1);
            return owner;
        }
        // least < self.engines <= MAX_ENGINES.
        self.bucket_engine[index] = least as u8;
        self.counters.moves = self.counters.moves.wrapping_add(1);
        least
    }
}

/// The flow bucket of an Ethernet frame: its inner IPv4 5-tuple for an unfragmented TCP or UDP
/// packet, its address pair and protocol for other IPv4 packets (so every fragment of a
/// datagram lands in one bucket), its Ethernet addresses for anything else. Truncated headers
/// read as zeros; nothing here can fail.
pub fn flow_bucket(frame: &[u8], seed: u32) -> u8 {
    let ethernet = Frame::new_unchecked(frame);
    let mut hash = FlowHash::new(seed);
    if ethernet.ethertype() != EtherType::Ipv4 {
        hash.add(&ethernet.dst_addr().0);
        hash.add(&ethernet.src_addr().0);
        return hash.bucket();
    }
    let ip = Ipv4Packet::new_unchecked(ethernet.payload());
    hash.add(&ip.src_addr().0);
    hash.add(&ip.dst_addr().0);
    let protocol = ip.protocol();
    hash.add(&[u8::from(protocol)]);
    if matches!(protocol, Protocol::Tcp | Protocol::Udp) && !ip.is_fragment() {
        // TCP and UDP both begin with the two ports; `header` is clamped to the buffer.
        let l4 = ethernet.payload().get(ip.header().len()..).unwrap_or(&[]);
        hash.add(l4.get(..4).unwrap_or(l4));
    }
    hash.bucket()
}

/// A keyed multiply-rotate hash: not cryptographic, but a sender who does not know the seed
/// cannot choose addresses that all meet in one bucket.
struct FlowHash(u32);

impl FlowHash {
    fn new(seed: u32) -> FlowHash {
        FlowHash(seed ^ 0x9e37_79b9)
    }

    fn add(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u32::from(*byte)).wrapping_mul(0x0100_0193).rotate_left(5);
        }
    }

    fn bucket(&self) -> u8 {
        let mut x = self.0;
        x ^= x >> 16;
        x = x.wrapping_mul(0x85eb_ca6b);
        x ^= x >> 13;
        // FLOW_BUCKETS is 256: the low byte.
        (x & 0xff) as u8
    }
}
