//! CheckIPHeader's checks, IPClassifier's header offsets, HashSwitch and Print's log text.

use vdp_core::ip_actions::{check_ip, hash_output, ip_headers, log_safe, BadIp, SourceRules};
use vdp_core::wire::ipv4::{Address, HeaderError, Protocol, Repr};

fn udp_packet(src: [u8; 4], padding: usize) -> Vec<u8> {
    let repr = Repr {
        src_addr: Address(src),
        dst_addr: Address([10, 1, 2, 3]),
        protocol: Protocol::Udp,
        payload_len: 8,
        ttl: 64,
        ident: 1,
        dont_fragment: false,
        tos: 0,
    };
    let mut bytes = vec![0u8; 28 + padding];
    repr.emit(&mut bytes).unwrap();
    bytes
}

const NO_RULES: SourceRules<'static> = SourceRules { bad_sources: &[], interfaces: &[] };

#[test]
fn check_ip_accepts_and_trims_padding() {
    let packet = udp_packet([192, 168, 0, 1], 6);
    assert_eq!(check_ip(&packet, 0, true, &NO_RULES), Ok(28));
    let mut framed = vec![0u8; 14];
    framed.extend_from_slice(&packet);
    assert_eq!(check_ip(&framed, 14, true, &NO_RULES), Ok(42));
}

#[test]
fn check_ip_refuses_bad_headers() {
    let mut packet = udp_packet([192, 168, 0, 1], 0);
    packet[10] ^= 1;
    assert_eq!(check_ip(&packet, 0, true, &NO_RULES), Err(BadIp::Header(HeaderError::BadChecksum)));
    assert_eq!(check_ip(&packet, 0, false, &NO_RULES), Ok(28), "CHECKSUM false skips the sum");
    assert_eq!(check_ip(&packet[..10], 0, true, &NO_RULES), Err(BadIp::Header(HeaderError::Truncated)));
    assert!(check_ip(&packet, 40, true, &NO_RULES).is_err(), "offset past the end");
    let mut v6 = udp_packet([192, 168, 0, 1], 0);
    v6[0] = 0x65;
    assert_eq!(check_ip(&v6, 0, false, &NO_RULES), Err(BadIp::Header(HeaderError::BadVersion)));
}

#[test]
fn check_ip_refuses_bad_sources() {
    for src in [[255, 255, 255, 255], [224, 0, 0, 1]] {
        assert_eq!(check_ip(&udp_packet(src, 0), 0, true, &NO_RULES), Err(BadIp::BadSource));
    }
    let listed = SourceRules { bad_sources: &[10, 9, 9, 9], interfaces: &[] };
    assert_eq!(check_ip(&udp_packet([10, 9, 9, 9], 0), 0, true, &listed), Err(BadIp::BadSource));
    assert!(check_ip(&udp_packet([10, 9, 9, 8], 0), 0, true, &listed).is_ok());
    let interfaces = SourceRules { bad_sources: &[], interfaces: &[192, 168, 1, 0, 24] };
    assert_eq!(check_ip(&udp_packet([192, 168, 1, 255], 0), 0, true, &interfaces), Err(BadIp::BadSource));
    assert!(check_ip(&udp_packet([192, 168, 1, 254], 0), 0, true, &interfaces).is_ok());
}

#[test]
fn headers_for_classification() {
    let packet = udp_packet([1, 2, 3, 4], 0);
    let headers = ip_headers(&packet, 0);
    assert_eq!((headers.network, headers.transport), (0, Some(20)));
    let mut fragment = packet.clone();
    fragment[6] = 0x00;
    fragment[7] = 0x10;
    assert_eq!(ip_headers(&fragment, 0).transport, None, "a later fragment has no transport header");
    assert_eq!(ip_headers(&packet[..12], 0).transport, None);
    assert_eq!(ip_headers(&packet, 100).transport, None);
}

#[test]
fn hash_switch_is_stable_and_bounded() {
    let packet = udp_packet([1, 2, 3, 4], 0);
    let first = hash_output(&packet, 12, 8, 4).unwrap();
    assert!(first < 4);
    assert_eq!(hash_output(&packet, 12, 8, 4), Some(first));
    assert_eq!(hash_output(&packet, 24, 8, 4), None, "bytes beyond the packet");
    assert_eq!(hash_output(&packet, usize::MAX, 8, 4), None);
    let mut spread = [0u32; 4];
    for i in 0..=255u8 {
        spread[usize::from(hash_output(&[10, 0, 0, i], 0, 4, 4).unwrap())] += 1;
    }
    assert!(spread.iter().all(|n| *n > 32), "outputs used unevenly: {spread:?}");
}

#[test]
fn log_text_cannot_imitate_kernel_faults() {
    let label: String = "BUG: Oops general protection fault".bytes().map(log_safe).collect();
    assert_eq!(label, "bug__oops_general_protection_fault");
    assert_eq!("red/p@1".bytes().map(log_safe).collect::<String>(), "red/p@1");
}
