//! The rate-limited elements: BandwidthShaper (bytes/s on a pull path), RatedUnqueue (a task
//! moving RATE packets/s) and RatedSource (a source of RATE packets/s). Each spends tokens from
//! the portable core's token bucket, clocked in nanoseconds.
//!
//! An element held back by its rate asks to be run again when the next token is due
//! (`Cx::wake_at`), so its thread sleeps until then rather than polling the bucket.

use crate::sys::memcg::tenant_gfp;
use super::{boxed, int_arg, ConstructError};
use crate::engine::{handler::{parse_bool, parse_int_in, write_locked_hex, HandlerError, HandlerText}, Cx, Element};
use crate::packet::Packet;
use crate::portable::click_value::parse_bandwidth;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::{ArgValue, ElementArgs};
use crate::portable::token_bucket::TokenBucket;
use crate::sys::time::now_ns;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use kernel::new_spinlock;
use kernel::prelude::*;
use kernel::sync::SpinLock;

const MAX_PACKET_RATE: i64 = 100_000_000;
/// Most packets a rated task moves per run, however many tokens it has saved, so one run stays
/// bounded at high rates; a task that hits it reports work and is run again.
const RUN_LIMIT: u32 = crate::portable::catalog::MAX_BURST as u32;
/// Longest DATA accepted through RatedSource's `data` handler.
const MAX_DATA: usize = 65535;

fn too_long(_: core::fmt::Error) -> HandlerError {
    HandlerError::Refused("reply too long")
}

/// A packet-rate bucket: bursts of at most a fiftieth of a second's packets (at least one), so
/// rates hold over short windows.
fn packet_bucket(rate: u64) -> TokenBucket {
    TokenBucket::new_empty(rate, (rate / 50).max(1), now_ns())
}

/// Asks for the running task to run again when `bucket` next holds a token. A bucket that
/// never refills (no rate) asks for nothing: only a handler write can change it, and writes
/// ring the doorbell.
fn wake_for_token(cx: &Cx<'_>, bucket: &mut TokenBucket, now: u64) {
    if let Some(wait) = bucket.time_until(now, 1) {
        cx.wake_at(now.saturating_add(wait));
    }
}

struct BandwidthShaper {
    bucket: Pin<KBox<SpinLock<TokenBucket>>>,
}

pub(super) fn construct_shaper(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let Some(ArgValue::Bandwidth(rate)) = args.value("RATE") else { return Err(ConstructError::BadArgument("RATE")) };
    // A burst of a fiftieth of a second's bytes, but at least one full-sized packet.
    let bucket = TokenBucket::new(rate, (rate / 50).max(1514), now_ns());
    boxed(BandwidthShaper { bucket: KBox::pin_init(new_spinlock!(bucket, "vdp_shaper"), tenant_gfp())? })
}

impl Element for BandwidthShaper {
    /// Lets a packet through while the bucket holds tokens and charges its length, so a large
    /// packet may borrow against the tokens to come, as in Click.
    fn pull(&self, cx: &Cx<'_>, _port: u16) -> Option<Packet> {
        {
            let now = now_ns();
            let mut bucket = self.bucket.lock();
            if !bucket.has_tokens(now) {
                wake_for_token(cx, &mut bucket, now);
                return None;
            }
        }
        let packet = cx.pull(0)?;
        self.bucket.lock().charge(now_ns(), packet.len() as u64);
        Some(packet)
    }

    fn read_handler(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        match name {
            "rate" => {
                // Read under the lock, format after it: formatting allocates.
                let rate = self.bucket.lock().rate();
                write!(out, "{}Bps", rate).map_err(too_long)
            }
            _ => Err(HandlerError::NoSuchHandler),
        }
    }

    fn write_handler(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        match name {
            "rate" => {
                let rate = parse_bandwidth(value.trim()).map_err(|e| HandlerError::BadValue(e.describe()))?;
                let now = now_ns();
                let mut bucket = self.bucket.lock();
                bucket.set_rate(now, rate);
                bucket.set_burst(now, (rate / 50).max(1514));
                Ok(())
            }
            _ => Err(HandlerError::NoSuchHandler),
        }
    }
}

struct RatedUnqueue {
    bucket: Pin<KBox<SpinLock<TokenBucket>>>,
    active: AtomicBool,
    count: AtomicU64,
}

pub(super) fn construct_unqueue(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let rate = u64::try_from(int_arg(args, "RATE")?).map_err(|_| ConstructError::BadArgument("RATE"))?;
    boxed(RatedUnqueue {
        bucket: KBox::pin_init(new_spinlock!(packet_bucket(rate), "vdp_rated_unqueue"), tenant_gfp())?,
        active: AtomicBool::new(args.bool("ACTIVE").unwrap_or(true)),
        count: AtomicU64::new(0),
    })
}

impl Element for RatedUnqueue {
    fn run_task(&self, cx: &Cx<'_>) -> bool {
        if !self.active.load(Relaxed) {
            return false;
        }
        let mut moved = false;
        for _ in 0..RUN_LIMIT {
            {
                let now = now_ns();
                let mut bucket = self.bucket.lock();
                if !bucket.try_take(now, 1) {
                    // Held back by the rate: run again when the next token is due.
                    wake_for_token(cx, &mut bucket, now);
                    return moved;
                }
            }
            let Some(packet) = cx.pull(0) else {
                // Nothing to send: the token stays for the next packet; an upstream queue
                // rings when it fills.
                self.bucket.lock().refund(now_ns(), 1);
                return moved;
            };
            self.count.fetch_add(1, Relaxed);
            cx.push(0, packet);
            moved = true;
        }
        moved
    }

    fn read_handler(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        match name {
            "rate" => {
                let rate = self.bucket.lock().rate();
                write!(out, "{}", rate)
            }
            "active" => write!(out, "{}", self.active.load(Relaxed)),
            "count" => write!(out, "{}", self.count.load(Relaxed)),
            _ => return Err(HandlerError::NoSuchHandler),
        }
        .map_err(too_long)
    }

    fn write_handler(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        match name {
            "rate" => {
                let rate = parse_int_in(value, 1, MAX_PACKET_RATE)? as u64;
                *self.bucket.lock() = packet_bucket(rate);
            }
            "active" => self.active.store(parse_bool(value)?, Relaxed),
            "reset" => self.count.store(0, Relaxed),
            _ => return Err(HandlerError::NoSuchHandler),
        }
        Ok(())
    }
}

struct RatedSource {
    data: Pin<KBox<SpinLock<KVec<u8>>>>,
    /// LENGTH > 0 pads DATA with zeros or cuts it to that length.
    length: u32,
    bucket: Pin<KBox<SpinLock<TokenBucket>>>,
    limit: AtomicI64,
    active: AtomicBool,
    stop: bool,
    count: AtomicU64,
}

pub(super) fn construct_source(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let mut data = KVec::new();
    data.extend_from_slice(args.bytes("DATA").unwrap_or(&[]), tenant_gfp())?;
    let rate = u64::try_from(int_arg(args, "RATE")?).map_err(|_| ConstructError::BadArgument("RATE"))?;
    boxed(RatedSource {
        data: KBox::pin_init(new_spinlock!(data, "vdp_rated_source_data"), tenant_gfp())?,
        length: u32::try_from(int_arg(args, "LENGTH")?).map_err(|_| ConstructError::BadArgument("LENGTH"))?,
        bucket: KBox::pin_init(new_spinlock!(packet_bucket(rate), "vdp_rated_source"), tenant_gfp())?,
        limit: AtomicI64::new(int_arg(args, "LIMIT")?),
        active: AtomicBool::new(args.bool("ACTIVE").unwrap_or(true)),
        stop: args.bool("STOP").unwrap_or(false),
        count: AtomicU64::new(0),
    })
}

impl RatedSource {
    fn limit_reached(&self) -> bool {
        let limit = self.limit.load(Relaxed);
        let reached = limit >= 0 && self.count.load(Relaxed) >= limit as u64;
        if reached && self.stop {
            self.active.store(false, Relaxed);
        }
        reached
    }

    /// The next packet if the source is active, under its limit, and its rate allows one now.
    fn next_packet(&self, cx: &Cx<'_>) -> Option<Packet> {
        if !self.active.load(Relaxed) || self.limit_reached() {
            return None;
        }
        {
            let now = now_ns();
            let mut bucket = self.bucket.lock();
            if !bucket.try_take(now, 1) {
                wake_for_token(cx, &mut bucket, now);
                return None;
            }
        }
        let packet = {
            let data = self.data.lock();
            let len = if self.length > 0 { self.length as usize } else { data.len() };
            let mut packet = Packet::alloc(u32::try_from(len).ok()?)?;
            let n = len.min(data.len());
            let bytes = packet.data_mut().ok()?;
            if let (Some(dst), Some(src)) = (bytes.get_mut(..n), data.get(..n)) {
                dst.copy_from_slice(src);
            }
            packet
        };
        self.count.fetch_add(1, Relaxed);
        Some(packet)
    }
}

impl Element for RatedSource {
    fn run_task(&self, cx: &Cx<'_>) -> bool {
        let mut sent = false;
        for _ in 0..RUN_LIMIT {
            let Some(packet) = self.next_packet(cx) else { break };
            cx.push(0, packet);
            sent = true;
        }
        sent
    }

    fn pull(&self, cx: &Cx<'_>, _port: u16) -> Option<Packet> {
        self.next_packet(cx)
    }

    fn read_handler(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        match name {
            "count" => write!(out, "{}", self.count.load(Relaxed)),
            "active" => write!(out, "{}", self.active.load(Relaxed)),
            "limit" => write!(out, "{}", self.limit.load(Relaxed)),
            "rate" => {
                let rate = self.bucket.lock().rate();
                write!(out, "{}", rate)
            }
            "data" => return write_locked_hex(out, &self.data),
            _ => return Err(HandlerError::NoSuchHandler),
        }
        .map_err(too_long)
    }

    fn write_handler(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        match name {
            "reset" => self.count.store(0, Relaxed),
            "active" => self.active.store(parse_bool(value)?, Relaxed),
            "limit" => self.limit.store(parse_int_in(value, -1, i64::from(i32::MAX))?, Relaxed),
            "rate" => {
                let rate = parse_int_in(value, 1, MAX_PACKET_RATE)? as u64;
                *self.bucket.lock() = packet_bucket(rate);
            }
            "data" => {
                if value.len() > MAX_DATA {
                    return Err(HandlerError::BadValue("DATA longer than 65535 bytes"));
                }
                let mut fresh = KVec::new();
                fresh.extend_from_slice(value.as_bytes(), tenant_gfp()).map_err(|_| HandlerError::NoMemory)?;
                *self.data.lock() = fresh;
            }
            _ => return Err(HandlerError::NoSuchHandler),
        }
        Ok(())
    }
}
