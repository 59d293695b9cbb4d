//! The classes of Click's IP router that answer, cut and mark packets (ICMPError, IPFragmenter,
//! IPGWOptions, FixIPSrc, DropBroadcasts) against reference models written here from RFC 791,
//! 792 and 1812 and Click's documentation of each class, without the library's code: the bytes
//! of every ICMP error (checksums and quotation included) and when none is sent, fragments that
//! reassemble to the original with the right offsets, more-fragments bits and copied options,
//! record route and timestamps, and the link-level packet type the devices set.
//!
//! Packets arrive on `eth0` behind an Ethernet header; what the element under test sends on
//! output N leaves by `eth{N+1}`, an Ethernet device that sends any bytes.

mod common;

use common::*;
use proptest::prelude::*;

fn config(default_cases: u32) -> ProptestConfig {
    ProptestConfig { cases: cases(default_cases), failure_persistence: None, ..ProptestConfig::default() }
}

/// The address of the test devices (`ethernet_device`): frames to it arrive as the host's.
const OWN_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const BROADCAST_MAC: [u8; 6] = [0xff; 6];
const MULTICAST_MAC: [u8; 6] = [1, 0, 0x5e, 0, 0, 9];

/// How a frame is addressed at the link level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Own,
    OtherHost,
    Broadcast,
    Multicast,
}

impl Link {
    fn mac(self) -> [u8; 6] {
        match self {
            Link::Own => OWN_MAC,
            Link::OtherHost => MAC_B,
            Link::Broadcast => BROADCAST_MAC,
            Link::Multicast => MULTICAST_MAC,
        }
    }
}

fn frame_to(link: Link, ip: &[u8]) -> Vec<u8> {
    let mut frame = ether(ETHERTYPE_IPV4, ip);
    frame[..6].copy_from_slice(&link.mac());
    frame
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

/// `FromDevice(eth0) -> Strip(14) -> ELEMENT`, output N to `eth{N+1}` as bare IP.
fn chain(element: &str, outputs: usize) -> Run {
    let mut text = format!("FromDevice(eth0) -> Strip(14) -> x :: {element};\n");
    for port in 0..outputs {
        text.push_str(&format!("x[{port}] -> Queue(1000) -> ToDevice(eth{});\n", port + 1));
    }
    Run::config(&text)
}

// ---------------------------------------------------------------------------------------------
// ICMPError: the model.

/// One ICMPError's configuration, as the tests write it.
#[derive(Clone, Debug)]
struct ErrorConfig {
    src: [u8; 4],
    /// The TYPE and CODE as written (names or numbers) and the numbers they stand for.
    type_text: &'static str,
    code_text: &'static str,
    icmp_type: u8,
    code: u8,
    bad: Vec<[u8; 4]>,
    mtu: Option<usize>,
    pmtu: u16,
}

impl ErrorConfig {
    fn text(&self) -> String {
        let mut text = format!("ICMPError({}, {}, {}", ipv4_text(self.src), self.type_text, self.code_text);
        if !self.bad.is_empty() {
            text.push_str(&format!(", BADADDRS {}", self.bad.iter().map(|a| ipv4_text(*a)).collect::<Vec<_>>().join(" ")));
        }
        if let Some(mtu) = self.mtu {
            text.push_str(&format!(", MTU {mtu}"));
        }
        text.push_str(&format!(", PMTU {})", self.pmtu));
        text
    }
}

/// What ICMPError sees of a packet besides its bytes.
#[derive(Clone, Copy, Debug)]
struct Seen {
    link: Link,
    /// The parameter-problem annotation.
    pointer: u8,
    /// The destination annotation (a redirect's gateway).
    gateway: Option<[u8; 4]>,
}

const ERROR_TYPES: [u8; 5] = [3, 4, 5, 11, 12];

/// RFC 1812 4.3.2.7 and 5.3.7, as Click's ICMPError applies them: a destination no error
/// answers (limited broadcast, class D, BADADDRS); a source no error may go to (those, 0/8,
/// 127/8, class E).
fn not_unicast(address: [u8; 4], bad: &[[u8; 4]]) -> bool {
    address == [255; 4] || (224..240).contains(&address[0]) || bad.contains(&address)
}

fn bad_source(address: [u8; 4], bad: &[[u8; 4]]) -> bool {
    not_unicast(address, bad) || address[0] == 0 || address[0] == 127 || address[0] >= 240
}

/// The loose or strict source route of a header, if its pointer is sane: (offset, length,
/// pointer).
fn source_route(header: &[u8]) -> Option<(usize, usize, usize)> {
    let mut i = 20;
    while i < header.len() {
        match header[i] {
            0 => return None,
            1 => i += 1,
            kind => {
                let len = *header.get(i + 1)? as usize;
                if len < 2 || i + len > header.len() {
                    return None;
                }
                if kind == 131 || kind == 137 {
                    let pointer = if len > 2 { header[i + 2] as usize } else { 0 };
                    if pointer >= 4 && pointer % 4 == 0 && pointer <= len + 1 {
                        return Some((i, len, pointer));
                    }
                }
                i += len;
            }
        }
    }
    None
}

/// The error ICMPError sends for `ip` (the bytes from the IP header on), with identification
/// `ident`, or `None`.
fn icmp_error_model(config: &ErrorConfig, ip: &[u8], seen: Seen, ident: u16) -> Option<Vec<u8>> {
    if ip.len() < 20 {
        return None;
    }
    let hl = usize::from(ip[0] & 0x0f) * 4;
    if hl < 20 || hl > ip.len() {
        return None;
    }
    if ip[9] == 1 && (ip.len() < hl + 4 || ERROR_TYPES.contains(&ip[hl])) {
        return None;
    }
    let src: [u8; 4] = ip[12..16].try_into().unwrap();
    let dst: [u8; 4] = ip[16..20].try_into().unwrap();
    if not_unicast(dst, &config.bad) || matches!(seen.link, Link::Broadcast | Link::Multicast) || bad_source(src, &config.bad) {
        return None;
    }
    if be16(&ip[6..8]) & 0x1fff != 0 {
        return None;
    }
    let mut route = source_route(&ip[..hl]);
    if route.is_some() && config.icmp_type == 5 {
        return None;
    }
    if let Some((at, len, _)) = route {
        let pointer = usize::from(seen.pointer);
        if config.icmp_type == 12 && config.code == 0 && pointer >= at && pointer < at + len {
            route = None;
        }
    }
    // The reversed route: type, length (the pointer less one), pointer 4, the addresses passed
    // through last first, then one end-of-options byte.
    let mut options = Vec::new();
    if let Some((at, _, pointer)) = route {
        options.extend_from_slice(&[ip[at], (pointer - 1) as u8, 4]);
        let passed: Vec<&[u8]> = ip[at + 3..at + pointer - 1].chunks(4).collect();
        for address in passed.iter().rev() {
            options.extend_from_slice(address);
        }
        options.push(0);
    }
    let header_len = 20 + options.len();
    let quoted = ip.len().min(config.mtu.unwrap_or(576) - header_len - 8);
    let mut icmp = vec![config.icmp_type, config.code, 0, 0, 0, 0, 0, 0];
    match (config.icmp_type, config.code) {
        (12, 0) => icmp[4] = seen.pointer,
        (5, _) => icmp[4..8].copy_from_slice(&seen.gateway.unwrap_or([0; 4])),
        (3, 4) => icmp[6..8].copy_from_slice(&config.pmtu.to_be_bytes()),
        _ => {}
    }
    icmp.extend_from_slice(&ip[..quoted]);
    let sum = rfc1071(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let total = header_len + icmp.len();
    let mut out = vec![0x40 | (header_len / 4) as u8, 0];
    out.extend_from_slice(&(total as u16).to_be_bytes());
    out.extend_from_slice(&ident.to_be_bytes());
    out.extend_from_slice(&[0, 0, 200, 1, 0, 0]);
    out.extend_from_slice(&config.src);
    out.extend_from_slice(&src);
    out.extend_from_slice(&options);
    let sum = rfc1071(&out);
    out[10..12].copy_from_slice(&sum.to_be_bytes());
    out.extend_from_slice(&icmp);
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// ICMPError: generators.

/// Named types and codes as a configuration may write them, with their numbers.
fn error_kind() -> impl Strategy<Value = (&'static str, &'static str, u8, u8)> {
    prop::sample::select(vec![
        ("timeexceeded", "transit", 11, 0),
        ("timeexceeded", "reassembly", 11, 1),
        ("11", "0", 11, 0),
        ("unreachable", "needfrag", 3, 4),
        ("unreachable", "port", 3, 3),
        ("unreachable", "toshost", 3, 12),
        ("3", "host", 3, 1),
        ("parameterproblem", "erroratptr", 12, 0),
        ("parameterproblem", "length", 12, 2),
        ("sourcequench", "0", 4, 0),
        ("redirect", "host", 5, 1),
        ("redirect", "toshost", 5, 3),
    ])
}

/// Addresses that each rule cares about, and ordinary ones.
fn tricky_address() -> impl Strategy<Value = [u8; 4]> {
    prop_oneof![
        6 => (1u8..224, any::<u8>(), any::<u8>(), 1u8..255).prop_filter("not 127/8", |(a, ..)| *a != 127).prop_map(|(a, b, c, d)| [a, b, c, d]),
        1 => Just([255, 255, 255, 255]),
        1 => (224u8..240, any::<u8>()).prop_map(|(a, d)| [a, 0, 0, d]),
        1 => (240u8..255).prop_map(|a| [a, 1, 2, 3]),
        1 => Just([0, 1, 2, 3]),
        1 => Just([127, 0, 0, 1]),
        1 => Just([10, 66, 66, 66]),
    ]
}

fn error_config() -> impl Strategy<Value = ErrorConfig> {
    (
        error_kind(),
        prop::option::weighted(0.3, Just(vec![[10, 66, 66, 66]])),
        prop::option::weighted(0.5, prop::sample::select(vec![68usize, 100, 300, 1500])),
        any::<u16>(),
    )
        .prop_map(|((type_text, code_text, icmp_type, code), bad, mtu, pmtu)| ErrorConfig {
            src: [192, 0, 2, 9],
            type_text,
            code_text,
            icmp_type,
            code,
            bad: bad.unwrap_or_default(),
            mtu,
            pmtu,
        })
}

/// Options for a header: a source route with a random pointer, NOPs, others; padded to words.
fn options() -> impl Strategy<Value = Vec<u8>> {
    let route = (prop::sample::select(vec![131u8, 137]), 0usize..4, any::<u8>(), any::<bool>()).prop_map(|(kind, addresses, pointer, sane)| {
        let len = 3 + 4 * addresses;
        let pointer = if sane { 4 + 4 * (pointer as usize % (addresses + 1)) } else { pointer as usize };
        let mut option = vec![kind, len as u8, pointer as u8];
        for i in 0..addresses {
            option.extend_from_slice(&[10, 9, i as u8, 1]);
        }
        option
    });
    let piece = prop_oneof![3 => route, 1 => Just(vec![1u8]), 1 => Just(vec![7u8, 7, 4, 0, 0, 0, 0]), 1 => Just(vec![0u8])];
    prop::collection::vec(piece, 0..3).prop_map(|pieces| {
        let mut options: Vec<u8> = pieces.concat();
        options.truncate(40);
        options
    })
}

/// An IP packet for ICMPError: any protocol (ICMP with any type), fragment fields, addresses,
/// options and length.
#[derive(Clone, Debug)]
struct Offered {
    ip: Vec<u8>,
    link: Link,
    /// Cut to this many bytes (a header longer than the packet).
    cut: Option<usize>,
}

fn offered() -> impl Strategy<Value = Offered> {
    let proto = prop_oneof![2 => Just(17u8), 2 => Just(1u8), 1 => any::<u8>()];
    let icmp_type = prop_oneof![Just(0u8), Just(8), Just(3), Just(4), Just(5), Just(11), Just(12), any::<u8>()];
    let frag = prop_oneof![4 => Just(0u16), 1 => Just(0x4000u16), 1 => Just(0x2000), 1 => (1u16..0x2000).prop_map(|o| o | 0x2000), 1 => 1u16..0x2000];
    let link = prop_oneof![3 => Just(Link::OtherHost), 3 => Just(Link::Own), 1 => Just(Link::Broadcast), 1 => Just(Link::Multicast)];
    (proto, icmp_type, frag, tricky_address(), tricky_address(), options(), 0usize..700, link, prop::option::weighted(0.1, 0usize..60))
        .prop_map(|(proto, icmp_type, frag, src, dst, options, len, link, cut)| {
            let mut ip = Ip::new(proto, src, dst);
            ip.frag = frag;
            ip.options = options;
            let mut payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            if let Some(first) = payload.first_mut() {
                *first = icmp_type;
            }
            Offered { ip: ip.packet(&payload), link, cut }
        })
}

proptest! {
    #![proptest_config(config(128))]

    /// Every packet gets the error the model builds, byte for byte, or none when the model
    /// sends none; identifications count from 1 over the errors sent.
    #[test]
    fn icmp_errors_are_the_models(config in error_config(), packets in prop::collection::vec(offered(), 1..12)) {
        let text = config.text();
        let mut run = chain(&text, 1);
        let mut expected = Vec::new();
        let mut ident = 1u16;
        for packet in &packets {
            let mut ip = packet.ip.clone();
            if let Some(cut) = packet.cut {
                ip.truncate(cut);
            }
            let seen = Seen { link: packet.link, pointer: 0, gateway: None };
            if let Some(error) = icmp_error_model(&config, &ip, seen, ident) {
                expected.push(error);
                ident += 1;
            }
            let mut frame = frame_to(packet.link, &ip);
            frame.truncate(14 + ip.len());
            run.send("eth0", &frame);
        }
        run.run_until(run.engine.now_ns());
        let got = run.take("eth1");
        prop_assert_eq!(got.len(), expected.len(), "{}", text);
        for (got, expected) in got.iter().zip(&expected) {
            prop_assert_eq!(hex(got), hex(expected), "{}", text);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ICMPError: the rules one by one.

/// The error `config` sends for `ip` arriving as `link`, if any.
fn answer(config: &str, link: Link, ip: &[u8]) -> Option<Vec<u8>> {
    let mut run = chain(config, 1);
    run.send("eth0", &frame_to(link, ip));
    run.run_until(run.engine.now_ns());
    let mut out = run.take("eth1");
    assert!(out.len() <= 1);
    out.pop()
}

fn udp(src: [u8; 4], dst: [u8; 4], payload_len: usize) -> Vec<u8> {
    Ip::new(17, src, dst).packet(&ports(4000, 53, payload_len))
}

const HOST_A: [u8; 4] = [10, 1, 0, 2];
const HOST_B: [u8; 4] = [10, 2, 0, 2];

#[test]
fn a_short_datagram_is_quoted_whole_behind_checksummed_headers() {
    // 20 bytes of header and 8 of UDP: the quotation is the header and 8 bytes.
    let packet = udp(HOST_A, HOST_B, 8);
    assert_eq!(packet.len(), 28);
    let error = answer("ICMPError(10.1.0.1, timeexceeded)", Link::Own, &packet).expect("an error");
    assert_eq!(error.len(), 20 + 8 + 28);
    assert_eq!(&error[..12], &[0x45, 0, 0, 56, 0, 1, 0, 0, 200, 1, error[10], error[11]]);
    assert_eq!((&error[12..16], &error[16..20]), (&[10, 1, 0, 1][..], &HOST_A[..]));
    assert_eq!(rfc1071(&error[..20]), 0, "IP header checksum");
    assert_eq!(&error[20..22], &[11, 0]);
    assert_eq!(&error[24..28], &[0; 4]);
    assert_eq!(rfc1071(&error[20..]), 0, "ICMP checksum");
    assert_eq!(&error[28..], &packet[..]);
}

#[test]
fn a_long_datagram_is_quoted_up_to_mtu() {
    let packet = udp(HOST_A, HOST_B, 1400);
    let error = answer("ICMPError(10.1.0.1, unreachable, port)", Link::Own, &packet).unwrap();
    assert_eq!(error.len(), 576, "MTU 576 by default (RFC 1812 4.3.2.3)");
    assert_eq!(&error[28..], &packet[..548]);
    assert_eq!(rfc1071(&error[20..]), 0);
    let error = answer("ICMPError(10.1.0.1, unreachable, port, MTU 68)", Link::Own, &packet).unwrap();
    assert_eq!((error.len(), &error[28..]), (68, &packet[..40]));
}

#[test]
fn needfrag_carries_the_next_hop_mtu() {
    let mut ip = Ip::new(17, HOST_A, HOST_B);
    ip.frag = 0x4000;
    let packet = ip.packet(&ports(1, 2, 1472));
    // IPFragmenter's output 1 feeds the error, as in Click's router.
    let mut run = Run::config(
        "FromDevice(eth0) -> Strip(14) -> CheckIPHeader -> f :: IPFragmenter(1400);\n\
         f[0] -> Queue -> ToDevice(eth1);\n\
         f[1] -> ICMPError(10.2.0.1, unreachable, needfrag, PMTU 1400) -> Queue -> ToDevice(eth2);",
    );
    run.send("eth0", &frame_to(Link::Own, &packet));
    run.run_until(run.engine.now_ns());
    assert!(run.take("eth1").is_empty());
    let error = run.take("eth2").pop().expect("an error");
    assert_eq!(&error[20..22], &[3, 4]);
    assert_eq!(be16(&error[24..26]), 0, "unused");
    assert_eq!(be16(&error[26..28]), 1400, "next-hop MTU");
    assert_eq!(rfc1071(&error[20..]), 0);
    assert_eq!(&error[28..], &packet[..548]);
}

#[test]
fn no_error_answers_an_icmp_error_but_other_icmp_messages_get_one() {
    for icmp_type in 0..=255u8 {
        let packet = Ip::new(1, HOST_A, HOST_B).packet(&[icmp_type, 0, 0, 0, 0, 0, 0, 0]);
        let got = answer("ICMPError(10.1.0.1, timeexceeded)", Link::Own, &packet);
        assert_eq!(got.is_some(), !ERROR_TYPES.contains(&icmp_type), "ICMP type {icmp_type}");
    }
    // Too short to say what it is: no answer either.
    let packet = Ip::new(1, HOST_A, HOST_B).packet(&[8, 0, 0]);
    assert_eq!(answer("ICMPError(10.1.0.1, timeexceeded)", Link::Own, &packet), None);
}

#[test]
fn only_a_first_fragment_gets_an_error() {
    for (frag, answered) in [(0x0000u16, true), (0x2000, true), (0x4000, true), (0x2001, false), (0x0010, false), (0x4001, false)] {
        let mut ip = Ip::new(17, HOST_A, HOST_B);
        ip.frag = frag;
        let got = answer("ICMPError(10.1.0.1, timeexceeded)", Link::Own, &ip.packet(&ports(1, 2, 8)));
        assert_eq!(got.is_some(), answered, "fragment field {frag:#06x}");
    }
}

#[test]
fn broadcast_and_multicast_get_no_error_at_either_level() {
    let config = "ICMPError(10.1.0.1, timeexceeded, BADADDRS 10.2.0.255)";
    for dst in [[255, 255, 255, 255], [224, 0, 0, 1], [239, 1, 2, 3], [10, 2, 0, 255]] {
        assert_eq!(answer(config, Link::Own, &udp(HOST_A, dst, 8)), None, "to {dst:?}");
    }
    assert!(answer(config, Link::Own, &udp(HOST_A, [223, 1, 2, 3], 8)).is_some());
    for link in [Link::Broadcast, Link::Multicast] {
        assert_eq!(answer(config, link, &udp(HOST_A, HOST_B, 8)), None, "{link:?}");
    }
    for link in [Link::Own, Link::OtherHost] {
        assert!(answer(config, link, &udp(HOST_A, HOST_B, 8)).is_some(), "{link:?}");
    }
}

#[test]
fn no_error_goes_to_a_source_that_cannot_take_one() {
    let config = "ICMPError(10.1.0.1, timeexceeded, BADADDRS 10.1.0.255 10.1.0.254)";
    for src in [[0, 0, 0, 0], [0, 9, 9, 9], [127, 0, 0, 1], [224, 0, 0, 5], [240, 0, 0, 1], [255, 255, 255, 255], [10, 1, 0, 255], [10, 1, 0, 254]] {
        assert_eq!(answer(config, Link::Own, &udp(src, HOST_B, 8)), None, "from {src:?}");
    }
    assert!(answer(config, Link::Own, &udp([1, 0, 0, 1], HOST_B, 8)).is_some());
}

#[test]
fn a_source_route_is_reversed_in_the_error() {
    // LSRR through 10.9.0.1 and 10.9.0.2 so far (pointer 12), 10.9.0.3 still to go.
    let mut ip = Ip::new(17, HOST_A, HOST_B);
    ip.options = vec![131, 15, 12, 10, 9, 0, 1, 10, 9, 0, 2, 10, 9, 0, 3];
    let packet = ip.packet(&ports(1, 2, 8));
    let error = answer("ICMPError(10.1.0.1, timeexceeded)", Link::Own, &packet).unwrap();
    assert_eq!(error[0], 0x48, "a 32-byte header");
    assert_eq!(&error[20..32], &[131, 11, 4, 10, 9, 0, 2, 10, 9, 0, 1, 0]);
    assert_eq!(rfc1071(&error[..32]), 0);
    assert_eq!(&error[32..34], &[11, 0]);
    assert_eq!(&error[40..], &packet[..]);
    // A redirect is never sent for a source-routed packet.
    assert_eq!(answer("ICMPError(10.1.0.1, redirect, host)", Link::Own, &packet), None);
}

#[test]
fn a_redirect_names_the_gateway_of_the_route() {
    let mut run = Run::config(
        "FromDevice(eth0) -> Strip(14) -> CheckIPHeader -> rt :: RadixIPLookup(10.2.0.0/16 10.1.0.7 0);\n\
         rt[0] -> ICMPError(10.1.0.1, redirect, host) -> Queue -> ToDevice(eth1);",
    );
    let packet = udp(HOST_A, HOST_B, 8);
    run.send("eth0", &frame_to(Link::Own, &packet));
    run.run_until(run.engine.now_ns());
    let error = run.take("eth1").pop().unwrap();
    assert_eq!(&error[20..22], &[5, 1]);
    assert_eq!(&error[24..28], &[10, 1, 0, 7]);
    assert_eq!(rfc1071(&error[20..]), 0);
}

#[test]
fn code_names_mean_what_the_type_makes_them_mean() {
    for (config, code) in [("unreachable, toshost", 12), ("redirect, toshost", 3), ("redirect, net", 0), ("parameterproblem, missingopt", 1), ("5, 2", 2)] {
        let error = answer(&format!("ICMPError(10.1.0.1, {config})"), Link::Own, &udp(HOST_A, [1, 2, 3, 4], 8)).unwrap();
        assert_eq!(error[21], code, "{config}");
    }
}

// ---------------------------------------------------------------------------------------------
// IPGWOptions feeds a parameter problem; FixIPSrc gives errors their interface's address.

#[test]
fn a_bad_option_gets_a_parameter_problem_pointing_at_it() {
    let mut run = Run::config(
        "FromDevice(eth0) -> Strip(14) -> g :: IPGWOptions(10.2.0.1);\n\
         g[0] -> Queue -> ToDevice(eth1);\n\
         g[1] -> ICMPError(10.2.0.1, parameterproblem) -> Queue -> ToDevice(eth2);",
    );
    // NOP, then a record route whose length runs past the header: the length byte is bad.
    let mut ip = Ip::new(17, HOST_A, HOST_B);
    ip.options = vec![1, 7, 9, 4, 0, 0, 0, 0];
    let packet = ip.packet(&ports(1, 2, 8));
    run.send("eth0", &frame_to(Link::Own, &packet));
    run.run_until(run.engine.now_ns());
    assert!(run.take("eth1").is_empty());
    let error = run.take("eth2").pop().unwrap();
    assert_eq!(&error[20..25], &[12, 0, error[22], error[23], 22]);
    assert_eq!(rfc1071(&error[20..]), 0);
    assert_eq!(&error[28..], &packet[..], "the packet as it arrived");
    assert_eq!(run.read_int("g", "drops"), 1);
}

#[test]
fn fix_ip_src_rewrites_errors_only_and_clears_the_mark() {
    let mut run = Run::config(
        "FromDevice(eth0) -> Strip(14) -> CheckIPHeader -> t :: Tee(2);\n\
         t[0] -> ICMPError(192.0.2.1, timeexceeded) -> FixIPSrc(10.1.0.1) -> FixIPSrc(10.7.7.7) -> Queue -> ToDevice(eth1);\n\
         t[1] -> FixIPSrc(10.1.0.1) -> Queue -> ToDevice(eth2);\n\
         FromDevice(eth3) -> Strip(14) -> CheckIPHeader -> ICMPError(192.0.2.1, timeexceeded, SET_FIX_ANNO false) -> FixIPSrc(10.1.0.1) -> Queue -> ToDevice(eth4);",
    );
    let packet = udp(HOST_A, HOST_B, 8);
    run.send("eth0", &frame_to(Link::Own, &packet));
    run.send("eth3", &frame_to(Link::Own, &packet));
    run.run_until(run.engine.now_ns());
    let error = run.take("eth1").pop().unwrap();
    assert_eq!(&error[12..16], &[10, 1, 0, 1]);
    assert_eq!(rfc1071(&error[..20]), 0);
    assert_eq!(run.take("eth2"), [packet.clone()]);
    assert_eq!(&run.take("eth4").pop().unwrap()[12..16], &[192, 0, 2, 1], "not marked: left alone");
}

// ---------------------------------------------------------------------------------------------
// IPFragmenter.

/// The options a fragment after the first carries: those with the copy bit, NOPs left out,
/// padded with zeros to a word (RFC 791, "Fragmentation").
fn copied(options: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < options.len() {
        let kind = options[i];
        if kind == 1 {
            i += 1;
            continue;
        }
        if kind == 0 || i + 1 >= options.len() {
            break;
        }
        let len = options[i + 1] as usize;
        if len < 2 || i + len > options.len() {
            break;
        }
        if kind & 0x80 != 0 {
            out.extend_from_slice(&options[i..i + len]);
        }
        i += len;
    }
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// Options of both kinds: copied (security 130, LSRR 131, SSRR 137, router alert 148) and not
/// (record route 7, timestamp 68), with NOPs.
fn fragment_options() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(vec![130u8, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        Just(vec![131u8, 7, 4, 10, 0, 0, 1]),
        Just(vec![137u8, 11, 8, 10, 0, 0, 1, 10, 0, 0, 2]),
        Just(vec![148u8, 4, 0, 0]),
        Just(vec![7u8, 7, 4, 0, 0, 0, 0]),
        Just(vec![68u8, 8, 5, 0, 0, 0, 0, 0]),
        Just(vec![1u8]),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|pieces| {
        let mut options = Vec::new();
        for piece in pieces {
            if options.len() + piece.len() <= 40 {
                options.extend_from_slice(&piece);
            }
        }
        options
    })
}

/// A fragment's fields.
#[derive(Debug)]
struct Fragment {
    offset: usize,
    more: bool,
    header: Vec<u8>,
    data: Vec<u8>,
}

fn parse_fragment(bytes: &[u8]) -> Fragment {
    let hl = usize::from(bytes[0] & 0x0f) * 4;
    assert_eq!(usize::from(be16(&bytes[2..4])), bytes.len(), "total length field");
    assert_eq!(rfc1071(&bytes[..hl]), 0, "header checksum");
    let field = be16(&bytes[6..8]);
    Fragment { offset: usize::from(field & 0x1fff) * 8, more: field & 0x2000 != 0, header: bytes[..hl].to_vec(), data: bytes[hl..].to_vec() }
}

proptest! {
    #![proptest_config(config(256))]

    /// Fragments of at most MTU bytes, in order, each beginning where the last ended (offsets in
    /// 8-byte units, all data but the last a multiple of 8), more-fragments on all but the
    /// last (which keeps the packet's own), the first with every option and the others with
    /// the copied ones only, the other header fields the packet's; together the packet's data.
    #[test]
    fn fragments_reassemble_to_the_packet(
        // Up to what the test devices' tunnels carry whole.
        mtu in 68usize..1400,
        options in fragment_options(),
        len in 0usize..3000,
        original_offset in prop_oneof![3 => Just(0u16), 1 => 1u16..200],
        original_more in any::<bool>(),
        tos in any::<u8>(),
    ) {
        let mut ip = Ip::new(17, HOST_A, HOST_B);
        ip.options = options.clone();
        ip.tos = tos;
        ip.ident = 0x4242;
        ip.frag = original_offset | if original_more { 0x2000 } else { 0 };
        let data: Vec<u8> = (0..len).map(|i| (i * 13 + 5) as u8).collect();
        let packet = ip.packet(&data);
        let hl = usize::from(packet[0] & 0x0f) * 4;
        let mut run = chain(&format!("IPFragmenter({mtu})"), 2);
        run.send("eth0", &frame_to(Link::Own, &packet));
        run.run_until(run.engine.now_ns());
        let out = run.take("eth1");
        prop_assert!(run.take("eth2").is_empty());
        if packet.len() <= mtu {
            prop_assert_eq!(out, vec![packet]);
            return Ok(());
        }
        prop_assert!(out.len() >= 2);
        let fragments: Vec<Fragment> = out.iter().map(|f| parse_fragment(f)).collect();
        let mut expected_offset = usize::from(original_offset) * 8;
        let mut reassembled = Vec::new();
        for (index, (fragment, bytes)) in fragments.iter().zip(&out).enumerate() {
            let last = index + 1 == fragments.len();
            prop_assert!(bytes.len() <= mtu, "fragment {} is {} bytes", index, bytes.len());
            prop_assert_eq!(fragment.offset, expected_offset);
            prop_assert_eq!(fragment.more, if last { original_more } else { true });
            if !last {
                prop_assert_eq!(fragment.data.len() % 8, 0);
            }
            let expected_options = if index == 0 { packet[20..hl].to_vec() } else { copied(&options) };
            prop_assert_eq!(&fragment.header[20..], &expected_options[..], "fragment {}", index);
            // Version, TOS, identification, DF, TTL, protocol and addresses are the packet's.
            prop_assert_eq!(fragment.header[0] >> 4, 4);
            prop_assert_eq!(fragment.header[1], tos);
            prop_assert_eq!(&fragment.header[4..6], &packet[4..6]);
            prop_assert_eq!(fragment.header[6] & 0x40, 0);
            prop_assert_eq!(&fragment.header[8..10], &packet[8..10]);
            prop_assert_eq!(&fragment.header[12..20], &packet[12..20]);
            expected_offset += fragment.data.len();
            reassembled.extend_from_slice(&fragment.data);
        }
        prop_assert_eq!(reassembled, data);
        prop_assert_eq!(run.read_int("x", "fragments"), out.len() as u64);
    }
}

#[test]
fn dont_fragment_goes_to_output_1_unless_ignored() {
    let mut ip = Ip::new(17, HOST_A, HOST_B);
    ip.frag = 0x4000;
    ip.ident = 7;
    let packet = ip.packet(&[0x33; 500]);
    let mut run = chain("IPFragmenter(300)", 2);
    run.send("eth0", &frame_to(Link::Own, &packet));
    run.run_until(run.engine.now_ns());
    assert!(run.take("eth1").is_empty());
    assert_eq!(run.take("eth2"), [packet.clone()]);
    assert_eq!(run.read_int("x", "drops"), 1);

    // HONOR_DF false: fragmented, the bit cleared, one new identification for all fragments.
    let mut run = chain("IPFragmenter(300, false)", 2);
    run.send("eth0", &frame_to(Link::Own, &packet));
    run.run_until(run.engine.now_ns());
    let out = run.take("eth1");
    assert_eq!(out.len(), 2);
    let fragments: Vec<Fragment> = out.iter().map(|f| parse_fragment(f)).collect();
    assert!(fragments.iter().all(|f| f.header[6] & 0x40 == 0));
    assert_eq!(fragments[0].header[4..6], fragments[1].header[4..6]);
    assert_eq!(fragments.iter().flat_map(|f| f.data.clone()).collect::<Vec<u8>>(), vec![0x33; 500]);

    // An MTU that leaves no 8 data bytes beside the header: output 1 too.
    let mut run = chain("IPFragmenter(27)", 2);
    run.send("eth0", &frame_to(Link::Own, &udp(HOST_A, HOST_B, 40)));
    run.run_until(run.engine.now_ns());
    assert_eq!(run.take("eth2").len(), 1);
}

#[test]
fn fragments_keep_the_annotations_and_the_first_keeps_its_link_header() {
    // Behind CheckIPHeader(OFFSET 14) the Ethernet header stays in front: the first fragment
    // keeps it, later ones are IP alone; all keep the paint.
    let mut run = Run::config(
        "FromDevice(eth0) -> Paint(2) -> CheckIPHeader(OFFSET 14) -> IPFragmenter(100) -> s :: PaintSwitch;\n\
         s[0] -> Discard; s[1] -> Discard; s[2] -> Queue -> ToDevice(eth2);",
    );
    let packet = udp(HOST_A, HOST_B, 200);
    let frame = frame_to(Link::Own, &packet);
    run.send("eth0", &frame);
    run.run_until(run.engine.now_ns());
    let out = run.take("eth2");
    assert_eq!(out.len(), 3);
    assert_eq!(&out[0][..14], &frame[..14]);
    assert_eq!(out[0].len(), 14 + 100);
    assert_eq!(out[1][0], 0x45);
}

// ---------------------------------------------------------------------------------------------
// IPGWOptions: record route and timestamp.

/// One option as IPGWOptions should leave it, or the offset of its bad byte from the start of
/// the option (RFC 791's record route and timestamp; Click's rules for what is bad).
fn gateway_option(option: &[u8], me: [u8; 4], mine: &[[u8; 4]], ms: u32) -> Result<Vec<u8>, usize> {
    let mut out = option.to_vec();
    let len = option.len();
    let pointer = *option.get(2).unwrap_or(&0) as i64 - 1;
    match option[0] {
        7 => {
            if pointer >= 3 && pointer as usize + 4 <= len {
                let p = pointer as usize;
                out[p..p + 4].copy_from_slice(&me);
                out[2] += 4;
            } else if pointer != len as i64 {
                return Err(2);
            }
        }
        68 => {
            let flags = *option.get(3).unwrap_or(&0);
            let (overflow, form) = (flags >> 4, flags & 0x0f);
            if pointer < 4 {
                return Err(2);
            }
            let p = pointer as usize;
            let mut full = false;
            match form {
                0 if p + 4 <= len => {
                    out[p..p + 4].copy_from_slice(&ms.to_be_bytes());
                    out[2] += 4;
                }
                1 if p + 8 <= len => {
                    out[p..p + 4].copy_from_slice(&me);
                    out[p + 4..p + 8].copy_from_slice(&ms.to_be_bytes());
                    out[2] += 8;
                }
                0 | 1 => full = true,
                3 if p + 8 <= len => {
                    if mine.iter().any(|a| a[..] == option[p..p + 4]) {
                        out[p + 4..p + 8].copy_from_slice(&ms.to_be_bytes());
                        out[2] += 8;
                    }
                }
                _ => return Err(3),
            }
            if full {
                if overflow == 15 {
                    return Err(3);
                }
                out[3] = ((overflow + 1) << 4) | form;
            }
        }
        _ => {}
    }
    Ok(out)
}

#[derive(Clone, Debug)]
enum GwOption {
    RecordRoute { slots: usize, used: usize },
    Timestamp { form: u8, slots: usize, used: usize, overflow: u8, listed: [u8; 4] },
    /// Any option with a bad pointer byte.
    BadPointer { kind: u8, len: usize, pointer: u8 },
    Other,
    Nop,
}

impl GwOption {
    fn bytes(&self) -> Vec<u8> {
        match *self {
            GwOption::RecordRoute { slots, used } => {
                let mut option = vec![7, (3 + 4 * slots) as u8, (4 + 4 * used.min(slots)) as u8];
                option.resize(3 + 4 * slots, 0);
                option
            }
            GwOption::Timestamp { form, slots, used, overflow, listed } => {
                let slot = if form == 0 { 4 } else { 8 };
                let mut option = vec![68, (4 + slot * slots) as u8, (5 + slot * used.min(slots)) as u8, (overflow << 4) | form];
                for _ in 0..slots {
                    option.extend_from_slice(&listed);
                    option.resize(option.len() + slot - 4, 0);
                }
                option
            }
            GwOption::BadPointer { kind, len, pointer } => {
                let mut option = vec![kind, len as u8, pointer];
                option.resize(len, 0);
                option
            }
            GwOption::Other => vec![148, 4, 0, 0],
            GwOption::Nop => vec![1],
        }
    }
}

fn gw_option() -> impl Strategy<Value = GwOption> {
    prop_oneof![
        (1usize..4, 0usize..5).prop_map(|(slots, used)| GwOption::RecordRoute { slots, used }),
        (prop::sample::select(vec![0u8, 1, 3, 2, 5]), 1usize..4, 0usize..5, prop_oneof![Just(0u8), Just(14), Just(15)], prop::sample::select(vec![[10, 2, 0, 1], [10, 3, 0, 1], [10, 9, 9, 9]]))
            .prop_map(|(form, slots, used, overflow, listed)| GwOption::Timestamp { form, slots, used, overflow, listed }),
        (prop::sample::select(vec![7u8, 68]), 4usize..12, any::<u8>()).prop_map(|(kind, len, pointer)| GwOption::BadPointer { kind, len, pointer }),
        Just(GwOption::Other),
        Just(GwOption::Nop),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    /// Each option is filled in as the model fills it, and the header checksum is right; the
    /// first bad option sends the packet, as it arrived, to output 1 with the parameter-problem
    /// pointer at its bad byte, read back through an ICMPError.
    #[test]
    fn gateway_options_are_the_models(options in prop::collection::vec(gw_option(), 1..4), ms in 0u64..86_400_000) {
        let me = [10, 2, 0, 1];
        let mine = [[10, 3, 0, 1], me];
        let mut bytes = Vec::new();
        for option in &options {
            let option = option.bytes();
            if bytes.len() + option.len() <= 40 {
                bytes.extend_from_slice(&option);
            }
        }
        let mut ip = Ip::new(17, HOST_A, HOST_B);
        ip.options = bytes.clone();
        let packet = ip.packet(&ports(1, 2, 8));
        let hl = usize::from(packet[0] & 0x0f) * 4;
        // The model, option by option over the padded header.
        let mut expected = packet.clone();
        let mut bad = None;
        let mut i = 20;
        while i < hl {
            let kind = packet[i];
            if kind == 1 {
                i += 1;
                continue;
            }
            if kind == 0 {
                break;
            }
            let len = packet[i + 1] as usize;
            if len < 2 || i + len > hl {
                bad = Some(i + 1);
                break;
            }
            match gateway_option(&packet[i..i + len], me, &mine, ms as u32) {
                Ok(option) => expected[i..i + len].copy_from_slice(&option),
                Err(at) => {
                    bad = Some(i + at);
                    break;
                }
            }
            i += len;
        }
        let mut run = Run::config(
            "FromDevice(eth0) -> Strip(14) -> g :: IPGWOptions(10.2.0.1, 10.3.0.1);\n\
             g[0] -> Queue -> ToDevice(eth1);\n\
             g[1] -> ICMPError(10.2.0.1, parameterproblem) -> Queue -> ToDevice(eth2);",
        );
        // The virtual clock is the wall clock at user level: a day and `ms` past the epoch.
        run.send_at("eth0", &frame_to(Link::Own, &packet), (86_400_000 + ms) * 1_000_000);
        run.run_until(run.engine.now_ns());
        match bad {
            None => {
                let touched = bytes.iter().any(|b| *b == 7 || *b == 68);
                if touched {
                    expected[10..12].copy_from_slice(&[0, 0]);
                    let sum = rfc1071(&expected[..hl]);
                    expected[10..12].copy_from_slice(&sum.to_be_bytes());
                }
                let got = run.take("eth1");
                prop_assert_eq!(got.len(), 1);
                prop_assert_eq!(hex(&got[0]), hex(&expected));
                prop_assert_eq!(rfc1071(&got[0][..hl]), 0);
                prop_assert!(run.take("eth2").is_empty());
            }
            Some(at) => {
                prop_assert!(run.take("eth1").is_empty());
                let error = run.take("eth2");
                prop_assert_eq!(error.len(), 1);
                prop_assert_eq!(usize::from(error[0][24]), at);
                prop_assert_eq!(&error[0][28..], &packet[..]);
                prop_assert_eq!(run.read_int("g", "drops"), 1);
            }
        }
    }
}

#[test]
fn record_route_and_timestamp_by_hand() {
    let mut run = chain("IPGWOptions(10.2.0.1, 10.3.0.1)", 2);
    let mut ip = Ip::new(17, HOST_A, HOST_B);
    // Record route with one address already in and room for one more; timestamps with
    // addresses (room for one); prespecified for 10.3.0.1, one of OTHERADDRS.
    ip.options = vec![7, 11, 8, 10, 1, 0, 1, 0, 0, 0, 0, 68, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 68, 12, 5, 3, 10, 3, 0, 1, 0, 0, 0, 0];
    let packet = ip.packet(&ports(1, 2, 8));
    // 12:34:56.789 UT on some day.
    let ms: u32 = ((12 * 60 + 34) * 60 + 56) * 1000 + 789;
    run.send_at("eth0", &frame_to(Link::Own, &packet), (19_000 * 86_400_000 + u64::from(ms)) * 1_000_000);
    run.run_until(run.engine.now_ns());
    let out = run.take("eth1").pop().unwrap();
    let t = ms.to_be_bytes();
    let mut expected_options = vec![7, 11, 12, 10, 1, 0, 1, 10, 2, 0, 1];
    expected_options.extend_from_slice(&[68, 12, 13, 1, 10, 2, 0, 1, t[0], t[1], t[2], t[3]]);
    expected_options.extend_from_slice(&[68, 12, 13, 3, 10, 3, 0, 1, t[0], t[1], t[2], t[3], 0]);
    assert_eq!(&out[20..56], &expected_options[..]);
    assert_eq!(rfc1071(&out[..56]), 0);
    assert_eq!(&out[56..], &packet[56..]);

    // Full timestamps count an overflow.
    let mut ip = Ip::new(17, HOST_A, HOST_B);
    ip.options = vec![68, 8, 9, 0x20, 0, 0, 0, 0];
    let packet = ip.packet(&ports(1, 2, 8));
    run.send("eth0", &frame_to(Link::Own, &packet));
    run.run_until(run.engine.now_ns());
    let out = run.take("eth1").pop().unwrap();
    assert_eq!(&out[20..28], &[68, 8, 9, 0x30, 0, 0, 0, 0]);
    assert_eq!(rfc1071(&out[..28]), 0);
}

// ---------------------------------------------------------------------------------------------
// The link-level packet type: set by the devices on receive, kept across the channel.

#[test]
fn the_packet_type_crosses_the_channel_to_the_container_part() {
    let text = "t/rx :: FromDevice(eth0) -> t/tc :: ToContainer(0);\n\
                t/fk :: FromKernel(0) -> t/d :: DropBroadcasts -> t/tk :: ToKernel(0); t/d[1] -> t/tk2 :: ToKernel(1);\n\
                t/fc :: FromContainer(0) -> t/q1 :: Queue -> t/tx1 :: ToDevice(eth1);\n\
                t/fc2 :: FromContainer(1) -> t/q2 :: Queue -> t/tx2 :: ToDevice(eth2);";
    let mut run = Run::new(compile_merged(text, &["eth0", "eth1", "eth2"]));
    let packet = udp(HOST_A, HOST_B, 8);
    let frames: Vec<Vec<u8>> = [Link::Own, Link::Broadcast, Link::OtherHost, Link::Multicast].iter().map(|l| frame_to(*l, &packet)).collect();
    for frame in &frames {
        run.send("eth0", frame);
    }
    run.run_until(run.engine.now_ns());
    assert_eq!(run.take("eth1"), [frames[0].clone(), frames[2].clone()]);
    assert_eq!(run.take("eth2"), [frames[1].clone(), frames[3].clone()]);
}

#[test]
fn an_error_about_a_link_broadcast_is_not_sent_even_behind_other_elements() {
    // The type set on receive stays with the packet through Strip, CheckIPHeader and a lookup.
    let mut run = Run::config(
        "FromDevice(eth0) -> Strip(14) -> CheckIPHeader -> rt :: RadixIPLookup(0.0.0.0/0 0) -> d :: DecIPTTL;\n\
         d[0] -> Discard; d[1] -> ICMPError(10.1.0.1, timeexceeded) -> Queue -> ToDevice(eth1);",
    );
    let mut ip = Ip::new(17, HOST_A, HOST_B);
    ip.ttl = 1;
    let packet = ip.packet(&ports(1, 2, 8));
    run.send("eth0", &frame_to(Link::Broadcast, &packet));
    run.send("eth0", &frame_to(Link::Own, &packet));
    run.run_until(run.engine.now_ns());
    let out = run.take("eth1");
    assert_eq!(out.len(), 1, "only the unicast frame's packet is answered");
    assert_eq!(&out[0][28..], &packet[..]);
}

#[test]
fn the_validator_refuses_an_icmp_type_that_is_not_an_error_type() {
    // What the kernel re-checks of a blob: SRC given (1, the address), TYPE given (1, the type).
    let compiled = compile("FromDevice(eth0) -> ICMPError(1.2.3.4, timeexceeded) -> Discard;");
    let at = compiled.blob.windows(7).position(|w| w == [1, 1, 2, 3, 4, 1, 11]).expect("the encoded arguments") + 6;
    for (icmp_type, valid) in [(3u8, true), (12, true), (8, false), (0, false), (13, false), (255, false)] {
        let mut blob = compiled.blob.clone();
        blob[at] = icmp_type;
        assert_eq!(vdp_click::compile::validate(&blob).is_ok(), valid, "type {icmp_type}");
    }
}
