//! GRE demux and encap: every drop reason from a hand-built packet, encap/classify round trips,
//! and property tests over corrupted and random input.

use proptest::prelude::*;
use vdp_core::tunnel::{classify, encapsulate, InnerKind, RxCounters, RxReason, TunnelSpec, TxCounters, TxReason};
use vdp_core::wire::checksum::Sum;
use vdp_core::wire::{gre, ipv4, IpProtocol, Ipv4Address, Ipv4Packet};

const HOST: Ipv4Address = Ipv4Address::new(192, 0, 2, 1);
const PEER: Ipv4Address = Ipv4Address::new(192, 0, 2, 2);
const OTHER_PEER: Ipv4Address = Ipv4Address::new(192, 0, 2, 3);

fn cases() -> u32 {
    std::env::var("VDP_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

fn table() -> Vec<TunnelSpec> {
    vec![
        TunnelSpec::new(HOST, PEER, None, InnerKind::Ipv4),
        TunnelSpec::new(HOST, PEER, Some(7), InnerKind::Ethernet),
        TunnelSpec::new(HOST, PEER, Some(8), InnerKind::Ethernet),
        TunnelSpec { checksum: true, ..TunnelSpec::new(HOST, OTHER_PEER, Some(1), InnerKind::Ipv4) },
    ]
}

fn inner_ipv4(len: usize) -> Vec<u8> {
    let mut inner = vec![0x5a; len];
    inner[0] = 0x45;
    inner
}

/// An outer packet built field by field, independently of `encapsulate`.
struct Outer {
    src: Ipv4Address,
    dst: Ipv4Address,
    protocol: IpProtocol,
    gre: gre::Repr,
    inner: Vec<u8>,
}

impl Outer {
    fn ip(src: Ipv4Address, key: Option<u32>, protocol_type: u16, inner: Vec<u8>) -> Outer {
        Outer {
            src,
            dst: HOST,
            protocol: IpProtocol::Gre,
            gre: gre::Repr { protocol_type, checksum: false, key, sequence: None },
            inner,
        }
    }

    fn build(&self) -> Vec<u8> {
        let gre_len = self.gre.header_len();
        let mut bytes = vec![0u8; 20 + gre_len + self.inner.len()];
        ipv4::Repr {
            src_addr: self.src,
            dst_addr: self.dst,
            protocol: self.protocol,
            payload_len: gre_len + self.inner.len(),
            ttl: 64,
            ident: 1,
            dont_fragment: true,
            tos: 0,
        }
        .emit(&mut bytes)
        .unwrap();
        self.gre.emit(&mut bytes[20..], Sum::ZERO.add_bytes(&self.inner)).unwrap();
        bytes[20 + gre_len..].copy_from_slice(&self.inner);
        bytes
    }
}

fn refill_ip_checksum(bytes: &mut [u8]) {
    Ipv4Packet::new_unchecked(bytes).fill_checksum();
}

#[test]
fn delivers_keyless_ip_in_gre() {
    let tunnels = table();
    let bytes = Outer::ip(PEER, None, gre::PROTOCOL_IPV4, inner_ipv4(40)).build();
    let found = classify(&bytes, &tunnels[..]).unwrap();
    assert_eq!(found.tunnel, 0);
    assert_eq!(found.inner, InnerKind::Ipv4);
    assert_eq!((found.inner_start, found.inner_end), (24, 64));
    assert_eq!(found.key, None);
}

#[test]
fn delivers_keyed_ethernet_by_key() {
    let tunnels = table();
    for (key, index) in [(7, 1), (8, 2)] {
        let bytes = Outer::ip(PEER, Some(key), gre::PROTOCOL_ETHERNET, vec![0xee; 60]).build();
        let found = classify(&bytes, &tunnels[..]).unwrap();
        assert_eq!(found.tunnel, index);
        assert_eq!(found.inner, InnerKind::Ethernet);
        assert_eq!(found.inner_len(), 60);
        assert_eq!(found.key, Some(key));
    }
}

#[test]
fn inner_range_ignores_link_padding() {
    let tunnels = table();
    let mut bytes = Outer::ip(PEER, None, gre::PROTOCOL_IPV4, inner_ipv4(20)).build();
    bytes.extend_from_slice(&[0; 16]);
    let found = classify(&bytes, &tunnels[..]).unwrap();
    assert_eq!(found.inner_end, 44);
}

#[test]
fn sequence_numbers_are_accepted_and_reported() {
    let tunnels = table();
    let mut outer = Outer::ip(PEER, None, gre::PROTOCOL_IPV4, inner_ipv4(20));
    outer.gre.sequence = Some(99);
    let found = classify(&outer.build(), &tunnels[..]).unwrap();
    assert_eq!((found.sequence, found.inner_start), (Some(99), 28));
}

#[test]
fn gre_checksums_are_verified() {
    let tunnels = table();
    let mut outer = Outer::ip(OTHER_PEER, Some(1), gre::PROTOCOL_IPV4, inner_ipv4(33));
    outer.gre.checksum = true;
    let mut bytes = outer.build();
    assert_eq!(classify(&bytes, &tunnels[..]).map(|d| d.tunnel), Ok(3));
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    assert_eq!(classify(&bytes, &tunnels[..]), Err(RxReason::BadGreChecksum));
}

#[test]
fn host_traffic_is_left_alone() {
    let tunnels = table();
    assert_eq!(classify(&[0x45; 19], &tunnels[..]), Err(RxReason::TooShort));
    let mut ipv6ish = Outer::ip(PEER, None, gre::PROTOCOL_IPV4, inner_ipv4(20)).build();
    ipv6ish[0] = 0x60;
    assert_eq!(classify(&ipv6ish, &tunnels[..]), Err(RxReason::NotIpv4));
    let mut udp = Outer::ip(PEER, None, gre::PROTOCOL_IPV4, inner_ipv4(20));
    udp.protocol = IpProtocol::Udp;
    assert_eq!(classify(&udp.build(), &tunnels[..]), Err(RxReason::NotGre));
    let stranger = Outer::ip(Ipv4Address::new(198, 51, 100, 1), None, gre::PROTOCOL_IPV4, inner_ipv4(20));
    assert_eq!(classify(&stranger.build(), &tunnels[..]), Err(RxReason::UnknownEndpoints));
    let mut other_dst = Outer::ip(PEER, None, gre::PROTOCOL_IPV4, inner_ipv4(20));
    other_dst.dst = Ipv4Address::new(192, 0, 2, 99);
    assert_eq!(classify(&other_dst.build(), &tunnels[..]), Err(RxReason::UnknownEndpoints));
    for reason in [RxReason::TooShort, RxReason::NotIpv4, RxReason::NotGre, RxReason::UnknownEndpoints] {
        assert!(reason.is_for_host());
    }
}

#[test]
fn every_claimed_drop_reason() {
    let tunnels = table();
    let good = Outer::ip(PEER, None, gre::PROTOCOL_IPV4, inner_ipv4(20)).build();
    let check = |bytes: &[u8], reason: RxReason| {
        assert_eq!(classify(bytes, &tunnels[..]), Err(reason), "expected {reason:?}");
        assert!(!reason.is_for_host());
    };

    check(&good[..good.len() - 1], RxReason::Truncated);

    let mut long_ihl = good.clone();
    long_ihl[0] = 0x4f;
    long_ihl.truncate(40);
    check(&long_ihl, RxReason::Truncated);

    let mut short_ihl = good.clone();
    short_ihl[0] = 0x44;
    refill_ip_checksum(&mut short_ihl);
    check(&short_ihl, RxReason::BadIpHeader);

    let mut short_total = good.clone();
    short_total[2..4].copy_from_slice(&16u16.to_be_bytes());
    refill_ip_checksum(&mut short_total);
    check(&short_total, RxReason::BadIpHeader);

    let mut bad_sum = good.clone();
    bad_sum[10] ^= 0xff;
    check(&bad_sum, RxReason::BadIpChecksum);

    for flags in [0x2000u16, 0x0010, 0x4001] {
        let mut fragment = good.clone();
        fragment[6..8].copy_from_slice(&flags.to_be_bytes());
        refill_ip_checksum(&mut fragment);
        check(&fragment, RxReason::OuterFragment);
    }

    let mut cut_gre = Outer::ip(PEER, Some(7), gre::PROTOCOL_ETHERNET, vec![]).build();
    cut_gre.truncate(26);
    cut_gre[2..4].copy_from_slice(&26u16.to_be_bytes());
    refill_ip_checksum(&mut cut_gre);
    check(&cut_gre, RxReason::Truncated);

    let mut version = good.clone();
    version[21] = 0x01;
    check(&version, RxReason::UnsupportedGreVersion);

    let mut routing = good.clone();
    routing[20] = 0x40;
    check(&routing, RxReason::UnsupportedGreFlags);

    check(&Outer::ip(PEER, None, 0x86dd, inner_ipv4(40)).build(), RxReason::UnsupportedInnerProtocol);
    check(&Outer::ip(OTHER_PEER, Some(1), gre::PROTOCOL_ETHERNET, vec![0; 60]).build(), RxReason::UnsupportedInnerProtocol);

    check(&Outer::ip(PEER, Some(9), gre::PROTOCOL_ETHERNET, vec![0; 60]).build(), RxReason::UnknownKey);
    check(&Outer::ip(PEER, None, gre::PROTOCOL_ETHERNET, vec![0; 60]).build(), RxReason::UnknownKey);
    check(&Outer::ip(PEER, Some(0), gre::PROTOCOL_IPV4, inner_ipv4(20)).build(), RxReason::UnknownKey);

    check(&Outer::ip(PEER, Some(7), gre::PROTOCOL_ETHERNET, vec![0; 13]).build(), RxReason::InnerTruncated);
    check(&Outer::ip(PEER, None, gre::PROTOCOL_IPV4, inner_ipv4(19)).build(), RxReason::InnerTruncated);
}

#[test]
fn reasons_index_their_counters() {
    let mut counters = RxCounters::default();
    for (position, reason) in RxReason::ALL.iter().enumerate() {
        assert_eq!(reason.index(), position);
        for _ in 0..=position {
            counters.record(*reason);
        }
    }
    for (position, reason) in RxReason::ALL.iter().enumerate() {
        assert_eq!(counters[*reason], position as u64 + 1);
        assert_eq!(counters.get(*reason), position as u64 + 1);
    }
    let names: std::collections::HashSet<_> = RxReason::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(names.len(), RxReason::COUNT);
    counters.reset();
    assert_eq!(counters.total(), 0);

    let mut tx = TxCounters::default();
    tx.record(TxReason::ExceedsMtu);
    assert_eq!((tx[TxReason::ExceedsMtu], tx[TxReason::NoHeadroom]), (1, 0));
    for (position, reason) in TxReason::ALL.iter().enumerate() {
        assert_eq!(reason.index(), position);
    }
}

#[test]
fn encapsulation_headers() {
    let tunnel = TunnelSpec { ttl: 17, tos: 0x10, ..TunnelSpec::new(HOST, PEER, Some(0x01020304), InnerKind::Ethernet) };
    assert_eq!(tunnel.encap_len(), 28);
    let inner = vec![0xee; 64];
    let mut packet = vec![0u8; 28 + inner.len()];
    packet[28..].copy_from_slice(&inner);
    assert_eq!(encapsulate(&tunnel, 0x4242, &mut packet[..28], inner.len(), Sum::ZERO), Ok(28));
    assert_eq!(&packet[20..28], &[0x20, 0x00, 0x65, 0x58, 0x01, 0x02, 0x03, 0x04]);
    let outer = Ipv4Packet::new_checked(&packet[..]).unwrap();
    assert_eq!(outer.check_header(true), Ok(()));
    assert_eq!((outer.src_addr(), outer.dst_addr(), outer.ttl(), outer.ident()), (HOST, PEER, 17, 0x4242));
    assert_eq!((outer.total_len(), outer.dont_fragment(), outer.tos()), (92, true, 0x10));
}

#[test]
fn encapsulation_limits() {
    let tunnel = TunnelSpec::new(HOST, PEER, None, InnerKind::Ipv4);
    assert_eq!(tunnel.max_inner_len(), 1476);
    let mut headroom = [0u8; 64];
    assert_eq!(encapsulate(&tunnel, 0, &mut headroom, 1476, Sum::ZERO), Ok(24));
    assert_eq!(encapsulate(&tunnel, 0, &mut headroom, 1477, Sum::ZERO), Err(TxReason::ExceedsMtu));
    assert_eq!(encapsulate(&tunnel, 0, &mut headroom, usize::MAX, Sum::ZERO), Err(TxReason::ExceedsMtu));
    assert_eq!(encapsulate(&tunnel, 0, &mut headroom[..23], 100, Sum::ZERO), Err(TxReason::NoHeadroom));
    let jumbo = TunnelSpec { mtu: u16::MAX, ..tunnel };
    assert_eq!(encapsulate(&jumbo, 0, &mut headroom, 65_511, Sum::ZERO), Ok(24));
    assert_eq!(encapsulate(&jumbo, 0, &mut headroom, 65_512, Sum::ZERO), Err(TxReason::ExceedsMtu));
}

fn spec_strategy() -> impl Strategy<Value = TunnelSpec> {
    (any::<u32>(), any::<u32>(), any::<Option<u32>>(), any::<bool>(), any::<bool>(), any::<bool>(), 1u8.., any::<u8>())
        .prop_map(|(local, remote, key, ethernet, checksum, dont_fragment, ttl, tos)| TunnelSpec {
            local: Ipv4Address::from_u32(local),
            remote: Ipv4Address::from_u32(remote),
            key,
            inner: if ethernet { InnerKind::Ethernet } else { InnerKind::Ipv4 },
            ttl,
            dont_fragment,
            checksum,
            mtu: 1500,
            tos,
        })
}

/// The same tunnels as the far end sees them, so that what one side encapsulates the other
/// classifies.
fn mirrored(tunnels: &[TunnelSpec]) -> Vec<TunnelSpec> {
    tunnels.iter().map(|t| TunnelSpec { local: t.remote, remote: t.local, ..*t }).collect()
}

fn encapsulated(tunnel: &TunnelSpec, inner: &[u8]) -> Vec<u8> {
    let header_len = tunnel.encap_len();
    let mut packet = vec![0u8; header_len + inner.len()];
    packet[header_len..].copy_from_slice(inner);
    encapsulate(tunnel, 1, &mut packet[..header_len], inner.len(), Sum::ZERO.add_bytes(inner)).unwrap();
    packet
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn encapsulate_then_classify_round_trips(
        tunnels in prop::collection::vec(spec_strategy(), 1..6),
        pick in any::<prop::sample::Index>(),
        inner in prop::collection::vec(any::<u8>(), 20..200),
    ) {
        let tunnel = tunnels[pick.index(tunnels.len())];
        let packet = encapsulated(&tunnel, &inner);
        let far_end = mirrored(&tunnels);
        let found = classify(&packet, &far_end[..]).unwrap();
        let same = far_end[found.tunnel];
        prop_assert_eq!((same.remote, same.local, same.key, same.inner), (tunnel.local, tunnel.remote, tunnel.key, tunnel.inner));
        prop_assert_eq!(&packet[found.inner_start..found.inner_end], &inner[..]);
    }

    #[test]
    fn corrupted_packets_are_classified_without_panic(
        tunnel in spec_strategy(),
        inner in prop::collection::vec(any::<u8>(), 0..100),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut packet = encapsulated(&tunnel, &inner);
        for (at, value) in flips {
            let at = at.index(packet.len());
            packet[at] = value;
        }
        let len = cut.index(packet.len() + 1);
        let far_end = mirrored(&[tunnel]);
        if let Ok(found) = classify(&packet[..len], &far_end[..]) {
            prop_assert!(found.inner_start <= found.inner_end && found.inner_end <= len);
            prop_assert_eq!(found.tunnel, 0);
        }
    }

    #[test]
    fn arbitrary_bytes_are_classified_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..120), table in prop::collection::vec(spec_strategy(), 0..4)) {
        if let Ok(found) = classify(&bytes, &table[..]) {
            prop_assert!(found.inner_start <= found.inner_end && found.inner_end <= bytes.len());
        }
    }
}
