//! FlowSampler(N [, BUCKETS]): a per-flow packet sampler, written as a tenant writes a custom
//! element class for its container engine.
//!
//! Every IPv4 packet belongs to a flow: its source and destination addresses, its protocol, and
//! for TCP and UDP (unfragmented, or the first fragment) its ports. Of each flow the sampler
//! sends the 1st, the (N+1)th, the (2N+1)th… packet to output 0 and the others to output 1 (or
//! drops them when output 1 is not connected). Packets that are not IPv4 form one flow of their
//! own. Flows are counted in a table of BUCKETS counters, indexed by a hash of the flow, so the
//! memory is fixed when the element is built; flows whose hashes meet share a counter.
//!
//! Handlers: `seen`, `sampled` (packets), `flows` (buckets that have seen a packet), `n`; write
//! `n` to change the rate, `reset` to clear the counts.
//!
//! The class is an ordinary [`Element`] with its [`ElementClass`] built with `catalog::base` and
//! its handlers declared with `handlers!`, exactly like a class of vdp's library
//! (`kmod/core/library/`); [`classes`] hands it to the engine.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use vdp_core::catalog::{base, int, keyword, positional, ElementClass, PortRange};
use vdp_core::element::handler::{parse_int_in, reply};
use vdp_core::element::{Build, ConstructError, Cx, Element, HandlerError, PacketBuf};
use vdp_core::handlers;
use vdp_engine::{custom_class, CustomClass, User, UserPacket};

/// Largest N.
pub const MAX_N: i64 = 1_000_000;
/// Largest table.
pub const MAX_BUCKETS: i64 = 1 << 20;

/// FlowSampler's catalog entry: what the coordinator checks configurations against.
pub const CLASS: ElementClass = ElementClass {
    inputs: PortRange::exactly(1),
    outputs: PortRange::between(1, 2),
    processing: "h/h",
    args: &[positional("N", int(1, MAX_N), Some("100")), keyword("BUCKETS", int(1, MAX_BUCKETS), Some("4096"))],
    cost_cycles: 400,
    ..base("FlowSampler", "Sends one packet in N of each flow to output 0, the rest to output 1")
};

handlers! {
    pub enum Read {
        Seen = "seen": Integer,
        Sampled = "sampled": Integer,
        Flows = "flows": Integer,
        N = "n": Integer,
    }
}

handlers! {
    pub enum Write {
        Reset = "reset": Action,
        N = "n": Integer,
    }
}

pub struct FlowSampler {
    n: AtomicU32,
    counts: Arc<Counts>,
}

/// What a hotswapped FlowSampler of the same name adopts.
struct Counts {
    buckets: Box<[AtomicU32]>,
    seen: AtomicU64,
    sampled: AtomicU64,
}

/// The bytes that name a packet's flow, hashed with FNV-1a.
fn flow_hash(data: &[u8], network: Option<usize>) -> u32 {
    const BASIS: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    let ip_at = network.or_else(|| (data.get(12..14) == Some(&[0x08, 0x00][..])).then_some(14));
    let Some(ip) = ip_at.and_then(|at| data.get(at..)) else { return BASIS };
    let (Some(&version_ihl), Some(addresses), Some(&protocol)) = (ip.first(), ip.get(12..20), ip.get(9)) else { return BASIS };
    if version_ihl >> 4 != 4 {
        return BASIS;
    }
    let header_len = usize::from(version_ihl & 0x0f) * 4;
    let first_fragment = ip.get(6..8).is_some_and(|f| u16::from_be_bytes([f[0], f[1]]) & 0x1fff == 0);
    let ports = match protocol {
        6 | 17 if first_fragment => ip.get(header_len..header_len + 4).unwrap_or(&[]),
        _ => &[],
    };
    let mut hash = BASIS;
    for &byte in addresses.iter().chain([protocol].iter()).chain(ports) {
        hash = (hash ^ u32::from(byte)).wrapping_mul(PRIME);
    }
    hash
}

impl Element<User> for FlowSampler {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, User>) -> Result<Self, ConstructError> {
        let n = build.int_as::<u32>("N")?;
        let count = build.int_as::<usize>("BUCKETS")?;
        let mut buckets = Vec::new();
        buckets.try_reserve_exact(count).map_err(|_| ConstructError::NoMemory)?;
        buckets.resize_with(count, || AtomicU32::new(0));
        let counts = Counts { buckets: buckets.into_boxed_slice(), seen: AtomicU64::new(0), sampled: AtomicU64::new(0) };
        Ok(FlowSampler { n: AtomicU32::new(n), counts: Arc::new(counts) })
    }

    fn push(&self, cx: &Cx<'_, User>, _port: u16, packet: UserPacket) {
        let counts = &*self.counts;
        counts.seen.fetch_add(1, Relaxed);
        let hash = flow_hash(packet.data(), packet.network_offset());
        // The table is never empty (BUCKETS is at least 1), so the remainder indexes it.
        let index = (hash as usize).checked_rem(counts.buckets.len()).unwrap_or(0);
        let Some(bucket) = counts.buckets.get(index) else { return };
        let before = bucket.fetch_add(1, Relaxed);
        if before % self.n.load(Relaxed).max(1) == 0 {
            counts.sampled.fetch_add(1, Relaxed);
            cx.push(0, packet);
        } else {
            cx.push(1, packet);
        }
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Seen => reply(write!(out, "{}", self.counts.seen.load(Relaxed))),
            Read::Sampled => reply(write!(out, "{}", self.counts.sampled.load(Relaxed))),
            Read::Flows => reply(write!(out, "{}", self.counts.buckets.iter().filter(|b| b.load(Relaxed) != 0).count())),
            Read::N => reply(write!(out, "{}", self.n.load(Relaxed))),
        }
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::Reset => {
                self.counts.seen.store(0, Relaxed);
                self.counts.sampled.store(0, Relaxed);
                self.counts.buckets.iter().for_each(|b| b.store(0, Relaxed));
            }
            // Lossless: 1 to MAX_N fits a u32.
            Write::N => self.n.store(parse_int_in(value, 1, MAX_N)? as u32, Relaxed),
        }
        Ok(())
    }

    /// Hotswap: the new element shares the old one's counts (when its table has the same
    /// size; otherwise it starts afresh), so nothing the old graph still counts is lost.
    fn take_state(&mut self, old: &Self) {
        if old.counts.buckets.len() == self.counts.buckets.len() {
            self.counts = old.counts.clone();
        }
    }
}

/// This engine's custom classes, in the order they are numbered (after the built-in ones).
pub fn classes() -> Vec<CustomClass> {
    vec![custom_class::<FlowSampler>(CLASS)]
}
