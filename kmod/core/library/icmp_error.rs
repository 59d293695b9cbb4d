//! ICMPError: answers each IP packet with an ICMP error of type TYPE and code CODE from source
//! SRC (RFC 792), or with nothing where RFC 1812 says a router must stay silent; the packet
//! itself ends here either way.
//!
//! The error carries the packet's IP header and as much of what follows as fits in MTU bytes
//! (576 by default, RFC 1812 4.3.2.3), the parameter-problem pointer from the packet's
//! annotation (IPGWOptions sets it), a redirect's gateway from its destination annotation, a
//! needfrag's next-hop MTU from PMTU, and the reverse of a source route the packet followed.
//! It is marked for FixIPSrc unless SET_FIX_ANNO is false, and its destination annotation is
//! its destination, ready for the route table. No error answers an ICMP error, a fragment other
//! than the first, a packet to a broadcast or multicast address (IP or link level, or in
//! BADADDRS), or a packet from an address no error may go to (0/8, 127/8, class D and E, or in
//! BADADDRS). Click has no rate limit here either: put a rated element after it.
//!
//! Where vdp differs from Click: the IP header is found at the network-header mark or at the
//! start of the packet, as the other IP elements find it, and a packet too short for the
//! header its length field announces gets no answer; identifications count from 1 per element
//! (Click's count is shared by every ICMPError); no timestamp annotation is set; errors not sent
//! because no packet could be allocated are counted (`no_memory`).

use crate::catalog::{base, int, keyword, positional, required, ArgKind, ElementClass};
use crate::click_value;
use crate::element::agnostic::Action;
use crate::element::handler::{handlers, parse_int_in, reply, HandlerError};
use crate::element::{Build, ConstructError, LinkPacketType, PacketBuf, Platform, Vector};
use crate::element_args::ArgValue;
use crate::wire::checksum;
use core::fmt;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// The smallest MTU: room for the longest IP header (a 40-byte reversed source route) and the
/// ICMP header, so every error can be built.
const MIN_MTU: i64 = 68;

/// ICMPError's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[
        required("SRC", ArgKind::Ipv4Addr),
        required("TYPE", ArgKind::IcmpErrorType),
        positional("CODE", ArgKind::IcmpCode, Some("0")),
        positional("BADADDRS", ArgKind::AddrList, None),
        keyword("MTU", int(MIN_MTU, 65535), Some("576")),
        keyword("PMTU", int(0, 65535), Some("0")),
        keyword("SET_FIX_ANNO", ArgKind::Bool, Some("true")),
    ],
    cost_cycles: 1500,
    feeds_back: true,
    ..base("ICMPError", "Answers each IP packet with an ICMP error, where RFC 1812 allows one")
};

handlers! {
    pub enum Read {
        Src = "src": Lines,
        Mtu = "mtu": Integer,
        Pmtu = "pmtu": Integer,
        NoMemory = "no_memory": Integer,
    }
}

handlers! {
    pub enum Write {
        Src = "src": Lines,
        Mtu = "mtu": Integer,
        Pmtu = "pmtu": Integer,
    }
}

const ICMP_PROTOCOL: u8 = 1;
const UNREACHABLE: u8 = 3;
const NEEDFRAG: u8 = 4;
const REDIRECT: u8 = 5;
const PARAMETER_PROBLEM: u8 = 12;
const ERROR_AT_POINTER: u8 = 0;
/// IP option types (RFC 791).
const OPTION_END: u8 = 0;
const OPTION_NOP: u8 = 1;
const OPTION_LSRR: u8 = 131;
const OPTION_SSRR: u8 = 137;
/// What every error carries in its IP header.
const ERROR_TTL: u8 = 200;

pub struct IcmpError<P: Platform> {
    /// SRC, as the `src` handler may replace it (the address's bytes in `u32::from_be_bytes`).
    src: AtomicU32,
    icmp_type: u8,
    code: u8,
    /// BADADDRS as the compiled graph encodes it: 4-byte addresses.
    bad_addrs: Vector<P, u8>,
    mtu: AtomicU32,
    pmtu: AtomicU32,
    set_fix_anno: bool,
    /// The next error's IP identification (its low 16 bits).
    ident: AtomicU32,
    no_memory: AtomicU64,
}

/// Where the pieces of an error come from in the packet it answers.
struct Plan {
    /// The packet's IP header, from the start of the data.
    ip: usize,
    /// The source-route option to reverse: its offset in the IP header.
    source_route: Option<usize>,
}

impl<P: Platform> IcmpError<P> {
    /// Not limited broadcast, not class D, not in BADADDRS.
    fn unicast(&self, address: [u8; 4]) -> bool {
        address != [255; 4] && address[0] & 0xf0 != 0xe0 && !self.bad_addrs.chunks_exact(4).any(|a| a == address)
    }

    /// An address an error may be sent to (RFC 1812 4.2.2.11, 5.3.7): unicast, and not in
    /// 0/8, 127/8 or class E.
    fn valid_source(&self, address: [u8; 4]) -> bool {
        self.unicast(address) && address[0] != 0 && address[0] != 127 && address[0] & 0xf0 != 0xf0
    }

    /// Whether `packet` gets an error, and from what.
    fn plan(&self, packet: &P::Packet) -> Option<Plan> {
        let at = packet.network_offset().unwrap_or(0);
        let ip = packet.data().get(at..)?;
        let header_len = usize::from(ip.first()? & 0x0f) * 4;
        if header_len < 20 || header_len > ip.len() {
            return None;
        }
        let protocol = *ip.get(9)?;
        if protocol == ICMP_PROTOCOL {
            // Never an error about an ICMP error (nor about an ICMP message too short to say).
            if header_len + 4 > ip.len() || click_value::is_icmp_error_type(*ip.get(header_len)?) {
                return None;
            }
        }
        let source: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
        let destination: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
        if !self.unicast(destination) {
            return None;
        }
        if matches!(packet.link_packet_type(), LinkPacketType::Broadcast | LinkPacketType::Multicast) {
            return None;
        }
        if !self.valid_source(source) {
            return None;
        }
        let fragment_offset = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]) & 0x1fff;
        if fragment_offset != 0 {
            return None;
        }
        let mut source_route = find_source_route(ip.get(..header_len)?);
        if let Some(route) = source_route {
            // No redirect for a source-routed packet (RFC 1812 5.2.7.2); no reversed route in
            // a parameter problem about the route itself (4.3.2.6).
            if self.icmp_type == REDIRECT {
                return None;
            }
            if self.icmp_type == PARAMETER_PROBLEM && self.code == ERROR_AT_POINTER {
                let pointer = usize::from(packet.icmp_param_offset());
                let route_len = usize::from(*ip.get(route + 1)?);
                if (route..route + route_len).contains(&pointer) {
                    source_route = None;
                }
            }
        }
        Some(Plan { ip: at, source_route })
    }

    /// The error for `packet` by `plan`, or `None` when no packet could be allocated.
    fn build(&self, packet: &P::Packet, plan: &Plan) -> Option<P::Packet> {
        let ip = packet.data().get(plan.ip..)?;
        // The reversed route takes the option's traversed part (its pointer less one) and one
        // end-of-options byte: a multiple of 4, as the pointer is.
        let route = plan.source_route.and_then(|at| Some((at, usize::from(*ip.get(at + 2)?).checked_sub(1)?)));
        let header_len = 20 + route.map_or(0, |(_, traversed)| traversed + 1);
        let mtu = self.mtu.load(Relaxed) as usize;
        let quoted = ip.len().min(mtu.saturating_sub(header_len + 8));
        let total = header_len + 8 + quoted;
        let mut error = P::Packet::alloc(total)?;
        let out = error.data_mut().ok()?;
        let (header, icmp) = out.split_at_mut(header_len.min(out.len()));
        let ident = self.ident.fetch_add(1, Relaxed) as u16;
        // Version and length, TOS 0, total length, identification, no fragmentation, TTL,
        // protocol, the checksum (below), SRC, and the packet's source as the destination.
        let fields: [(usize, &[u8]); 7] = [
            (0, &[0x40 | (header_len / 4) as u8, 0]),
            (2, &(total as u16).to_be_bytes()),
            (4, &ident.to_be_bytes()),
            (6, &[0, 0]),
            (8, &[ERROR_TTL, ICMP_PROTOCOL]),
            (12, &self.src.load(Relaxed).to_be_bytes()),
            (16, ip.get(12..16)?),
        ];
        for (at, bytes) in fields {
            header.get_mut(at..at + bytes.len())?.copy_from_slice(bytes);
        }
        if let Some((at, traversed)) = route {
            let option = ip.get(at..at + traversed)?;
            let out_option = header.get_mut(20..20 + traversed + 1)?;
            out_option.get_mut(..3)?.copy_from_slice(&[*option.first()?, traversed as u8, 4]);
            // The addresses the packet went through, last first.
            let addresses = option.get(3..)?;
            for (to, from) in out_option.get_mut(3..traversed)?.chunks_exact_mut(4).zip(addresses.chunks_exact(4).rev()) {
                to.copy_from_slice(from);
            }
            *out_option.get_mut(traversed)? = OPTION_END;
        }
        let header_sum = checksum::checksum(header);
        header.get_mut(10..12)?.copy_from_slice(&header_sum.to_be_bytes());

        icmp.get_mut(..2)?.copy_from_slice(&[self.icmp_type, self.code]);
        let rest = icmp.get_mut(4..8)?;
        if self.icmp_type == PARAMETER_PROBLEM && self.code == ERROR_AT_POINTER {
            *rest.first_mut()? = packet.icmp_param_offset();
        } else if self.icmp_type == REDIRECT {
            rest.copy_from_slice(&packet.dst_ip_anno().unwrap_or([0; 4]));
        } else if self.icmp_type == UNREACHABLE && self.code == NEEDFRAG {
            rest.get_mut(2..4)?.copy_from_slice(&(self.pmtu.load(Relaxed) as u16).to_be_bytes());
        }
        icmp.get_mut(8..)?.copy_from_slice(ip.get(..quoted)?);
        let icmp_sum = checksum::checksum(icmp);
        icmp.get_mut(2..4)?.copy_from_slice(&icmp_sum.to_be_bytes());

        error.set_network_offset(0);
        error.set_dst_ip_anno(ip.get(12..16)?.try_into().ok()?);
        if self.set_fix_anno {
            error.set_fix_ip_src(true);
        }
        Some(error)
    }
}

/// The offset of a loose or strict source-route option in `header` whose pointer is sane (a
/// multiple of 4, from 4 to one past the option), if the options hold one before their end.
fn find_source_route(header: &[u8]) -> Option<usize> {
    let mut at = 20;
    // Each step moves on at least one byte.
    while at < header.len() {
        let kind = *header.get(at)?;
        match kind {
            OPTION_NOP => {
                at += 1;
                continue;
            }
            OPTION_END => return None,
            _ => {}
        }
        let len = usize::from(*header.get(at + 1)?);
        if len < 2 || at + len > header.len() {
            return None;
        }
        if kind == OPTION_LSRR || kind == OPTION_SSRR {
            if let Some(&pointer) = header.get(at + 2).filter(|_| len > 2) {
                let pointer = usize::from(pointer);
                if pointer >= 4 && pointer % 4 == 0 && pointer <= len + 1 {
                    return Some(at);
                }
            }
        }
        at += len;
    }
    None
}

impl<P: Platform> Action<P> for IcmpError<P> {
    type Read = Read;
    type Write = Write;

    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
        let src = match build.value("SRC") {
            Some(ArgValue::Ipv4(address)) => u32::from_be_bytes(address),
            _ => return Err(ConstructError::BadArgument("SRC")),
        };
        let icmp_type: u8 = build.int_as("TYPE")?;
        if !click_value::is_icmp_error_type(icmp_type) {
            return Err(ConstructError::BadArgument("TYPE"));
        }
        let bad_addrs = match build.value("BADADDRS") {
            Some(ArgValue::AddrList { bytes, .. }) => Vector::from_slice(bytes)?,
            _ => Vector::new(),
        };
        Ok(IcmpError {
            src: AtomicU32::new(src),
            icmp_type,
            code: build.int_as("CODE")?,
            bad_addrs,
            mtu: AtomicU32::new(build.int_as("MTU")?),
            pmtu: AtomicU32::new(build.int_as("PMTU")?),
            set_fix_anno: build.bool("SET_FIX_ANNO")?,
            ident: AtomicU32::new(1),
            no_memory: AtomicU64::new(0),
        })
    }

    /// The packet ends here: delivered when it was answered, dropped when not.
    fn act(&self, packet: P::Packet) -> Option<(u16, P::Packet)> {
        let plan = self.plan(&packet)?;
        match self.build(&packet, &plan) {
            Some(error) => {
                packet.consume();
                Some((0, error))
            }
            None => {
                self.no_memory.fetch_add(1, Relaxed);
                None
            }
        }
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Src => {
                let [a, b, c, d] = self.src.load(Relaxed).to_be_bytes();
                reply(write!(out, "{a}.{b}.{c}.{d}"))
            }
            Read::Mtu => reply(write!(out, "{}", self.mtu.load(Relaxed))),
            Read::Pmtu => reply(write!(out, "{}", self.pmtu.load(Relaxed))),
            Read::NoMemory => reply(write!(out, "{}", self.no_memory.load(Relaxed))),
        }
    }

    fn write(&self, handler: Write, value: &str) -> Result<(), HandlerError> {
        match handler {
            Write::Src => {
                let address = click_value::parse_ipv4(value.trim()).map_err(|_| HandlerError::BadValue("expected an IPv4 address"))?;
                self.src.store(u32::from_be_bytes(address), Relaxed);
            }
            Write::Mtu => self.mtu.store(parse_int_in(value, MIN_MTU, 65535)? as u32, Relaxed),
            Write::Pmtu => self.pmtu.store(parse_int_in(value, 0, 65535)? as u32, Relaxed),
        }
        Ok(())
    }

    /// The identifications go on from the old element's.
    fn take_state(&mut self, old: &Self) {
        self.ident.store(old.ident.load(Relaxed), Relaxed);
    }
}
