//! Per-packet decisions of the IP and switching elements (CheckIPHeader, IPClassifier's header
//! offsets, HashSwitch, Print's log text), kept out of the kernel so they are tested here.

use crate::packet_program::Headers;
use crate::wire::ipv4::{self, HeaderError};

/// Where the IP header and the transport header start for a packet whose IP header starts at
/// `network`. A later fragment, or a header that is not whole, has no transport header.
pub fn ip_headers(packet: &[u8], network: usize) -> Headers {
    let ip = ipv4::Packet::new_unchecked(packet.get(network..).unwrap_or(&[]));
    let whole = ip.version() == 4
        && ip.header_len() >= ipv4::MIN_HEADER_LEN
        && ip.header_len() <= packet.len().saturating_sub(network);
    let transport = (whole && ip.fragment_offset() == 0).then(|| network.saturating_add(ip.header_len()));
    Headers { network, transport }
}

/// Why CheckIPHeader refused a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadIp {
    Header(HeaderError),
    /// A source no packet may carry: broadcast, multicast, listed in BADSRC, or the broadcast
    /// address of one of the INTERFACES networks.
    BadSource,
}

/// The source rules of CheckIPHeader. `bad_sources` holds 4-byte addresses, `interfaces`
/// 5-byte prefixes (address, length), as the compiled graph encodes them.
pub struct SourceRules<'a> {
    pub bad_sources: &'a [u8],
    pub interfaces: &'a [u8],
}

impl SourceRules<'_> {
    pub fn is_bad(&self, source: ipv4::Address) -> bool {
        let value = source.to_u32();
        if value == u32::MAX || source.is_multicast() {
            return true;
        }
        if self.bad_sources.chunks_exact(4).any(|a| a == source.0) {
            return true;
        }
        self.interfaces.chunks_exact(5).any(|prefix| {
            let &[a, b, c, d, len] = prefix else { return false };
            let network = u32::from_be_bytes([a, b, c, d]);
            let mask = crate::click_value::prefix_mask(len);
            // A /32 or /31 has no broadcast address of its own.
            len < 31 && value == (network & mask) | !mask
        })
    }
}

/// Checks the IP header at `offset` as Click's CheckIPHeader does; on success returns the
/// length the packet should be cut to (the IP total length, dropping link-layer padding).
pub fn check_ip(packet: &[u8], offset: usize, verify_checksum: bool, rules: &SourceRules<'_>) -> Result<usize, BadIp> {
    let ip = ipv4::Packet::new_unchecked(packet.get(offset..).ok_or(BadIp::Header(HeaderError::Truncated))?);
    ip.check_header(verify_checksum).map_err(BadIp::Header)?;
    if rules.is_bad(ip.src_addr()) {
        return Err(BadIp::BadSource);
    }
    Ok(offset.saturating_add(usize::from(ip.total_len())))
}

/// HashSwitch: the output for a packet, from the `length` bytes at `offset`, or `None` when the
/// packet is too short to hold them.
pub fn hash_output(packet: &[u8], offset: usize, length: usize, outputs: u16) -> Option<u16> {
    let bytes = packet.get(offset..offset.checked_add(length)?)?;
    // FNV-1a spreads flows over outputs evenly, where a plain XOR of bytes would not.
    let hash = bytes.iter().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193));
    let outputs = u32::from(outputs.max(1));
    Some((hash % outputs) as u16)
}

/// A label byte as Print logs it. Only lower-case letters, digits and `_-./@` pass; upper case
/// is lowered and anything else becomes `_`, so a tenant's label can never imitate the kernel's
/// own fault reports (`BUG:`, `Oops`, `general protection fault`) or break the log line.
pub fn log_safe(byte: u8) -> char {
    match byte {
        b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'/' | b'@' => byte as char,
        b'A'..=b'Z' => byte.to_ascii_lowercase() as char,
        _ => '_',
    }
}
