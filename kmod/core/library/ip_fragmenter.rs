//! IPFragmenter: sends IP packets of at most MTU bytes on unchanged, and cuts longer ones into
//! fragments of at most MTU bytes (RFC 791), in order, first first; a longer packet with the
//! don't-fragment bit set (unless HONOR_DF is false), or one whose MTU leaves no room for 8
//! data bytes, goes to output 1 instead, for an `ICMPError(…, unreachable, needfrag)`.
//!
//! The first fragment is the packet itself, cut short, so it keeps whatever lies in front of
//! the IP header; each later one is a new packet of the IP header with only the options whose
//! copy bit is set, its share of the data, and the packet's annotations. Offsets and the
//! more-fragments bit continue those of a packet that was itself a fragment. Every fragment's
//! header checksum is computed afresh. A packet whose don't-fragment bit is ignored gets a new
//! identification, from a per-element pseudo-random sequence, and loses the bit. The first 5
//! packets sent to output 1 are logged (every one with VERBOSE). HEADROOM sets the free bytes in
//! front of the later fragments (the platform's 64 when not given).
//!
//! Where vdp differs from Click: a packet longer than MTU only by bytes past its IP total length
//! is cut to that length and sent on whole; a packet whose header does not fit it, or whose
//! fragments would end past the 64 KiB offset limit, is dropped; a fragment that cannot be
//! allocated ends the packet (the fragments after it are not sent) and is counted in
//! `no_memory`; VERBOSE logs at most 10 lines a second.

use crate::catalog::{base, int, keyword, positional, required, ArgKind, ElementClass, PortRange, MAX_HEADER_BYTES};
use crate::element::handler::{handlers, reply, HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, Cx, Element, PacketBuf, Platform};
use crate::token_bucket::TokenBucket;
use crate::wire::checksum;
use core::fmt;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// IPFragmenter's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 2),
    processing: "h/h",
    args: &[
        required("MTU", int(8, 65535)),
        positional("HONOR_DF", ArgKind::Bool, Some("true")),
        positional("VERBOSE", ArgKind::Bool, Some("false")),
        keyword("HEADROOM", int(0, MAX_HEADER_BYTES), None),
    ],
    cost_cycles: 600,
    ..base("IPFragmenter", "Fragments IP packets longer than MTU; don't-fragment ones go to output 1")
};

handlers! {
    pub enum Read {
        Drops = "drops": Integer,
        Fragments = "fragments": Integer,
        NoMemory = "no_memory": Integer,
    }
}

/// Don't-fragment packets logged without VERBOSE, as in Click; with it, lines a second.
const QUIET_LOG_LINES: u64 = 5;
const VERBOSE_LINES_PER_SECOND: u64 = 10;

const DONT_FRAGMENT: u16 = 0x4000;
const MORE_FRAGMENTS: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

pub struct IpFragmenter<P: Platform> {
    mtu: usize,
    honor_df: bool,
    verbose: bool,
    /// HEADROOM, or the platform's default when not given.
    headroom: Option<usize>,
    has_df_output: bool,
    /// Packets sent to output 1 (Click's count).
    drops: AtomicU64,
    fragments: AtomicU64,
    no_memory: AtomicU64,
    /// The pseudo-random identification sequence (xorshift32; never 0).
    ident: AtomicU32,
    log_lines: P::Locked<TokenBucket>,
}

/// The fields of a packet's IP header fragmentation works from.
struct Header {
    /// Offset of the IP header in the packet.
    at: usize,
    header_len: usize,
    total_len: usize,
    flags_offset: u16,
}

fn header_of(data: &[u8], at: usize) -> Option<Header> {
    let ip = data.get(at..)?;
    let header_len = usize::from(ip.first()? & 0x0f) * 4;
    let total_len = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
    let flags_offset = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]);
    (header_len >= 20 && header_len <= total_len && total_len <= ip.len()).then_some(Header { at, header_len, total_len, flags_offset })
}

/// The options of `options` (a header's bytes after the first 20) that every fragment carries:
/// those whose copy bit is set, in order, padded with end-of-options to a multiple of 4, written
/// into `out` (which holds 40 bytes); returns their length. NOPs are left out; an end-of-options
/// or a malformed length ends the list.
fn copied_options(options: &[u8], out: &mut [u8; 40]) -> usize {
    let mut at = 0;
    let mut len = 0;
    // Each step moves on at least one byte.
    while let Some(&kind) = options.get(at) {
        if kind == 1 {
            at += 1;
            continue;
        }
        let Some(&option_len) = options.get(at + 1) else { break };
        let option_len = usize::from(option_len);
        if kind == 0 || option_len < 2 || at + option_len > options.len() {
            break;
        }
        if kind & 0x80 != 0 {
            if let (Some(to), Some(from)) = (out.get_mut(len..len + option_len), options.get(at..at + option_len)) {
                to.copy_from_slice(from);
                len += option_len;
            }
        }
        at += option_len;
    }
    let padded = len.div_ceil(4) * 4;
    if let Some(pad) = out.get_mut(len..padded) {
        pad.fill(0);
    }
    padded
}

impl<P: Platform> IpFragmenter<P> {
    fn next_ident(&self) -> u16 {
        let mut x = self.ident.load(Relaxed);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.ident.store(x, Relaxed);
        x as u16
    }

    fn refuse(&self, cx: &Cx<'_, P>, packet: P::Packet, header: &Header) {
        let seen = self.drops.fetch_add(1, Relaxed);
        let log = if self.verbose { P::lock(&self.log_lines).try_take(P::now_ns(), 1) } else { seen < QUIET_LOG_LINES };
        if log {
            let ip = packet.data().get(header.at..).unwrap_or(&[]);
            let address = |at: usize| ip.get(at..at + 4).and_then(|a| <[u8; 4]>::try_from(a).ok()).unwrap_or([0; 4]);
            let ([a, b, c, d], [e, f, g, h]) = (address(12), address(16));
            P::log(format_args!("IPFragmenter({}) DF {a}.{b}.{c}.{d} {e}.{f}.{g}.{h} len={}", self.mtu, packet.len()));
        }
        if self.has_df_output {
            cx.push(1, packet);
        } else {
            cx.drop_packet(packet);
        }
    }

    /// Fragments `packet`, whose IP header `header` describes and whose data does not fit one
    /// fragment.
    fn fragment(&self, cx: &Cx<'_, P>, mut packet: P::Packet, header: Header, first_len: usize) {
        let Header { at, header_len, total_len, flags_offset } = header;
        let data_len = total_len - header_len;
        // The last byte's offset must stay within the 13-bit field (the datagram within 64 KiB).
        if usize::from(flags_offset & OFFSET_MASK) * 8 + data_len > 0xffff {
            return cx.drop_packet(packet);
        }
        let had_more = flags_offset & MORE_FRAGMENTS != 0;
        let mut flags_offset = flags_offset;
        {
            let Ok(data) = packet.data_mut() else {
                self.no_memory.fetch_add(1, Relaxed);
                return cx.drop_packet(packet);
            };
            let Some(ip) = data.get_mut(at..at + header_len) else { return cx.drop_packet(packet) };
            if flags_offset & DONT_FRAGMENT != 0 {
                // Fragmenting despite the bit: the sender's identification may not be unique.
                flags_offset &= !DONT_FRAGMENT;
                if let Some(ident) = ip.get_mut(4..6) {
                    ident.copy_from_slice(&self.next_ident().to_be_bytes());
                }
            }
            let first_fields = ((header_len + first_len) as u16, flags_offset | MORE_FRAGMENTS);
            set_fragment_fields(ip, first_fields);
        }
        // Later fragments: the (now rewritten) fixed header and the copied options.
        let mut base = [0u8; 60];
        let mut options = [0u8; 40];
        let ip = packet.data().get(at..at + total_len).unwrap_or(&[]);
        let options_len = copied_options(ip.get(20..header_len).unwrap_or(&[]), &mut options);
        let later_header_len = 20 + options_len;
        if let (Some(to), Some(from)) = (base.get_mut(..20), ip.get(..20)) {
            to.copy_from_slice(from);
        }
        if let (Some(to), Some(from)) = (base.get_mut(20..later_header_len), options.get(..options_len)) {
            to.copy_from_slice(from);
        }
        if let Some(first) = base.first_mut() {
            *first = (*first & 0xf0) | (later_header_len / 4) as u8;
        }
        let Some(mut first) = packet.clone_packet() else {
            self.no_memory.fetch_add(1, Relaxed);
            return cx.drop_packet(packet);
        };
        if first.trim(at + header_len + first_len).is_err() {
            self.no_memory.fetch_add(1, Relaxed);
            drop(first);
            return cx.drop_packet(packet);
        }
        self.fragments.fetch_add(1, Relaxed);
        cx.push(0, first);

        // MTU - later_header_len >= MTU - header_len >= 8, so each fragment takes at least 8
        // bytes and the loop ends within data_len / 8 + 1 steps.
        let step = (self.mtu - later_header_len) & !7;
        let mut offset = first_len;
        for _ in 0..=data_len / 8 {
            if offset >= data_len || step == 0 {
                break;
            }
            let len = step.min(data_len - offset);
            let last = offset + len >= data_len;
            let Some(fragment) = self.later_fragment(&packet, base.get(..later_header_len).unwrap_or(&[]), at + header_len + offset, offset, len, last && !had_more) else {
                self.no_memory.fetch_add(1, Relaxed);
                return cx.drop_packet(packet);
            };
            self.fragments.fetch_add(1, Relaxed);
            cx.push(0, fragment);
            offset += len;
        }
        packet.consume();
    }

    /// The fragment of the `len` bytes at `from` in `packet` (`offset` bytes into the
    /// datagram's data), behind `base` (the fixed header and the copied options), or `None`
    /// when it could not be allocated.
    fn later_fragment(&self, packet: &P::Packet, base: &[u8], from: usize, offset: usize, len: usize, last: bool) -> Option<P::Packet> {
        let from = packet.data().get(from..from + len)?;
        let total = base.len() + len;
        let mut fragment = match self.headroom {
            Some(headroom) => P::Packet::alloc_with_headroom(headroom, total)?,
            None => P::Packet::alloc(total)?,
        };
        let out = fragment.data_mut().ok()?;
        let (header, data) = out.split_at_mut(base.len().min(out.len()));
        header.copy_from_slice(base);
        data.copy_from_slice(from);
        let flags_offset = u16::from_be_bytes([*base.get(6)?, *base.get(7)?]);
        let mut fields = (flags_offset & !OFFSET_MASK) | ((flags_offset & OFFSET_MASK) + (offset / 8) as u16);
        if last {
            fields &= !MORE_FRAGMENTS;
        }
        set_fragment_fields(header, (total as u16, fields));
        fragment.copy_annotations(packet);
        fragment.set_network_offset(0);
        Some(fragment)
    }
}

/// Stores a fragment's total length and flags-and-offset and its header checksum afresh.
fn set_fragment_fields(header: &mut [u8], (total_len, flags_offset): (u16, u16)) {
    if let Some(field) = header.get_mut(2..4) {
        field.copy_from_slice(&total_len.to_be_bytes());
    }
    if let Some(field) = header.get_mut(6..8) {
        field.copy_from_slice(&flags_offset.to_be_bytes());
    }
    if let Some(field) = header.get_mut(10..12) {
        field.fill(0);
    }
    let sum = checksum::checksum(header);
    if let Some(field) = header.get_mut(10..12) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
}

impl<P: Platform> Element<P> for IpFragmenter<P> {
    type Read = Read;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let headroom = match build.args.int("HEADROOM") {
            Some(value) => Some(usize::try_from(value).map_err(|_| ConstructError::BadArgument("HEADROOM"))?),
            None => None,
        };
        // Seeded from the clock so that two elements (or two runs) do not repeat one another.
        let seed = (P::now_ns() as u32) ^ 0x9e37_79b9;
        Ok(IpFragmenter {
            mtu: build.int_as("MTU")?,
            honor_df: build.bool("HONOR_DF")?,
            verbose: build.bool("VERBOSE")?,
            headroom,
            has_df_output: build.outputs() > 1,
            drops: AtomicU64::new(0),
            fragments: AtomicU64::new(0),
            no_memory: AtomicU64::new(0),
            ident: AtomicU32::new(if seed == 0 { 1 } else { seed }),
            log_lines: P::locked(TokenBucket::new(VERBOSE_LINES_PER_SECOND, VERBOSE_LINES_PER_SECOND, P::now_ns()))?,
        })
    }

    fn push(&self, cx: &Cx<'_, P>, _port: u16, mut packet: P::Packet) {
        let at = packet.network_offset().unwrap_or(0);
        if packet.len().saturating_sub(at) <= self.mtu {
            cx.push(0, packet);
            return;
        }
        let Some(header) = header_of(packet.data(), at) else { return cx.drop_packet(packet) };
        let first_len = self.mtu.saturating_sub(header.header_len) & !7;
        if header.total_len <= self.mtu {
            // Too long only by bytes past the datagram's end: without them it fits.
            if packet.trim(at + header.total_len).is_ok() {
                cx.push(0, packet);
            } else {
                cx.drop_packet(packet);
            }
            return;
        }
        if (header.flags_offset & DONT_FRAGMENT != 0 && self.honor_df) || first_len < 8 {
            self.refuse(cx, packet, &header);
            return;
        }
        // total_len > MTU, so the data is longer than MTU - header_len >= first_len: a second
        // fragment follows the first.
        self.fragment(cx, packet, header, first_len);
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        let value = match handler {
            Read::Drops => self.drops.load(Relaxed),
            Read::Fragments => self.fragments.load(Relaxed),
            Read::NoMemory => self.no_memory.load(Relaxed),
        };
        reply(write!(out, "{}", value))
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
