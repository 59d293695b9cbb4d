//! IPv4 headers (RFC 791): the outer header of every tunnelled packet and the header a tenant's
//! router graph checks, decrements and rewrites.

use super::checksum;
use super::{read_array, read_u16, read_u8, sub, sub_mut, write_bytes, write_u16, write_u8};
use core::fmt;

/// An IPv4 address, stored in network order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 4]);

impl Address {
    pub const UNSPECIFIED: Address = Address([0; 4]);
    pub const BROADCAST: Address = Address([255; 4]);

    pub const fn new(a: u8, b: u8, c: u8, d: u8) -> Address {
        Address([a, b, c, d])
    }

    pub const fn from_u32(value: u32) -> Address {
        Address(value.to_be_bytes())
    }

    pub const fn to_u32(self) -> u32 {
        u32::from_be_bytes(self.0)
    }

    pub const fn octets(self) -> [u8; 4] {
        self.0
    }

    pub fn is_unspecified(self) -> bool {
        self == Self::UNSPECIFIED
    }

    pub fn is_broadcast(self) -> bool {
        self == Self::BROADCAST
    }

    pub fn is_multicast(self) -> bool {
        self.0[0] & 0xf0 == 0xe0
    }
}

impl From<u32> for Address {
    fn from(value: u32) -> Address {
        Address::from_u32(value)
    }
}

impl From<Address> for u32 {
    fn from(address: Address) -> u32 {
        address.to_u32()
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// Dotted quad, exactly four decimal parts of at most three digits each.
impl core::str::FromStr for Address {
    type Err = ();

    fn from_str(text: &str) -> Result<Address, ()> {
        let mut out = [0u8; 4];
        let mut parts = text.split('.');
        for byte in out.iter_mut() {
            let part = parts.next().ok_or(())?;
            if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            *byte = part.parse().map_err(|_| ())?;
        }
        if parts.next().is_some() {
            return Err(());
        }
        Ok(Address(out))
    }
}

/// The IP protocol numbers vdp tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Icmp,
    Tcp,
    Udp,
    Gre,
    Unknown(u8),
}

impl From<u8> for Protocol {
    fn from(value: u8) -> Protocol {
        match value {
            1 => Protocol::Icmp,
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            47 => Protocol::Gre,
            other => Protocol::Unknown(other),
        }
    }
}

impl From<Protocol> for u8 {
    fn from(value: Protocol) -> u8 {
        match value {
            Protocol::Icmp => 1,
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Gre => 47,
            Protocol::Unknown(other) => other,
        }
    }
}

mod field {
    pub const VERSION_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const TOTAL_LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLAGS_FRAGMENT: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SOURCE: usize = 12;
    pub const DESTINATION: usize = 16;
}

/// Length of a header without options.
pub const MIN_HEADER_LEN: usize = 20;
const FLAG_DONT_FRAGMENT: u16 = 0x4000;
const FLAG_MORE_FRAGMENTS: u16 = 0x2000;
const FRAGMENT_OFFSET_MASK: u16 = 0x1fff;

/// Why a header failed the checks of [`Packet::check_header`], in the order they are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// Fewer than 20 bytes, or fewer than the header length claims.
    Truncated,
    BadVersion,
    /// IHL below 5.
    BadHeaderLength,
    /// Total length below the header length, or beyond the end of the buffer.
    BadTotalLength,
    BadChecksum,
}

/// The TTL was 0 or 1, so the packet must not be forwarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TtlExpired;

/// A view of an IPv4 packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view with no check; accessors on a short buffer read zeros.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// A view whose header and claimed total length are inside the buffer, so that `payload`
    /// and `options` are exact. Does not look at the version or the checksum.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, HeaderError> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    pub fn check_len(&self) -> Result<(), HeaderError> {
        let len = self.buffer.as_ref().len();
        if len < MIN_HEADER_LEN {
            return Err(HeaderError::Truncated);
        }
        let header_len = self.header_len();
        if header_len < MIN_HEADER_LEN {
            return Err(HeaderError::BadHeaderLength);
        }
        if len < header_len {
            return Err(HeaderError::Truncated);
        }
        let total_len = usize::from(self.total_len());
        if total_len < header_len || total_len > len {
            return Err(HeaderError::BadTotalLength);
        }
        Ok(())
    }

    /// The checks Click's CheckIPHeader makes of a header before anything trusts it: version 4,
    /// a header length of at least 20 bytes inside the buffer, a total length that covers the
    /// header and fits in the buffer (trailing link-layer padding is allowed), and, if asked,
    /// a correct header checksum.
    pub fn check_header(&self, verify_checksum: bool) -> Result<(), HeaderError> {
        if self.buffer.as_ref().len() < MIN_HEADER_LEN {
            return Err(HeaderError::Truncated);
        }
        if self.version() != 4 {
            return Err(HeaderError::BadVersion);
        }
        self.check_len()?;
        if verify_checksum && !self.verify_checksum() {
            return Err(HeaderError::BadChecksum);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        read_u8(self.buffer.as_ref(), field::VERSION_IHL) >> 4
    }

    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(read_u8(self.buffer.as_ref(), field::VERSION_IHL) & 0x0f) * 4
    }

    pub fn dscp(&self) -> u8 {
        read_u8(self.buffer.as_ref(), field::DSCP_ECN) >> 2
    }

    /// The second header byte (DSCP and ECN) as a whole.
    pub fn tos(&self) -> u8 {
        read_u8(self.buffer.as_ref(), field::DSCP_ECN)
    }

    pub fn ecn(&self) -> u8 {
        read_u8(self.buffer.as_ref(), field::DSCP_ECN) & 0x03
    }

    pub fn total_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::TOTAL_LENGTH)
    }

    pub fn ident(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::IDENT)
    }

    pub fn dont_fragment(&self) -> bool {
        read_u16(self.buffer.as_ref(), field::FLAGS_FRAGMENT) & FLAG_DONT_FRAGMENT != 0
    }

    pub fn more_fragments(&self) -> bool {
        read_u16(self.buffer.as_ref(), field::FLAGS_FRAGMENT) & FLAG_MORE_FRAGMENTS != 0
    }

    /// Fragment offset in bytes.
    pub fn fragment_offset(&self) -> u16 {
        (read_u16(self.buffer.as_ref(), field::FLAGS_FRAGMENT) & FRAGMENT_OFFSET_MASK) << 3
    }

    /// Any fragment of a larger datagram, first and last included.
    pub fn is_fragment(&self) -> bool {
        self.more_fragments() || self.fragment_offset() != 0
    }

    pub fn ttl(&self) -> u8 {
        read_u8(self.buffer.as_ref(), field::TTL)
    }

    pub fn protocol(&self) -> Protocol {
        Protocol::from(read_u8(self.buffer.as_ref(), field::PROTOCOL))
    }

    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    pub fn src_addr(&self) -> Address {
        Address(read_array(self.buffer.as_ref(), field::SOURCE))
    }

    pub fn dst_addr(&self) -> Address {
        Address(read_array(self.buffer.as_ref(), field::DESTINATION))
    }

    /// The header bytes, options included (clamped to the buffer).
    pub fn header(&self) -> &[u8] {
        let buffer = self.buffer.as_ref();
        sub(buffer, 0, self.header_len().min(buffer.len()))
    }

    pub fn options(&self) -> &[u8] {
        sub(self.buffer.as_ref(), MIN_HEADER_LEN, self.header_len())
    }

    pub fn verify_checksum(&self) -> bool {
        let header_len = self.header_len();
        header_len >= MIN_HEADER_LEN
            && self.buffer.as_ref().len() >= header_len
            && checksum::is_valid(self.header())
    }

    /// The payload up to the total length, without link-layer padding; empty unless the view
    /// passes `check_len`.
    pub fn payload(&self) -> &[u8] {
        sub(self.buffer.as_ref(), self.header_len(), usize::from(self.total_len()))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version 4 and the header length in bytes (rounded down to a multiple of 4).
    pub fn set_version_and_header_len(&mut self, header_len: usize) {
        let ihl = (header_len / 4).min(15) as u8;
        write_u8(self.buffer.as_mut(), field::VERSION_IHL, 0x40 | ihl);
    }

    pub fn set_dscp_ecn(&mut self, dscp: u8, ecn: u8) {
        self.set_tos((dscp << 2) | (ecn & 0x03));
    }

    /// Sets the second header byte (DSCP and ECN) as a whole.
    pub fn set_tos(&mut self, tos: u8) {
        write_u8(self.buffer.as_mut(), field::DSCP_ECN, tos);
    }

    pub fn set_total_len(&mut self, len: u16) {
        write_u16(self.buffer.as_mut(), field::TOTAL_LENGTH, len);
    }

    pub fn set_ident(&mut self, ident: u16) {
        write_u16(self.buffer.as_mut(), field::IDENT, ident);
    }

    /// Sets DF, clears MF and the fragment offset: the flags of an unfragmented packet.
    pub fn set_unfragmented(&mut self, dont_fragment: bool) {
        let flags = if dont_fragment { FLAG_DONT_FRAGMENT } else { 0 };
        write_u16(self.buffer.as_mut(), field::FLAGS_FRAGMENT, flags);
    }

    pub fn set_ttl(&mut self, ttl: u8) {
        write_u8(self.buffer.as_mut(), field::TTL, ttl);
    }

    pub fn set_protocol(&mut self, protocol: Protocol) {
        write_u8(self.buffer.as_mut(), field::PROTOCOL, protocol.into());
    }

    pub fn set_checksum(&mut self, checksum: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM, checksum);
    }

    pub fn set_src_addr(&mut self, address: Address) {
        write_bytes(self.buffer.as_mut(), field::SOURCE, &address.0);
    }

    pub fn set_dst_addr(&mut self, address: Address) {
        write_bytes(self.buffer.as_mut(), field::DESTINATION, &address.0);
    }

    /// Computes the header checksum from scratch and stores it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::checksum(self.header());
        self.set_checksum(sum);
    }

    /// Decrements the TTL and patches the checksum incrementally (RFC 1624), as a router does:
    /// the rest of the header is neither re-read nor re-summed. A TTL of 0 or 1 is left alone
    /// and reported, for the caller to drop (and answer with ICMP time exceeded if it wishes).
    pub fn decrement_ttl(&mut self) -> Result<u8, TtlExpired> {
        let ttl = self.ttl();
        if ttl <= 1 {
            return Err(TtlExpired);
        }
        let protocol = read_u8(self.buffer.as_ref(), field::PROTOCOL);
        let new_ttl = ttl.wrapping_sub(1);
        let old_word = u16::from_be_bytes([ttl, protocol]);
        let new_word = u16::from_be_bytes([new_ttl, protocol]);
        let checksum = checksum::update_u16(self.checksum(), old_word, new_word);
        self.set_ttl(new_ttl);
        self.set_checksum(checksum);
        Ok(new_ttl)
    }

    /// Rewrites the destination address with an incremental checksum update.
    pub fn rewrite_dst_addr(&mut self, address: Address) {
        let checksum = checksum::update_u32(self.checksum(), self.dst_addr().to_u32(), address.to_u32());
        self.set_dst_addr(address);
        self.set_checksum(checksum);
    }

    /// Rewrites the source address with an incremental checksum update.
    pub fn rewrite_src_addr(&mut self, address: Address) {
        let checksum = checksum::update_u32(self.checksum(), self.src_addr().to_u32(), address.to_u32());
        self.set_src_addr(address);
        self.set_checksum(checksum);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        let end = usize::from(self.total_len());
        sub_mut(self.buffer.as_mut(), start, end)
    }
}

/// The fields of an option-less header vdp writes, e.g. as a tunnel's outer header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    pub src_addr: Address,
    pub dst_addr: Address,
    pub protocol: Protocol,
    pub payload_len: usize,
    pub ttl: u8,
    pub ident: u16,
    pub dont_fragment: bool,
    /// DSCP in the upper six bits, ECN in the lower two: the second header byte as a whole.
    pub tos: u8,
}

impl Repr {
    pub const fn header_len(&self) -> usize {
        MIN_HEADER_LEN
    }

    /// Header plus payload, or `None` if it would not fit the 16-bit total length.
    pub fn total_len(&self) -> Option<u16> {
        let total = self.payload_len.checked_add(MIN_HEADER_LEN)?;
        u16::try_from(total).ok()
    }

    /// Writes the 20-byte header, checksum included, at the start of `buffer`.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<(), super::Truncated> {
        let total_len = self.total_len().ok_or(super::Truncated)?;
        let header = buffer.get_mut(..MIN_HEADER_LEN).ok_or(super::Truncated)?;
        let mut packet = Packet::new_unchecked(header);
        packet.set_version_and_header_len(MIN_HEADER_LEN);
        packet.set_tos(self.tos);
        packet.set_total_len(total_len);
        packet.set_ident(self.ident);
        packet.set_unfragmented(self.dont_fragment);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.fill_checksum();
        Ok(())
    }
}
