//! Reference models of the IP and classification elements, written from the classes'
//! documentation (and Click's and the RFCs' rules) without the library's code, and the
//! generators of random configurations and packets the property tests feed both.
#![allow(dead_code)]

use crate::common::{ipv4_text, rfc1071};
use proptest::prelude::*;
use std::fmt::Write as _;

// ---------------------------------------------------------------------------------------------
// The packet as the models see it: its bytes and the annotations the elements share.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkt {
    pub data: Vec<u8>,
    /// The network-header mark, as an offset into `data`.
    pub net: Option<usize>,
    /// The destination-IP annotation.
    pub dst: Option<[u8; 4]>,
}

impl Pkt {
    pub fn new(data: Vec<u8>) -> Pkt {
        Pkt { data, net: None, dst: None }
    }

    /// Where the IP elements look for the header: the mark when it lies inside the packet,
    /// else the start.
    pub fn ip_offset(&self) -> usize {
        self.net.filter(|&n| n < self.data.len()).unwrap_or(0)
    }

    fn bytes(&self, at: usize, len: usize) -> Option<&[u8]> {
        self.data.get(at..at.checked_add(len)?)
    }
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

// ---------------------------------------------------------------------------------------------
// Checksums (RFC 1071, RFC 1624).

/// One's-complement addition of 16-bit words.
fn ones_add(a: u16, b: u16) -> u16 {
    let sum = u32::from(a) + u32::from(b);
    ((sum & 0xffff) + (sum >> 16)) as u16
}

/// RFC 1624, equation 3: the checksum after a 16-bit word of the covered data changes from `m`
/// to `m2`: `HC' = ~(~HC + ~m + m')`.
pub fn rfc1624(hc: u16, m: u16, m2: u16) -> u16 {
    !ones_add(ones_add(!hc, !m), m2)
}

/// The header checksum a header (checksum field included) should carry: RFC 1071 over the
/// header with the field zeroed.
pub fn header_checksum(header: &[u8]) -> u16 {
    let mut copy = header.to_vec();
    copy[10] = 0;
    copy[11] = 0;
    rfc1071(&copy)
}

// ---------------------------------------------------------------------------------------------
// SetIPChecksum, DecIPTTL, CheckIPHeader, CheckLength, GetIPAddress, IPEncap.

/// SetIPChecksum: the header at the IP offset gets its checksum recomputed; a packet whose
/// header length is under 20 or beyond the packet is dropped.
pub fn set_ip_checksum(mut p: Pkt) -> Option<Pkt> {
    let at = p.ip_offset();
    let ip = p.data.get(at..)?;
    let header_len = usize::from(*ip.first()? & 0x0f) * 4;
    if header_len < 20 || ip.len() < header_len {
        return None;
    }
    let sum = header_checksum(&ip[..header_len]);
    p.data[at + 10..at + 12].copy_from_slice(&sum.to_be_bytes());
    Some(p)
}

/// What DecIPTTL does with a packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Ttl {
    /// TTL decremented, checksum patched: output 0.
    Forward(Pkt),
    /// TTL 0 or 1: output 1 (dropped without one), unchanged.
    Expired(Pkt),
    /// Too short for an IP header: dropped.
    Dropped,
}

/// DecIPTTL on the header at the IP offset: needs 20 bytes of header (the header length and the
/// packet's end both bound it); TTL 0 or 1 expires; otherwise TTL − 1 with the checksum patched
/// by RFC 1624's equation 3.
pub fn dec_ip_ttl(mut p: Pkt) -> Ttl {
    let at = p.ip_offset();
    let Some(ip) = p.data.get(at..) else { return Ttl::Dropped };
    let header_len = ip.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
    if header_len.min(ip.len()) < 20 {
        return Ttl::Dropped;
    }
    let (ttl, proto) = (ip[8], ip[9]);
    if ttl <= 1 {
        return Ttl::Expired(p);
    }
    let checksum = rfc1624(be16(&ip[10..12]), u16::from_be_bytes([ttl, proto]), u16::from_be_bytes([ttl - 1, proto]));
    p.data[at + 8] = ttl - 1;
    p.data[at + 10..at + 12].copy_from_slice(&checksum.to_be_bytes());
    Ttl::Forward(p)
}

/// CheckIPHeader's arguments.
#[derive(Clone, Debug)]
pub struct CheckIp {
    pub offset: usize,
    pub checksum: bool,
    pub badsrc: Vec<[u8; 4]>,
    pub interfaces: Vec<([u8; 4], u8)>,
}

impl CheckIp {
    pub fn args(&self) -> String {
        let mut args = Vec::new();
        if !self.badsrc.is_empty() {
            args.push(format!("BADSRC {}", self.badsrc.iter().map(|a| ipv4_text(*a)).collect::<Vec<_>>().join(" ")));
        }
        args.push(format!("OFFSET {}", self.offset));
        args.push(format!("CHECKSUM {}", self.checksum));
        if !self.interfaces.is_empty() {
            let list: Vec<String> = self.interfaces.iter().map(|(a, len)| format!("{}/{len}", ipv4_text(*a))).collect();
            args.push(format!("INTERFACES {}", list.join(" ")));
        }
        args.join(", ")
    }

    /// RFC 791's header rules as CheckIPHeader documents them (version 4; a header length of at
    /// least 20 bytes, inside the packet; a total length covering the header and inside the
    /// packet; the checksum unless CHECKSUM false), then RFC 1812's source rules (not the
    /// limited broadcast, not multicast, not in BADSRC, not the broadcast address of an
    /// INTERFACES network of /30 or shorter). On success the packet is cut to the total length
    /// and gets the network mark and the destination annotation.
    pub fn check(&self, mut p: Pkt) -> Result<Pkt, Pkt> {
        let o = self.offset;
        let Some(ip) = p.data.get(o..) else { return Err(p) };
        if ip.len() < 20 || ip[0] >> 4 != 4 {
            return Err(p);
        }
        let header_len = usize::from(ip[0] & 0x0f) * 4;
        if header_len < 20 || ip.len() < header_len {
            return Err(p);
        }
        let total = usize::from(be16(&ip[2..4]));
        if total < header_len || total > ip.len() {
            return Err(p);
        }
        if self.checksum && rfc1071(&ip[..header_len]) != 0 {
            return Err(p);
        }
        let src: [u8; 4] = ip[12..16].try_into().unwrap();
        let src_value = u32::from_be_bytes(src);
        let interface_broadcast = self.interfaces.iter().any(|(network, len)| {
            let mask = if *len == 0 { 0 } else { u32::MAX << (32 - u32::from(*len)) };
            *len < 31 && src_value == (u32::from_be_bytes(*network) & mask) | !mask
        });
        if src == [255; 4] || src[0] >> 4 == 0xe || self.badsrc.contains(&src) || interface_broadcast {
            return Err(p);
        }
        let dst: [u8; 4] = ip[16..20].try_into().unwrap();
        p.data.truncate(o + total);
        p.net = Some(o);
        p.dst = Some(dst);
        Ok(p)
    }
}

/// CheckLength(max): longer packets leave by output 1.
pub fn check_length(p: &Pkt, max: u16) -> bool {
    p.data.len() <= usize::from(max)
}

/// GetIPAddress(offset): the four bytes there become the destination annotation; a packet too
/// short is dropped.
pub fn get_ip_address(mut p: Pkt, offset: usize) -> Option<Pkt> {
    p.dst = Some(p.bytes(offset, 4)?.try_into().unwrap());
    Some(p)
}

#[derive(Clone, Debug)]
pub struct Encap {
    pub proto: u8,
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub ttl: u8,
    pub tos: u8,
}

impl Encap {
    pub fn args(&self) -> String {
        format!("{}, {}, {}, TTL {}, TOS {}", self.proto, ipv4_text(self.src), ipv4_text(self.dst), self.ttl, self.tos)
    }

    /// IPEncap: a 20-byte header in front, identification `ident`, no flags, the checksum
    /// filled in; the mark on the new header and the annotation its destination.
    pub fn apply(&self, mut p: Pkt, ident: u16) -> Option<Pkt> {
        let total = u16::try_from(p.data.len() + 20).ok()?;
        let mut header = vec![0x45, self.tos];
        header.extend_from_slice(&total.to_be_bytes());
        header.extend_from_slice(&ident.to_be_bytes());
        header.extend_from_slice(&[0, 0, self.ttl, self.proto, 0, 0]);
        header.extend_from_slice(&self.src);
        header.extend_from_slice(&self.dst);
        let sum = rfc1071(&header);
        header[10..12].copy_from_slice(&sum.to_be_bytes());
        header.extend_from_slice(&p.data);
        p.data = header;
        p.net = Some(0);
        p.dst = Some(self.dst);
        Some(p)
    }
}

// ---------------------------------------------------------------------------------------------
// Classifier patterns.

/// One pattern byte: its value, which nibbles are `?`, and its explicit mask byte if the term has
/// a `%MASK`.
#[derive(Clone, Debug)]
pub struct PatternByte {
    pub value: u8,
    pub wild_high: bool,
    pub wild_low: bool,
    pub mask: u8,
}

#[derive(Clone, Debug)]
pub struct Term {
    pub negated: bool,
    pub offset: u16,
    pub bytes: Vec<PatternByte>,
    pub explicit_mask: bool,
}

/// `-`, or terms that must all hold.
#[derive(Clone, Debug)]
pub struct Pattern(pub Vec<Term>);

impl Pattern {
    pub fn text(&self) -> String {
        if self.0.is_empty() {
            return "-".into();
        }
        let terms: Vec<String> = self
            .0
            .iter()
            .map(|term| {
                let mut text = String::new();
                if term.negated {
                    text.push('!');
                }
                write!(text, "{}/", term.offset).unwrap();
                for b in &term.bytes {
                    let digit = |wild: bool, nibble: u8| if wild { '?' } else { char::from_digit(u32::from(nibble), 16).unwrap() };
                    text.push(digit(b.wild_high, b.value >> 4));
                    text.push(digit(b.wild_low, b.value & 0xf));
                }
                if term.explicit_mask {
                    text.push('%');
                    for b in &term.bytes {
                        write!(text, "{:02x}", b.mask).unwrap();
                    }
                }
                text
            })
            .collect();
        terms.join(" ")
    }

    /// The pattern text read literally: each term's bytes must all be in the packet and agree
    /// with the value wherever neither a `?` nibble nor the mask clears a bit; `!` negates the
    /// term; every term must hold.
    pub fn matches(&self, packet: &[u8]) -> bool {
        self.0.iter().all(|term| {
            let start = usize::from(term.offset);
            let holds = packet.get(start..start + term.bytes.len()).is_some_and(|field| {
                field.iter().zip(&term.bytes).all(|(got, b)| {
                    let mut mask = if term.explicit_mask { b.mask } else { 0xff };
                    if b.wild_high {
                        mask &= 0x0f;
                    }
                    if b.wild_low {
                        mask &= 0xf0;
                    }
                    got & mask == b.value & mask
                })
            });
            holds != term.negated
        })
    }

    /// Writes the first term's bytes into `packet` (grown if need be), so that it likely matches.
    pub fn plant(&self, packet: &mut Vec<u8>) {
        let Some(term) = self.0.first() else { return };
        let start = usize::from(term.offset);
        if packet.len() < start + term.bytes.len() {
            packet.resize(start + term.bytes.len(), 0);
        }
        for (i, b) in term.bytes.iter().enumerate() {
            packet[start + i] = b.value;
        }
    }
}

/// Bytes drawn mostly from a few values, so that random patterns and packets agree often.
pub fn likely_byte() -> impl Strategy<Value = u8> {
    prop_oneof![3 => prop::sample::select(vec![0x00u8, 0x08, 0x45, 0xff, 0x11]), 1 => any::<u8>()]
}

fn pattern_byte(explicit: bool) -> impl Strategy<Value = PatternByte> {
    (likely_byte(), prop::bool::weighted(0.15), prop::bool::weighted(0.15), prop_oneof![Just(0xffu8), Just(0xf0), Just(0x0f), any::<u8>()])
        .prop_map(move |(value, wild_high, wild_low, mask)| PatternByte { value, wild_high, wild_low, mask: if explicit { mask } else { 0xff } })
}

fn term() -> impl Strategy<Value = Term> {
    (prop::bool::weighted(0.25), 0u16..24, prop::bool::weighted(0.3)).prop_flat_map(|(negated, offset, explicit_mask)| {
        prop::collection::vec(pattern_byte(explicit_mask), 1..7).prop_map(move |bytes| Term { negated, offset, bytes, explicit_mask })
    })
}

pub fn pattern() -> impl Strategy<Value = Pattern> {
    prop_oneof![1 => Just(Pattern(Vec::new())), 6 => prop::collection::vec(term(), 1..4).prop_map(Pattern)]
}

// ---------------------------------------------------------------------------------------------
// IPClassifier expressions: a subset, evaluated directly on the header.

#[derive(Clone, Copy, Debug)]
pub enum Dir {
    Src,
    Dst,
    Either,
}

impl Dir {
    fn text(self) -> &'static str {
        match self {
            Dir::Src => "src ",
            Dir::Dst => "dst ",
            Dir::Either => "",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Expr {
    Host(Dir, [u8; 4]),
    Net(Dir, [u8; 4], u8),
    Proto(u8),
    Tcp,
    Udp,
    /// `[tcp|udp] [src|dst] port N` (protocol 6 or 17 when none is named).
    Port(Option<u8>, Dir, u16),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

impl Expr {
    pub fn text(&self) -> String {
        match self {
            Expr::Host(dir, a) => format!("{}host {}", dir.text(), ipv4_text(*a)),
            Expr::Net(dir, a, len) => format!("{}net {}/{len}", dir.text(), ipv4_text(*a)),
            Expr::Proto(n) => format!("ip proto {n}"),
            Expr::Tcp => "tcp".into(),
            Expr::Udp => "udp".into(),
            Expr::Port(proto, dir, port) => {
                let proto = match proto {
                    Some(6) => "tcp ",
                    Some(17) => "udp ",
                    _ => "",
                };
                format!("{proto}{}port {port}", dir.text())
            }
            Expr::And(a, b) => format!("({}) and ({})", a.text(), b.text()),
            Expr::Or(a, b) => format!("({}) or ({})", a.text(), b.text()),
            Expr::Not(a) => format!("not ({})", a.text()),
        }
    }

    /// Evaluates the expression on `p`, whose IP header is at its IP offset. A field that is
    /// not in the packet fails its test. Ports are those of an unfragmented (offset 0) IPv4
    /// packet of the right protocol whose header is whole.
    pub fn eval(&self, p: &Pkt) -> bool {
        let n = p.ip_offset();
        let field = |offset: usize, len: usize| p.bytes(n + offset, len);
        let address = |offset: usize| field(offset, 4).map(|b| u32::from_be_bytes(b.try_into().unwrap()));
        let either = |dir: Dir, test: &dyn Fn(usize) -> bool| match dir {
            Dir::Src => test(12),
            Dir::Dst => test(16),
            Dir::Either => test(12) || test(16),
        };
        match self {
            Expr::Host(dir, a) => either(*dir, &|at| address(at) == Some(u32::from_be_bytes(*a))),
            Expr::Net(dir, a, len) => {
                // Click's reading of a /0 network: every packet is in it.
                if *len == 0 {
                    return true;
                }
                let mask = u32::MAX << (32 - u32::from(*len));
                either(*dir, &|at| address(at).is_some_and(|value| value & mask == u32::from_be_bytes(*a) & mask))
            }
            Expr::Proto(number) => field(9, 1) == Some(&[*number][..]),
            Expr::Tcp => field(9, 1) == Some(&[6][..]),
            Expr::Udp => field(9, 1) == Some(&[17][..]),
            Expr::Port(proto, dir, port) => {
                let protocol = field(9, 1).map(|b| b[0]);
                let protocol_ok = match proto {
                    Some(number) => protocol == Some(*number),
                    None => matches!(protocol, Some(6 | 17)),
                };
                let ip = p.data.get(n..).unwrap_or(&[]);
                let header_len = ip.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
                let first_fragment = field(6, 2).is_some_and(|b| be16(b) & 0x1fff == 0);
                let whole = ip.first().is_some_and(|b| b >> 4 == 4) && header_len >= 20 && header_len <= ip.len();
                if !(protocol_ok && first_fragment && whole) {
                    return false;
                }
                either(*dir, &|at| {
                    let at = if at == 12 { 0 } else { 2 };
                    field(header_len + at, 2).is_some_and(|b| be16(b) == *port)
                })
            }
            Expr::And(a, b) => a.eval(p) && b.eval(p),
            Expr::Or(a, b) => a.eval(p) || b.eval(p),
            Expr::Not(a) => !a.eval(p),
        }
    }
}

/// Addresses the generators share, so that expressions, routes and packets meet.
pub fn address() -> impl Strategy<Value = [u8; 4]> {
    prop_oneof![
        4 => prop::sample::select(vec![[10, 0, 0, 1], [10, 0, 1, 2], [10, 1, 0, 9], [192, 168, 1, 1], [172, 16, 0, 1], [10, 0, 0, 255]]),
        1 => prop::sample::select(vec![[255, 255, 255, 255], [224, 0, 0, 5], [0, 0, 0, 0]]),
        1 => any::<[u8; 4]>(),
    ]
}

pub fn prefix_len() -> impl Strategy<Value = u8> {
    prop_oneof![3 => prop::sample::select(vec![0u8, 8, 16, 24, 32]), 1 => 0u8..=32]
}

pub fn port_number() -> impl Strategy<Value = u16> {
    prop_oneof![3 => prop::sample::select(vec![53u16, 80, 1000, 0]), 1 => any::<u16>()]
}

fn dir() -> impl Strategy<Value = Dir> {
    prop_oneof![Just(Dir::Src), Just(Dir::Dst), Just(Dir::Either)]
}

pub fn protocol() -> impl Strategy<Value = u8> {
    prop_oneof![3 => prop::sample::select(vec![6u8, 17, 1, 47]), 1 => any::<u8>()]
}

fn primitive() -> impl Strategy<Value = Expr> {
    prop_oneof![
        (dir(), address()).prop_map(|(d, a)| Expr::Host(d, a)),
        (dir(), address(), prefix_len()).prop_map(|(d, a, l)| Expr::Net(d, a, l)),
        protocol().prop_map(Expr::Proto),
        Just(Expr::Tcp),
        Just(Expr::Udp),
        (prop::sample::select(vec![None, Some(6u8), Some(17)]), dir(), port_number()).prop_map(|(p, d, n)| Expr::Port(p, d, n)),
    ]
}

pub fn expr() -> impl Strategy<Value = Expr> {
    primitive().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Expr::Not(Box::new(a))),
        ]
    })
}

// ---------------------------------------------------------------------------------------------
// IPv4 packets, well-formed and not.

/// An IPv4 packet's fields, and how to spoil it.
#[derive(Clone, Debug)]
pub struct IpGen {
    pub version: u8,
    /// The header length field (words); 5 and up add that many option words of filler.
    pub ihl: u8,
    pub tos: u8,
    pub frag: u16,
    pub ttl: u8,
    pub proto: u8,
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub sport: u16,
    pub dport: u16,
    pub payload: usize,
    /// Added to the correct total length.
    pub total_delta: i32,
    /// XORed into the correct checksum.
    pub checksum_xor: u16,
    /// Trailing bytes past the total length (link-layer padding).
    pub padding: usize,
    /// The packet is cut to this many bytes, when it is longer.
    pub cut: Option<usize>,
}

impl IpGen {
    pub fn bytes(&self) -> Vec<u8> {
        let header_len = usize::from(self.ihl.max(5)) * 4;
        let mut p = vec![(self.version << 4) | (self.ihl & 0x0f), self.tos, 0, 0, 0x12, 0x34];
        p.extend_from_slice(&self.frag.to_be_bytes());
        p.extend_from_slice(&[self.ttl, self.proto, 0, 0]);
        p.extend_from_slice(&self.src);
        p.extend_from_slice(&self.dst);
        p.resize(header_len, 0x01);
        p.extend_from_slice(&self.sport.to_be_bytes());
        p.extend_from_slice(&self.dport.to_be_bytes());
        p.resize(header_len + 4 + self.payload, 0x77);
        let total = (p.len() as i32 + self.total_delta).clamp(0, 0xffff) as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        let sum = rfc1071(&p[..usize::from(self.ihl) * 4]) ^ self.checksum_xor;
        // The checksum covers the header the IHL claims (none when it claims under 10 bytes).
        if usize::from(self.ihl) * 4 >= 12 {
            p[10..12].copy_from_slice(&(sum).to_be_bytes());
        }
        p.resize(p.len() + self.padding, 0xee);
        if let Some(cut) = self.cut {
            p.truncate(cut);
        }
        p
    }
}

/// IPv4 packets: mostly whole and correct, some spoiled in each of the ways a header can be.
pub fn ip_packet() -> impl Strategy<Value = IpGen> {
    let version = prop_oneof![9 => Just(4u8), 1 => 0u8..16];
    let ihl = prop_oneof![7 => Just(5u8), 2 => 6u8..9, 1 => 0u8..16];
    let frag = prop_oneof![4 => Just(0u16), 1 => Just(0x4000u16), 1 => Just(0x2000), 1 => any::<u16>()];
    let ttl = prop_oneof![3 => 2u8..=255, 1 => 0u8..2];
    let total_delta = prop_oneof![6 => Just(0i32), 1 => -30i32..30];
    let checksum_xor = prop_oneof![6 => Just(0u16), 1 => any::<u16>()];
    let padding = prop_oneof![3 => Just(0usize), 1 => 1usize..8];
    let cut = prop_oneof![6 => Just(None), 1 => (0usize..40).prop_map(Some)];
    (
        (version, ihl, any::<u8>(), frag, ttl, protocol()),
        (address(), address(), port_number(), port_number(), 0usize..24),
        (total_delta, checksum_xor, padding, cut),
    )
        .prop_map(|((version, ihl, tos, frag, ttl, proto), (src, dst, sport, dport, payload), (total_delta, checksum_xor, padding, cut))| IpGen {
            version,
            ihl,
            tos,
            frag,
            ttl,
            proto,
            src,
            dst,
            sport,
            dport,
            payload,
            total_delta,
            checksum_xor,
            padding,
            cut,
        })
}

// ---------------------------------------------------------------------------------------------
// Route tables: a brute-force longest-prefix match.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub network: u32,
    pub len: u8,
    pub gateway: Option<[u8; 4]>,
    pub port: u16,
}

pub fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

impl Route {
    pub fn new(address: [u8; 4], len: u8, gateway: Option<[u8; 4]>, port: u16) -> Route {
        Route { network: u32::from_be_bytes(address) & mask(len), len, gateway, port }
    }

    pub fn prefix_text(&self) -> String {
        format!("{}/{}", ipv4_text(self.network.to_be_bytes()), self.len)
    }

    /// `ADDR/LEN [GATEWAY] OUTPUT`.
    pub fn text(&self) -> String {
        match self.gateway {
            Some(gateway) => format!("{} {} {}", self.prefix_text(), ipv4_text(gateway), self.port),
            None => format!("{} {}", self.prefix_text(), self.port),
        }
    }

    fn contains(&self, address: [u8; 4]) -> bool {
        (u32::from_be_bytes(address) ^ self.network) & mask(self.len) == 0
    }
}

/// A route table as a plain list, one route per prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table(pub Vec<Route>);

impl Table {
    fn position(&self, network: u32, len: u8) -> Option<usize> {
        self.0.iter().position(|r| r.network == network && r.len == len)
    }

    /// Adds or replaces (a configuration's later route for a prefix wins, as `set` does).
    pub fn set(&mut self, route: Route) {
        match self.position(route.network, route.len) {
            Some(i) => self.0[i] = route,
            None => self.0.push(route),
        }
    }

    pub fn add(&mut self, route: Route) -> Result<(), ()> {
        if self.position(route.network, route.len).is_some() {
            return Err(());
        }
        self.0.push(route);
        Ok(())
    }

    /// Removes the prefix's route if the gateway and output, where given, are its own.
    pub fn remove(&mut self, network: u32, len: u8, gateway: Option<[u8; 4]>, port: Option<u16>) -> Result<(), ()> {
        let i = self.position(network, len).ok_or(())?;
        let route = self.0[i];
        if port.is_some_and(|p| p != route.port) || gateway.is_some_and(|g| route.gateway != Some(g)) {
            return Err(());
        }
        self.0.remove(i);
        Ok(())
    }

    /// The route of the longest prefix holding `address`, by looking at every route.
    pub fn lookup(&self, address: [u8; 4]) -> Option<Route> {
        self.0.iter().filter(|r| r.contains(address)).max_by_key(|r| r.len).copied()
    }

    /// The `table` handler's text: address order, shorter prefixes first.
    pub fn text(&self) -> String {
        let mut routes = self.0.clone();
        routes.sort_by_key(|r| (r.network, r.len));
        routes
            .iter()
            .map(|r| format!("{}\t{}\t{}\n", r.prefix_text(), r.gateway.map_or("-".to_string(), ipv4_text), r.port))
            .collect()
    }

    /// Routes `p` as the lookup elements do: on the destination annotation, else the header's
    /// destination field at the IP offset (a packet without one is dropped); the gateway, if
    /// any, becomes the annotation. Returns the output.
    pub fn route(&self, p: &mut Pkt) -> Option<u16> {
        let destination = match p.dst {
            Some(dst) => dst,
            None => p.bytes(p.ip_offset() + 16, 4)?.try_into().unwrap(),
        };
        let route = self.lookup(destination)?;
        p.dst = Some(route.gateway.unwrap_or(destination));
        Some(route.port)
    }
}

/// Route prefixes that nest and overlap: a few networks at several lengths.
pub fn route(max_port: u16) -> impl Strategy<Value = Route> {
    (address(), prefix_len(), prop::option::weighted(0.3, address()), 0..=max_port).prop_map(|(a, len, gw, port)| Route::new(a, len, gw, port))
}
