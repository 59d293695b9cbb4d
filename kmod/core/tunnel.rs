//! GRE tunnel demultiplexing and encapsulation: the packet logic of tenants' virtual devices.
//!
//! Ingress: [`classify`] takes an outer IPv4 packet as it arrived on a shared physical device
//! and either names the tunnel it belongs to, with the inner packet's place in the buffer, or
//! says why not. The answer separates packets vdp must leave to the host's own stack (not IPv4,
//! not GRE, or GRE between endpoints no tunnel uses) from packets it claims and drops (every
//! other reason), so the host keeps its networking while hostile traffic aimed at a tunnel is
//! counted under a precise reason.
//!
//! Egress: [`encapsulate`] writes the outer IPv4 and GRE headers in front of an inner packet,
//! refusing packets the path MTU cannot carry. vdp drops and counts those instead of
//! fragmenting the outer packet: a fragmented tunnel packet costs the peer a reassembly and
//! vdp's own ingress drops outer fragments, so fragmenting would only move the drop elsewhere.

use super::wire::checksum::Sum;
use super::wire::ethernet;
use super::wire::gre;
use super::wire::ipv4::{self, Address, HeaderError, Protocol};

/// What a tunnel carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InnerKind {
    /// IP-in-GRE (Linux `gre`), protocol type 0x0800.
    Ipv4,
    /// Ethernet-in-GRE (Linux `gretap`, Trellis EGRE), protocol type 0x6558.
    Ethernet,
}

impl InnerKind {
    pub fn from_protocol_type(protocol_type: u16) -> Option<InnerKind> {
        match protocol_type {
            gre::PROTOCOL_IPV4 => Some(InnerKind::Ipv4),
            gre::PROTOCOL_ETHERNET => Some(InnerKind::Ethernet),
            _ => None,
        }
    }

    pub const fn protocol_type(self) -> u16 {
        match self {
            InnerKind::Ipv4 => gre::PROTOCOL_IPV4,
            InnerKind::Ethernet => gre::PROTOCOL_ETHERNET,
        }
    }

    /// The shortest inner packet worth delivering: a header of the inner protocol.
    const fn min_len(self) -> usize {
        match self {
            InnerKind::Ipv4 => ipv4::MIN_HEADER_LEN,
            InnerKind::Ethernet => ethernet::HEADER_LEN,
        }
    }
}

/// One tunnel, as both directions see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelSpec {
    /// Our address: the outer destination on ingress, the source on egress.
    pub local: Address,
    /// The peer's address: the outer source on ingress, the destination on egress.
    pub remote: Address,
    /// The GRE key both ways; `None` for a keyless tunnel, which matches only keyless packets
    /// (as Linux does).
    pub key: Option<u32>,
    pub inner: InnerKind,
    /// TTL of the outer header on egress.
    pub ttl: u8,
    /// Set DF on the outer header on egress.
    pub dont_fragment: bool,
    /// Send GRE checksums on egress. On ingress a checksum is verified whenever present.
    pub checksum: bool,
    /// Largest outer packet (IPv4 header included) the physical path carries.
    pub mtu: u16,
    /// TOS byte of the outer header on egress.
    pub tos: u8,
}

impl TunnelSpec {
    /// A tunnel with Linux's defaults for the rest: TTL 64, DF set, no checksums, MTU 1500.
    pub const fn new(local: Address, remote: Address, key: Option<u32>, inner: InnerKind) -> TunnelSpec {
        TunnelSpec {
            local,
            remote,
            key,
            inner,
            ttl: 64,
            dont_fragment: true,
            checksum: false,
            mtu: 1500,
            tos: 0,
        }
    }

    fn gre_repr(&self) -> gre::Repr {
        gre::Repr {
            protocol_type: self.inner.protocol_type(),
            checksum: self.checksum,
            key: self.key,
            sequence: None,
        }
    }

    /// Bytes of outer header [`encapsulate`] writes for this tunnel.
    pub const fn encap_len(&self) -> usize {
        ipv4::MIN_HEADER_LEN + gre::header_len(self.checksum, self.key.is_some(), false)
    }

    /// The longest inner packet that fits the MTU once encapsulated.
    pub fn max_inner_len(&self) -> usize {
        usize::from(self.mtu).saturating_sub(self.encap_len())
    }
}

/// The tunnels one physical device serves. The slice implementation scans linearly, which is
/// fine for the handful of tunnels a device has; the kernel may implement this over a hash.
pub trait TunnelTable {
    /// The tunnel with exactly these endpoints, inner kind and key.
    fn find(&self, local: Address, remote: Address, inner: InnerKind, key: Option<u32>) -> Option<usize>;
    /// Whether any tunnel, of any kind and key, joins these endpoints.
    fn has_endpoints(&self, local: Address, remote: Address) -> bool;
    /// Whether a tunnel of this inner kind, of any key, joins these endpoints.
    fn has_kind(&self, local: Address, remote: Address, inner: InnerKind) -> bool;
}

impl TunnelTable for [TunnelSpec] {
    fn find(&self, local: Address, remote: Address, inner: InnerKind, key: Option<u32>) -> Option<usize> {
        self.iter()
            .position(|t| t.local == local && t.remote == remote && t.inner == inner && t.key == key)
    }

    fn has_endpoints(&self, local: Address, remote: Address) -> bool {
        self.iter().any(|t| t.local == local && t.remote == remote)
    }

    fn has_kind(&self, local: Address, remote: Address, inner: InnerKind) -> bool {
        self.iter()
            .any(|t| t.local == local && t.remote == remote && t.inner == inner)
    }
}

/// Why [`classify`] did not deliver a packet. The first four leave it to the host stack
/// ([`RxReason::is_for_host`]); the rest mean vdp claimed it and dropped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RxReason {
    /// Shorter than an IPv4 header: nothing can be read from it.
    TooShort,
    NotIpv4,
    NotGre,
    /// GRE between endpoints that no tunnel joins.
    UnknownEndpoints,
    /// The outer header claims more bytes than arrived, or the GRE header is cut short.
    Truncated,
    /// IHL below 5 or a total length shorter than the header.
    BadIpHeader,
    BadIpChecksum,
    /// The outer packet is a fragment; vdp does not reassemble.
    OuterFragment,
    UnsupportedGreVersion,
    /// Routing, strict source route or recursion bits.
    UnsupportedGreFlags,
    BadGreChecksum,
    /// A protocol type other than IPv4 and Ethernet, or one no tunnel between these endpoints
    /// carries.
    UnsupportedInnerProtocol,
    /// Known endpoints and inner kind, but no tunnel with this key (or keyless when the tunnel
    /// has a key, or the other way round).
    UnknownKey,
    /// The inner packet is shorter than its own header.
    InnerTruncated,
}

impl RxReason {
    pub const COUNT: usize = 14;

    pub const ALL: [RxReason; RxReason::COUNT] = [
        RxReason::TooShort,
        RxReason::NotIpv4,
        RxReason::NotGre,
        RxReason::UnknownEndpoints,
        RxReason::Truncated,
        RxReason::BadIpHeader,
        RxReason::BadIpChecksum,
        RxReason::OuterFragment,
        RxReason::UnsupportedGreVersion,
        RxReason::UnsupportedGreFlags,
        RxReason::BadGreChecksum,
        RxReason::UnsupportedInnerProtocol,
        RxReason::UnknownKey,
        RxReason::InnerTruncated,
    ];

    /// Position in [`RxReason::ALL`] and in [`RxCounters`].
    pub const fn index(self) -> usize {
        match self {
            RxReason::TooShort => 0,
            RxReason::NotIpv4 => 1,
            RxReason::NotGre => 2,
            RxReason::UnknownEndpoints => 3,
            RxReason::Truncated => 4,
            RxReason::BadIpHeader => 5,
            RxReason::BadIpChecksum => 6,
            RxReason::OuterFragment => 7,
            RxReason::UnsupportedGreVersion => 8,
            RxReason::UnsupportedGreFlags => 9,
            RxReason::BadGreChecksum => 10,
            RxReason::UnsupportedInnerProtocol => 11,
            RxReason::UnknownKey => 12,
            RxReason::InnerTruncated => 13,
        }
    }

    /// The name used in handler output.
    pub const fn name(self) -> &'static str {
        match self {
            RxReason::TooShort => "too_short",
            RxReason::NotIpv4 => "not_ipv4",
            RxReason::NotGre => "not_gre",
            RxReason::UnknownEndpoints => "unknown_endpoints",
            RxReason::Truncated => "truncated",
            RxReason::BadIpHeader => "bad_ip_header",
            RxReason::BadIpChecksum => "bad_ip_checksum",
            RxReason::OuterFragment => "outer_fragment",
            RxReason::UnsupportedGreVersion => "unsupported_gre_version",
            RxReason::UnsupportedGreFlags => "unsupported_gre_flags",
            RxReason::BadGreChecksum => "bad_gre_checksum",
            RxReason::UnsupportedInnerProtocol => "unsupported_inner_protocol",
            RxReason::UnknownKey => "unknown_key",
            RxReason::InnerTruncated => "inner_truncated",
        }
    }

    /// The packet is not vdp's: hand it to the host stack unchanged.
    pub const fn is_for_host(self) -> bool {
        matches!(
            self,
            RxReason::TooShort | RxReason::NotIpv4 | RxReason::NotGre | RxReason::UnknownEndpoints
        )
    }
}

/// Packets a device's receive queue holds before it drops (`rx_queue_full`) at user level, and
/// in the kernel unless the module is loaded with another `rx_queue_len`.
pub const RX_QUEUE_CAPACITY: usize = 1024;

/// The receive drops a device counts besides the classifier's reasons, in the order its
/// counters list them (after the reasons): the tenant's queue was full, memory was short.
pub const RX_LOCAL_DROP_NAMES: [&str; 2] = ["queue_full", "no_memory"];

/// The transmit drops a device counts besides [`TxReason`]s, in the order its counters list them
/// (after the reasons): shorter than an Ethernet header (IP tunnels), not IPv4 (IP tunnels),
/// memory was short, the port was down, the physical device refused the frame, the device's
/// transmit cap was spent, the tenant's aggregate cap was spent (`tx_cap.rs`).
pub const TX_LOCAL_DROP_NAMES: [&str; 7] =
    ["too_short", "not_ipv4", "no_memory", "port_down", "device_dropped", "over_cap", "over_tenant_cap"];

/// A packet [`classify`] delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decapsulated {
    /// Index of the tunnel in the table.
    pub tunnel: usize,
    pub inner: InnerKind,
    /// The inner packet is `buffer[inner_start..inner_end]`; link-layer padding after the
    /// outer packet is excluded.
    pub inner_start: usize,
    pub inner_end: usize,
    pub key: Option<u32>,
    pub sequence: Option<u32>,
}

impl Decapsulated {
    pub const fn inner_len(&self) -> usize {
        self.inner_end.saturating_sub(self.inner_start)
    }
}

/// Classifies an outer IPv4 packet (starting at its IP header) against `tunnels`.
///
/// Ownership is decided from the first 20 bytes alone (version, protocol, addresses), before
/// anything else is trusted, so that a malformed packet aimed at a tunnel is claimed and counted
/// while malformed traffic for the host still reaches the host's own checks.
pub fn classify<Table: TunnelTable + ?Sized>(buffer: &[u8], tunnels: &Table) -> Result<Decapsulated, RxReason> {
    if buffer.len() < ipv4::MIN_HEADER_LEN {
        return Err(RxReason::TooShort);
    }
    let outer = ipv4::Packet::new_unchecked(buffer);
    if outer.version() != 4 {
        return Err(RxReason::NotIpv4);
    }
    if outer.protocol() != Protocol::Gre {
        return Err(RxReason::NotGre);
    }
    let local = outer.dst_addr();
    let remote = outer.src_addr();
    if !tunnels.has_endpoints(local, remote) {
        return Err(RxReason::UnknownEndpoints);
    }
    outer.check_header(true).map_err(|error| match error {
        HeaderError::Truncated => RxReason::Truncated,
        HeaderError::BadTotalLength if usize::from(outer.total_len()) > buffer.len() => RxReason::Truncated,
        HeaderError::BadChecksum => RxReason::BadIpChecksum,
        HeaderError::BadVersion | HeaderError::BadHeaderLength | HeaderError::BadTotalLength => {
            RxReason::BadIpHeader
        }
    })?;
    if outer.is_fragment() {
        return Err(RxReason::OuterFragment);
    }
    let gre_start = outer.header_len();
    let gre_end = usize::from(outer.total_len());
    let gre = gre::Packet::new_unchecked(outer.payload());
    gre.check().map_err(|error| match error {
        gre::Error::Truncated => RxReason::Truncated,
        gre::Error::UnsupportedVersion => RxReason::UnsupportedGreVersion,
        gre::Error::UnsupportedFlags => RxReason::UnsupportedGreFlags,
        gre::Error::BadChecksum => RxReason::BadGreChecksum,
    })?;
    if !gre.verify_checksum() {
        return Err(RxReason::BadGreChecksum);
    }
    let inner = InnerKind::from_protocol_type(gre.protocol_type()).ok_or(RxReason::UnsupportedInnerProtocol)?;
    let key = gre.key();
    let tunnel = match tunnels.find(local, remote, inner, key) {
        Some(tunnel) => tunnel,
        None if tunnels.has_kind(local, remote, inner) => return Err(RxReason::UnknownKey),
        None => return Err(RxReason::UnsupportedInnerProtocol),
    };
    let inner_start = gre_start.saturating_add(gre.header_len());
    if gre_end.saturating_sub(inner_start) < inner.min_len() {
        return Err(RxReason::InnerTruncated);
    }
    Ok(Decapsulated {
        tunnel,
        inner,
        inner_start,
        inner_end: gre_end,
        key,
        sequence: gre.sequence(),
    })
}

/// Why [`encapsulate`] refused a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxReason {
    /// The buffer for the outer headers is shorter than [`TunnelSpec::encap_len`].
    NoHeadroom,
    /// Encapsulated, the packet would exceed the tunnel's MTU.
    ExceedsMtu,
}

impl TxReason {
    pub const COUNT: usize = 2;
    pub const ALL: [TxReason; TxReason::COUNT] = [TxReason::NoHeadroom, TxReason::ExceedsMtu];

    pub const fn index(self) -> usize {
        match self {
            TxReason::NoHeadroom => 0,
            TxReason::ExceedsMtu => 1,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            TxReason::NoHeadroom => "no_headroom",
            TxReason::ExceedsMtu => "exceeds_mtu",
        }
    }
}

/// Writes the outer IPv4 and GRE headers for an inner packet of `inner_len` bytes at the start
/// of `headroom`, which the caller places directly before the inner packet. Returns the number
/// of bytes written, [`TunnelSpec::encap_len`].
///
/// `inner_sum` is the one's-complement sum of the inner packet (`Sum::ZERO.add_bytes(inner)`);
/// it is read only when the tunnel sends GRE checksums, so callers of other tunnels may pass
/// `Sum::ZERO` and skip the pass over the payload.
pub fn encapsulate(
    tunnel: &TunnelSpec,
    ident: u16,
    headroom: &mut [u8],
    inner_len: usize,
    inner_sum: Sum,
) -> Result<usize, TxReason> {
    let header_len = tunnel.encap_len();
    let total = inner_len.checked_add(header_len).ok_or(TxReason::ExceedsMtu)?;
    if total > usize::from(tunnel.mtu) {
        return Err(TxReason::ExceedsMtu);
    }
    let header = headroom.get_mut(..header_len).ok_or(TxReason::NoHeadroom)?;
    let (ip_header, gre_header) = header.split_at_mut(ipv4::MIN_HEADER_LEN);
    let ip = ipv4::Repr {
        src_addr: tunnel.local,
        dst_addr: tunnel.remote,
        protocol: Protocol::Gre,
        payload_len: total.saturating_sub(ipv4::MIN_HEADER_LEN),
        ttl: tunnel.ttl,
        ident,
        dont_fragment: tunnel.dont_fragment,
        tos: tunnel.tos,
    };
    ip.emit(ip_header).map_err(|_| TxReason::ExceedsMtu)?;
    tunnel
        .gre_repr()
        .emit(gre_header, inner_sum)
        .map_err(|_| TxReason::NoHeadroom)?;
    Ok(header_len)
}

/// Per-reason packet counters, indexed by a reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counters<const N: usize> {
    counts: [u64; N],
}

pub type RxCounters = Counters<{ RxReason::COUNT }>;
pub type TxCounters = Counters<{ TxReason::COUNT }>;

impl<const N: usize> Default for Counters<N> {
    fn default() -> Self {
        Counters { counts: [0; N] }
    }
}

impl<const N: usize> Counters<N> {
    pub fn counts(&self) -> &[u64; N] {
        &self.counts
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().fold(0u64, |sum, count| sum.wrapping_add(*count))
    }

    pub fn reset(&mut self) {
        self.counts = [0; N];
    }

    fn bump(&mut self, index: usize) {
        if let Some(count) = self.counts.get_mut(index) {
            *count = count.wrapping_add(1);
        }
    }

    fn at(&self, index: usize) -> u64 {
        self.counts.get(index).copied().unwrap_or(0)
    }
}

impl RxCounters {
    pub fn record(&mut self, reason: RxReason) {
        self.bump(reason.index());
    }

    pub fn get(&self, reason: RxReason) -> u64 {
        self.at(reason.index())
    }
}

impl TxCounters {
    pub fn record(&mut self, reason: TxReason) {
        self.bump(reason.index());
    }

    pub fn get(&self, reason: TxReason) -> u64 {
        self.at(reason.index())
    }
}

impl core::ops::Index<RxReason> for RxCounters {
    type Output = u64;

    fn index(&self, reason: RxReason) -> &u64 {
        self.counts.get(reason.index()).unwrap_or(&0)
    }
}

impl core::ops::Index<TxReason> for TxCounters {
    type Output = u64;

    fn index(&self, reason: TxReason) -> &u64 {
        self.counts.get(reason.index()).unwrap_or(&0)
    }
}
