//! ARPResponder: answers ARP requests for the addresses and prefixes it is given, as Click's
//! ARPResponder does.
//!
//! Each entry is `IP/MASK [IP/MASK...] ETH`: a request (IPv4 over Ethernet, with its Ethernet
//! header) asking for an address inside one of the prefixes gets a reply from ETH, by output 0,
//! and the request is consumed; any other packet leaves by output 1, or is dropped when there is
//! none. More specific prefixes are looked at first, so a request gets the longest match's
//! address; a prefix given twice keeps its later address. The `add` and `remove` handlers
//! change the table at run time; it holds at most [`MAX_RESPONDER_ENTRIES`] prefixes.

use super::arp_table::ClickEther;
use crate::catalog::{base, ArgKind, ElementClass, PortRange, RepeatedArgs};
use crate::click_value::{self, Ipv4Prefix};
use crate::element::agnostic::Action;
use crate::element::handler::{handlers, reply, HandlerError};
use crate::element::{Build, ConstructError, PacketBuf, Platform, Vector};
use crate::element_args::ArgValue;
use crate::wire::arp::{FrameRepr, Operation, Packet as ArpPacket, FRAME_LEN};
use crate::wire::ethernet::{Address as EtherAddress, EtherType, Frame};
use crate::wire::ipv4::Address as Ipv4Address;
use core::fmt;

/// Most prefixes one ARPResponder answers for.
pub const MAX_RESPONDER_ENTRIES: usize = 1024;

/// ARPResponder's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 2),
    processing: "a/ah",
    repeated: Some(RepeatedArgs { kind: ArgKind::ArpEntry, min: 0, noun: "entry" }),
    cost_cycles: 250,
    cost_per_entry: 10,
    ..base("ARPResponder", "Answers ARP requests for its addresses and prefixes")
};

/// The read handlers: `table`, and `lookup ADDR`.
pub use crate::element::handler::TableLookup as Read;

handlers! {
    pub enum Write {
        Add = "add": Lines,
        Remove = "remove": Lines,
    }
}

/// One prefix and the address it answers with; `network` has the host bits cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    network: u32,
    len: u8,
    ether: [u8; 6],
}

impl Entry {
    fn new(prefix: Ipv4Prefix, ether: [u8; 6]) -> Entry {
        Entry { network: prefix.network(), len: prefix.len.min(32), ether }
    }

    fn mask(&self) -> u32 {
        click_value::prefix_mask(self.len)
    }

    fn contains(&self, address: u32) -> bool {
        address & self.mask() == self.network
    }

    /// Whether `other` is a strictly narrower prefix inside this one.
    fn encloses(&self, other: &Entry) -> bool {
        self.len < other.len && self.contains(other.network)
    }
}

/// The table: every entry before any entry that encloses it, otherwise in the order given.
struct Table<P: Platform> {
    entries: Vector<P, Entry>,
}

impl<P: Platform> Table<P> {
    /// Adds `entry` within the capacity reserved: a prefix already present takes the new
    /// address; a new one goes just before the first entry enclosing it, or at the end.
    /// Returns false when there is no room.
    fn add(&mut self, entry: Entry) -> bool {
        if let Some(same) = self.entries.iter_mut().find(|e| e.network == entry.network && e.len == entry.len) {
            same.ether = entry.ether;
            return true;
        }
        let at = self.entries.iter().position(|e| e.encloses(&entry)).unwrap_or(self.entries.len());
        if self.entries.push_within_capacity(entry).is_err() {
            return false;
        }
        // Rotate the new last entry into place.
        if let Some(tail) = self.entries.get_mut(at..) {
            tail.rotate_right(1);
        }
        true
    }

    fn lookup(&self, address: [u8; 4]) -> Option<[u8; 6]> {
        let address = u32::from_be_bytes(address);
        self.entries.iter().find(|e| e.contains(address)).map(|e| e.ether)
    }
}

pub struct ArpResponder<P: Platform> {
    table: P::Locked<Table<P>>,
    /// Serialises `add` and `remove`, which rebuild the table outside the lock.
    writer: P::Writer,
}

/// Parses one entry's text into `out` (room for them reserved by the caller).
fn parse_entry<P: Platform>(text: &str, out: &mut Vector<P, Entry>) -> Result<(), HandlerError> {
    let mut prefixes: Vector<P, Ipv4Prefix> = Vector::new();
    let ether = click_value::parse_arp_entry(text, &mut |prefix| prefixes.push(prefix).map_err(|_| click_value::ValueError::TooLarge))
        .map_err(|e| HandlerError::BadValue(e.describe()))?;
    for prefix in prefixes.iter() {
        out.push(Entry::new(*prefix, ether))?;
    }
    Ok(())
}

impl<P: Platform> ArpResponder<P> {
    /// A copy of the table with room for `extra` more entries (up to the table's bound), the
    /// allocation made before the lock is taken. A writer holds the writer lock, so the table
    /// does not grow in between; a reader reserves the whole bound.
    fn copy_with_room(&self, extra: usize) -> Result<Table<P>, HandlerError> {
        let len = P::lock(&self.table).entries.len();
        let room = len.saturating_add(extra).min(MAX_RESPONDER_ENTRIES.max(len));
        let mut entries = Vector::with_capacity(room)?;
        for entry in P::lock(&self.table).entries.iter() {
            if entries.push_within_capacity(*entry).is_err() {
                break;
            }
        }
        Ok(Table { entries })
    }

    /// Puts `table` in place; the old one is freed after the lock is released.
    fn install(&self, table: Table<P>) {
        let old = core::mem::replace(&mut *P::lock(&self.table), table);
        drop(old);
    }
}

impl<P: Platform> Action<P> for ArpResponder<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let mut prefixes = 0usize;
        for value in build.args.repeated() {
            let Ok(ArgValue::ArpEntry { count, .. }) = value else { return Err(ConstructError::BadArgument("entry")) };
            prefixes = prefixes.saturating_add(usize::from(count));
        }
        if prefixes > MAX_RESPONDER_ENTRIES {
            return Err(ConstructError::BadArgument("too many entries"));
        }
        let mut table = Table { entries: Vector::with_capacity(prefixes)? };
        for value in build.args.repeated() {
            let Ok(ArgValue::ArpEntry { bytes, ether, .. }) = value else { return Err(ConstructError::BadArgument("entry")) };
            for chunk in bytes.chunks(5) {
                let (Some(address), Some(&len)) = (chunk.get(..4), chunk.get(4)) else { return Err(ConstructError::BadArgument("entry")) };
                let mut addr = [0u8; 4];
                addr.copy_from_slice(address);
                if len > 32 || !table.add(Entry::new(Ipv4Prefix { addr, len }, ether)) {
                    return Err(ConstructError::BadArgument("entry"));
                }
            }
        }
        Ok(ArpResponder { table: P::locked(table)?, writer: P::writer()? })
    }

    fn act(&self, packet: P::Packet) -> Option<(u16, P::Packet)> {
        match self.answer(&packet) {
            Some(response) => {
                packet.consume();
                Some((0, response))
            }
            None => Some((1, packet)),
        }
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Lookup(address) => {
                let address = address.ok_or(HandlerError::BadValue("expected lookup ADDR"))?;
                let found = P::lock(&self.table).lookup(address);
                match found {
                    Some(ether) => reply(write!(out, "{}", ClickEther(ether))),
                    None => Ok(()),
                }
            }
            Read::Table => {
                // Copied out first: formatting grows `out`, which the spinlock forbids.
                let copy = self.copy_with_room(MAX_RESPONDER_ENTRIES)?;
                reply(copy.entries.iter().try_for_each(|e| {
                    writeln!(out, "{}/{} {}", Ipv4Address(e.network.to_be_bytes()), e.len, ClickEther(e.ether))
                }))
            }
        }
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        P::write_serialised(&self.writer, || match handler {
            Write::Add => {
                let mut added: Vector<P, Entry> = Vector::new();
                parse_entry::<P>(value, &mut added)?;
                let mut table = self.copy_with_room(added.len())?;
                for entry in added.iter() {
                    if !table.add(*entry) {
                        return Err(HandlerError::Refused("table full"));
                    }
                }
                self.install(table);
                Ok(())
            }
            Write::Remove => {
                let prefix = click_value::parse_prefix(value.trim()).map_err(|e| HandlerError::BadValue(e.describe()))?;
                let gone = Entry::new(prefix, [0; 6]);
                let mut table = P::lock(&self.table);
                let at = table.entries.iter().position(|e| e.network == gone.network && e.len == gone.len);
                let Some(at) = at else { return Err(HandlerError::Refused("no such entry")) };
                // Shift the later entries down and drop the last; nothing is allocated.
                if let Some(tail) = table.entries.get_mut(at..) {
                    tail.rotate_left(1);
                }
                table.entries.pop();
                Ok(())
            }
        })
    }
}

impl<P: Platform> ArpResponder<P> {
    /// The reply to `request`, when it asks for one of the table's addresses.
    fn answer(&self, request: &P::Packet) -> Option<P::Packet> {
        if request.len() < FRAME_LEN {
            return None;
        }
        let frame = Frame::new_unchecked(request.data());
        let message = ArpPacket::new_unchecked(frame.payload());
        if frame.ethertype() != EtherType::Arp || !message.is_ethernet_ipv4() || message.operation() != Operation::Request {
            return None;
        }
        let wanted = message.target_protocol_addr();
        let ether = P::lock(&self.table).lookup(wanted.0)?;
        // A reply that cannot be allocated leaves the request unanswered, as in Click.
        let mut response = P::Packet::alloc(FRAME_LEN)?;
        let repr = FrameRepr {
            eth_dst: message.sender_hardware_addr(),
            eth_src: EtherAddress(ether),
            operation: Operation::Reply,
            sender_hardware: EtherAddress(ether),
            sender_protocol: wanted,
            target_hardware: message.sender_hardware_addr(),
            target_protocol: message.sender_protocol_addr(),
        };
        repr.emit(response.data_mut().ok()?).ok()?;
        Some(response)
    }
}
