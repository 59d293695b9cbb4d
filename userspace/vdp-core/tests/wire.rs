//! The wire views: known vectors, round trips, and property tests that nothing panics on
//! arbitrary bytes.

use proptest::prelude::*;
use vdp_core::wire::checksum::{self, Sum};
use vdp_core::wire::ipv4::{self, HeaderError, TtlExpired};
use vdp_core::wire::{ethernet, gre, tcp, udp};
use vdp_core::wire::{EtherType, EthernetAddress, EthernetFrame, IpProtocol, Ipv4Address, Ipv4Packet, Truncated};

/// A UDP header from 192.168.0.1 to 192.168.0.199, checksum 0xb861: the worked example in
/// most descriptions of the IPv4 header checksum.
const SAMPLE_HEADER: [u8; 20] = [
    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
    0x00, 0xc7,
];

fn sample_packet() -> Vec<u8> {
    let mut bytes = SAMPLE_HEADER.to_vec();
    bytes.resize(0x73, 0xab);
    bytes
}

fn cases() -> u32 {
    std::env::var("VDP_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

#[test]
fn checksum_of_known_header() {
    let mut header = SAMPLE_HEADER;
    header[10] = 0;
    header[11] = 0;
    assert_eq!(checksum::checksum(&header), 0xb861);
    assert!(checksum::is_valid(&SAMPLE_HEADER));
}

#[test]
fn checksum_of_odd_length_pads_with_zero() {
    assert_eq!(checksum::checksum(&[0x12, 0x34, 0x56]), checksum::checksum(&[0x12, 0x34, 0x56, 0x00]));
    assert_eq!(checksum::checksum(&[]), 0xffff);
}

#[test]
fn checksum_fold_carries_repeatedly() {
    let sum = Sum::ZERO.add_bytes(&[0xff; 4096]);
    assert_eq!(sum.fold(), 0xffff);
    assert_eq!(Sum::ZERO.add_u32(0x0001_ffff).fold(), 0x0001);
}

#[test]
fn ipv4_fields_of_known_header() {
    let bytes = sample_packet();
    let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(packet.check_header(true), Ok(()));
    assert_eq!(packet.version(), 4);
    assert_eq!(packet.header_len(), 20);
    assert_eq!(packet.total_len(), 0x73);
    assert!(packet.dont_fragment());
    assert!(!packet.is_fragment());
    assert_eq!(packet.ttl(), 64);
    assert_eq!(packet.protocol(), IpProtocol::Udp);
    assert_eq!(packet.src_addr(), Ipv4Address::new(192, 168, 0, 1));
    assert_eq!(packet.dst_addr(), Ipv4Address::new(192, 168, 0, 199));
    assert_eq!(packet.payload().len(), 0x73 - 20);
    assert!(packet.options().is_empty());
}

#[test]
fn ipv4_payload_excludes_link_padding() {
    let mut bytes = sample_packet();
    bytes.extend_from_slice(&[0; 10]);
    let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(packet.check_header(true), Ok(()));
    assert_eq!(packet.payload().len(), 0x73 - 20);
}

#[test]
fn ipv4_check_header_reasons() {
    let good = sample_packet();
    assert_eq!(Ipv4Packet::new_unchecked(&good[..19]).check_header(true), Err(HeaderError::Truncated));

    let mut bad_version = good.clone();
    bad_version[0] = 0x65;
    assert_eq!(Ipv4Packet::new_unchecked(&bad_version[..]).check_header(false), Err(HeaderError::BadVersion));

    let mut short_ihl = good.clone();
    short_ihl[0] = 0x44;
    assert_eq!(Ipv4Packet::new_unchecked(&short_ihl[..]).check_header(false), Err(HeaderError::BadHeaderLength));

    let mut long_ihl = good[..40].to_vec();
    long_ihl[0] = 0x4f;
    long_ihl[2] = 0;
    long_ihl[3] = 40;
    assert_eq!(Ipv4Packet::new_unchecked(&long_ihl[..]).check_header(false), Err(HeaderError::Truncated));

    let cut = &good[..0x72];
    assert_eq!(Ipv4Packet::new_unchecked(cut).check_header(false), Err(HeaderError::BadTotalLength));

    let mut tiny_total = good.clone();
    tiny_total[2] = 0;
    tiny_total[3] = 19;
    assert_eq!(Ipv4Packet::new_unchecked(&tiny_total[..]).check_header(false), Err(HeaderError::BadTotalLength));

    let mut bad_sum = good.clone();
    bad_sum[11] ^= 1;
    assert_eq!(Ipv4Packet::new_unchecked(&bad_sum[..]).check_header(true), Err(HeaderError::BadChecksum));
    assert_eq!(Ipv4Packet::new_unchecked(&bad_sum[..]).check_header(false), Ok(()));
}

#[test]
fn ipv4_options_are_covered() {
    let mut bytes = [0u8; 28];
    bytes[0] = 0x46;
    bytes[3] = 28;
    bytes[20] = 0x01;
    bytes[21] = 0x01;
    bytes[22] = 0x01;
    bytes[23] = 0x00;
    let mut packet = Ipv4Packet::new_checked(&mut bytes[..]).unwrap();
    packet.fill_checksum();
    assert_eq!(packet.check_header(true), Ok(()));
    assert_eq!(packet.options(), &[1, 1, 1, 0]);
    assert_eq!(packet.payload().len(), 4);
}

#[test]
fn ipv4_fragment_detection() {
    let mut bytes = sample_packet();
    let set_flags = |bytes: &mut Vec<u8>, word: u16| bytes[6..8].copy_from_slice(&word.to_be_bytes());
    set_flags(&mut bytes, 0x2000);
    assert!(Ipv4Packet::new_unchecked(&bytes[..]).is_fragment());
    set_flags(&mut bytes, 0x0001);
    let packet = Ipv4Packet::new_unchecked(&bytes[..]);
    assert!(packet.is_fragment());
    assert_eq!(packet.fragment_offset(), 8);
    set_flags(&mut bytes, 0x4000);
    assert!(!Ipv4Packet::new_unchecked(&bytes[..]).is_fragment());
}

#[test]
fn ipv4_decrement_ttl() {
    let mut bytes = sample_packet();
    let mut packet = Ipv4Packet::new_checked(&mut bytes[..]).unwrap();
    assert_eq!(packet.decrement_ttl(), Ok(63));
    assert_eq!(packet.ttl(), 63);
    assert!(packet.verify_checksum());
    packet.set_ttl(1);
    packet.fill_checksum();
    assert_eq!(packet.decrement_ttl(), Err(TtlExpired));
    assert_eq!(packet.ttl(), 1);
    packet.set_ttl(0);
    assert_eq!(packet.decrement_ttl(), Err(TtlExpired));
}

#[test]
fn ipv4_repr_emit() {
    let repr = ipv4::Repr {
        src_addr: Ipv4Address::new(10, 0, 0, 1),
        dst_addr: Ipv4Address::new(10, 0, 0, 2),
        protocol: IpProtocol::Gre,
        payload_len: 100,
        ttl: 64,
        ident: 0x1234,
        dont_fragment: true,
        tos: 0xb8,
    };
    let mut bytes = vec![0u8; 120];
    repr.emit(&mut bytes).unwrap();
    let packet = Ipv4Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(packet.check_header(true), Ok(()));
    assert_eq!(packet.total_len(), 120);
    assert_eq!(packet.ident(), 0x1234);
    assert!(packet.dont_fragment());
    assert_eq!(packet.dscp(), 0xb8 >> 2);
    assert_eq!(packet.protocol(), IpProtocol::Gre);
    assert_eq!(repr.emit(&mut [0u8; 19]), Err(Truncated));
    let huge = ipv4::Repr { payload_len: 65_516, ..repr };
    assert_eq!(huge.emit(&mut bytes), Err(Truncated));
}

#[test]
fn ipv4_address_text() {
    assert_eq!("10.1.2.3".parse::<Ipv4Address>(), Ok(Ipv4Address::new(10, 1, 2, 3)));
    for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "+1.2.3.4", "1.2.3.0004"] {
        assert!(bad.parse::<Ipv4Address>().is_err(), "{bad}");
    }
    assert_eq!(Ipv4Address::new(192, 0, 2, 1).to_string(), "192.0.2.1");
    assert_eq!(Ipv4Address::from_u32(0x0a000001), Ipv4Address::new(10, 0, 0, 1));
    assert!(Ipv4Address::new(224, 0, 0, 1).is_multicast());
}

#[test]
fn ethernet_frame_fields() {
    let mut bytes = [0u8; 20];
    let mut frame = EthernetFrame::new_checked(&mut bytes[..]).unwrap();
    let dst = EthernetAddress([0x02, 0, 0, 0, 0, 1]);
    let src = EthernetAddress([0x02, 0, 0, 0, 0, 2]);
    frame.set_dst_addr(dst);
    frame.set_src_addr(src);
    frame.set_ethertype(EtherType::Ipv4);
    frame.payload_mut()[0] = 0x45;
    assert_eq!(frame.dst_addr(), dst);
    assert_eq!(frame.src_addr(), src);
    assert_eq!(frame.ethertype(), EtherType::Ipv4);
    assert_eq!(frame.payload().len(), 6);
    assert_eq!(bytes[12..15], [0x08, 0x00, 0x45]);
    assert_eq!(EthernetFrame::new_checked(&bytes[..13]), Err(Truncated));
    assert_eq!(EtherType::from(0x6558), EtherType::TransparentEthernetBridging);
    assert_eq!(u16::from(EtherType::Unknown(0x1234)), 0x1234);
}

#[test]
fn ethernet_address_text_and_kinds() {
    let address: EthernetAddress = "00:1b:21:0a:bc:DE".parse().unwrap();
    assert_eq!(address.0, [0x00, 0x1b, 0x21, 0x0a, 0xbc, 0xde]);
    assert_eq!(address.to_string(), "00:1b:21:0a:bc:de");
    assert_eq!("0-1b-21-a-bc-de".parse::<EthernetAddress>(), Ok(address));
    for bad in ["", "00:11:22:33:44", "00:11:22:33:44:55:66", "000:11:22:33:44:55", "+0:11:22:33:44:55"] {
        assert!(bad.parse::<EthernetAddress>().is_err(), "{bad}");
    }
    assert!(EthernetAddress::BROADCAST.is_broadcast());
    assert!(EthernetAddress::BROADCAST.is_multicast());
    assert!(address.is_unicast());
    assert!(EthernetAddress([0x02, 0, 0, 0, 0, 0]).is_locally_administered());
    assert_eq!(EthernetAddress::from_bytes(&[1, 2, 3, 4, 5]), None);
    assert_eq!(ethernet::HEADER_LEN, 14);
}

#[test]
fn gre_linux_gretap_header() {
    let bytes = [0x20, 0x00, 0x65, 0x58, 0x00, 0x00, 0x00, 0x2a, 0xde, 0xad];
    let packet = gre::Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(packet.check(), Ok(()));
    assert!(packet.key_present() && !packet.checksum_present() && !packet.sequence_present());
    assert_eq!(packet.key(), Some(42));
    assert_eq!(packet.checksum(), None);
    assert_eq!(packet.protocol_type(), gre::PROTOCOL_ETHERNET);
    assert_eq!(packet.header_len(), 8);
    assert_eq!(packet.payload(), &[0xde, 0xad]);
}

#[test]
fn gre_rejects_routing_version_and_truncation() {
    let routing = [0x40, 0x00, 0x08, 0x00];
    assert_eq!(gre::Packet::new_unchecked(&routing[..]).check(), Err(gre::Error::UnsupportedFlags));
    let strict = [0x08, 0x00, 0x08, 0x00];
    assert_eq!(gre::Packet::new_unchecked(&strict[..]).check(), Err(gre::Error::UnsupportedFlags));
    let recursion = [0x04, 0x00, 0x08, 0x00];
    assert_eq!(gre::Packet::new_unchecked(&recursion[..]).check(), Err(gre::Error::UnsupportedFlags));
    let ignored_bits = [0x03, 0xf8, 0x08, 0x00];
    assert_eq!(gre::Packet::new_unchecked(&ignored_bits[..]).check(), Ok(()));
    let pptp = [0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(gre::Packet::new_unchecked(&pptp[..]).check(), Err(gre::Error::UnsupportedVersion));
    let cut_key = [0x20, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01];
    assert_eq!(gre::Packet::new_unchecked(&cut_key[..]).check(), Err(gre::Error::Truncated));
    assert_eq!(gre::Packet::new_checked(&[0x00, 0x00, 0x08][..]), Err(Truncated));
}

#[test]
fn gre_all_options_round_trip_and_checksum() {
    let payload = [1u8, 2, 3, 4, 5];
    let repr = gre::Repr { protocol_type: gre::PROTOCOL_IPV4, checksum: true, key: Some(0xdeadbeef), sequence: Some(7) };
    let mut bytes = vec![0u8; 16 + payload.len()];
    assert_eq!(repr.emit(&mut bytes, Sum::ZERO.add_bytes(&payload)), Ok(16));
    bytes[16..].copy_from_slice(&payload);
    let packet = gre::Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(packet.check(), Ok(()));
    assert!(packet.verify_checksum());
    assert_eq!(packet.key(), Some(0xdeadbeef));
    assert_eq!(packet.sequence(), Some(7));
    assert_eq!(packet.payload(), &payload);
    bytes[20] ^= 0x10;
    assert!(!gre::Packet::new_checked(&bytes[..]).unwrap().verify_checksum());
    let mut packet = gre::Packet::new_checked(&mut bytes[..]).unwrap();
    packet.fill_checksum();
    assert!(packet.verify_checksum());
}

#[test]
fn udp_and_tcp_ports() {
    let mut datagram = [0u8; 12];
    let mut udp = udp::Packet::new_unchecked(&mut datagram[..]);
    udp.set_src_port(5353);
    udp.set_dst_port(53);
    udp.set_len(12);
    assert_eq!(udp.check_len(), Ok(()));
    assert_eq!((udp.src_port(), udp.dst_port(), udp.payload().len()), (5353, 53, 4));
    udp.set_len(13);
    assert_eq!(udp.check_len(), Err(Truncated));

    let mut segment = [0u8; 24];
    segment[12] = 0x60;
    segment[13] = tcp::flags::SYN | tcp::flags::ACK;
    let mut tcp = tcp::Packet::new_checked(&mut segment[..]).unwrap();
    tcp.set_src_port(80);
    tcp.set_dst_port(40000);
    assert_eq!((tcp.src_port(), tcp.dst_port(), tcp.header_len()), (80, 40000, 24));
    assert_eq!(tcp.flags() & tcp::flags::SYN, tcp::flags::SYN);
    assert!(tcp.payload().is_empty());
    segment[12] = 0x70;
    assert_eq!(tcp::Packet::new_checked(&segment[..]), Err(Truncated));
}

fn header_strategy() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(any::<u8>(), 20..=60), 0usize..=40).prop_map(|(mut bytes, options)| {
        let options = options.min(bytes.len() - 20) / 4 * 4;
        bytes[0] = 0x40 | ((20 + options) / 4) as u8;
        let total = bytes.len() as u16;
        bytes[2..4].copy_from_slice(&total.to_be_bytes());
        let mut packet = Ipv4Packet::new_unchecked(&mut bytes[..]);
        packet.fill_checksum();
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn incremental_update_matches_recomputation(mut header in header_strategy(), word in 0usize..10, new in any::<u16>()) {
        prop_assume!(word != 5);
        let at = word * 2;
        let header_len = usize::from(header[0] & 0x0f) * 4;
        let old = u16::from_be_bytes([header[at], header[at + 1]]);
        let stored = u16::from_be_bytes([header[10], header[11]]);
        let patched = checksum::update_u16(stored, old, new);
        header[at..at + 2].copy_from_slice(&new.to_be_bytes());
        header[10..12].copy_from_slice(&patched.to_be_bytes());
        prop_assert!(checksum::is_valid(&header[..header_len]));
    }

    #[test]
    fn ttl_decrement_keeps_checksum_valid(header in header_strategy()) {
        let mut header = header;
        let mut packet = Ipv4Packet::new_checked(&mut header[..]).unwrap();
        let ttl = packet.ttl();
        match packet.decrement_ttl() {
            Ok(new) => {
                prop_assert_eq!(new, ttl - 1);
                prop_assert!(packet.verify_checksum());
            }
            Err(TtlExpired) => prop_assert!(ttl <= 1),
        }
    }

    #[test]
    fn address_rewrite_keeps_checksum_valid(header in header_strategy(), src in any::<u32>(), dst in any::<u32>()) {
        let mut header = header;
        let mut packet = Ipv4Packet::new_checked(&mut header[..]).unwrap();
        packet.rewrite_src_addr(Ipv4Address::from_u32(src));
        packet.rewrite_dst_addr(Ipv4Address::from_u32(dst));
        prop_assert!(packet.verify_checksum());
        prop_assert_eq!(packet.dst_addr().to_u32(), dst);
    }

    #[test]
    fn split_sums_combine(data in prop::collection::vec(any::<u8>(), 0..200), cut in 0usize..100) {
        let cut = (cut * 2).min(data.len() / 2 * 2);
        let whole = Sum::ZERO.add_bytes(&data).fold();
        let parts = Sum::ZERO.add_bytes(&data[..cut]).combine(Sum::ZERO.add_bytes(&data[cut..])).fold();
        prop_assert_eq!(whole, parts);
    }

    #[test]
    fn gre_repr_round_trip(
        protocol_type in any::<u16>(),
        with_checksum in any::<bool>(),
        key in any::<Option<u32>>(),
        sequence in any::<Option<u32>>(),
        payload in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let repr = gre::Repr { protocol_type, checksum: with_checksum, key, sequence };
        let mut bytes = vec![0u8; repr.header_len() + payload.len()];
        let header_len = repr.emit(&mut bytes, Sum::ZERO.add_bytes(&payload)).unwrap();
        bytes[header_len..].copy_from_slice(&payload);
        let packet = gre::Packet::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(packet.check(), Ok(()));
        prop_assert!(packet.verify_checksum());
        prop_assert_eq!(packet.header_len(), header_len);
        prop_assert_eq!(packet.protocol_type(), protocol_type);
        prop_assert_eq!(packet.key(), key);
        prop_assert_eq!(packet.sequence(), sequence);
        prop_assert_eq!(packet.checksum().is_some(), with_checksum);
        prop_assert_eq!(packet.payload(), &payload[..]);
        prop_assert_eq!(repr.emit(&mut vec![0u8; header_len - 1], Sum::ZERO), Err(Truncated));
    }

    #[test]
    fn views_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let ip = Ipv4Packet::new_unchecked(&bytes[..]);
        let _ = (ip.check_header(true), ip.payload(), ip.options(), ip.is_fragment(), ip.src_addr(), ip.dst_addr());
        if ip.check_len().is_ok() {
            prop_assert_eq!(ip.payload().len(), usize::from(ip.total_len()) - ip.header_len());
        }
        let gre = gre::Packet::new_unchecked(&bytes[..]);
        let _ = (gre.check(), gre.key(), gre.sequence(), gre.checksum(), gre.payload(), gre.verify_checksum());
        if gre.check_len().is_ok() {
            prop_assert_eq!(gre.payload().len(), bytes.len() - gre.header_len());
        }
        let eth = EthernetFrame::new_unchecked(&bytes[..]);
        let _ = (eth.dst_addr(), eth.src_addr(), eth.ethertype(), eth.payload());
        let udp = udp::Packet::new_unchecked(&bytes[..]);
        let _ = (udp.check_len(), udp.payload(), udp.src_port());
        let tcp = tcp::Packet::new_unchecked(&bytes[..]);
        let _ = (tcp.check_len(), tcp.payload(), tcp.flags());

        let mut copy = bytes.clone();
        let mut ip = Ipv4Packet::new_unchecked(&mut copy[..]);
        let _ = ip.decrement_ttl();
        ip.fill_checksum();
        ip.set_dst_addr(Ipv4Address::BROADCAST);
        let _ = ip.payload_mut();
        let mut gre = gre::Packet::new_unchecked(&mut copy[..]);
        gre.fill_checksum();
        let _ = gre.payload_mut();
    }
}
