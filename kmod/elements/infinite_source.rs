//! InfiniteSource: a task that pushes copies of DATA, BURST per run, until LIMIT packets.

use crate::sys::memcg::tenant_gfp;
use super::{boxed, int_arg, ConstructError};
use crate::engine::{handler::{parse_bool, parse_int_in, write_locked_hex, HandlerError, HandlerText}, Cx, Element};
use crate::packet::Packet;
use crate::portable::catalog::MAX_BURST;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::new_spinlock;
use kernel::prelude::*;
use kernel::sync::SpinLock;

/// Longest DATA accepted through the `data` handler.
const MAX_DATA: usize = 65535;

struct InfiniteSource {
    /// Packet contents; LENGTH > 0 pads with zeros or cuts to that length.
    data: Pin<KBox<SpinLock<KVec<u8>>>>,
    length: u32,
    limit: AtomicI64,
    burst: AtomicU32,
    active: AtomicBool,
    /// STOP: once LIMIT is reached the source deactivates itself.
    stop: bool,
    /// Not carried over by a hotswap: as in Click, a new source sends its LIMIT afresh.
    count: AtomicU64,
}

pub(super) fn construct(_: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    let mut data = KVec::new();
    data.extend_from_slice(args.bytes("DATA").unwrap_or(&[]), tenant_gfp())?;
    let source = InfiniteSource {
        data: KBox::pin_init(new_spinlock!(data, "vdp_source_data"), tenant_gfp())?,
        length: u32::try_from(int_arg(args, "LENGTH")?).map_err(|_| ConstructError::BadArgument("LENGTH"))?,
        limit: AtomicI64::new(int_arg(args, "LIMIT")?),
        burst: AtomicU32::new(u32::try_from(int_arg(args, "BURST")?).map_err(|_| ConstructError::BadArgument("BURST"))?),
        active: AtomicBool::new(args.bool("ACTIVE").ok_or(ConstructError::BadArgument("ACTIVE"))?),
        stop: args.bool("STOP").unwrap_or(false),
        count: AtomicU64::new(0),
    };
    boxed(source)
}

impl InfiniteSource {
    fn make_packet(&self) -> Option<Packet> {
        let data = self.data.lock();
        let len = if self.length > 0 { self.length as usize } else { data.len() };
        let mut packet = Packet::alloc(u32::try_from(len).ok()?)?;
        let bytes = packet.data_mut().ok()?;
        let n = len.min(data.len());
        if let (Some(dst), Some(src)) = (bytes.get_mut(..n), data.get(..n)) {
            dst.copy_from_slice(src);
        }
        Some(packet)
    }
}

impl Element for InfiniteSource {
    fn run_task(&self, cx: &Cx<'_>) -> bool {
        if !self.active.load(Relaxed) {
            return false;
        }
        let limit = self.limit.load(Relaxed);
        let mut sent = 0;
        for _ in 0..self.burst.load(Relaxed) {
            if limit >= 0 && self.count.load(Relaxed) >= limit as u64 {
                if self.stop {
                    self.active.store(false, Relaxed);
                }
                break;
            }
            let Some(packet) = self.make_packet() else { break };
            self.count.fetch_add(1, Relaxed);
            cx.push(0, packet);
            sent += 1;
        }
        sent > 0
    }

    fn read_handler(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        let written = match name {
            "count" => write!(out, "{}", self.count.load(Relaxed)),
            "active" => write!(out, "{}", self.active.load(Relaxed)),
            "limit" => write!(out, "{}", self.limit.load(Relaxed)),
            "burst" => write!(out, "{}", self.burst.load(Relaxed)),
            // Not formatted under the lock: formatting allocates.
            "data" => return write_locked_hex(out, &self.data),
            _ => return Err(HandlerError::NoSuchHandler),
        };
        written.map_err(|_| HandlerError::Refused("reply too long"))
    }

    fn write_handler(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        match name {
            "reset" => self.count.store(0, Relaxed),
            "active" => self.active.store(parse_bool(value)?, Relaxed),
            "limit" => self.limit.store(parse_int_in(value, -1, i64::from(i32::MAX))?, Relaxed),
            "burst" => self.burst.store(parse_int_in(value, 1, MAX_BURST)? as u32, Relaxed),
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
