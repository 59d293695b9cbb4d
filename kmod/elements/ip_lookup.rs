//! RadixIPLookup, LinearIPLookup and StaticIPLookup: longest-prefix-match routing on the
//! destination annotation, with Click's `add`/`remove`/`set`/`flush`/`table`/`lookup` handlers.
//!
//! All three share one table: the portable PATRICIA trie (`portable::lpm`), whose lookups visit
//! at most 33 nodes however many routes there are, over a block arena (`route_arena`). The
//! classes differ only in what the catalog lets a configuration do with them (StaticIPLookup has
//! no write handlers).
//!
//! Packets look routes up under a spinlock. Handler writes are serialised by a mutex and apply a
//! batch (one route per line) in slices of [`SLICE`] routes, taking the spinlock once per slice,
//! so even a 200k-route load never holds up the data path for long. A batch is all or nothing:
//! when one entry fails, the entries before it are undone, as Click's `ctrl` handler does.
//!
//! A hotswapped table of the same name and class keeps the running table, with every route the
//! handlers added or removed since, rather than starting again from its configuration.

use crate::sys::memcg::tenant_gfp;
use super::route_arena::{BlockArena, Block, MAX_ROUTES};
use super::{boxed, ConstructError};
use crate::engine::{handler::{HandlerError, HandlerText}, same_class, Cx, Element};
use crate::packet::Packet;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::{ArgValue, ElementArgs};
use crate::portable::lpm::{Lpm, LpmError, Prefix, Route};
use crate::portable::route_text::{self, LookupAnswer, RemoveEntry, TableLine};
use crate::portable::wire::ipv4::Address;
use core::fmt::Write;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex, SpinLock};
use kernel::{new_mutex, new_spinlock};

/// Routes applied per hold of the spinlock.
const SLICE: usize = 256;
/// More `table` lines than this (each at least 14 bytes) cannot fit one handler reply.
const MAX_TABLE_LINES: usize = crate::engine::handler::MAX_HANDLER_TEXT / 14 + 1;

/// The table and the lock that serialises writers; shared through an `Arc` so that a hotswapped
/// table of the same name can keep it.
struct Shared {
    table: Pin<KBox<SpinLock<Lpm<BlockArena>>>>,
    writer: Pin<KBox<Mutex<()>>>,
}

struct IpLookup {
    shared: Arc<Shared>,
    outputs: u16,
    writable: bool,
}

/// One entry of a write, parsed before anything changes.
#[derive(Clone, Copy)]
enum Op {
    Add(Prefix, Route),
    Set(Prefix, Route),
    Remove(RemoveEntry),
}

/// How to take back an applied entry.
#[derive(Clone, Copy)]
enum Undo {
    Remove(Prefix),
    Restore(Prefix, Route),
}

fn construct(view: &ElementView<'_>, args: &ElementArgs<'_>, writable: bool) -> Result<KBox<dyn Element>, ConstructError> {
    let table = Lpm::new(BlockArena::new()?);
    let shared = Shared {
        table: KBox::pin_init(new_spinlock!(table, "vdp_route_table"), tenant_gfp())?,
        writer: KBox::pin_init(new_mutex!((), "vdp_route_writer"), tenant_gfp())?,
    };
    let element = IpLookup { shared: Arc::new(shared, tenant_gfp())?, outputs: view.outputs, writable };
    let count = args.repeated_count() as usize;
    if count > MAX_ROUTES {
        return Err(ConstructError::BadArgument("too many routes"));
    }
    let mut ops = KVVec::with_capacity(count, tenant_gfp())?;
    for value in args.repeated() {
        let Ok(ArgValue::Route { addr, len, gateway, port }) = value else {
            return Err(ConstructError::BadArgument("route"));
        };
        let prefix = Prefix::new(Address(addr), len).map_err(|_| ConstructError::BadArgument("route prefix"))?;
        if port >= view.outputs {
            return Err(ConstructError::BadArgument("route output"));
        }
        // A configuration naming a prefix twice keeps the later route, as Click does.
        ops.push(Op::Set(prefix, Route { gateway: gateway.map(Address), port }), tenant_gfp())?;
    }
    element.apply(&ops).map_err(|e| match e {
        HandlerError::NoMemory => ConstructError::NoMemory,
        _ => ConstructError::BadArgument("routes"),
    })?;
    boxed(element)
}

pub(super) fn construct_radix(view: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    construct(view, args, true)
}

pub(super) fn construct_linear(view: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    construct(view, args, true)
}

pub(super) fn construct_static(view: &ElementView<'_>, args: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    construct(view, args, false)
}

fn refused(error: LpmError) -> HandlerError {
    HandlerError::Refused(error.describe())
}

impl IpLookup {
    /// Makes sure the arena can take `routes` more routes (two nodes each) without allocating
    /// under the spinlock.
    fn reserve(&self, routes: usize) -> Result<(), HandlerError> {
        let needed = routes.saturating_mul(2);
        loop {
            {
                let table = self.shared.table.lock();
                if table.arena().available() >= needed {
                    return Ok(());
                }
                if table.len().saturating_add(routes) > MAX_ROUTES || !table.arena().can_grow() {
                    return Err(refused(LpmError::Full));
                }
            }
            let block = Block::new().map_err(|_| HandlerError::NoMemory)?;
            if self.shared.table.lock().arena_mut().add_block(block).is_err() {
                return Err(refused(LpmError::Full));
            }
        }
    }

    /// Applies `ops` in order, all or nothing. The caller holds no lock.
    fn apply(&self, ops: &[Op]) -> Result<(), HandlerError> {
        let _writer = self.shared.writer.lock();
        let growing = ops.iter().filter(|op| !matches!(op, Op::Remove(_))).count();
        self.reserve(growing)?;
        let mut undo: KVVec<Undo> = KVVec::with_capacity(ops.len(), tenant_gfp()).map_err(|_| HandlerError::NoMemory)?;
        let mut failure = None;
        'slices: for slice in ops.chunks(SLICE) {
            let mut table = self.shared.table.lock();
            for op in slice {
                let step = match *op {
                    Op::Add(prefix, route) => table.add(prefix, route).map(|()| Undo::Remove(prefix)),
                    Op::Set(prefix, route) => table.set(prefix, route).map(|old| match old {
                        Some(old) => Undo::Restore(prefix, old),
                        None => Undo::Remove(prefix),
                    }),
                    Op::Remove(entry) => match table.get(entry.prefix) {
                        Some(route) if entry.matches(&route) => {
                            table.remove(entry.prefix).map(|route| Undo::Restore(entry.prefix, route))
                        }
                        _ => Err(LpmError::NotFound),
                    },
                };
                match step {
                    // Capacity for one entry per op was reserved above.
                    Ok(step) => {
                        let _ = undo.push_within_capacity(step);
                    }
                    Err(error) => {
                        failure = Some(error);
                        break 'slices;
                    }
                }
            }
        }
        let Some(error) = failure else { return Ok(()) };
        // Undo never needs new nodes: a restored route takes back the nodes its removal freed.
        for chunk in undo.rchunks(SLICE) {
            let mut table = self.shared.table.lock();
            for step in chunk.iter().rev() {
                let _ = match *step {
                    Undo::Remove(prefix) => table.remove(prefix).map(|_| ()),
                    Undo::Restore(prefix, route) => table.set(prefix, route).map(|_| ()),
                };
            }
        }
        Err(refused(error))
    }

    fn parse_ops(&self, name: &str, value: &str) -> Result<KVVec<Op>, HandlerError> {
        let mut ops = KVVec::new();
        for entry in route_text::entries(value) {
            let op = match name {
                "add" | "set" => {
                    let (prefix, route) = route_text::parse_add(entry, self.outputs).map_err(|e| HandlerError::BadValue(e.describe()))?;
                    if name == "add" { Op::Add(prefix, route) } else { Op::Set(prefix, route) }
                }
                _ => Op::Remove(route_text::parse_remove(entry).map_err(|e| HandlerError::BadValue(e.describe()))?),
            };
            ops.push(op, tenant_gfp()).map_err(|_| HandlerError::NoMemory)?;
        }
        if ops.is_empty() {
            return Err(HandlerError::BadValue("expected a route: ADDR/LEN [GATEWAY] OUTPUT"));
        }
        Ok(ops)
    }

    fn flush(&self) {
        let _writer = self.shared.writer.lock();
        // Detach the nodes under the lock; the blocks stay with the arena for the next load.
        self.shared.table.lock().clear();
    }
}

impl Element for IpLookup {
    fn push(&self, cx: &Cx<'_>, _port: u16, mut packet: Packet) {
        // Click routes on the destination annotation (CheckIPHeader and GetIPAddress set it);
        // without one, the destination field of an IP header at the packet's start is used.
        let destination = packet.dst_ip_anno().or_else(|| {
            let data = packet.data();
            let offset = packet.network_offset().unwrap_or(0);
            let field = data.get(offset.checked_add(16)?..offset.checked_add(20)?)?;
            let mut address = [0u8; 4];
            address.copy_from_slice(field);
            Some(address)
        });
        let Some(destination) = destination else {
            drop(packet);
            return;
        };
        let route = self.shared.table.lock().lookup(Address(destination));
        match route {
            Some(route) => {
                if let Some(gateway) = route.gateway {
                    packet.set_dst_ip_anno(gateway.0);
                } else if packet.dst_ip_anno().is_none() {
                    packet.set_dst_ip_anno(destination);
                }
                cx.push(route.port, packet);
            }
            // No route: Click drops the packet.
            None => drop(packet),
        }
    }

    fn read_handler(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        let too_long = |_| HandlerError::Refused("reply too long");
        // `lookup ADDR`: a read handler with a parameter, as in Click.
        if let Some(address) = name.strip_prefix("lookup") {
            let address = crate::portable::click_value::parse_ipv4(address.trim())
                .map_err(|_| HandlerError::BadValue("expected lookup ADDR"))?;
            let route = self.shared.table.lock().lookup(Address(address));
            return write!(out, "{}", LookupAnswer(route)).map_err(too_long);
        }
        match name {
            "table" => {
                // Routes are copied out under the lock into room reserved before it, and only
                // formatted afterwards: formatting allocates, which a spinlock forbids.
                let mut routes = KVVec::with_capacity(MAX_TABLE_LINES, tenant_gfp())
                    .map_err(|_| HandlerError::NoMemory)?;
                let mut more = false;
                self.shared.table.lock().for_each(|prefix, route| {
                    if routes.push_within_capacity((prefix, route)).is_err() {
                        more = true;
                    }
                });
                if more {
                    return Err(HandlerError::Refused("table too large for one reply"));
                }
                routes.iter().try_for_each(|(prefix, route)| write!(out, "{}", TableLine(*prefix, *route))).map_err(too_long)
            }
            _ => Err(HandlerError::NoSuchHandler),
        }
    }

    /// Shares the old element's table, when every route in it names an output this element has;
    /// otherwise the configuration's routes stand.
    fn take_state(&mut self, old: &dyn Element) {
        if let Some(old) = same_class::<IpLookup>(old) {
            if old.outputs <= self.outputs {
                self.shared = old.shared.clone();
            }
        }
    }

    fn write_handler(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        if !self.writable {
            return Err(HandlerError::NoSuchHandler);
        }
        match name {
            "add" | "set" | "remove" => {
                let ops = self.parse_ops(name, value)?;
                self.apply(&ops)
            }
            "flush" => {
                self.flush();
                Ok(())
            }
            _ => Err(HandlerError::NoSuchHandler),
        }
    }
}
