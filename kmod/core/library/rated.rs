//! The rate-limited elements: BandwidthShaper (bytes/s on a pull path), RatedUnqueue (a task
//! moving RATE packets/s) and RatedSource (a source of RATE packets/s). Each spends tokens from
//! the portable core's token bucket, clocked in nanoseconds by the platform's clock
//! (`Platform::now_ns`: the kernel's, or the user-level engine's virtual clock).
//!
//! An element held back by its rate asks to be run again when the next token is due
//! (`Cx::wake_at`), so its thread sleeps until then rather than polling the bucket.

use super::infinite_source::{initial_data, limit_reached, make_packet, read_data, write_data};
use crate::catalog::{base, int, keyword, positional, required, ArgKind, ElementClass, PortRange, TaskRule, MAX_BURST};
use crate::click_value::parse_bandwidth;
use crate::element::handler::{handlers, parse_bool, parse_int_in, reply, HandlerError};
use crate::element::{Build, ConstructError, Cx, Element, PacketBuf, Platform, Vector};
use crate::element_args::ArgValue;
use crate::token_bucket::TokenBucket;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

/// BandwidthShaper's catalog entry (its id and handler tables come from the registry).
pub const SHAPER: ElementClass = ElementClass {
    processing: "l/l",
    args: &[required("RATE", ArgKind::Bandwidth)],
    cost_cycles: 200,
    ..base("BandwidthShaper", "Lets packets be pulled at no more than RATE bytes/s")
};

/// RatedUnqueue's catalog entry (its id and handler tables come from the registry).
pub const UNQUEUE: ElementClass = ElementClass {
    processing: "l/h",
    args: &[
        required("RATE", int(1, 100_000_000)),
        keyword("ACTIVE", ArgKind::Bool, Some("true")),
    ],
    task: TaskRule::Always,
    cost_cycles: 150,
    ..base("RatedUnqueue", "Task that pulls RATE packets per second and pushes them")
};

/// RatedSource's catalog entry (its id and handler tables come from the registry).
pub const SOURCE: ElementClass = ElementClass {
    inputs: PortRange::exactly(0),
    processing: "/a",
    args: &[
        positional("DATA", ArgKind::String, None),
        positional("RATE", int(1, 100_000_000), Some("10")),
        positional("LIMIT", int(-1, i32::MAX as i64), Some("-1")),
        positional("ACTIVE", ArgKind::Bool, Some("true")),
        keyword("STOP", ArgKind::Bool, Some("false")),
        keyword("LENGTH", int(0, 65535), Some("0")),
    ],
    task: TaskRule::WhenOutputPush,
    cost_cycles: 300,
    ..base("RatedSource", "Generates copies of DATA at RATE packets per second")
};

handlers! {
    pub enum ShaperRead {
        Rate = "rate": Bandwidth,
    }
}

handlers! {
    pub enum ShaperWrite {
        Rate = "rate": Bandwidth,
    }
}

handlers! {
    pub enum UnqueueRead {
        Rate = "rate": Integer,
        Active = "active": Boolean,
        Count = "count": Integer,
    }
}

handlers! {
    pub enum UnqueueWrite {
        Rate = "rate": Integer,
        Active = "active": Boolean,
        Reset = "reset": Action,
    }
}

handlers! {
    pub enum SourceRead {
        Count = "count": Integer,
        Active = "active": Boolean,
        Limit = "limit": Integer,
        Rate = "rate": Integer,
        Data = "data": Bytes,
    }
}

handlers! {
    pub enum SourceWrite {
        Reset = "reset": Action,
        Active = "active": Boolean,
        Limit = "limit": Integer,
        Rate = "rate": Integer,
        Data = "data": Bytes,
    }
}

const MAX_PACKET_RATE: i64 = 100_000_000;
/// Most packets a rated task moves per run, however many tokens it has saved, so one run stays
/// bounded at high rates; a task that hits it reports work and is run again.
///
/// A run reads the clock once, at its start, and moves at most the tokens saved by then (at
/// most the bucket's burst, a fiftieth of a second's packets). Tokens earned while the run goes
/// on wait for the next run: otherwise a source whose packets cost more CPU than its rate
/// leaves between them never runs out of tokens and runs RUN_LIMIT packets at a time, and
/// the other tasks of its thread (a ToDevice behind its Queue) wait that long. Measured in the
/// debug guest: 1024 packets of 1200 bytes a run, 0.7 s each, with ToDevice run once a run.
const RUN_LIMIT: u32 = MAX_BURST as u32;

/// A packet-rate bucket: bursts of at most a fiftieth of a second's packets (at least one), so
/// rates hold over short windows.
fn packet_bucket(rate: u64, now: u64) -> TokenBucket {
    TokenBucket::new_empty(rate, (rate / 50).max(1), now)
}

/// A byte-rate bucket: a burst of a fiftieth of a second's bytes, but at least one full-sized
/// packet.
fn shaper_burst(rate: u64) -> u64 {
    (rate / 50).max(1514)
}

/// Asks for the running task to run again when `bucket` next holds a token. A bucket that
/// never refills (no rate) asks for nothing: only a handler write can change it, and writes
/// ring the doorbell.
fn wake_for_token<P: Platform>(cx: &Cx<'_, P>, bucket: &mut TokenBucket, now: u64) {
    if let Some(wait) = bucket.time_until(now, 1) {
        cx.wake_at(now.saturating_add(wait));
    }
}

/// A packet-rate handler value.
fn parse_packet_rate(value: &str) -> Result<u64, HandlerError> {
    // In range: parse_int_in bounds it to 1..=MAX_PACKET_RATE.
    Ok(parse_int_in(value, 1, MAX_PACKET_RATE)? as u64)
}

pub struct Shaper<P: Platform> {
    bucket: P::Locked<TokenBucket>,
}

impl<P: Platform> Element<P> for Shaper<P> {
    type Read = ShaperRead;
    type Write = ShaperWrite;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let Some(ArgValue::Bandwidth(rate)) = build.value("RATE") else { return Err(ConstructError::BadArgument("RATE")) };
        let bucket = TokenBucket::new(rate, shaper_burst(rate), P::now_ns());
        Ok(Shaper { bucket: P::locked(bucket)? })
    }

    /// Lets a packet through while the bucket holds a byte or more and charges its length, so a
    /// large packet may borrow against the tokens to come, as in Click. A byte, not any fraction
    /// of one: that is when a shaper held back asks to be woken, so a packet leaves at the same
    /// time whether or not something else runs the task sooner.
    fn pull(&self, cx: &Cx<'_, P>, _port: u16) -> Option<P::Packet> {
        {
            let now = P::now_ns();
            let mut bucket = P::lock(&self.bucket);
            if bucket.level(now) < 1 {
                wake_for_token(cx, &mut bucket, now);
                return None;
            }
        }
        let packet = cx.pull(0)?;
        let len = u64::try_from(packet.len()).unwrap_or(u64::MAX);
        let now = P::now_ns();
        P::lock(&self.bucket).charge(now, len);
        Some(packet)
    }

    fn read(&self, handler: ShaperRead, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            ShaperRead::Rate => {
                // Read under the lock, format after it.
                let rate = P::lock(&self.bucket).rate();
                reply(write!(out, "{}Bps", rate))
            }
        }
    }

    fn write(&self, handler: ShaperWrite, value: &str) -> Result<(), HandlerError> {
        match handler {
            ShaperWrite::Rate => {
                let rate = parse_bandwidth(value.trim()).map_err(|e| HandlerError::BadValue(e.describe()))?;
                let now = P::now_ns();
                let mut bucket = P::lock(&self.bucket);
                bucket.set_rate(now, rate);
                bucket.set_burst(now, shaper_burst(rate));
            }
        }
        Ok(())
    }
}

pub struct RatedUnqueue<P: Platform> {
    bucket: P::Locked<TokenBucket>,
    active: AtomicBool,
    /// Not carried over by a hotswap.
    count: AtomicU64,
}

impl<P: Platform> Element<P> for RatedUnqueue<P> {
    type Read = UnqueueRead;
    type Write = UnqueueWrite;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let rate = build.int_as("RATE")?;
        Ok(RatedUnqueue {
            bucket: P::locked(packet_bucket(rate, P::now_ns()))?,
            active: AtomicBool::new(build.args.bool("ACTIVE").unwrap_or(true)),
            count: AtomicU64::new(0),
        })
    }

    fn run_task(&self, cx: &Cx<'_, P>) -> bool {
        if !self.active.load(Relaxed) {
            return false;
        }
        let mut moved = false;
        // One clock reading for the whole run (RUN_LIMIT says why).
        let now = P::now_ns();
        for _ in 0..RUN_LIMIT {
            {
                let mut bucket = P::lock(&self.bucket);
                if !bucket.try_take(now, 1) {
                    // Held back by the rate: run again when the next token is due.
                    wake_for_token(cx, &mut bucket, now);
                    return moved;
                }
            }
            let Some(packet) = cx.pull(0) else {
                // Nothing to send: the token stays for the next packet; an upstream queue
                // rings when it fills.
                P::lock(&self.bucket).refund(now, 1);
                return moved;
            };
            self.count.fetch_add(1, Relaxed);
            cx.push(0, packet);
            moved = true;
        }
        moved
    }

    fn read(&self, handler: UnqueueRead, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        reply(match handler {
            UnqueueRead::Rate => {
                let rate = P::lock(&self.bucket).rate();
                write!(out, "{}", rate)
            }
            UnqueueRead::Active => write!(out, "{}", self.active.load(Relaxed)),
            UnqueueRead::Count => write!(out, "{}", self.count.load(Relaxed)),
        })
    }

    fn write(&self, handler: UnqueueWrite, value: &str) -> Result<(), HandlerError> {
        match handler {
            UnqueueWrite::Rate => {
                let bucket = packet_bucket(parse_packet_rate(value)?, P::now_ns());
                *P::lock(&self.bucket) = bucket;
            }
            UnqueueWrite::Active => self.active.store(parse_bool(value)?, Relaxed),
            UnqueueWrite::Reset => self.count.store(0, Relaxed),
        }
        Ok(())
    }
}

pub struct RatedSource<P: Platform> {
    data: P::Locked<Vector<P, u8>>,
    /// LENGTH > 0 pads DATA with zeros or cuts it to that length.
    length: usize,
    bucket: P::Locked<TokenBucket>,
    limit: AtomicI64,
    active: AtomicBool,
    stop: bool,
    /// Not carried over by a hotswap: as in Click, a new source sends its LIMIT afresh.
    count: AtomicU64,
}

impl<P: Platform> RatedSource<P> {
    fn limit_reached(&self) -> bool {
        let reached = limit_reached(self.limit.load(Relaxed), self.count.load(Relaxed));
        if reached && self.stop {
            self.active.store(false, Relaxed);
        }
        reached
    }

    /// The next packet if the source is active, under its limit, and its rate allows one at
    /// `now`.
    fn next_packet(&self, cx: &Cx<'_, P>, now: u64) -> Option<P::Packet> {
        if !self.active.load(Relaxed) || self.limit_reached() {
            return None;
        }
        {
            let mut bucket = P::lock(&self.bucket);
            if !bucket.try_take(now, 1) {
                wake_for_token(cx, &mut bucket, now);
                return None;
            }
        }
        let packet = make_packet::<P>(&self.data, self.length)?;
        self.count.fetch_add(1, Relaxed);
        Some(packet)
    }
}

impl<P: Platform> Element<P> for RatedSource<P> {
    type Read = SourceRead;
    type Write = SourceWrite;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let rate = build.int_as("RATE")?;
        Ok(RatedSource {
            data: initial_data(build)?,
            length: build.int_as("LENGTH")?,
            bucket: P::locked(packet_bucket(rate, P::now_ns()))?,
            limit: AtomicI64::new(build.int("LIMIT")?),
            active: AtomicBool::new(build.args.bool("ACTIVE").unwrap_or(true)),
            stop: build.args.bool("STOP").unwrap_or(false),
            count: AtomicU64::new(0),
        })
    }

    fn run_task(&self, cx: &Cx<'_, P>) -> bool {
        let mut sent = false;
        // One clock reading for the whole run (RUN_LIMIT says why).
        let now = P::now_ns();
        for _ in 0..RUN_LIMIT {
            let Some(packet) = self.next_packet(cx, now) else { break };
            cx.push(0, packet);
            sent = true;
        }
        sent
    }

    fn pull(&self, cx: &Cx<'_, P>, _port: u16) -> Option<P::Packet> {
        self.next_packet(cx, P::now_ns())
    }

    fn read(&self, handler: SourceRead, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        reply(match handler {
            SourceRead::Count => write!(out, "{}", self.count.load(Relaxed)),
            SourceRead::Active => write!(out, "{}", self.active.load(Relaxed)),
            SourceRead::Limit => write!(out, "{}", self.limit.load(Relaxed)),
            SourceRead::Rate => {
                let rate = P::lock(&self.bucket).rate();
                write!(out, "{}", rate)
            }
            SourceRead::Data => return read_data::<P>(&self.data, out),
        })
    }

    fn write(&self, handler: SourceWrite, value: &str) -> Result<(), HandlerError> {
        match handler {
            SourceWrite::Reset => self.count.store(0, Relaxed),
            SourceWrite::Active => self.active.store(parse_bool(value)?, Relaxed),
            SourceWrite::Limit => self.limit.store(parse_int_in(value, -1, i64::from(i32::MAX))?, Relaxed),
            SourceWrite::Rate => {
                let bucket = packet_bucket(parse_packet_rate(value)?, P::now_ns());
                *P::lock(&self.bucket) = bucket;
            }
            SourceWrite::Data => write_data::<P>(&self.data, value)?,
        }
        Ok(())
    }
}
