//! ARPQuerier: puts IP packets in Ethernet headers, finding the destination's Ethernet address
//! by ARP, as Click's ARPQuerier does.
//!
//! Input 0 takes IP packets whose destination annotation is set; each gets a 14-byte header
//! (EtherType 0x0800, source ETH) and leaves by output 0 once the annotation's address is known.
//! An unknown address's packets are held in the table (`library/arp_table.rs`) and a query goes
//! out, by output 1 when there are two outputs and by output 0 otherwise; an ARP reply arriving
//! on input 1 (with its Ethernet header) records the address and sends the held packets, in the
//! order they came. 255.255.255.255 and the BROADCAST address go to ff:ff:ff:ff:ff:ff, multicast
//! addresses to 01:00:5e and the address's low 23 bits, and 0.0.0.0 (or no annotation) is
//! dropped.
//!
//! The table's storage is allocated when the element is built (ENTRY_CAPACITY entries,
//! CAPACITY held packets), so a packet the table knows the address of costs a lock, a hash
//! lookup and the header; only queries allocate a packet. Where vdp differs from Click (every
//! capacity is bounded, there is no separate ARPTable, expired entries are swept at the first
//! packet after the sweep is due), `docs/elements.md` says so.

use super::arp_table::{ArpTable, Held, Limits, Resolved, Row};
use crate::catalog::{base, int, keyword, required, ArgKind, ElementClass, PortRange, Resource, MAX_QUEUE_CAPACITY};
use crate::click_value;
use crate::element::handler::{handlers, reply, HandlerError, MAX_HANDLER_TEXT};
use crate::element::{Build, ConstructError, Cx, Element, PacketBuf, Platform, Vector};
use crate::element_args::ArgValue;
use crate::wire::arp::{FrameRepr, Operation, Packet as ArpPacket, FRAME_LEN};
use crate::wire::ethernet::{self, Address as EtherAddress, EtherType, Frame};
use crate::wire::ipv4::Address as Ipv4Address;
use core::fmt;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// Most entries an ARPQuerier's table may have (ENTRY_CAPACITY), about 1 MiB of them.
pub const MAX_ARP_ENTRIES: i64 = 16384;

/// ARPQuerier's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    inputs: PortRange::exactly(2),
    outputs: PortRange::between(1, 2),
    processing: "h/h",
    args: &[
        required("IP", ArgKind::Ipv4Prefix),
        required("ETH", ArgKind::EtherAddr),
        keyword("CAPACITY", int(1, MAX_QUEUE_CAPACITY), Some("2048")),
        keyword("ENTRY_CAPACITY", int(1, MAX_ARP_ENTRIES), Some("1024")),
        keyword("ENTRY_PACKET_CAPACITY", int(0, MAX_QUEUE_CAPACITY), Some("0")),
        keyword("CAPACITY_SLIM_FACTOR", int(1, u32::MAX as i64), Some("2")),
        keyword("TIMEOUT", ArgKind::Time, Some("5min")),
        keyword("POLL_TIMEOUT", ArgKind::Time, Some("1min")),
        keyword("BROADCAST", ArgKind::Ipv4Addr, None),
        keyword("BROADCAST_POLL", ArgKind::Bool, Some("false")),
    ],
    cost_cycles: 350,
    resource: Resource::QueueCapacity("CAPACITY"),
    ..base("ARPQuerier", "Encapsulates IP packets in Ethernet headers found by ARP")
};

handlers! {
    pub enum Read {
        Table = "table": Lines,
        Stats = "stats": Lines,
        Queries = "queries": Integer,
        Responses = "responses": Integer,
        Drops = "drops": Integer,
        Count = "count": Integer,
        Length = "length": Integer,
        Broadcast = "broadcast": Lines,
        Ipaddr = "ipaddr": Lines,
    }
}

handlers! {
    pub enum Write {
        Insert = "insert": Lines,
        Delete = "delete": Lines,
        Clear = "clear": Action,
        Broadcast = "broadcast": Lines,
        Ipaddr = "ipaddr": Lines,
    }
}

/// `table` rows that can fit one reply: each line is at least 37 bytes.
const MAX_TABLE_ROWS: usize = MAX_HANDLER_TEXT / 37 + 1;

/// The counters, shared with the element of the same name after a hotswap.
struct Counters {
    queries: AtomicU64,
    responses: AtomicU64,
    /// Packets the element itself dropped (no address, no room for the header); the table
    /// counts its own.
    drops: AtomicU64,
}

pub struct ArpQuerier<P: Platform> {
    table: P::Locked<ArpTable<P>>,
    counters: P::Shared<Counters>,
    /// This host's IP address and IP broadcast address (`u32::from_be_bytes`), both writable.
    ip: AtomicU32,
    broadcast: AtomicU32,
    ether: [u8; 6],
    poll_timeout_ns: u64,
    broadcast_poll: bool,
    /// Queries leave by the last output.
    query_port: u16,
}

fn ip_bits(address: [u8; 4]) -> u32 {
    u32::from_be_bytes(address)
}

fn parse_ip(value: &str) -> Result<[u8; 4], HandlerError> {
    click_value::parse_ipv4(value.trim()).map_err(|e| HandlerError::BadValue(e.describe()))
}

/// The Ethernet address multicast IP address `ip` maps to (RFC 1112).
fn multicast_ether(ip: [u8; 4]) -> [u8; 6] {
    [0x01, 0x00, 0x5e, ip[1] & 0x7f, ip[2], ip[3]]
}

impl<P: Platform> ArpQuerier<P> {
    fn drop_counted(&self, cx: &Cx<'_, P>, packet: P::Packet) {
        self.counters.drops.fetch_add(1, Relaxed);
        cx.drop_packet(packet);
    }

    /// Sends an Ethernet-headed packet to `ether` from this host's address by output 0.
    fn send(&self, cx: &Cx<'_, P>, mut packet: P::Packet, ether: [u8; 6]) {
        match packet.data_mut() {
            Ok(data) => {
                let mut frame = Frame::new_unchecked(data);
                frame.set_dst_addr(EtherAddress(ether));
                frame.set_src_addr(EtherAddress(self.ether));
            }
            Err(_) => return self.drop_counted(cx, packet),
        }
        cx.push(0, packet);
    }

    /// Sends a query for `target`: to `known` when renewing a known entry (unless
    /// BROADCAST_POLL), to the broadcast address otherwise. A query that cannot be allocated is
    /// not sent, as in Click.
    fn send_query(&self, cx: &Cx<'_, P>, target: [u8; 4], known: Option<[u8; 6]>) {
        let destination = match known {
            Some(ether) if !self.broadcast_poll => EtherAddress(ether),
            _ => EtherAddress::BROADCAST,
        };
        let Some(mut query) = P::Packet::alloc(FRAME_LEN) else { return };
        let Ok(data) = query.data_mut() else { return };
        let repr = FrameRepr {
            eth_dst: destination,
            eth_src: EtherAddress(self.ether),
            operation: Operation::Request,
            sender_hardware: EtherAddress(self.ether),
            sender_protocol: Ipv4Address(self.ip.load(Relaxed).to_be_bytes()),
            target_hardware: EtherAddress::ZERO,
            target_protocol: Ipv4Address(target),
        };
        if repr.emit(data).is_err() {
            return;
        }
        self.counters.queries.fetch_add(1, Relaxed);
        cx.push(self.query_port, query);
    }

    /// Input 0: an IP packet to put in an Ethernet header.
    fn handle_ip(&self, cx: &Cx<'_, P>, mut packet: P::Packet) {
        if self.ip.load(Relaxed) == 0 {
            return self.drop_counted(cx, packet);
        }
        if packet.push(ethernet::HEADER_LEN).is_err() {
            return self.drop_counted(cx, packet);
        }
        match packet.data_mut() {
            Ok(data) => Frame::new_unchecked(data).set_ethertype(EtherType::Ipv4),
            Err(_) => return self.drop_counted(cx, packet),
        }
        let destination = packet.dst_ip_anno().unwrap_or([0; 4]);
        let bits = ip_bits(destination);
        let special = if bits == u32::MAX || bits == self.broadcast.load(Relaxed) {
            Some([0xff; 6])
        } else if destination[0] & 0xf0 == 0xe0 {
            Some(multicast_ether(destination))
        } else {
            None
        };
        let now = P::now_ns();
        let mut table = P::lock(&self.table);
        match table.resolve(destination, now, self.poll_timeout_ns) {
            Resolved::Known { ether, poll } => {
                drop(table);
                if poll {
                    self.send_query(cx, destination, Some(ether));
                }
                self.send(cx, packet, ether);
            }
            Resolved::Unknown => match special {
                Some(ether) => {
                    drop(table);
                    self.send(cx, packet, ether);
                }
                None if bits == 0 => {
                    drop(table);
                    self.drop_counted(cx, packet);
                }
                None => {
                    let held = table.hold(destination, packet, now);
                    drop(table);
                    if held == (Held::Waiting { query: true }) {
                        self.send_query(cx, destination, None);
                    }
                }
            },
        }
    }

    /// Input 1: an ARP frame. A reply for IPv4 over Ethernet from a unicast address is recorded,
    /// and the packets held for its address leave, oldest first.
    fn handle_response(&self, cx: &Cx<'_, P>, packet: P::Packet) {
        if packet.len() < FRAME_LEN {
            return cx.drop_packet(packet);
        }
        self.counters.responses.fetch_add(1, Relaxed);
        let frame = Frame::new_unchecked(packet.data());
        let message = ArpPacket::new_unchecked(frame.payload());
        let sender = message.sender_hardware_addr();
        let is_reply = frame.ethertype() == EtherType::Arp
            && message.is_ethernet_ipv4()
            && message.operation() == Operation::Reply
            && sender.is_unicast();
        if !is_reply {
            return cx.drop_packet(packet);
        }
        let ip = message.sender_protocol_addr().0;
        packet.consume();
        let now = P::now_ns();
        let slots = {
            let mut table = P::lock(&self.table);
            table.insert(ip, sender.0, now);
            table.limits().packets
        };
        // Each held packet is taken under the lock and sent without it; there are never more
        // than the table's slots.
        for _ in 0..slots {
            let Some((held, ether)) = P::lock(&self.table).release(ip, now) else { break };
            self.send(cx, held, ether);
        }
    }

    fn table_text(&self, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        // Rows are copied out in one hold of the lock, into room reserved before it, and
        // formatted afterwards: formatting grows `out`, which a spinlock forbids.
        let room = P::lock(&self.table).limits().entries.min(MAX_TABLE_ROWS);
        let mut rows: Vector<P, Row> = Vector::with_capacity(room)?;
        let all = P::lock(&self.table).rows(P::now_ns(), &mut rows);
        if !all {
            return Err(HandlerError::Refused("table too large for one reply"));
        }
        reply(rows.iter().try_for_each(|row| write!(out, "{}", row)))
    }
}

impl<P: Platform> Element<P> for ArpQuerier<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let Some(ArgValue::Prefix { addr, len }) = build.value("IP") else { return Err(ConstructError::BadArgument("IP")) };
        if len > 32 {
            return Err(ConstructError::BadArgument("IP"));
        }
        let Some(ArgValue::Ether(ether)) = build.value("ETH") else { return Err(ConstructError::BadArgument("ETH")) };
        let ip = ip_bits(addr);
        let broadcast = match build.value("BROADCAST") {
            Some(ArgValue::Ipv4(address)) => ip_bits(address),
            Some(_) => return Err(ConstructError::BadArgument("BROADCAST")),
            // The prefix's broadcast address; for a bare address (a /32), 255.255.255.255.
            None => match ip | !click_value::prefix_mask(len) {
                same if same == ip => u32::MAX,
                other => other,
            },
        };
        let time = |keyword: &'static str| match build.value(keyword) {
            Some(ArgValue::Time(ns)) => Ok(ns),
            _ => Err(ConstructError::BadArgument(keyword)),
        };
        let bounded = |keyword: &'static str, min: i64, max: i64| -> Result<i64, ConstructError> {
            let value = build.int(keyword)?;
            if value < min || value > max {
                return Err(ConstructError::BadArgument(keyword));
            }
            Ok(value)
        };
        let limits = Limits {
            entries: bounded("ENTRY_CAPACITY", 1, MAX_ARP_ENTRIES)? as usize,
            packets: bounded("CAPACITY", 1, MAX_QUEUE_CAPACITY)? as usize,
            entry_packets: bounded("ENTRY_PACKET_CAPACITY", 0, MAX_QUEUE_CAPACITY)? as u32,
            slim_factor: bounded("CAPACITY_SLIM_FACTOR", 1, i64::from(u32::MAX))? as u32,
            timeout_ns: time("TIMEOUT")?,
        };
        let outputs = build.outputs();
        if !(1..=2).contains(&outputs) {
            return Err(ConstructError::BadArgument("outputs"));
        }
        Ok(ArpQuerier {
            table: P::locked(ArpTable::new(limits, P::now_ns())?)?,
            counters: P::shared(Counters { queries: AtomicU64::new(0), responses: AtomicU64::new(0), drops: AtomicU64::new(0) })?,
            ip: AtomicU32::new(ip),
            broadcast: AtomicU32::new(broadcast),
            ether,
            poll_timeout_ns: time("POLL_TIMEOUT")?,
            broadcast_poll: build.bool("BROADCAST_POLL")?,
            query_port: outputs - 1,
        })
    }

    fn push(&self, cx: &Cx<'_, P>, port: u16, packet: P::Packet) {
        if port == 0 {
            self.handle_ip(cx, packet);
        } else {
            self.handle_response(cx, packet);
        }
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        let counters = &self.counters;
        match handler {
            Read::Table => self.table_text(out),
            Read::Stats => {
                let table_drops = P::lock(&self.table).drops();
                let killed = counters.drops.load(Relaxed).saturating_add(table_drops);
                reply(write!(out, "{} packets killed\n{} ARP queries sent\n", killed, counters.queries.load(Relaxed)))
            }
            Read::Queries => reply(write!(out, "{}", counters.queries.load(Relaxed))),
            Read::Responses => reply(write!(out, "{}", counters.responses.load(Relaxed))),
            Read::Drops => reply(write!(out, "{}", counters.drops.load(Relaxed))),
            Read::Count => {
                let count = P::lock(&self.table).count();
                reply(write!(out, "{}", count))
            }
            Read::Length => {
                let length = P::lock(&self.table).length();
                reply(write!(out, "{}", length))
            }
            Read::Broadcast => reply(write!(out, "{}", Ipv4Address(self.broadcast.load(Relaxed).to_be_bytes()))),
            Read::Ipaddr => reply(write!(out, "{}", Ipv4Address(self.ip.load(Relaxed).to_be_bytes()))),
        }
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::Insert => {
                let mut words = value.split_ascii_whitespace();
                let (Some(ip), Some(ether), None) = (words.next(), words.next(), words.next()) else {
                    return Err(HandlerError::BadValue("expected IP ETH"));
                };
                let ip = parse_ip(ip)?;
                let ether = click_value::parse_ether(ether).map_err(|e| HandlerError::BadValue(e.describe()))?;
                P::lock(&self.table).insert(ip, ether, P::now_ns());
            }
            Write::Delete => {
                // As in Click, the entry stays, unresolved: the next packet for it asks again.
                let ip = parse_ip(value)?;
                P::lock(&self.table).insert(ip, [0xff; 6], P::now_ns());
            }
            Write::Clear => {
                self.counters.queries.store(0, Relaxed);
                self.counters.drops.store(0, Relaxed);
                self.counters.responses.store(0, Relaxed);
                P::lock(&self.table).clear();
            }
            Write::Broadcast => self.broadcast.store(ip_bits(parse_ip(value)?), Relaxed),
            Write::Ipaddr => self.ip.store(ip_bits(parse_ip(value)?), Relaxed),
        }
        Ok(())
    }

    /// As in Click, a new ARPQuerier with the same addresses takes the old one's table (moved
    /// into its own storage, as far as its capacities allow) and counters; both graphs then
    /// share them, as hotswapped Queues share their ring.
    fn take_state(&mut self, old: &Self) {
        let same = self.ip.load(Relaxed) == old.ip.load(Relaxed)
            && self.broadcast.load(Relaxed) == old.broadcast.load(Relaxed)
            && self.ether == old.ether;
        if !same {
            return;
        }
        // This element's table is still private: take its storage out so that the two locks
        // are never held together.
        let mut fresh = {
            let mut own = P::lock(&self.table);
            let limits = own.limits();
            core::mem::replace(&mut *own, ArpTable::empty(limits))
        };
        {
            let mut shared = P::lock(&old.table);
            fresh.refill_from(&mut shared, P::now_ns());
            core::mem::swap(&mut *shared, &mut fresh);
        }
        // `fresh` now holds the old, emptied storage; freeing it needs no lock.
        drop(fresh);
        self.table = old.table.clone();
        self.counters = old.counters.clone();
    }
}
