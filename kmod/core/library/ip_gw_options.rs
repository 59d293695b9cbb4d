//! IPGWOptions: the IP options every router processes (RFC 791, RFC 1812 4.2.2.2): record
//! route gets MYADDR (the address of the interface the packet leaves by), and timestamp gets the
//! time, with MYADDR before it in the address-and-time form, or in the prespecified form only
//! where the listed address is MYADDR or one of OTHERADDRS. Source routes and every other option
//! pass untouched, as in Click. A changed header gets its checksum afresh.
//!
//! A bad option (a length that runs past the header or under 2, a pointer that points nowhere,
//! an unknown timestamp form, a timestamp overflow count past 15) sends the packet to output 1,
//! or drops it when there is none, with its ICMP parameter-problem annotation set to the bad
//! byte's offset in the header, for an `ICMPError(…, parameterproblem)`; `drops` counts these.
//!
//! Timestamps are milliseconds since midnight UT on the platform's wall clock (the kernel's
//! real-time clock; at user level the captures' timestamps).
//!
//! Where vdp differs from Click: the header is found at the network-header mark or at the start
//! of the packet, and a packet shorter than its header is dropped; a packet sent to output 1
//! leaves as it arrived, with none of the options before the bad one filled in (Click sends it
//! with those changes and its old checksum).

use crate::catalog::{base, positional, required, ArgKind, ElementClass, PortRange};
use crate::element::agnostic::Action;
use crate::element::handler::{handlers, reply, HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, PacketBuf, Platform, Vector};
use crate::element_args::ArgValue;
use crate::wire::checksum;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// IPGWOptions' catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 2),
    processing: "a/ah",
    args: &[required("MYADDR", ArgKind::Ipv4Addr), positional("OTHERADDRS", ArgKind::AddrList, None)],
    cost_cycles: 300,
    ..base("IPGWOptions", "Processes record-route and timestamp options; bad options go to output 1")
};

handlers! {
    pub enum Read {
        Drops = "drops": Integer,
    }
}

const OPTION_END: u8 = 0;
const OPTION_NOP: u8 = 1;
const OPTION_RECORD_ROUTE: u8 = 7;
const OPTION_TIMESTAMP: u8 = 68;
/// Timestamp forms (RFC 791): times only, address and time, prespecified addresses.
const TIMES_ONLY: u8 = 0;
const ADDRESS_AND_TIME: u8 = 1;
const PRESPECIFIED: u8 = 3;
const MS_PER_DAY: u64 = 86_400_000;

pub struct IpGwOptions<P: Platform> {
    my_addr: [u8; 4],
    /// OTHERADDRS and MYADDR, 4 bytes each.
    addresses: Vector<P, u8>,
    has_error_output: bool,
    drops: AtomicU64,
}

/// What processing one header's options came to.
enum Outcome {
    /// Nothing to record: the packet goes on as it is.
    Untouched,
    /// A record-route or timestamp option was processed: the header is the work copy's first
    /// bytes, to be written back with a fresh checksum.
    Changed,
    /// The byte at this offset of the header is bad.
    Bad(usize),
}

impl<P: Platform> IpGwOptions<P> {
    fn is_mine(&self, address: &[u8]) -> bool {
        self.addresses.chunks_exact(4).any(|a| a == address)
    }

    /// Processes the options of `work`'s first `header_len` bytes (the header; `work` may hold
    /// a few bytes past it, which a pointer byte beyond a short option is read from, as Click
    /// reads it), at time `ms` (milliseconds since midnight UT).
    fn process(&self, work: &mut [u8], header_len: usize, ms: u32) -> Outcome {
        let byte = |work: &[u8], at: usize| work.get(at).copied().unwrap_or(0);
        let mut changed = false;
        let mut at = 20;
        // Each step moves on at least one byte.
        while at < header_len {
            let kind = byte(work, at);
            if kind == OPTION_NOP {
                at += 1;
                continue;
            }
            if kind == OPTION_END {
                break;
            }
            let len = usize::from(byte(work, at + 1));
            if len < 2 || at + len > header_len {
                return Outcome::Bad(at + 1);
            }
            if kind != OPTION_RECORD_ROUTE && kind != OPTION_TIMESTAMP {
                at += len;
                continue;
            }
            changed = true;
            // The pointer is 1-origin; `pointer` is the offset of the next free slot in the
            // option, -1 for a pointer of 0.
            let pointer = usize::from(byte(work, at + 2)).checked_sub(1);
            if kind == OPTION_RECORD_ROUTE {
                if let Some(pointer) = pointer.filter(|p| *p >= 3 && p + 4 <= len) {
                    if let Some(slot) = work.get_mut(at + pointer..at + pointer + 4) {
                        slot.copy_from_slice(&self.my_addr);
                    }
                    bump(work, at + 2, 4);
                } else if pointer != Some(len) {
                    return Outcome::Bad(at + 2);
                }
            } else {
                let flags = byte(work, at + 3);
                let (overflow, form) = (flags >> 4, flags & 0x0f);
                let Some(pointer) = pointer.filter(|p| *p >= 4) else {
                    return Outcome::Bad(at + 2);
                };
                let mut overflowed = false;
                if form == TIMES_ONLY {
                    if pointer + 4 <= len {
                        put(work, at + pointer, &ms.to_be_bytes());
                        bump(work, at + 2, 4);
                    } else {
                        overflowed = true;
                    }
                } else if form == ADDRESS_AND_TIME {
                    if pointer + 8 <= len {
                        put(work, at + pointer, &self.my_addr);
                        put(work, at + pointer + 4, &ms.to_be_bytes());
                        bump(work, at + 2, 8);
                    } else {
                        overflowed = true;
                    }
                } else if form == PRESPECIFIED && pointer + 8 <= len {
                    let listed = work.get(at + pointer..at + pointer + 4).is_some_and(|a| self.is_mine(a));
                    if listed {
                        put(work, at + pointer + 4, &ms.to_be_bytes());
                        bump(work, at + 2, 8);
                    }
                } else {
                    return Outcome::Bad(at + 3);
                }
                if overflowed {
                    if overflow < 15 {
                        put(work, at + 3, &[((overflow + 1) << 4) | form]);
                    } else {
                        return Outcome::Bad(at + 3);
                    }
                }
            }
            at += len;
        }
        if changed {
            Outcome::Changed
        } else {
            Outcome::Untouched
        }
    }
}

fn put(work: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(slot) = work.get_mut(at..at + bytes.len()) {
        slot.copy_from_slice(bytes);
    }
}

/// Moves an option's pointer byte on by `by`.
fn bump(work: &mut [u8], at: usize, by: u8) {
    if let Some(pointer) = work.get_mut(at) {
        *pointer = pointer.wrapping_add(by);
    }
}

impl<P: Platform> Action<P> for IpGwOptions<P> {
    type Read = Read;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let my_addr = match build.value("MYADDR") {
            Some(ArgValue::Ipv4(address)) => address,
            _ => return Err(ConstructError::BadArgument("MYADDR")),
        };
        let others: &[u8] = match build.value("OTHERADDRS") {
            Some(ArgValue::AddrList { bytes, .. }) => bytes,
            _ => &[],
        };
        let mut addresses = Vector::with_capacity(others.len() + 4)?;
        for byte in others.iter().chain(my_addr.iter()) {
            addresses.push(*byte)?;
        }
        Ok(IpGwOptions { my_addr, addresses, has_error_output: build.outputs() > 1, drops: AtomicU64::new(0) })
    }

    fn act(&self, mut packet: P::Packet) -> Option<(u16, P::Packet)> {
        let at = packet.network_offset().unwrap_or(0);
        let ip = packet.data().get(at..)?;
        let header_len = usize::from(ip.first()? & 0x0f) * 4;
        if header_len <= 20 {
            return Some((0, packet));
        }
        if header_len > ip.len() {
            return None;
        }
        // The header, and up to 4 bytes after it, in a copy of their own.
        let mut work = [0u8; 64];
        let copied = ip.len().min(header_len + 4);
        work.get_mut(..copied)?.copy_from_slice(ip.get(..copied)?);
        let ms = ((P::wall_clock_ns() / 1_000_000) % MS_PER_DAY) as u32;
        match self.process(&mut work, header_len, ms) {
            Outcome::Untouched => Some((0, packet)),
            Outcome::Changed => {
                let header = work.get_mut(..header_len)?;
                put(header, 10, &[0, 0]);
                let sum = checksum::checksum(header);
                put(header, 10, &sum.to_be_bytes());
                packet.data_mut().ok()?.get_mut(at..at + header_len)?.copy_from_slice(header);
                Some((0, packet))
            }
            Outcome::Bad(offset) => {
                self.drops.fetch_add(1, Relaxed);
                packet.set_icmp_param_offset(offset as u8);
                self.has_error_output.then_some((1, packet))
            }
        }
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Drops => reply(write!(out, "{}", self.drops.load(Relaxed))),
        }
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
