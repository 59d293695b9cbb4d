//! RED: Random Early Detection. Keeps a moving average of the summed length of the Storage
//! elements (Queues) it watches and drops, or sends out of output 1, packets with a probability
//! that grows with that average.
//!
//! The arithmetic is Click's: the average is kept with 10 fraction bits and weight
//! 2^-STABILITY (STABILITY 0 uses the instantaneous length), empty periods decay it once per
//! 20 ms of the platform clock, and the drop probability rises linearly from 0 at MIN_THRESH
//! to MAX_P at MAX_THRESH, then (GENTLE) to 1 at twice MAX_THRESH, with drops spread out by
//! Click's count of packets since the last drop. Probabilities are 16-bit fixed point.
//!
//! The queues are those QUEUES names; without QUEUES the front end fills in the nearest ones,
//! as Click finds them (downstream when RED pushes, upstream when it pulls), and the graph
//! hands RED their lengths once it is built (`Element::link_storage`).
//!
//! Random numbers come from a generator of RED's own (SplitMix64), seeded by the platform
//! when the element is built: random in the kernel, the engine's seed at user level, so a
//! user-level run repeats exactly. Drawing one allocates nothing.

use crate::catalog::{base, int, keyword, required, ArgKind, ArgSpec, ElementClass, PortRange};
use crate::click_value::{self, PROBABILITY_ONE};
use crate::element::agnostic::MAX_PULL_ATTEMPTS;
use crate::element::handler::{handlers, parse_int_in, reply, HandlerError};
use crate::element::{Build, ConstructError, Cx, Element, Platform, StorageLength, Vector};
use crate::element_args::ArgValue;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Largest threshold Click accepts.
pub const MAX_THRESH_LIMIT: i64 = 0xFFFF;
/// Largest STABILITY.
const MAX_STABILITY: i64 = 16;

const ARGS: &[ArgSpec] = &[
    required("MIN_THRESH", int(0, MAX_THRESH_LIMIT)),
    required("MAX_THRESH", int(0, MAX_THRESH_LIMIT)),
    required("MAX_P", ArgKind::Probability),
    keyword("QUEUES", ArgKind::StorageList, None),
    keyword("STABILITY", int(0, MAX_STABILITY), Some("4")),
    keyword("GENTLE", ArgKind::Bool, Some("true")),
];

/// RED's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 2),
    processing: "a/ah",
    args: ARGS,
    cost_cycles: 300,
    ..base("RED", "Drops packets early, with a probability that grows with the nearby queues' average length")
};

handlers! {
    pub enum Read {
        Drops = "drops": Integer,
        MinThresh = "min_thresh": Integer,
        MaxThresh = "max_thresh": Integer,
        MaxP = "max_p": Lines,
        AvgQueueSize = "avg_queue_size": Lines,
        Stats = "stats": Lines,
        Queues = "queues": Lines,
        Config = "config": Lines,
    }
}

handlers! {
    pub enum Write {
        MinThresh = "min_thresh": Integer,
        MaxThresh = "max_thresh": Integer,
        MaxP = "max_p": Lines,
    }
}

/// Fraction bits of the average queue length.
const QUEUE_SCALE: u32 = 10;
/// An empty period decays the average once per this many nanoseconds (Click's 1/50 s).
const DECAY_NS: u64 = 20_000_000;
/// Decay steps past which the average is simply the new observation, as in Click.
const DECAY_STEPS_MAX: u64 = 100;

/// The thresholds and the constants derived from them, as Click derives them.
#[derive(Clone, Copy)]
struct Params {
    min: u64,
    max: u64,
    /// Out of [`PROBABILITY_ONE`].
    max_p: u64,
    gentle: bool,
    /// Above this average every packet is dropped.
    kill: u64,
    c1: u64,
    c2: i64,
    g1: u64,
    g2: i64,
}

impl Params {
    fn new(min: u64, max: u64, max_p: u64, gentle: bool) -> Params {
        let one = u64::from(PROBABILITY_ONE);
        let kill = if gentle && max_p != one { max.saturating_mul(2) } else { max };
        // Every value here is at most 2^32: no division by zero, no overflow.
        let (c1, c2) = match max.checked_sub(min).filter(|&span| span > 0) {
            Some(span) => (max_p.checked_div(span).unwrap_or(0), max_p.saturating_mul(min).checked_div(span).unwrap_or(0) as i64),
            None => (0, 1),
        };
        let g1 = one.saturating_sub(max_p).checked_div(max).unwrap_or(0);
        let g2 = (one as i64).saturating_sub((max_p as i64).saturating_mul(2));
        Params { min, max, max_p, gentle, kill, c1, c2, g1, g2 }
    }
}

/// A SplitMix64 generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform number from 0 to 0xFFFF, as Click draws its random value.
    fn next_16(&mut self) -> i64 {
        (self.next() >> 48) as i64
    }
}

struct State {
    params: Params,
    stability: u32,
    /// The average with [`QUEUE_SCALE`] fraction bits.
    average: u64,
    /// Packets since the last drop; -1 when the average was last below MIN_THRESH or above the
    /// kill threshold.
    count: i64,
    random_value: i64,
    /// The decay period of the last look at an empty queue, if the queue was empty then.
    last_empty_period: Option<u64>,
    rng: Rng,
}

impl State {
    /// One observation of `length` packets (Click's `DirectEWMAX::update`).
    fn observe(&mut self, length: u64) {
        let compensation = self.stability.checked_sub(1).map_or(0, |shift| 1u64.checked_shl(shift).unwrap_or(0));
        let scaled = length.saturating_mul(1 << QUEUE_SCALE).saturating_add(compensation);
        // Both below 2^63 (lengths are bounded), so the difference is exact; the shift is
        // arithmetic, as in Click.
        let difference = (scaled as i64).wrapping_sub(self.average as i64);
        let step = difference.checked_shr(self.stability).unwrap_or(0);
        self.average = (self.average as i64).wrapping_add(step) as u64;
    }

    /// `steps` observations of an empty queue (`update_n(0, steps)`).
    fn decay(&mut self, steps: u64) {
        if steps >= DECAY_STEPS_MAX {
            self.average = 0;
            return;
        }
        for _ in 0..steps {
            self.observe(0);
        }
    }

    /// The average rounded to whole packets.
    fn unscaled(&self) -> u64 {
        self.average.saturating_add(1 << (QUEUE_SCALE - 1)) >> QUEUE_SCALE
    }

    /// Click's `should_drop`, given the watched queues' summed length and the clock.
    fn should_drop(&mut self, length: u64, now_ns: u64) -> bool {
        let average = if self.stability == 0 {
            length
        } else if length > 0 {
            self.observe(length);
            self.last_empty_period = None;
            self.unscaled()
        } else {
            let period = now_ns / DECAY_NS;
            let steps = self.last_empty_period.map_or(1, |last| period.saturating_sub(last));
            self.decay(steps);
            self.last_empty_period = Some(period);
            self.unscaled()
        };
        let p = self.params;
        if average <= p.min {
            self.count = -1;
            return false;
        }
        if average > p.kill {
            self.count = -1;
            return true;
        }
        // Click takes the moving average here even at STABILITY 0, where it never moves; vdp
        // takes the instantaneous length then, as STABILITY 0 is documented to mean.
        let scaled = if self.stability == 0 { length.saturating_mul(1 << QUEUE_SCALE) } else { self.average };
        let (slope, offset) = if average <= p.max { (p.c1, p.c2) } else { (p.g1, p.g2) };
        let probability = ((slope.saturating_mul(scaled) >> QUEUE_SCALE) as i64).saturating_sub(offset);
        self.count = self.count.saturating_add(1);
        let spaced_out = probability > 0 && self.random_value.checked_div(probability).is_some_and(|gap| self.count > gap);
        if self.count > 0 && spaced_out {
            self.count = 0;
            self.random_value = self.rng.next_16();
            return true;
        }
        if self.count == 0 {
            self.random_value = self.rng.next_16();
        }
        false
    }
}

pub struct Red<P: Platform> {
    state: P::Locked<State>,
    drops: AtomicU64,
    /// Output 1 exists: dropped packets go there.
    drop_port: bool,
    /// The watched queues' lengths and names (one a line), from the graph once it is built.
    queues: Vector<P, StorageLength<P>>,
    names: Vector<P, u8>,
}

impl<P: Platform> Red<P> {
    fn queue_length(&self) -> u64 {
        self.queues.iter().fold(0u64, |sum, queue| sum.saturating_add(queue.get()))
    }

    fn should_drop(&self) -> bool {
        let length = self.queue_length();
        let now = P::now_ns();
        P::lock(&self.state).should_drop(length, now)
    }

    fn handle_drop(&self, cx: &Cx<'_, P>, packet: P::Packet) {
        self.drops.fetch_add(1, Relaxed);
        if self.drop_port {
            cx.push(1, packet);
        } else {
            cx.drop_packet(packet);
        }
    }

    fn write_config(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        let (p, stability) = {
            let state = P::lock(&self.state);
            (state.params, state.stability)
        };
        write!(out, "{}, {}, ", p.min, p.max)?;
        click_value::write_fixed(out, p.max_p, 16)?;
        out.write_str(", QUEUES")?;
        for name in self.names.split(|&b| b == b'\n').filter(|name| !name.is_empty()) {
            write!(out, " {}", core::str::from_utf8(name).unwrap_or("?"))?;
        }
        write!(out, ", STABILITY {}", stability)?;
        if !p.gentle {
            out.write_str(", GENTLE false")?;
        }
        Ok(())
    }

    /// Changes one threshold or MAX_P, keeping MIN_THRESH ≤ MAX_THRESH.
    fn reconfigure(&self, change: impl FnOnce(&mut Params)) -> Result<(), HandlerError> {
        let mut state = P::lock(&self.state);
        let mut p = state.params;
        change(&mut p);
        if p.min > p.max {
            return Err(HandlerError::Refused("MIN_THRESH must be <= MAX_THRESH"));
        }
        state.params = Params::new(p.min, p.max, p.max_p, p.gentle);
        Ok(())
    }
}

impl<P: Platform> Element<P> for Red<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let min = build.int_as::<u64>("MIN_THRESH")?;
        let max = build.int_as::<u64>("MAX_THRESH")?;
        if min > max {
            return Err(ConstructError::BadArgument("MIN_THRESH must be <= MAX_THRESH"));
        }
        let Some(ArgValue::Probability(max_p)) = build.value("MAX_P") else {
            return Err(ConstructError::BadArgument("MAX_P"));
        };
        if max_p > PROBABILITY_ONE {
            return Err(ConstructError::BadArgument("MAX_P"));
        }
        let stability = build.int_as::<u32>("STABILITY")?;
        if i64::from(stability) > MAX_STABILITY {
            return Err(ConstructError::BadArgument("STABILITY"));
        }
        let params = Params::new(min, max, u64::from(max_p), build.bool("GENTLE")?);
        let state = State {
            params,
            stability,
            average: 0,
            count: -1,
            random_value: 0,
            last_empty_period: None,
            rng: Rng(P::random_seed()),
        };
        Ok(Red {
            state: P::locked(state)?,
            drops: AtomicU64::new(0),
            drop_port: build.outputs() > 1,
            queues: Vector::new(),
            names: Vector::new(),
        })
    }

    fn push(&self, cx: &Cx<'_, P>, _port: u16, packet: P::Packet) {
        if self.should_drop() {
            self.handle_drop(cx, packet);
        } else {
            cx.push(0, packet);
        }
    }

    /// Pull mode: pulls until a packet is let through, at most [`MAX_PULL_ATTEMPTS`] times.
    fn pull(&self, cx: &Cx<'_, P>, _port: u16) -> Option<P::Packet> {
        for _ in 0..MAX_PULL_ATTEMPTS {
            let packet = cx.pull(0)?;
            if !self.should_drop() {
                return Some(packet);
            }
            self.handle_drop(cx, packet);
        }
        None
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        let (params, average) = {
            let state = P::lock(&self.state);
            (state.params, state.average)
        };
        reply(match handler {
            Read::Drops => write!(out, "{}", self.drops.load(Relaxed)),
            Read::MinThresh => write!(out, "{}", params.min),
            Read::MaxThresh => write!(out, "{}", params.max),
            Read::MaxP => click_value::write_fixed(out, params.max_p, 16),
            Read::AvgQueueSize => click_value::write_fixed(out, average, QUEUE_SCALE),
            Read::Stats => (|| {
                writeln!(out, "{} current queue", self.queue_length())?;
                click_value::write_fixed(out, average, QUEUE_SCALE)?;
                writeln!(out, " avg queue")?;
                writeln!(out, "{} drops", self.drops.load(Relaxed))
            })(),
            Read::Queues => out.write_str(core::str::from_utf8(&self.names).unwrap_or("")),
            Read::Config => self.write_config(out),
        })
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::MinThresh => {
                let min = parse_int_in(value, 0, MAX_THRESH_LIMIT)? as u64;
                self.reconfigure(|p| p.min = min)
            }
            Write::MaxThresh => {
                let max = parse_int_in(value, 0, MAX_THRESH_LIMIT)? as u64;
                self.reconfigure(|p| p.max = max)
            }
            Write::MaxP => {
                let max_p = click_value::parse_probability(value.trim()).map_err(|_| HandlerError::BadValue("MAX_P must be between 0 and 1"))?;
                self.reconfigure(|p| p.max_p = u64::from(max_p))
            }
        }
    }

    fn link_storage(&mut self, queues: Vector<P, StorageLength<P>>, names: Vector<P, u8>) {
        self.queues = queues;
        self.names = names;
    }

    /// As in Click, a new RED keeps the old one's average queue length.
    fn take_state(&mut self, old: &Self) {
        let average = P::lock(&old.state).average;
        P::lock(&self.state).average = average;
    }
}
