//! InfiniteSource: a task that pushes copies of DATA, BURST per run, until LIMIT packets.
//!
//! DATA sits behind the platform's lock because the `data` handler may replace it while a
//! thread is making packets from it. The helpers at the end are RatedSource's too.

use crate::catalog::{base, int, keyword, positional, ArgKind, ElementClass, PortRange, TaskRule, MAX_BURST};
use crate::element::handler::{handlers, parse_bool, parse_int_in, reply, write_hex, HandlerError};
use crate::element::{Build, ConstructError, Cx, Element, NoMemory, PacketBuf, Platform, Vector};
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};

/// InfiniteSource's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    inputs: PortRange::exactly(0),
    processing: "/a",
    args: &[
        positional("DATA", ArgKind::String, None),
        positional("LIMIT", int(-1, i32::MAX as i64), Some("-1")),
        positional("BURST", int(1, MAX_BURST), Some("1")),
        positional("ACTIVE", ArgKind::Bool, Some("true")),
        keyword("STOP", ArgKind::Bool, Some("false")),
        keyword("LENGTH", int(0, 65535), Some("0")),
    ],
    task: TaskRule::WhenOutputPush,
    cost_cycles: 300,
    ..base("InfiniteSource", "Generates copies of DATA, as fast as allowed")
};

handlers! {
    pub enum Read {
        Count = "count": Integer,
        Active = "active": Boolean,
        Limit = "limit": Integer,
        Burst = "burst": Integer,
        Data = "data": Bytes,
    }
}

handlers! {
    pub enum Write {
        Reset = "reset": Action,
        Active = "active": Boolean,
        Limit = "limit": Integer,
        Burst = "burst": Integer,
        Data = "data": Bytes,
    }
}

/// Longest DATA accepted through the `data` handler.
const MAX_DATA: usize = 65535;

pub struct InfiniteSource<P: Platform> {
    /// Packet contents; LENGTH > 0 pads with zeros or cuts to that length.
    data: P::Locked<Vector<P, u8>>,
    length: usize,
    limit: AtomicI64,
    burst: AtomicU32,
    active: AtomicBool,
    /// STOP: once LIMIT is reached the source deactivates itself.
    stop: bool,
    /// Not carried over by a hotswap: as in Click, a new source sends its LIMIT afresh.
    count: AtomicU64,
}

impl<P: Platform> Element<P> for InfiniteSource<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(InfiniteSource {
            data: initial_data(build)?,
            length: build.int_as("LENGTH")?,
            limit: AtomicI64::new(build.int("LIMIT")?),
            burst: AtomicU32::new(build.int_as("BURST")?),
            active: AtomicBool::new(build.bool("ACTIVE")?),
            stop: build.args.bool("STOP").unwrap_or(false),
            count: AtomicU64::new(0),
        })
    }

    fn run_task(&self, cx: &Cx<'_, P>) -> bool {
        if !self.active.load(Relaxed) {
            return false;
        }
        let limit = self.limit.load(Relaxed);
        let mut sent = 0;
        for _ in 0..self.burst.load(Relaxed) {
            if limit_reached(limit, self.count.load(Relaxed)) {
                if self.stop {
                    self.active.store(false, Relaxed);
                }
                break;
            }
            let Some(packet) = make_packet::<P>(&self.data, self.length) else { break };
            self.count.fetch_add(1, Relaxed);
            cx.push(0, packet);
            sent += 1;
        }
        sent > 0
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        reply(match handler {
            Read::Count => write!(out, "{}", self.count.load(Relaxed)),
            Read::Active => write!(out, "{}", self.active.load(Relaxed)),
            Read::Limit => write!(out, "{}", self.limit.load(Relaxed)),
            Read::Burst => write!(out, "{}", self.burst.load(Relaxed)),
            Read::Data => return read_data::<P>(&self.data, out),
        })
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::Reset => self.count.store(0, Relaxed),
            Write::Active => self.active.store(parse_bool(value)?, Relaxed),
            Write::Limit => self.limit.store(parse_int_in(value, -1, i64::from(i32::MAX))?, Relaxed),
            // In range: parse_int_in bounds it to 1..=MAX_BURST.
            Write::Burst => self.burst.store(parse_int_in(value, 1, MAX_BURST)? as u32, Relaxed),
            Write::Data => write_data::<P>(&self.data, value)?,
        }
        Ok(())
    }
}

/// DATA as given (none is empty), behind its lock.
pub(super) fn initial_data<P: Platform>(build: &Build<'_, P>) -> Result<P::Locked<Vector<P, u8>>, NoMemory> {
    P::locked(Vector::from_slice(build.args.bytes("DATA").unwrap_or(&[]))?)
}

/// Whether `count` packets reach `limit`; a negative limit is none.
pub(super) fn limit_reached(limit: i64, count: u64) -> bool {
    u64::try_from(limit).is_ok_and(|limit| count >= limit)
}

/// A packet holding `data`, padded with zeros or cut to `length` when that is not 0; `None`
/// when memory is short. The packet is allocated under the lock, which is allowed: packet
/// allocation never sleeps.
pub(super) fn make_packet<P: Platform>(data: &P::Locked<Vector<P, u8>>, length: usize) -> Option<P::Packet> {
    let data = P::lock(data);
    let len = if length > 0 { length } else { data.len() };
    let mut packet = P::Packet::alloc(len)?;
    let bytes = packet.data_mut().ok()?;
    let n = len.min(data.len());
    if let (Some(dst), Some(src)) = (bytes.get_mut(..n), data.get(..n)) {
        dst.copy_from_slice(src);
    }
    Some(packet)
}

/// The `data` read: DATA as hex. Only copied under the lock, without sleeping; formatted after
/// it, since the reply may be long.
pub(super) fn read_data<P: Platform>(data: &P::Locked<Vector<P, u8>>, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
    let copy = Vector::<P, u8>::from_slice_atomic(&P::lock(data))?;
    write_hex(out, &copy)
}

/// The `data` write: the value's bytes become DATA. Allocated before the lock is taken; the old
/// DATA is freed after it is released.
pub(super) fn write_data<P: Platform>(data: &P::Locked<Vector<P, u8>>, value: &str) -> Result<(), HandlerError> {
    if value.len() > MAX_DATA {
        return Err(HandlerError::BadValue("DATA longer than 65535 bytes"));
    }
    let fresh = Vector::from_slice(value.as_bytes())?;
    let old = core::mem::replace(&mut *P::lock(data), fresh);
    drop(old);
    Ok(())
}
