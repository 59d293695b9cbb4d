//! RadixIPLookup, LinearIPLookup and StaticIPLookup: longest-prefix-match routing on the
//! destination annotation, with Click's `add`/`remove`/`set`/`flush`/`table`/`lookup` handlers.
//!
//! All three share one table: the portable PATRICIA trie (`lpm`), whose lookups visit at most
//! 33 nodes however many routes there are, over a block arena (`route_arena`). The classes
//! differ only in what the catalog lets a configuration do with them (StaticIPLookup has no
//! write handlers).
//!
//! Packets look routes up under the platform's spinlock. Handler writes are serialised by the
//! platform's writer lock and apply a batch (one route per line) in slices of [`SLICE`] routes,
//! taking the spinlock once per slice, so even a 200k-route load never holds up the data path
//! for long. A batch is all or nothing: when one entry fails, the entries before it are undone,
//! as Click's `ctrl` handler does.
//!
//! A hotswapped table of the same name and class keeps the running table, with every route the
//! handlers added or removed since, rather than starting again from its configuration.

use super::route_arena::{Block, BlockArena, MAX_BLOCKS, MAX_ROUTES};
use crate::catalog::{base, ArgKind, ElementClass, OutputRule, PortRange, RepeatedArgs, Resource};
use crate::element::handler::{handlers, reply, HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, Cx, Element, PacketBuf, Platform, Vector};
use crate::element_args::ArgValue;
use crate::lpm::{Lpm, LpmError, Prefix, Route};
use crate::route_text::{self, LookupAnswer, RemoveEntry, TableLine};
use crate::uapi::HANDLER_VALUE_MAX;
use crate::wire::ipv4::Address;
use core::fmt;

const ROUTES: Option<RepeatedArgs> = Some(RepeatedArgs { kind: ArgKind::Route, min: 0, noun: "route" });

/// RadixIPLookup's catalog entry (its id and handler tables come from the registry).
pub const RADIX: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    output_rule: OutputRule::CoversRoutes,
    processing: "h/h",
    repeated: ROUTES,
    cost_cycles: 1000,
    resource: Resource::TableEntries,
    ..base("RadixIPLookup", "Longest-prefix-match routing with a radix trie")
};

/// LinearIPLookup's catalog entry (its id and handler tables come from the registry).
pub const LINEAR: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    output_rule: OutputRule::CoversRoutes,
    processing: "h/h",
    repeated: ROUTES,
    cost_cycles: 200,
    cost_per_entry: 40,
    resource: Resource::TableEntries,
    ..base("LinearIPLookup", "Longest-prefix-match routing by a linear scan")
};

/// StaticIPLookup's catalog entry (its id and handler tables come from the registry).
pub const STATIC: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    output_rule: OutputRule::CoversRoutes,
    processing: "h/h",
    repeated: ROUTES,
    cost_cycles: 200,
    cost_per_entry: 40,
    resource: Resource::TableEntries,
    ..base("StaticIPLookup", "LinearIPLookup whose table cannot be changed at run time")
};

/// The read handlers: `table`, and `lookup ADDR`.
pub use crate::element::handler::TableLookup as Read;

handlers! {
    pub enum Write {
        Add = "add": Lines,
        Remove = "remove": Lines,
        Set = "set": Lines,
        Flush = "flush": Action,
    }
}

/// Routes applied per hold of the spinlock.
const SLICE: usize = 256;
/// More `table` lines than this (each at least 14 bytes) cannot fit one handler reply.
const MAX_TABLE_LINES: usize = HANDLER_VALUE_MAX / 14 + 1;

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

fn refused(error: LpmError) -> HandlerError {
    HandlerError::Refused(error.describe())
}

/// The table of all three classes. The table and the lock that serialises its writers are both
/// reference-counted, so a hotswapped table of the same name can keep them.
struct Table<P: Platform> {
    routes: P::Locked<Lpm<BlockArena<P>>>,
    writer: P::Writer,
    outputs: u16,
}

impl<P: Platform> Table<P> {
    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let outputs = build.outputs();
        let table = Table { routes: P::locked(Lpm::new(BlockArena::new()?))?, writer: P::writer()?, outputs };
        let count = build.args.repeated_count() as usize;
        if count > MAX_ROUTES {
            return Err(ConstructError::BadArgument("too many routes"));
        }
        let mut ops: Vector<P, Op> = Vector::with_capacity(count)?;
        for value in build.args.repeated() {
            let Ok(ArgValue::Route { addr, len, gateway, port }) = value else {
                return Err(ConstructError::BadArgument("route"));
            };
            let prefix = Prefix::new(Address(addr), len).map_err(|_| ConstructError::BadArgument("route prefix"))?;
            if port >= outputs {
                return Err(ConstructError::BadArgument("route output"));
            }
            // A configuration naming a prefix twice keeps the later route, as Click does.
            ops.push(Op::Set(prefix, Route { gateway: gateway.map(Address), port }))?;
        }
        table.apply(&ops).map_err(|e| match e {
            HandlerError::NoMemory => ConstructError::NoMemory,
            _ => ConstructError::BadArgument("routes"),
        })?;
        Ok(table)
    }

    /// Makes sure the arena can take `routes` more routes (two nodes each) without allocating
    /// under the spinlock. The caller holds the writer lock, so no other writer adds blocks in
    /// between; each round adds a block or returns, so it takes at most `MAX_BLOCKS + 1`.
    fn reserve(&self, routes: usize) -> Result<(), HandlerError> {
        let needed = routes.saturating_mul(2);
        for _ in 0..=MAX_BLOCKS {
            {
                let table = P::lock(&self.routes);
                if table.arena().available() >= needed {
                    return Ok(());
                }
                if table.len().saturating_add(routes) > MAX_ROUTES || !table.arena().can_grow() {
                    return Err(refused(LpmError::Full));
                }
            }
            // Allocated with the spinlock released, linked in under it.
            let block = Block::new()?;
            if P::lock(&self.routes).arena_mut().add_block(block).is_err() {
                return Err(refused(LpmError::Full));
            }
        }
        Err(refused(LpmError::Full))
    }

    /// Applies `ops` in order, all or nothing. The caller holds no lock.
    fn apply(&self, ops: &[Op]) -> Result<(), HandlerError> {
        P::write_serialised(&self.writer, || {
            let growing = ops.iter().filter(|op| !matches!(op, Op::Remove(_))).count();
            self.reserve(growing)?;
            let mut undo: Vector<P, Undo> = Vector::with_capacity(ops.len())?;
            let mut failure = None;
            'slices: for slice in ops.chunks(SLICE) {
                let mut table = P::lock(&self.routes);
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
                let mut table = P::lock(&self.routes);
                for step in chunk.iter().rev() {
                    let _ = match *step {
                        Undo::Remove(prefix) => table.remove(prefix).map(|_| ()),
                        Undo::Restore(prefix, route) => table.set(prefix, route).map(|_| ()),
                    };
                }
            }
            Err(refused(error))
        })
    }

    fn parse_ops(&self, handler: Write, value: &str) -> Result<Vector<P, Op>, HandlerError> {
        let mut ops = Vector::new();
        for entry in route_text::entries(value) {
            let op = match handler {
                Write::Add | Write::Set => {
                    let (prefix, route) =
                        route_text::parse_add(entry, self.outputs).map_err(|e| HandlerError::BadValue(e.describe()))?;
                    if handler == Write::Add {
                        Op::Add(prefix, route)
                    } else {
                        Op::Set(prefix, route)
                    }
                }
                _ => Op::Remove(route_text::parse_remove(entry).map_err(|e| HandlerError::BadValue(e.describe()))?),
            };
            ops.push(op)?;
        }
        if ops.is_empty() {
            return Err(HandlerError::BadValue("expected a route: ADDR/LEN [GATEWAY] OUTPUT"));
        }
        Ok(ops)
    }

    fn flush(&self) {
        P::write_serialised(&self.writer, || {
            // Detach the nodes under the lock; the blocks stay with the arena for the next load.
            P::lock(&self.routes).clear();
        });
    }

    fn push(&self, cx: &Cx<'_, P>, mut packet: P::Packet) {
        // Click routes on the destination annotation (CheckIPHeader and GetIPAddress set it);
        // without one, the destination field of the IP header at the network offset (the
        // packet's start when none is marked) is used.
        let destination = packet.dst_ip_anno().or_else(|| {
            let offset = packet.network_offset().unwrap_or(0);
            let field = packet.data().get(offset.checked_add(16)?..offset.checked_add(20)?)?;
            <[u8; 4]>::try_from(field).ok()
        });
        let Some(destination) = destination else {
            cx.drop_packet(packet);
            return;
        };
        let route = P::lock(&self.routes).lookup(Address(destination));
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
            None => cx.drop_packet(packet),
        }
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Lookup(address) => {
                let address = address.ok_or(HandlerError::BadValue("expected lookup ADDR"))?;
                let route = P::lock(&self.routes).lookup(Address(address));
                reply(write!(out, "{}", LookupAnswer(route)))
            }
            Read::Table => {
                // Routes are copied out in one hold of the lock, into room reserved before it,
                // and only formatted afterwards: formatting grows `out`, and growing allocates,
                // which a spinlock forbids.
                let mut routes: Vector<P, (Prefix, Route)> = Vector::with_capacity(MAX_TABLE_LINES)?;
                let mut more = false;
                P::lock(&self.routes).for_each(|prefix, route| {
                    if routes.push_within_capacity((prefix, route)).is_err() {
                        more = true;
                    }
                });
                if more {
                    return Err(HandlerError::Refused("table too large for one reply"));
                }
                reply(routes.iter().try_for_each(|(prefix, route)| write!(out, "{}", TableLine(*prefix, *route))))
            }
        }
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::Add | Write::Set | Write::Remove => {
                let ops = self.parse_ops(handler, value)?;
                self.apply(&ops)
            }
            Write::Flush => {
                self.flush();
                Ok(())
            }
        }
    }

    /// Shares the old element's table, when every route in it names an output this element has;
    /// otherwise the configuration's routes stand.
    fn take_state(&mut self, old: &Self) {
        if old.outputs <= self.outputs {
            self.routes = old.routes.clone();
            self.writer = old.writer.clone();
        }
    }
}

/// RadixIPLookup and LinearIPLookup.
pub struct IpLookup<P: Platform>(Table<P>);

impl<P: Platform> Element<P> for IpLookup<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(IpLookup(Table::construct(build)?))
    }

    fn push(&self, cx: &Cx<'_, P>, _port: u16, packet: P::Packet) {
        self.0.push(cx, packet);
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        self.0.read(handler, out)
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        self.0.write(handler, value)
    }

    fn take_state(&mut self, old: &Self) {
        self.0.take_state(&old.0);
    }
}

/// StaticIPLookup: the same table without write handlers.
pub struct StaticIpLookup<P: Platform>(Table<P>);

impl<P: Platform> Element<P> for StaticIpLookup<P> {
    type Read = Read;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        Ok(StaticIpLookup(Table::construct(build)?))
    }

    fn push(&self, cx: &Cx<'_, P>, _port: u16, packet: P::Packet) {
        self.0.push(cx, packet);
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        self.0.read(handler, out)
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }

    fn take_state(&mut self, old: &Self) {
        self.0.take_state(&old.0);
    }
}
