//! ARPQuerier's table: IPv4 to Ethernet mappings, and the packets held for addresses not yet
//! resolved, in storage of fixed size allocated when the element is built.
//!
//! Entries sit in one array with a free list; a hash of chained indices finds them by address,
//! and a doubly linked list orders them by the time they were last confirmed (`live_at`, oldest
//! first), which is the order they expire and are evicted in. Held packets sit in a second
//! array of slots, each entry holding a singly linked FIFO of them. Nothing here allocates after
//! [`ArpTable::new`], so neither a flood of replies (each at most one entry, evicting the
//! oldest when all are in use) nor a flood of packets to unresolved addresses (each at most one
//! slot, dropping the oldest entries' packets when all are in use) can grow memory.
//!
//! The rules are Click's ARPTable: a slot shortage drops held packets from the oldest entries
//! down to `capacity - capacity / slim_factor`; an entry still being sent to is kept just short
//! of expiring; queries for one address are spaced by 100 ms, or by 2 s once 10 went unanswered;
//! expired entries are swept out every `timeout + 1 s` (on the first operation after the sweep
//! is due, since nothing here runs on its own).

use crate::element::{NoMemory, Platform, Vector};
use crate::wire::ipv4::Address as Ipv4Address;
use core::fmt;

/// Marks the end of a list of indices.
const NONE: u32 = u32::MAX;

const MS: u64 = 1_000_000;
/// Queries for one address are at least this far apart while fewer than
/// [`SLOW_POLL_AFTER`] have gone unanswered...
const POLL_INTERVAL_NS: u64 = 100 * MS;
/// ... and this far apart after that.
const SLOW_POLL_INTERVAL_NS: u64 = 2_000 * MS;
const SLOW_POLL_AFTER: u8 = 10;
/// Added to the timeout between two sweeps of expired entries.
const SWEEP_SLACK_NS: u64 = 1_000 * MS;

/// The sizes and times a table is built with (ARPQuerier's keywords).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Entries (ENTRY_CAPACITY), at least 1.
    pub entries: usize,
    /// Held packets in all (CAPACITY), at least 1.
    pub packets: usize,
    /// Held packets per entry (ENTRY_PACKET_CAPACITY); 0 for no limit but `packets`.
    pub entry_packets: u32,
    /// CAPACITY_SLIM_FACTOR, at least 1.
    pub slim_factor: u32,
    /// TIMEOUT; 0 for entries that never expire.
    pub timeout_ns: u64,
}

#[derive(Clone, Copy)]
struct Entry {
    ip: [u8; 4],
    ether: [u8; 6],
    /// The Ethernet address came from a reply or an insert (not a delete).
    known: bool,
    /// Queries sent since the last reply.
    polls: u8,
    live_at: u64,
    /// When the last query went out; `None` right after a reply or an insert.
    polled_at: Option<u64>,
    /// Held packets: the first and last slot, and how many.
    head: u32,
    tail: u32,
    held: u32,
    /// The next entry of the hash chain, or of the free list.
    chain: u32,
    /// Neighbours in the age list.
    older: u32,
    newer: u32,
}

const FREE_ENTRY: Entry = Entry {
    ip: [0; 4],
    ether: [0xff; 6],
    known: false,
    polls: 0,
    live_at: 0,
    polled_at: None,
    head: NONE,
    tail: NONE,
    held: 0,
    chain: NONE,
    older: NONE,
    newer: NONE,
};

struct Slot<T> {
    packet: Option<T>,
    next: u32,
}

/// What the table knows of an address a packet is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// Send it to this Ethernet address; `poll` asks for a query to renew the entry first.
    Known { ether: [u8; 6], poll: bool },
    Unknown,
}

/// What became of a packet given to [`ArpTable::hold`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// Held; `query` says a query for the address may go out now.
    Waiting { query: bool },
    /// The entry already holds ENTRY_PACKET_CAPACITY packets: the packet was dropped.
    Refused,
}

/// One `table` line's values, copied out so the text is made without the lock.
#[derive(Clone, Copy)]
pub struct Row {
    pub ip: [u8; 4],
    pub ok: bool,
    pub ether: [u8; 6],
    pub age_ns: u64,
}

pub struct ArpTable<P: Platform> {
    entries: Vector<P, Entry>,
    /// Heads of the hash chains; a power of two of them.
    buckets: Vector<P, u32>,
    free_entry: u32,
    oldest: u32,
    newest: u32,
    count: u32,
    slots: Vector<P, Slot<P::Packet>>,
    free_slot: u32,
    length: u32,
    /// Packets dropped for capacity, expiry or a clear.
    drops: u64,
    limits: Limits,
    /// When expired entries are next swept out (never when they never expire).
    sweep_at: u64,
}

impl<P: Platform> ArpTable<P> {
    /// A table with all its storage; `limits` are checked by the caller (at least one entry and
    /// one slot, a slim factor of at least 1).
    pub fn new(limits: Limits, now: u64) -> Result<Self, NoMemory> {
        let entry_count = u32::try_from(limits.entries).map_err(|_| NoMemory)?;
        let slot_count = u32::try_from(limits.packets).map_err(|_| NoMemory)?;
        let mut entries = Vector::with_capacity(limits.entries)?;
        for index in 0..entry_count {
            let next = if index + 1 < entry_count { index + 1 } else { NONE };
            entries.push_within_capacity(Entry { chain: next, ..FREE_ENTRY }).map_err(|_| NoMemory)?;
        }
        let buckets = Vector::filled(limits.entries.max(1).next_power_of_two(), NONE)?;
        let mut slots = Vector::with_capacity(limits.packets)?;
        for index in 0..slot_count {
            let next = if index + 1 < slot_count { index + 1 } else { NONE };
            slots.push_within_capacity(Slot { packet: None, next }).map_err(|_| NoMemory)?;
        }
        Ok(ArpTable {
            entries,
            buckets,
            free_entry: if entry_count > 0 { 0 } else { NONE },
            oldest: NONE,
            newest: NONE,
            count: 0,
            slots,
            free_slot: if slot_count > 0 { 0 } else { NONE },
            length: 0,
            drops: 0,
            limits,
            sweep_at: Self::next_sweep(limits.timeout_ns, now),
        })
    }

    fn next_sweep(timeout_ns: u64, now: u64) -> u64 {
        if timeout_ns == 0 {
            u64::MAX
        } else {
            now.saturating_add(timeout_ns).saturating_add(SWEEP_SLACK_NS)
        }
    }

    /// Entries in the table.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Packets held.
    pub fn length(&self) -> u32 {
        self.length
    }

    pub fn drops(&self) -> u64 {
        self.drops
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn entry(&self, index: u32) -> Option<&Entry> {
        self.entries.get(index as usize)
    }

    fn entry_mut(&mut self, index: u32) -> Option<&mut Entry> {
        self.entries.get_mut(index as usize)
    }

    fn bucket(&self, ip: [u8; 4]) -> usize {
        let hash = u32::from_be_bytes(ip).wrapping_mul(0x9e37_79b1);
        (hash ^ (hash >> 15)) as usize & self.buckets.len().wrapping_sub(1)
    }

    fn find(&self, ip: [u8; 4]) -> Option<u32> {
        let mut at = *self.buckets.get(self.bucket(ip))?;
        // A chain holds at most every entry; the bound only guards against a broken link.
        for _ in 0..self.entries.len() {
            let entry = self.entry(at)?;
            if entry.ip == ip {
                return Some(at);
            }
            at = entry.chain;
        }
        None
    }

    fn expired(&self, entry: &Entry, now: u64) -> bool {
        self.limits.timeout_ns != 0 && entry.live_at.saturating_add(self.limits.timeout_ns) < now
    }

    fn known(&self, entry: &Entry, now: u64) -> bool {
        entry.known && !self.expired(entry, now)
    }

    fn may_poll(entry: &Entry, now: u64) -> bool {
        let interval = if entry.polls >= SLOW_POLL_AFTER { SLOW_POLL_INTERVAL_NS } else { POLL_INTERVAL_NS };
        entry.polled_at.is_none_or(|at| at.saturating_add(interval) <= now)
    }

    fn mark_poll(entry: &mut Entry, now: u64) {
        entry.polled_at = Some(now);
        entry.polls = entry.polls.saturating_add(1);
    }

    fn unlink_age(&mut self, index: u32) {
        let Some(&Entry { older, newer, .. }) = self.entry(index) else { return };
        match self.entry_mut(older) {
            Some(entry) => entry.newer = newer,
            None => self.oldest = newer,
        }
        match self.entry_mut(newer) {
            Some(entry) => entry.older = older,
            None => self.newest = older,
        }
        if let Some(entry) = self.entry_mut(index) {
            entry.older = NONE;
            entry.newer = NONE;
        }
    }

    /// Links `index` into the age list just before `before` (the newest end for `NONE`).
    fn link_age_before(&mut self, index: u32, before: u32) {
        let older = match self.entry(before) {
            Some(entry) => entry.older,
            None => self.newest,
        };
        if let Some(entry) = self.entry_mut(index) {
            entry.older = older;
            entry.newer = before;
        }
        match self.entry_mut(older) {
            Some(entry) => entry.newer = index,
            None => self.oldest = index,
        }
        match self.entry_mut(before) {
            Some(entry) => entry.older = index,
            None => self.newest = index,
        }
    }

    /// Drops every packet `index` holds.
    fn drop_held(&mut self, index: u32) {
        let (mut at, held) = match self.entry_mut(index) {
            Some(entry) => {
                let taken = (entry.head, entry.held);
                entry.head = NONE;
                entry.tail = NONE;
                entry.held = 0;
                taken
            }
            None => return,
        };
        for _ in 0..held {
            let Some(next) = self.free_slot_at(at) else { break };
            at = next;
        }
    }

    /// Frees slot `at` (dropping its packet, counted) and returns the slot after it.
    fn free_slot_at(&mut self, at: u32) -> Option<u32> {
        let free = self.free_slot;
        let slot = self.slots.get_mut(at as usize)?;
        let next = slot.next;
        if let Some(packet) = slot.packet.take() {
            drop(packet);
            self.drops = self.drops.saturating_add(1);
            self.length = self.length.saturating_sub(1);
        }
        slot.next = free;
        self.free_slot = at;
        Some(next)
    }

    /// Removes entry `index` from the table, dropping the packets it holds.
    fn remove(&mut self, index: u32) {
        self.drop_held(index);
        self.unlink_age(index);
        let Some(ip) = self.entry(index).map(|e| e.ip) else { return };
        let bucket = self.bucket(ip);
        let next = self.entry(index).map_or(NONE, |e| e.chain);
        let mut previous = NONE;
        let mut at = self.buckets.get(bucket).copied().unwrap_or(NONE);
        for _ in 0..self.entries.len() {
            if at == index || at == NONE {
                break;
            }
            previous = at;
            at = self.entry(at).map_or(NONE, |e| e.chain);
        }
        if at == index {
            match self.entry_mut(previous) {
                Some(entry) => entry.chain = next,
                None => {
                    if let Some(head) = self.buckets.get_mut(bucket) {
                        *head = next;
                    }
                }
            }
        }
        let free = self.free_entry;
        if let Some(entry) = self.entry_mut(index) {
            *entry = Entry { chain: free, ..FREE_ENTRY };
            self.free_entry = index;
            self.count = self.count.saturating_sub(1);
        }
    }

    /// Removes expired entries from the old end of the age list (Click's slim, first half).
    fn remove_expired(&mut self, now: u64) {
        for _ in 0..self.entries.len() {
            let oldest = self.oldest;
            match self.entry(oldest) {
                Some(entry) if self.expired(entry, now) => self.remove(oldest),
                _ => return,
            }
        }
    }

    /// The sweep of expired entries, when it is due.
    fn sweep_if_due(&mut self, now: u64) {
        if now >= self.sweep_at {
            self.remove_expired(now);
            self.sweep_at = Self::next_sweep(self.limits.timeout_ns, now);
        }
    }

    /// The entry for `ip`, made (evicting expired entries, or the oldest one when every entry
    /// is in use) when there is none.
    fn ensure(&mut self, ip: [u8; 4], now: u64) -> Option<u32> {
        if let Some(index) = self.find(ip) {
            return Some(index);
        }
        if self.free_entry == NONE {
            self.remove_expired(now);
        }
        if self.free_entry == NONE {
            let oldest = self.oldest;
            self.remove(oldest);
        }
        let index = self.free_entry;
        let bucket = self.bucket(ip);
        let chain = self.buckets.get(bucket).copied()?;
        let entry = self.entry_mut(index)?;
        let free_next = entry.chain;
        *entry = Entry { ip, live_at: now, chain, ..FREE_ENTRY };
        self.free_entry = free_next;
        if let Some(head) = self.buckets.get_mut(bucket) {
            *head = index;
        }
        self.link_age_before(index, NONE);
        self.count = self.count.saturating_add(1);
        Some(index)
    }

    /// The Ethernet address to send a packet for `ip` to, if the table knows it; a known entry
    /// older than `poll_timeout_ns` (0: never) asks for a renewing query, as often as queries
    /// for it may go out.
    pub fn resolve(&mut self, ip: [u8; 4], now: u64, poll_timeout_ns: u64) -> Resolved {
        self.sweep_if_due(now);
        let Some(index) = self.find(ip) else { return Resolved::Unknown };
        let known = self.entry(index).is_some_and(|entry| self.known(entry, now));
        let Some(entry) = self.entry_mut(index) else { return Resolved::Unknown };
        if !known {
            return Resolved::Unknown;
        }
        let stale = poll_timeout_ns != 0 && now >= entry.live_at.saturating_add(poll_timeout_ns);
        let poll = stale && Self::may_poll(entry, now);
        if poll {
            Self::mark_poll(entry, now);
        }
        Resolved::Known { ether: entry.ether, poll }
    }

    /// Holds `packet` until `ip` is resolved (the caller found it unknown under the same hold
    /// of the lock). A packet that cannot be held is dropped here, and counted.
    pub fn hold(&mut self, ip: [u8; 4], packet: P::Packet, now: u64) -> Held {
        self.sweep_if_due(now);
        let Some(index) = self.ensure(ip, now) else {
            self.drop_packet(packet);
            return Held::Refused;
        };
        // Still being sent to: keep it just short of expiring, in its place in the age list.
        let floor = now.saturating_sub(self.limits.timeout_ns);
        if self.limits.timeout_ns != 0 && self.entry(index).is_some_and(|entry| entry.live_at < floor) {
            self.set_live_at(index, floor);
        }
        if !self.append(index, packet, now) {
            return Held::Refused;
        }
        let Some(entry) = self.entry_mut(index) else { return Held::Waiting { query: false } };
        let query = Self::may_poll(entry, now);
        if query {
            Self::mark_poll(entry, now);
        }
        Held::Waiting { query }
    }

    fn drop_packet(&mut self, packet: P::Packet) {
        drop(packet);
        self.drops = self.drops.saturating_add(1);
    }

    /// Puts `packet` at the end of entry `index`'s held packets, making room when every slot
    /// is in use; returns false when it was dropped instead (the entry's own limit).
    fn append(&mut self, index: u32, packet: P::Packet, now: u64) -> bool {
        let held = self.entry(index).map_or(0, |entry| entry.held);
        if self.limits.entry_packets != 0 && held >= self.limits.entry_packets {
            self.drop_packet(packet);
            return false;
        }
        if self.free_slot == NONE {
            self.make_room(now);
        }
        let at = self.free_slot;
        let Some(slot) = self.slots.get_mut(at as usize) else {
            self.drop_packet(packet);
            return false;
        };
        self.free_slot = slot.next;
        slot.next = NONE;
        slot.packet = Some(packet);
        self.length = self.length.saturating_add(1);
        let tail = self.entry(index).map_or(NONE, |entry| entry.tail);
        if let Some(previous) = self.slots.get_mut(tail as usize) {
            previous.next = at;
        }
        if let Some(entry) = self.entry_mut(index) {
            if entry.head == NONE {
                entry.head = at;
            }
            entry.tail = at;
            entry.held = entry.held.saturating_add(1);
        }
        true
    }

    /// Raises entry `index`'s `live_at` to `at` and moves it newer-wards past the entries
    /// confirmed before `at`, keeping the age list in `live_at` order.
    fn set_live_at(&mut self, index: u32, at: u64) {
        let mut before = match self.entry_mut(index) {
            Some(entry) => {
                entry.live_at = at;
                entry.newer
            }
            None => return,
        };
        for _ in 0..self.entries.len() {
            match self.entry(before) {
                Some(next) if next.live_at < at => before = next.newer,
                _ => break,
            }
        }
        if self.entry(index).is_some_and(|entry| entry.newer != before) {
            self.unlink_age(index);
            self.link_age_before(index, before);
        }
    }

    /// Every slot is in use: drops expired entries, then held packets of the oldest entries
    /// until, with the packet being held, `capacity - capacity / slim_factor` are (at least
    /// one: that packet).
    fn make_room(&mut self, now: u64) {
        self.remove_expired(now);
        let capacity = self.slots.len() as u32;
        let keep = capacity.saturating_sub(capacity / self.limits.slim_factor.max(1)).max(1) - 1;
        let mut index = self.oldest;
        for _ in 0..self.entries.len() {
            if self.length <= keep {
                return;
            }
            let Some(entry) = self.entry(index).copied() else { return };
            let mut head = entry.head;
            let mut held = entry.held;
            while held > 0 && self.length > keep {
                let Some(next) = self.free_slot_at(head) else { break };
                head = next;
                held -= 1;
            }
            if let Some(entry) = self.entry_mut(index) {
                entry.head = head;
                entry.held = held;
                if held == 0 {
                    entry.head = NONE;
                    entry.tail = NONE;
                }
            }
            index = entry.newer;
        }
    }

    /// Records `ip` at `ether` (a reply, or the `insert` handler): the entry is confirmed now,
    /// known unless `ether` is the broadcast address (the `delete` handler), and its queries
    /// start again from none.
    pub fn insert(&mut self, ip: [u8; 4], ether: [u8; 6], now: u64) {
        self.sweep_if_due(now);
        let Some(index) = self.ensure(ip, now) else { return };
        if let Some(entry) = self.entry_mut(index) {
            entry.ether = ether;
            entry.known = ether != [0xff; 6];
            entry.live_at = now;
            entry.polls = 0;
            entry.polled_at = None;
        }
        self.unlink_age(index);
        self.link_age_before(index, NONE);
    }

    /// The oldest packet held for `ip`, now that it is known, with its Ethernet address.
    pub fn release(&mut self, ip: [u8; 4], now: u64) -> Option<(P::Packet, [u8; 6])> {
        let index = self.find(ip)?;
        let entry = self.entry(index).copied()?;
        if !self.known(&entry, now) {
            return None;
        }
        Some((self.take_head(index)?, entry.ether))
    }

    /// Removes every entry, dropping (and counting) the packets held.
    pub fn clear(&mut self) {
        for _ in 0..self.entries.len() {
            if self.oldest == NONE {
                break;
            }
            let oldest = self.oldest;
            self.remove(oldest);
        }
    }

    /// Copies up to `rows`' capacity of `table` lines, oldest entry first; returns whether
    /// every entry fit.
    pub fn rows(&mut self, now: u64, rows: &mut Vector<P, Row>) -> bool {
        self.sweep_if_due(now);
        let mut index = self.oldest;
        for _ in 0..self.entries.len() {
            let Some(entry) = self.entry(index).copied() else { return true };
            let row = Row { ip: entry.ip, ok: self.known(&entry, now), ether: entry.ether, age_ns: now.saturating_sub(entry.live_at) };
            if rows.push_within_capacity(row).is_err() {
                return false;
            }
            index = entry.newer;
        }
        true
    }

    /// Moves `old`'s entries, oldest first, with their held packets, into this empty table
    /// (built with the new element's limits): what does not fit is dropped as when the table is
    /// full. The drop count carries over.
    pub fn refill_from(&mut self, old: &mut ArpTable<P>, now: u64) {
        for _ in 0..old.entries.len() {
            let oldest = old.oldest;
            let Some(entry) = old.entry(oldest).copied() else { break };
            if let Some(index) = self.ensure(entry.ip, entry.live_at) {
                if let Some(new) = self.entry_mut(index) {
                    new.ether = entry.ether;
                    new.known = entry.known;
                    new.polls = entry.polls;
                    new.polled_at = entry.polled_at;
                }
                while let Some(packet) = old.take_head(oldest) {
                    self.append(index, packet, now);
                }
            }
            old.remove(oldest);
        }
        self.drops = self.drops.saturating_add(old.drops);
        self.sweep_at = old.sweep_at;
    }

    /// The oldest packet entry `index` holds, taken out of its slot.
    fn take_head(&mut self, index: u32) -> Option<P::Packet> {
        let entry = self.entry(index).copied()?;
        if entry.head == NONE {
            return None;
        }
        let free = self.free_slot;
        let slot = self.slots.get_mut(entry.head as usize)?;
        let packet = slot.packet.take();
        let next = slot.next;
        slot.next = free;
        self.free_slot = entry.head;
        if let Some(entry) = self.entry_mut(index) {
            entry.head = next;
            entry.held = entry.held.saturating_sub(1);
            if entry.held == 0 {
                entry.head = NONE;
                entry.tail = NONE;
            }
        }
        if packet.is_some() {
            self.length = self.length.saturating_sub(1);
        }
        packet
    }

    /// A table with no storage, which costs no allocation (what a hotswapped element leaves
    /// behind in its own lock).
    pub fn empty(limits: Limits) -> Self {
        ArpTable {
            entries: Vector::new(),
            buckets: Vector::new(),
            free_entry: NONE,
            oldest: NONE,
            newest: NONE,
            count: 0,
            slots: Vector::new(),
            free_slot: NONE,
            length: 0,
            drops: 0,
            limits,
            sweep_at: u64::MAX,
        }
    }
}

/// An Ethernet address as Click writes one: upper-case hex bytes joined by `-`.
pub struct ClickEther(pub [u8; 6]);

impl fmt::Display for ClickEther {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02X}-{b:02X}-{c:02X}-{d:02X}-{e:02X}-{g:02X}")
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.age_ns / 1_000_000_000;
        let micros = self.age_ns % 1_000_000_000 / 1_000;
        writeln!(f, "{} {} {} {}.{:06}", Ipv4Address(self.ip), u8::from(self.ok), ClickEther(self.ether), seconds, micros)
    }
}
