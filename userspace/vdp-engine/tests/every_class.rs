//! Every class of the catalog runs at user level: for each, a small configuration that uses
//! it, compiled through the front end as `vdpctl compile` compiles it, built in the engine,
//! with packets pushed through and something only that class does checked.
//!
//! The table [`CASES`] is keyed by class name; a class added to the catalog without a case here
//! fails [`every_catalog_class_has_a_case`].

mod common;

use common::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use vdp_core::catalog;

/// One class's test: builds its configuration, drives it and checks it, and hands back the run
/// so that the harness can check the class really is in the graph.
struct Case {
    class: &'static str,
    run: fn() -> Run,
}

const CASES: &[Case] = &[
    Case { class: "FromDevice", run: from_device },
    Case { class: "ToDevice", run: to_device },
    Case { class: "Queue", run: || queue("Queue") },
    Case { class: "SimpleQueue", run: || queue("SimpleQueue") },
    Case { class: "Unqueue", run: unqueue },
    Case { class: "Counter", run: counter },
    Case { class: "Discard", run: discard },
    Case { class: "Tee", run: tee },
    Case { class: "Idle", run: idle },
    Case { class: "Classifier", run: classifier },
    Case { class: "IPClassifier", run: ip_classifier },
    Case { class: "Strip", run: strip },
    Case { class: "Unstrip", run: unstrip },
    Case { class: "EtherEncap", run: ether_encap },
    Case { class: "EtherMirror", run: ether_mirror },
    Case { class: "CheckIPHeader", run: check_ip_header },
    Case { class: "DecIPTTL", run: dec_ip_ttl },
    Case { class: "SetIPChecksum", run: set_ip_checksum },
    Case { class: "IPEncap", run: ip_encap },
    Case { class: "GetIPAddress", run: get_ip_address },
    Case { class: "RadixIPLookup", run: || ip_lookup("RadixIPLookup") },
    Case { class: "LinearIPLookup", run: || ip_lookup("LinearIPLookup") },
    Case { class: "StaticIPLookup", run: static_ip_lookup },
    Case { class: "Paint", run: paint },
    Case { class: "PaintSwitch", run: paint_switch },
    Case { class: "HashSwitch", run: hash_switch },
    Case { class: "RoundRobinSwitch", run: round_robin_switch },
    Case { class: "CheckLength", run: check_length },
    Case { class: "BandwidthShaper", run: bandwidth_shaper },
    Case { class: "RatedUnqueue", run: rated_unqueue },
    Case { class: "InfiniteSource", run: infinite_source },
    Case { class: "RatedSource", run: rated_source },
    Case { class: "StaticThreadSched", run: static_thread_sched },
    Case { class: "ScheduleInfo", run: schedule_info },
    Case { class: "Print", run: print },
    Case { class: "Chew", run: chew },
    Case { class: "GREEncap", run: gre_encap },
    Case { class: "ToContainer", run: to_container },
    Case { class: "FromKernel", run: from_kernel },
    Case { class: "ToKernel", run: to_kernel },
    Case { class: "FromContainer", run: from_container },
    Case { class: "ARPQuerier", run: arp_querier },
    Case { class: "ARPResponder", run: arp_responder },
    Case { class: "AddressInfo", run: address_info },
    Case { class: "ICMPError", run: icmp_error },
    Case { class: "IPFragmenter", run: ip_fragmenter },
    Case { class: "IPGWOptions", run: ip_gw_options },
    Case { class: "FixIPSrc", run: fix_ip_src },
    Case { class: "DropBroadcasts", run: drop_broadcasts },
    Case { class: "StripIPHeader", run: strip_ip_header },
    Case { class: "PaintTee", run: paint_tee },
    Case { class: "CheckPaint", run: check_paint },
    Case { class: "AverageCounter", run: average_counter },
    Case { class: "RED", run: red },
    Case { class: "Align", run: align },
    Case { class: "SetTimestamp", run: set_timestamp },
    Case { class: "DelayShaper", run: delay_shaper },
    Case { class: "PollDevice", run: poll_device },
    Case { class: "ToHost", run: to_host },
    Case { class: "FromHost", run: from_host },
];

#[test]
fn every_catalog_class_has_a_case() {
    let missing: Vec<&str> = catalog::all_classes().map(|c| c.name).filter(|name| !CASES.iter().any(|case| case.class == *name)).collect();
    assert!(missing.is_empty(), "classes of the catalog with no case in every_class.rs: {missing:?}");
    let unknown: Vec<&str> = CASES.iter().map(|case| case.class).filter(|name| catalog::class_by_name(name).is_none()).collect();
    assert!(unknown.is_empty(), "cases for classes the catalog does not have: {unknown:?}");
    for (index, case) in CASES.iter().enumerate() {
        assert!(!CASES[..index].iter().any(|other| other.class == case.class), "{} has two cases", case.class);
    }
}

#[test]
fn every_catalog_class_runs_at_user_level() {
    let mut failures = Vec::new();
    for class in catalog::all_classes() {
        let Some(case) = CASES.iter().find(|case| case.class == class.name) else { continue };
        match catch_unwind(AssertUnwindSafe(case.run)) {
            // AddressInfo is resolved by the front end: its elements must be gone.
            Ok(run) if run.has_class(class.name) != class.resolved_by_front_end() => {}
            Ok(_) if class.resolved_by_front_end() => failures.push(format!("{}: an element of the class reached the compiled graph", class.name)),
            Ok(_) => failures.push(format!("{}: its configuration has no element of the class", class.name)),
            Err(panic) => {
                let text = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
                failures.push(format!("{}: {}", class.name, text.unwrap_or_default()));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} classes failed:\n{}", failures.len(), catalog::all_classes().count(), failures.join("\n"));
}

/// `count` distinct frames, IPv4 in Ethernet, 42 + `i` bytes long.
fn frames(count: usize) -> Vec<Vec<u8>> {
    (0..count).map(|i| ether(ETHERTYPE_IPV4, &Ip::new(17, [10, 0, 0, 1], [10, 0, 1, i as u8]).packet(&ports(1000, 2000 + i as u16, 8 + i)))).collect()
}

fn send_all(run: &mut Run, device: &str, frames: &[Vec<u8>]) {
    for frame in frames {
        run.send(device, frame);
    }
    run.run_until(run.engine.now_ns());
}

fn from_device() -> Run {
    let mut run = Run::config("rx :: FromDevice(eth0, BURST 2) -> Queue -> ToDevice(eth1);");
    let sent = frames(5);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("eth1"), sent);
    assert_eq!(run.read_int("rx", "count"), 5);
    assert_eq!(run.read_int("rx", "burst"), 2);
    assert_eq!(run.read_int("rx", "queue_length"), 0);
    assert!(run.read("rx", "stats").contains("rx_packets 5\n"), "{}", run.read("rx", "stats"));
    run.write("rx", "reset_counts", "").unwrap();
    assert_eq!(run.read_int("rx", "count"), 0);
    run
}

fn to_device() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> Queue -> tx :: ToDevice(eth1);");
    let sent = frames(3);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("eth1"), sent);
    assert_eq!(run.read_int("tx", "count"), 3);
    // A frame too short for an Ethernet header cannot even arrive: the device drops it on
    // receive, as the kernel's does (`rx_inner_truncated`), and ToDevice never sees it.
    assert!(!run.engine.receive("eth0", &[1, 2, 3], run.engine.now_ns()).expect("receive"));
    run.run_until(run.engine.now_ns());
    assert!(run.take("eth1").is_empty());
    assert_eq!(run.read_int("tx", "count"), 3);
    assert_eq!(run.read_int("tx", "drops"), 0);
    assert!(run.read("tx", "stats").contains("tx_packets 3\n"));
    run
}

/// A queue of 3 whose puller is held back: the first 3 frames wait, the rest are dropped; once
/// the puller runs they leave oldest first.
fn queue(class: &str) -> Run {
    let mut run = Run::config(&format!("FromDevice(eth0) -> q :: {class}(3) -> u :: Unqueue(ACTIVE false) -> Queue -> ToDevice(eth1);"));
    let sent = frames(5);
    send_all(&mut run, "eth0", &sent);
    assert_eq!((run.read_int("q", "length"), run.read_int("q", "drops"), run.read_int("q", "capacity")), (3, 2, 3));
    assert_eq!(run.read_int("q", "highwater_length"), 3);
    assert!(run.take("eth1").is_empty());
    run.write("u", "active", "true").unwrap();
    run.run_until(run.engine.now_ns());
    assert_eq!(run.take("eth1"), sent[..3]);
    assert_eq!(run.read_int("q", "length"), 0);
    run
}

fn unqueue() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> Queue -> u :: Unqueue(BURST 2) -> Queue -> ToDevice(eth1);");
    let sent = frames(7);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("eth1"), sent);
    assert_eq!(run.read_int("u", "count"), 7);
    assert_eq!(run.read_int("u", "burst"), 2);
    run.write("u", "active", "false").unwrap();
    send_all(&mut run, "eth0", &sent[..2]);
    assert!(run.take("eth1").is_empty());
    assert_eq!(run.read_int("u", "count"), 7);
    run
}

fn counter() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> c :: Counter -> Discard;");
    let sent = frames(4);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.read_int("c", "count"), 4);
    assert_eq!(run.read_int("c", "byte_count"), sent.iter().map(|f| f.len() as u64).sum::<u64>());
    run.write("c", "reset", "").unwrap();
    assert_eq!(run.read_int("c", "count"), 0);
    run
}

fn discard() -> Run {
    // Pushed to, and pulling from a queue as a task.
    let mut run = Run::config("FromDevice(eth0) -> t :: Tee(2); t[0] -> d :: Discard; t[1] -> Queue -> p :: Discard;");
    send_all(&mut run, "eth0", &frames(6));
    assert_eq!((run.read_int("d", "count"), run.read_int("p", "count")), (6, 6));
    run
}

fn tee() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> t :: Tee(3); t[0] -> Queue -> ToDevice(eth1); t[1] -> Queue -> ToDevice(eth2); t[2] -> Queue -> ToDevice(eth3);");
    let sent = frames(3);
    send_all(&mut run, "eth0", &sent);
    for device in ["eth1", "eth2", "eth3"] {
        assert_eq!(run.take(device), sent, "{device}");
    }
    run
}

fn idle() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> c :: Counter -> Idle; Idle -> Queue -> ToDevice(eth1);");
    send_all(&mut run, "eth0", &frames(3));
    assert_eq!(run.read_int("c", "count"), 3);
    assert!(run.take("eth1").is_empty());
    run
}

fn classifier() -> Run {
    let mut run = Run::config(
        "FromDevice(eth0) -> c :: Classifier(12/0806 20/0001, 12/0800, -);\n\
         c[0] -> Queue -> ToDevice(eth1); c[1] -> Queue -> ToDevice(eth2); c[2] -> Queue -> ToDevice(eth3);",
    );
    let ip = frames(1).remove(0);
    let mut arp_request = ether([0x08, 0x06], &[0, 1, 8, 0, 6, 4, 0, 1]);
    arp_request.resize(60, 0);
    let mut arp_reply = arp_request.clone();
    arp_reply[21] = 2;
    send_all(&mut run, "eth0", &[ip.clone(), arp_request.clone(), arp_reply.clone()]);
    assert_eq!(run.take("eth1"), [arp_request]);
    assert_eq!(run.take("eth2"), [ip]);
    assert_eq!(run.take("eth3"), [arp_reply]);
    run
}

fn ip_classifier() -> Run {
    let mut run = Run::config(
        "FromDevice(eth0) -> Strip(14) -> c :: IPClassifier(udp dst port 53, tcp or src host 10.9.9.9, -);\n\
         c[0] -> Unstrip(14) -> Queue -> ToDevice(eth1); c[1] -> Unstrip(14) -> Queue -> ToDevice(eth2); c[2] -> Unstrip(14) -> Queue -> ToDevice(eth3);",
    );
    let dns = udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 4000, 53);
    let not_dns = udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 53, 4000);
    let tcp = ether(ETHERTYPE_IPV4, &Ip::new(6, [10, 0, 0, 1], [10, 0, 0, 2]).packet(&ports(1, 53, 20)));
    let from_host = udp_frame([10, 9, 9, 9], [10, 0, 0, 2], 53, 4000);
    send_all(&mut run, "eth0", &[dns.clone(), not_dns.clone(), tcp.clone(), from_host.clone()]);
    assert_eq!(run.take("eth1"), [dns]);
    assert_eq!(run.take("eth2"), [tcp, from_host]);
    assert_eq!(run.take("eth3"), [not_dns]);
    run
}

fn strip() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> Strip(6) -> Queue -> ToDevice(eth1);");
    let sent = frames(2);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("eth1"), sent.iter().map(|f| f[6..].to_vec()).collect::<Vec<_>>());
    run
}

fn unstrip() -> Run {
    // What Strip took off, Unstrip gives back: the very bytes.
    let mut run = Run::config("FromDevice(eth0) -> Strip(14) -> Unstrip(14) -> Queue -> ToDevice(eth1);");
    let sent = frames(2);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("eth1"), sent);
    run
}

fn ether_encap() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> Strip(14) -> EtherEncap(0x86dd, 1:2:3:4:5:6, 0a:0b:0c:0d:0e:0f) -> Queue -> ToDevice(eth1);");
    let sent = frames(1).remove(0);
    send_all(&mut run, "eth0", std::slice::from_ref(&sent));
    let mut expected = vec![0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 1, 2, 3, 4, 5, 6, 0x86, 0xdd];
    expected.extend_from_slice(&sent[14..]);
    assert_eq!(run.take("eth1"), [expected]);
    run
}

fn ether_mirror() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> EtherMirror -> Queue -> ToDevice(eth1);");
    let sent = frames(1).remove(0);
    send_all(&mut run, "eth0", std::slice::from_ref(&sent));
    let mut expected = sent.clone();
    expected[..6].copy_from_slice(&sent[6..12]);
    expected[6..12].copy_from_slice(&sent[..6]);
    assert_eq!(run.take("eth1"), [expected]);
    run
}

fn check_ip_header() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> c :: CheckIPHeader(OFFSET 14); c[0] -> Queue -> ToDevice(eth1); c[1] -> Queue -> ToDevice(eth2);");
    let good = frames(1).remove(0);
    let mut padded = good.clone();
    padded.extend_from_slice(&[0; 6]);
    let mut bad_sum = good.clone();
    bad_sum[24] ^= 0xff;
    let broadcast_src = ether(ETHERTYPE_IPV4, &Ip::new(17, [255; 4], [10, 0, 0, 1]).packet(&[0; 8]));
    send_all(&mut run, "eth0", &[good.clone(), padded, bad_sum.clone(), broadcast_src.clone()]);
    // Link-layer padding past the IP total length goes.
    assert_eq!(run.take("eth1"), [good.clone(), good]);
    assert_eq!(run.take("eth2"), [bad_sum, broadcast_src]);
    assert_eq!(run.read_int("c", "drops"), 2);
    run
}

fn dec_ip_ttl() -> Run {
    let mut run = Run::config(
        "FromDevice(eth0) -> Strip(14) -> d :: DecIPTTL; d[0] -> Unstrip(14) -> Queue -> ToDevice(eth1); d[1] -> Unstrip(14) -> Queue -> ToDevice(eth2);",
    );
    let mut ip = Ip::new(17, [10, 0, 0, 1], [10, 0, 0, 2]);
    ip.ttl = 9;
    let live = ether(ETHERTYPE_IPV4, &ip.packet(&[0; 8]));
    ip.ttl = 1;
    let dying = ether(ETHERTYPE_IPV4, &ip.packet(&[0; 8]));
    send_all(&mut run, "eth0", &[live.clone(), dying.clone()]);
    let out = run.take("eth1");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0][14 + 8], 8);
    assert_eq!(rfc1071(&out[0][14..34]), 0, "the checksum still holds");
    assert_eq!(run.take("eth2"), [dying]);
    run
}

fn set_ip_checksum() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> Strip(14) -> SetIPChecksum -> Unstrip(14) -> Queue -> ToDevice(eth1);");
    let good = frames(1).remove(0);
    let mut bad = good.clone();
    bad[24] = 0x12;
    bad[25] = 0x34;
    send_all(&mut run, "eth0", &[bad]);
    assert_eq!(run.take("eth1"), [good]);
    run
}

fn ip_encap() -> Run {
    let mut run = Run::config(
        "FromDevice(eth0) -> Strip(14) -> IPEncap(udp, 1.2.3.4, 5.6.7.8, TTL 33, TOS 4) -> EtherEncap(0x0800, 2:0:0:0:0:1, 2:0:0:0:0:2) -> Queue -> ToDevice(eth1);",
    );
    let sent = frames(2);
    send_all(&mut run, "eth0", &sent);
    let out = run.take("eth1");
    assert_eq!(out.len(), 2);
    for (index, (frame, original)) in out.iter().zip(&sent).enumerate() {
        let header = &frame[14..34];
        assert_eq!(header[0], 0x45);
        assert_eq!(header[1], 4);
        assert_eq!(usize::from(u16::from_be_bytes([header[2], header[3]])), 20 + original.len() - 14);
        assert_eq!((header[8], header[9]), (33, 17));
        assert_eq!((&header[12..16], &header[16..20]), (&[1, 2, 3, 4][..], &[5, 6, 7, 8][..]));
        assert_eq!(u16::from_be_bytes([header[4], header[5]]), index as u16 + 1, "a fresh identification per packet");
        assert_eq!(rfc1071(header), 0);
        assert_eq!(&frame[34..], &original[14..]);
    }
    run
}

fn get_ip_address() -> Run {
    // The annotation is set from the *source* address, and the table routes on it.
    let mut run = Run::config(
        "FromDevice(eth0) -> GetIPAddress(26) -> rt :: LinearIPLookup(10.0.0.0/8 0, 0.0.0.0/0 1);\n\
         rt[0] -> Queue -> ToDevice(eth1); rt[1] -> Queue -> ToDevice(eth2);",
    );
    let inside = udp_frame([10, 1, 1, 1], [192, 168, 0, 1], 1, 2);
    let outside = udp_frame([192, 168, 0, 1], [10, 1, 1, 1], 1, 2);
    send_all(&mut run, "eth0", &[inside.clone(), outside.clone(), vec![0; 20]]);
    assert_eq!(run.take("eth1"), [inside]);
    assert_eq!(run.take("eth2"), [outside]);
    run
}

fn ip_lookup(class: &str) -> Run {
    let mut run = Run::config(&format!(
        "FromDevice(eth0) -> CheckIPHeader(OFFSET 14) -> rt :: {class}(10.0.0.0/8 0, 10.1.0.0/16 10.1.0.254 1);\n\
         rt[0] -> Queue -> ToDevice(eth1); rt[1] -> Queue -> ToDevice(eth2); rt[2] -> Queue -> ToDevice(eth3);"
    ));
    let to = |dst| udp_frame([192, 0, 2, 1], dst, 1, 2);
    send_all(&mut run, "eth0", &[to([10, 2, 0, 1]), to([10, 1, 9, 9]), to([11, 0, 0, 1])]);
    assert_eq!(run.take("eth1"), [to([10, 2, 0, 1])]);
    assert_eq!(run.take("eth2"), [to([10, 1, 9, 9])]);
    assert_eq!(run.read("rt", "lookup 10.1.2.3"), "1 10.1.0.254");
    assert_eq!(run.read("rt", "lookup 11.0.0.1"), "-1");
    run.write("rt", "add", "11.0.0.0/8 2").unwrap();
    send_all(&mut run, "eth0", &[to([11, 0, 0, 1])]);
    assert_eq!(run.take("eth3"), [to([11, 0, 0, 1])]);
    assert_eq!(run.read("rt", "table"), "10.0.0.0/8\t-\t0\n10.1.0.0/16\t10.1.0.254\t1\n11.0.0.0/8\t-\t2\n");
    run.write("rt", "remove", "10.0.0.0/8").unwrap();
    send_all(&mut run, "eth0", &[to([10, 2, 0, 1])]);
    assert!(run.take("eth1").is_empty());
    run
}

fn static_ip_lookup() -> Run {
    let mut run = Run::config(
        "FromDevice(eth0) -> CheckIPHeader(OFFSET 14) -> rt :: StaticIPLookup(10.0.0.0/8 0, 0.0.0.0/0 1);\n\
         rt[0] -> Queue -> ToDevice(eth1); rt[1] -> Queue -> ToDevice(eth2);",
    );
    let to = |dst| udp_frame([192, 0, 2, 1], dst, 1, 2);
    send_all(&mut run, "eth0", &[to([10, 2, 0, 1]), to([11, 0, 0, 1])]);
    assert_eq!(run.take("eth1"), [to([10, 2, 0, 1])]);
    assert_eq!(run.take("eth2"), [to([11, 0, 0, 1])]);
    assert_eq!(run.write("rt", "add", "11.0.0.0/8 0"), Err(vdp_core::element::HandlerError::NoSuchHandler));
    assert_eq!(run.read("rt", "lookup 11.0.0.1"), "1");
    run
}

fn paint() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> p :: Paint(1) -> s :: PaintSwitch; s[0] -> Queue -> ToDevice(eth1); s[1] -> Queue -> ToDevice(eth2);");
    let sent = frames(2);
    send_all(&mut run, "eth0", &sent[..1]);
    assert_eq!(run.take("eth2"), sent[..1]);
    run.write("p", "color", "0").unwrap();
    assert_eq!(run.read_int("p", "color"), 0);
    send_all(&mut run, "eth0", &sent[1..]);
    assert_eq!(run.take("eth1"), sent[1..]);
    assert!(run.take("eth2").is_empty());
    run
}

fn paint_switch() -> Run {
    let mut run = Run::config(
        "FromDevice(eth0) -> c :: Classifier(12/0800, -); c[0] -> Paint(1) -> s :: PaintSwitch; c[1] -> Paint(2) -> s;\n\
         s[0] -> Queue -> ToDevice(eth1); s[1] -> Queue -> ToDevice(eth2);",
    );
    let ip = frames(1).remove(0);
    let arp = ether([0x08, 0x06], &[0; 46]);
    send_all(&mut run, "eth0", &[ip.clone(), arp]);
    // Paint 2 names no output: dropped.
    assert_eq!(run.take("eth2"), [ip]);
    assert!(run.take("eth1").is_empty());
    run
}

/// FNV-1a, as HashSwitch documents it.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193))
}

fn hash_switch() -> Run {
    // The addresses of the IPv4 header: one flow always takes one output.
    let mut run = Run::config("FromDevice(eth0) -> h :: HashSwitch(26, 8); h[0] -> Queue -> ToDevice(eth1); h[1] -> Queue -> ToDevice(eth2); h[2] -> Queue -> ToDevice(eth3);");
    let flows: Vec<Vec<u8>> = (0..12u8).map(|i| udp_frame([10, 0, 0, i], [10, 0, 1, 255 - i], 1, 2)).collect();
    let mut sent = flows.clone();
    sent.extend(flows.iter().cloned());
    sent.push(vec![0; 30]);
    send_all(&mut run, "eth0", &sent);
    let mut expected = vec![Vec::new(); 3];
    for frame in &sent[..24] {
        expected[(fnv1a(&frame[26..34]) % 3) as usize].push(frame.clone());
    }
    for (port, device) in ["eth1", "eth2", "eth3"].into_iter().enumerate() {
        assert_eq!(run.take(device), expected[port], "{device}");
    }
    assert!(expected.iter().filter(|e| !e.is_empty()).count() > 1, "the flows spread");
    run
}

fn round_robin_switch() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> s :: RoundRobinSwitch; s[0] -> Queue -> ToDevice(eth1); s[1] -> Queue -> ToDevice(eth2); s[2] -> Queue -> ToDevice(eth3);");
    let sent = frames(7);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("eth1"), [sent[0].clone(), sent[3].clone(), sent[6].clone()]);
    assert_eq!(run.take("eth2"), [sent[1].clone(), sent[4].clone()]);
    assert_eq!(run.take("eth3"), [sent[2].clone(), sent[5].clone()]);
    run
}

fn check_length() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> c :: CheckLength(44); c[0] -> Queue -> ToDevice(eth1); c[1] -> Queue -> ToDevice(eth2);");
    // 42, 43, ... bytes.
    let sent = frames(4);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("eth1"), sent[..3]);
    assert_eq!(run.take("eth2"), sent[3..]);
    run.write("c", "length", "42").unwrap();
    assert_eq!(run.read_int("c", "length"), 42);
    send_all(&mut run, "eth0", &sent[..2]);
    assert_eq!(run.take("eth1"), sent[..1]);
    assert_eq!(run.take("eth2"), sent[1..2]);
    run
}

fn bandwidth_shaper() -> Run {
    // 10 000 bytes/s, 100-byte frames: a burst of 1514 bytes (16 frames, the last borrowing),
    // then one frame per 10 ms.
    let mut run = Run::config("FromDevice(eth0) -> Queue -> s :: BandwidthShaper(10000Bps) -> ToDevice(eth1);");
    let frame = ether(ETHERTYPE_IPV4, &[0x45; 86]);
    for _ in 0..40 {
        run.send("eth0", &frame);
    }
    run.run_until(0);
    assert_eq!(run.take("eth1").len(), 16);
    run.run_until(100_000_000);
    assert_eq!(run.take("eth1").len(), 10);
    assert_eq!(run.read("s", "rate"), "10000Bps");
    run
}

fn rated_unqueue() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> Queue -> u :: RatedUnqueue(100) -> Queue -> ToDevice(eth1);");
    let sent = frames(30);
    for frame in &sent {
        run.send("eth0", frame);
    }
    run.run_until(200_000_000);
    let out = run.take_timed("eth1");
    assert_eq!(out.len(), 20);
    assert_eq!(out.iter().map(|(time, _)| *time).collect::<Vec<_>>(), (1..=20).map(|k| k * 10_000_000).collect::<Vec<u64>>());
    assert_eq!(out.into_iter().map(|(_, frame)| frame).collect::<Vec<_>>(), sent[..20]);
    assert_eq!(run.read_int("u", "count"), 20);
    run
}

const DATA: &str = "\\<0202020202020101010101010800 45000014 00000000 40110000 0a000001 0a000002>";

fn data_bytes() -> Vec<u8> {
    let text: String = DATA.trim_start_matches("\\<").trim_end_matches('>').split_whitespace().collect();
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn infinite_source() -> Run {
    let mut run = Run::config(&format!("s :: InfiniteSource({DATA}, 5, 2) -> Queue -> ToDevice(eth1);"));
    run.run_until(u64::MAX);
    assert_eq!(run.take("eth1"), vec![data_bytes(); 5]);
    assert_eq!(run.read_int("s", "count"), 5);
    run.write("s", "limit", "7").unwrap();
    run.run_until(u64::MAX);
    assert_eq!(run.take("eth1").len(), 2);
    run
}

fn rated_source() -> Run {
    let mut run = Run::config(&format!("s :: RatedSource({DATA}, 100, 12) -> Queue -> ToDevice(eth1);"));
    run.run_until(55_000_000);
    assert_eq!(run.take("eth1"), vec![data_bytes(); 5]);
    run.run_until(u64::MAX);
    let rest = run.take_timed("eth1");
    assert_eq!(rest.len(), 7);
    assert_eq!(rest.last().unwrap().0, 120_000_000);
    assert_eq!(run.read_int("s", "count"), 12);
    run
}

fn static_thread_sched() -> Run {
    let run = Run::config("rx :: FromDevice(eth0) -> Queue -> tx :: ToDevice(eth1); sched :: StaticThreadSched(tx 2);");
    let config = run.read("sched", "config");
    let graph = run.engine.graph();
    let tx = (0..graph.element_count()).find(|&i| graph.element(i).unwrap().0 == b"t/tx").unwrap();
    assert_eq!(config, format!("{tx} 2\n"));
    assert_eq!(graph.thread_count(), 3);
    assert_eq!(graph.thread_tasks(2).len(), 1);
    // Packets still flow with the transmitting task on thread 2.
    let mut run = run;
    send_all(&mut run, "eth0", &frames(2));
    assert_eq!(run.take("eth1"), frames(2));
    run
}

fn schedule_info() -> Run {
    let run = Run::config("rx :: FromDevice(eth0) -> Queue -> tx :: ToDevice(eth1); info :: ScheduleInfo(tx 0.5, rx 2);");
    let graph = run.engine.graph();
    let index = |name: &[u8]| (0..graph.element_count()).find(|&i| graph.element(i).unwrap().0 == name).unwrap();
    let (rx, tx) = (index(b"t/rx"), index(b"t/tx"));
    assert_eq!(run.read("info", "config"), format!("{tx} 512\n{rx} 2048\n"));
    let tickets: Vec<u32> = (0..graph.task_count() as u32).map(|task| graph.task_tickets(task)).collect();
    let mut sorted = tickets.clone();
    sorted.sort();
    assert_eq!(sorted, [512, 2048]);
    run
}

fn print() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> p :: Print(Hello, MAXLENGTH 6, RATE 2) -> Discard;");
    run.engine.take_log();
    let sent = frames(4);
    send_all(&mut run, "eth0", &sent);
    let log = run.engine.take_log();
    // At most RATE lines a second; the label lowered.
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0], format!("hello: {:4} | {} {}", sent[0].len(), hex(&sent[0][..4]), hex(&sent[0][4..6])));
    run.write("p", "active", "false").unwrap();
    run.send_at("eth0", &sent[0], 5_000_000_000);
    assert!(run.engine.take_log().is_empty());
    run
}

fn chew() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> c :: Chew(5000) -> Queue -> ToDevice(eth1);");
    let sent = frames(3);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("eth1"), sent);
    assert_eq!(run.engine.now_ns(), 0, "busy work takes no virtual time");
    assert_eq!(run.read_int("c", "cycles"), 5000);
    run.write("c", "cycles", "7").unwrap();
    assert_eq!(run.read_int("c", "cycles"), 7);
    run
}

fn gre_encap() -> Run {
    // GREEncap is the coordinator's: only a merged graph may hold it.
    let compiled = compile_merged("t/rx :: FromDevice(eth0) -> t/g :: GREEncap(0x6558, KEY 0x01020304) -> t/q :: Queue -> t/tx :: ToDevice(eth1);\n\
                                   t/rx2 :: FromDevice(eth2) -> t/g2 :: GREEncap(0x0800) -> t/q2 :: Queue -> t/tx2 :: ToDevice(eth3);", &["eth0", "eth1", "eth2", "eth3"]);
    let mut run = Run::new(compiled);
    let sent = frames(1).remove(0);
    send_all(&mut run, "eth0", std::slice::from_ref(&sent));
    send_all(&mut run, "eth2", std::slice::from_ref(&sent));
    let mut keyed = vec![0x20, 0x00, 0x65, 0x58, 1, 2, 3, 4];
    keyed.extend_from_slice(&sent);
    assert_eq!(run.take("eth1"), [keyed]);
    let mut plain = vec![0x00, 0x00, 0x08, 0x00];
    plain.extend_from_slice(&sent);
    assert_eq!(run.take("eth3"), [plain]);
    run
}

/// Handler values, plausible and not.
fn handler_value() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        prop::sample::select(vec![
            "", "0", "1", "-1", "7", "1024", "1025", "65535", "65536", "4294967296", "-9223372036854775808", "18446744073709551616",
            "true", "false", "yes", "off", "0x10", "1Mbps", "10kBps", "0Bps", "1e9", "10.0.0.0/8 1", "10.0.0.0/8 10.0.0.1 2",
            "0.0.0.0/0 0\n10.0.0.0/8 1", "10.0.0.0/33 0", "10.0.0.0/8", "1.2.3.4 5", "\\<00ff>", "\"quoted\"", "  3  ", "3\n",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,40}",
        any::<i64>().prop_map(|n| n.to_string()),
        prop::collection::vec(any::<char>(), 0..20).prop_map(|c| c.into_iter().collect()),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: cases(256), failure_persistence: None, ..Default::default() })]

    /// Any text written to any write handler of any element of any class's configuration is
    /// taken or refused, never a panic; every read handler still answers (or refuses) after it,
    /// and packets still go through.
    #[test]
    fn handler_writes_never_panic(case in 0..CASES.len(), writes in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), handler_value()), 1..12)) {
        let mut run = (CASES[case].run)();
        let graph = run.engine.graph();
        let mut targets = Vec::new();
        for index in 0..graph.element_count() {
            let (name, class, _) = graph.element(index).unwrap();
            let name = String::from_utf8(name.to_vec()).unwrap();
            for handler in class.write_handlers {
                targets.push((name.clone(), handler.name));
            }
        }
        let reads: Vec<(String, &str)> = (0..graph.element_count())
            .flat_map(|index| {
                let (name, class, _) = graph.element(index).unwrap();
                let name = String::from_utf8(name.to_vec()).unwrap();
                class.read_handlers.iter().map(move |h| (name.clone(), h.name))
            })
            .collect();
        for (which, value) in &writes {
            if targets.is_empty() {
                break;
            }
            let (element, handler) = &targets[which.index(targets.len())];
            let _ = run.engine.write_handler(element, handler, value);
        }
        for (element, handler) in &reads {
            let _ = run.engine.read_handler(element, handler);
            let _ = run.engine.read_handler(element, &format!("{handler} 10.0.0.1"));
        }
        let devices = run.compiled.devices.clone();
        for device in &devices {
            let _ = run.engine.receive(device, &frames(1)[0], run.engine.now_ns());
        }
        let now = run.engine.now_ns();
        let _ = run.engine.run(now.saturating_add(NS_PER_SECOND), 10_000);
    }
}

const NS_PER_SECOND: u64 = 1_000_000_000;

/// Both parts of a cut graph in one engine: the kernel part's ToContainer(0) and
/// FromContainer(0), the container part's FromKernel(0) and ToKernel(0), over the engine's
/// loopback channel. The container part paints; what comes back goes out eth1 (paint 3) or eth2.
fn boundary_loop() -> Run {
    compile_boundary_loop("t/fk :: FromKernel(0, BURST 4) -> t/p :: Paint(3) -> t/tk :: ToKernel(0);")
}

fn compile_boundary_loop(container: &str) -> Run {
    let text = format!(
        "t/rx :: FromDevice(eth0) -> t/tc :: ToContainer(0);\n{container}\n\
         t/fc :: FromContainer(0) -> t/s :: PaintSwitch; t/s[3] -> t/q1 :: Queue -> t/tx1 :: ToDevice(eth1); t/s[0] -> t/q2 :: Queue -> t/tx2 :: ToDevice(eth2); t/s[1] -> t/d1 :: Discard; t/s[2] -> t/d2 :: Discard;"
    );
    Run::new(compile_merged(&text, &["eth0", "eth1", "eth2"]))
}

fn stat(run: &Run, element: &str, name: &str) -> u64 {
    let stats = run.read(element, "stats");
    let line = stats.lines().find(|l| l.split(' ').next() == Some(name)).unwrap_or_else(|| panic!("{element}.stats has no {name}: {stats}"));
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

fn to_container() -> Run {
    let mut run = boundary_loop();
    let sent = frames(5);
    send_all(&mut run, "eth0", &sent);
    // A frame longer than a slot holds is dropped at the boundary, counted.
    let big = ether(ETHERTYPE_IPV4, &[0x45; vdp_core::channel::SLOT_DATA]);
    send_all(&mut run, "eth0", &[big]);
    assert_eq!(run.take("eth1"), sent);
    assert_eq!(run.read_int("tc", "count"), 5);
    assert_eq!(run.read_int("tc", "drops"), 1);
    assert_eq!(stat(&run, "tc", "tx_too_big"), 1);
    assert_eq!(stat(&run, "tc", "tx_bytes"), sent.iter().map(|f| f.len() as u64).sum::<u64>());
    run.write("tc", "reset_counts", "").unwrap();
    assert_eq!(run.read_int("tc", "count"), 0);
    run
}

fn from_kernel() -> Run {
    let mut run = boundary_loop();
    let sent = frames(9);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("eth1"), sent);
    assert_eq!(run.read_int("fk", "count"), 9);
    assert_eq!(run.read_int("fk", "burst"), 4);
    assert_eq!(run.read_int("fk", "queue_length"), 0);
    assert_eq!(stat(&run, "fk", "rx_packets"), 9);
    run
}

fn to_kernel() -> Run {
    let mut run = compile_boundary_loop("t/fk :: FromKernel(0) -> t/c :: Counter -> t/p :: Paint(3) -> t/tk :: ToKernel(0);");
    let sent = frames(3);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("eth1"), sent);
    assert_eq!(run.read_int("c", "count"), 3);
    assert_eq!(run.read_int("tk", "count"), 3);
    assert_eq!(run.read_int("tk", "drops"), 0);
    assert_eq!(stat(&run, "tk", "tx_ring_full"), 0);
    run
}

fn from_container() -> Run {
    // Without the container part's Paint, packets come back unpainted: out eth2.
    let mut run = compile_boundary_loop("t/fk :: FromKernel(0) -> t/tk :: ToKernel(0);");
    let sent = frames(4);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("eth2"), sent);
    assert!(run.take("eth1").is_empty());
    assert_eq!(run.read_int("fc", "count"), 4);
    assert_eq!(stat(&run, "fc", "rx_bad_slot"), 0);
    run
}

const ME: [u8; 6] = [2, 0, 0, 0, 0, 1];
const HOST: [u8; 6] = [2, 0, 0, 0, 0, 9];

/// A query goes out for an unknown address while the packet waits; the reply releases it in an
/// Ethernet header to the host's address, and the table shows the entry.
fn arp_querier() -> Run {
    let mut run = Run::config(
        "FromDevice(eth0) -> c :: Classifier(12/0806 20/0002, 12/0800, -);\n\
         c[0] -> [1] q :: ARPQuerier(10.0.0.1/24, 02:00:00:00:00:01);\n\
         c[1] -> Strip(14) -> CheckIPHeader -> [0] q;\n\
         c[2] -> Discard;\n\
         q[0] -> Queue -> ToDevice(eth1); q[1] -> Queue -> ToDevice(eth2);",
    );
    let ip = Ip::new(17, [10, 0, 0, 1], [10, 0, 0, 9]).packet(&ports(1000, 2000, 8));
    send_all(&mut run, "eth0", &[ether(ETHERTYPE_IPV4, &ip)]);
    assert_eq!(run.take("eth2"), [arp_frame([0xff; 6], ME, ARP_REQUEST, (ME, [10, 0, 0, 1]), ([0; 6], [10, 0, 0, 9]))]);
    assert!(run.take("eth1").is_empty());
    assert_eq!((run.read_int("q", "count"), run.read_int("q", "length")), (1, 1));
    send_all(&mut run, "eth0", &[arp_frame(ME, HOST, ARP_REPLY, (HOST, [10, 0, 0, 9]), (ME, [10, 0, 0, 1]))]);
    let mut expected = HOST.to_vec();
    expected.extend_from_slice(&ME);
    expected.extend_from_slice(&ETHERTYPE_IPV4);
    expected.extend_from_slice(&ip);
    assert_eq!(run.take("eth1"), [expected]);
    let table = run.read("q", "table");
    assert!(table.starts_with(&format!("10.0.0.9 1 {} 0.", click_mac(HOST))), "{table}");
    assert_eq!((run.read_int("q", "queries"), run.read_int("q", "responses"), run.read_int("q", "length")), (1, 1, 0));
    assert_eq!(run.read("q", "stats"), "0 packets killed\n1 ARP queries sent\n");
    assert_eq!((run.read("q", "ipaddr"), run.read("q", "broadcast")), ("10.0.0.1".to_string(), "10.0.0.255".to_string()));
    run.write("q", "insert", "10.0.0.7 02:00:00:00:00:07").unwrap();
    assert_eq!(run.read_int("q", "count"), 2);
    run.write("q", "delete", "10.0.0.9").unwrap();
    assert!(run.read("q", "table").contains("10.0.0.9 0 FF-FF-FF-FF-FF-FF "));
    run.write("q", "clear", "").unwrap();
    assert_eq!((run.read_int("q", "count"), run.read_int("q", "queries")), (0, 0));
    run
}

/// A request for one of its addresses gets a reply, byte for byte; one for another address
/// leaves by output 1 as it came.
fn arp_responder() -> Run {
    let mut run = Run::config(
        "FromDevice(eth0) -> c :: Classifier(12/0806 20/0001, -);\n\
         c[0] -> ar :: ARPResponder(10.0.0.1 02:00:00:00:00:01, 10.1.0.0/16 02:00:00:00:00:02) -> Queue -> ToDevice(eth1);\n\
         ar[1] -> Queue -> ToDevice(eth2); c[1] -> Discard;",
    );
    let mut asking = arp_frame([0xff; 6], HOST, ARP_REQUEST, (HOST, [10, 0, 0, 9]), ([0; 6], [10, 0, 0, 1]));
    asking.resize(60, 0);
    let mut other = arp_frame([0xff; 6], HOST, ARP_REQUEST, (HOST, [10, 0, 0, 9]), ([0; 6], [10, 2, 0, 1]));
    other.resize(60, 0);
    send_all(&mut run, "eth0", &[asking, other.clone()]);
    assert_eq!(run.take("eth1"), [arp_frame(HOST, ME, ARP_REPLY, (ME, [10, 0, 0, 1]), (HOST, [10, 0, 0, 9]))]);
    assert_eq!(run.take("eth2"), [other]);
    assert_eq!(run.read("ar", "table"), "10.0.0.1/32 02-00-00-00-00-01\n10.1.0.0/16 02-00-00-00-00-02\n");
    assert_eq!(run.read("ar", "lookup 10.1.200.3"), "02-00-00-00-00-02");
    assert_eq!(run.read("ar", "lookup 10.2.0.1"), "");
    run.write("ar", "add", "10.2.0.0/24 02:00:00:00:00:03").unwrap();
    assert_eq!(run.read("ar", "lookup 10.2.0.1"), "02-00-00-00-00-03");
    run.write("ar", "remove", "10.1.0.0/16").unwrap();
    assert_eq!(run.read("ar", "lookup 10.1.200.3"), "");
    assert!(run.write("ar", "remove", "10.1.0.0/16").is_err());
    run
}

/// Names an AddressInfo gives stand for their addresses, and the AddressInfo itself is gone
/// from the compiled graph (the harness checks that).
fn address_info() -> Run {
    let mut run = Run::config(
        "AddressInfo(me 10.0.0.1/24 02:00:00:00:00:01, peer 02:00:00:00:00:09);\n\
         FromDevice(eth0) -> Strip(14) -> EtherEncap(0x0800, me, peer) -> Queue -> ToDevice(eth1);",
    );
    let sent = frames(1).remove(0);
    send_all(&mut run, "eth0", std::slice::from_ref(&sent));
    let mut expected = HOST.to_vec();
    expected.extend_from_slice(&ME);
    expected.extend_from_slice(&sent[12..]);
    assert_eq!(run.take("eth1"), [expected]);
    run
}

/// `element` after `FromDevice(eth0) -> Strip(14) -> CheckIPHeader`, its outputs in turn through
/// the frames' own Ethernet header again to eth1, eth2….
fn ip_config(element: &str, outputs: usize) -> Run {
    let mut text = format!("FromDevice(eth0) -> Strip(14) -> CheckIPHeader -> x :: {element};\n");
    for port in 0..outputs {
        text.push_str(&format!("x[{port}] -> EtherEncap(0x0800, {}, {}) -> Queue -> ToDevice(eth{});\n", mac_text(MAC_A), mac_text(MAC_B), port + 1));
    }
    Run::config(&text)
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

fn icmp_error() -> Run {
    let mut run = ip_config("ICMPError(192.0.2.9, timeexceeded)", 1);
    let udp = Ip::new(17, [10, 0, 0, 1], [10, 0, 0, 2]).packet(&ports(1, 2, 8));
    let error = Ip::new(1, [10, 0, 0, 1], [10, 0, 0, 2]).packet(&[3, 1, 0, 0, 0, 0, 0, 0]);
    send_all(&mut run, "eth0", &[ether(ETHERTYPE_IPV4, &udp), ether(ETHERTYPE_IPV4, &error)]);
    // One answer, to the UDP packet only: never one about an ICMP error.
    let out = run.take("eth1");
    assert_eq!(out.len(), 1);
    let ip = &out[0][14..];
    assert_eq!(ip.len(), 20 + 8 + udp.len());
    assert_eq!((ip[0], ip[8], ip[9]), (0x45, 200, 1));
    assert_eq!((&ip[12..16], &ip[16..20]), (&[192, 0, 2, 9][..], &[10, 0, 0, 1][..]));
    assert_eq!(rfc1071(&ip[..20]), 0);
    assert_eq!((ip[20], ip[21]), (11, 0));
    assert_eq!(rfc1071(&ip[20..]), 0);
    assert_eq!(&ip[28..], &udp[..]);
    assert_eq!(run.read("x", "src"), "192.0.2.9");
    assert_eq!((run.read_int("x", "mtu"), run.read_int("x", "pmtu"), run.read_int("x", "no_memory")), (576, 0, 0));
    run.write("x", "src", "192.0.2.10").unwrap();
    assert!(run.write("x", "mtu", "67").is_err());
    send_all(&mut run, "eth0", &[ether(ETHERTYPE_IPV4, &udp)]);
    assert_eq!(&run.take("eth1")[0][14 + 12..14 + 16], &[192, 0, 2, 10]);
    run
}

fn ip_fragmenter() -> Run {
    // No headroom in the later fragments: the Ethernet header after them makes its own room.
    let mut run = ip_config("IPFragmenter(100, HEADROOM 0)", 2);
    let payload: Vec<u8> = (0..180u8).collect();
    let mut ip = Ip::new(17, [10, 0, 0, 1], [10, 0, 0, 2]);
    let whole = ip.packet(&payload);
    ip.frag = 0x4000;
    let dont = ip.packet(&payload);
    send_all(&mut run, "eth0", &[ether(ETHERTYPE_IPV4, &whole), ether(ETHERTYPE_IPV4, &dont)]);
    // 80 + 80 + 20 data bytes, offsets 0, 10, 20 (in 8-byte units), MF on all but the last.
    let out = run.take("eth1");
    let fields: Vec<(usize, u16)> = out.iter().map(|f| (f.len() - 14, u16::from_be_bytes([f[20], f[21]]))).collect();
    assert_eq!(fields, [(100, 0x2000), (100, 0x2000 | 10), (40, 20)]);
    for fragment in &out {
        assert_eq!(rfc1071(&fragment[14..34]), 0);
    }
    let data: Vec<u8> = out.iter().flat_map(|f| f[34..].to_vec()).collect();
    assert_eq!(data, payload);
    assert_eq!(run.take("eth2"), [ether(ETHERTYPE_IPV4, &dont)]);
    assert_eq!((run.read_int("x", "fragments"), run.read_int("x", "drops"), run.read_int("x", "no_memory")), (3, 1, 0));
    run
}

fn ip_gw_options() -> Run {
    let mut run = ip_config("IPGWOptions(192.0.2.7)", 2);
    // Record route with room for two addresses, then one with a pointer past its end.
    let mut ip = Ip::new(17, [10, 0, 0, 1], [10, 0, 0, 2]);
    ip.options = vec![7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let room = ip.packet(&ports(1, 2, 8));
    ip.options = vec![7, 7, 9, 0, 0, 0, 0, 0];
    let bad = ip.packet(&ports(1, 2, 8));
    send_all(&mut run, "eth0", &[ether(ETHERTYPE_IPV4, &room), ether(ETHERTYPE_IPV4, &bad)]);
    let out = run.take("eth1");
    assert_eq!(out.len(), 1);
    let header = &out[0][14..14 + 32];
    assert_eq!(&header[20..27], &[7, 11, 8, 192, 0, 2, 7]);
    assert_eq!(rfc1071(header), 0);
    assert_eq!(run.take("eth2"), [ether(ETHERTYPE_IPV4, &bad)]);
    assert_eq!(run.read_int("x", "drops"), 1);
    run
}

fn fix_ip_src() -> Run {
    let mut run = Run::config(&format!(
        "FromDevice(eth0) -> Strip(14) -> CheckIPHeader -> t :: Tee(2);\n\
         t[0] -> ICMPError(192.0.2.9, unreachable, host) -> FixIPSrc(10.9.9.9) -> FixIPSrc(10.8.8.8) -> EtherEncap(0x0800, {a}, {b}) -> Queue -> ToDevice(eth1);\n\
         t[1] -> FixIPSrc(10.9.9.9) -> EtherEncap(0x0800, {a}, {b}) -> Queue -> ToDevice(eth2);",
        a = mac_text(MAC_A),
        b = mac_text(MAC_B)
    ));
    let udp = Ip::new(17, [10, 0, 0, 1], [10, 0, 0, 2]).packet(&ports(1, 2, 8));
    send_all(&mut run, "eth0", &[ether(ETHERTYPE_IPV4, &udp)]);
    // The error's source is the first FixIPSrc's; the second sees the mark cleared.
    let error = run.take("eth1");
    assert_eq!(&error[0][14 + 12..14 + 16], &[10, 9, 9, 9]);
    assert_eq!(rfc1071(&error[0][14..34]), 0);
    // A packet without the mark passes untouched.
    assert_eq!(run.take("eth2"), [ether(ETHERTYPE_IPV4, &udp)]);
    run
}

fn drop_broadcasts() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> d :: DropBroadcasts; d[0] -> Queue -> ToDevice(eth1); d[1] -> Queue -> ToDevice(eth2);");
    let to = |destination: [u8; 6]| {
        let mut frame = frames(1).remove(0);
        frame[..6].copy_from_slice(&destination);
        frame
    };
    // The test devices' own address is 02:00:00:00:00:01 (`ethernet_device`).
    let (own, other, broadcast, multicast) = (to([2, 0, 0, 0, 0, 1]), to(MAC_B), to([0xff; 6]), to([1, 0, 0x5e, 0, 0, 1]));
    send_all(&mut run, "eth0", &[own.clone(), broadcast.clone(), other.clone(), multicast.clone()]);
    assert_eq!(run.take("eth1"), [own, other]);
    assert_eq!(run.take("eth2"), [broadcast, multicast]);
    assert_eq!(run.read_int("d", "drops"), 2);
    run
}

fn strip_ip_header() -> Run {
    let mut run = Run::config("FromDevice(eth0) -> Strip(14) -> CheckIPHeader -> StripIPHeader -> Queue -> ToDevice(eth1);");
    let mut ip = Ip::new(17, [10, 0, 0, 1], [10, 0, 0, 2]);
    let plain = ip.packet(&ports(1, 2, 12));
    ip.options = vec![1, 1, 1, 0];
    let with_options = ip.packet(&ports(3, 4, 12));
    send_all(&mut run, "eth0", &[ether(ETHERTYPE_IPV4, &plain), ether(ETHERTYPE_IPV4, &with_options)]);
    assert_eq!(run.take("eth1"), [ports(1, 2, 12), ports(3, 4, 12)]);
    run
}

fn paint_tee() -> Run {
    let mut run = Run::config(
        "FromDevice(eth0) -> c :: Classifier(12/0800, -); c[0] -> Paint(1) -> pt :: PaintTee(1); c[1] -> Paint(2) -> pt;\n\
         pt[0] -> Queue -> ToDevice(eth1); pt[1] -> Queue -> ToDevice(eth2);",
    );
    let ip = frames(1).remove(0);
    let arp = ether([0x08, 0x06], &[0; 46]);
    send_all(&mut run, "eth0", &[ip.clone(), arp.clone()]);
    assert_eq!(run.take("eth1"), [ip.clone(), arp.clone()]);
    assert_eq!(run.take("eth2"), [ip.clone()]);
    run.write("pt", "color", "2").unwrap();
    assert_eq!(run.read_int("pt", "color"), 2);
    send_all(&mut run, "eth0", &[ip.clone(), arp.clone()]);
    assert_eq!(run.take("eth1"), [ip, arp.clone()]);
    assert_eq!(run.take("eth2"), [arp]);
    run
}

fn check_paint() -> Run {
    let mut run = Run::config(
        "FromDevice(eth0) -> c :: Classifier(12/0800, -); c[0] -> Paint(1) -> cp :: CheckPaint(1); c[1] -> Paint(2) -> cp;\n\
         cp[0] -> Queue -> ToDevice(eth1); cp[1] -> Queue -> ToDevice(eth2);",
    );
    let ip = frames(1).remove(0);
    let arp = ether([0x08, 0x06], &[0; 46]);
    send_all(&mut run, "eth0", &[ip.clone(), arp.clone()]);
    assert_eq!(run.take("eth1"), [ip.clone()]);
    assert_eq!(run.take("eth2"), [arp.clone()]);
    run.write("cp", "color", "2").unwrap();
    send_all(&mut run, "eth0", &[ip.clone(), arp.clone()]);
    assert_eq!(run.take("eth1"), [arp]);
    assert_eq!(run.take("eth2"), [ip]);
    run
}

fn average_counter() -> Run {
    // 11 frames over exactly one second of virtual time, from t = 1 s.
    let mut run = Run::config("FromDevice(eth0) -> a :: AverageCounter -> Discard;");
    let sent = frames(11);
    for (i, frame) in sent.iter().enumerate() {
        run.send_at("eth0", frame, NS_PER_SECOND + i as u64 * 100_000_000);
    }
    run.run_until(run.engine.now_ns());
    let bytes: u64 = sent.iter().map(|f| f.len() as u64).sum();
    assert_eq!(run.read_int("a", "count"), 11);
    assert_eq!(run.read_int("a", "byte_count"), bytes);
    assert_eq!(run.read_int("a", "rate"), 11);
    assert_eq!(run.read_int("a", "byte_rate"), bytes);
    run.write("a", "reset", "").unwrap();
    assert_eq!((run.read_int("a", "count"), run.read_int("a", "rate")), (0, 0));
    run
}

fn red() -> Run {
    // STABILITY 0: the average is the queue's length. Nothing pulls from q, so it grows by one
    // a packet; with MAX_P 0 and GENTLE false nothing is dropped up to an average of 4, and
    // everything above. Dropped packets leave by output 1.
    let mut run = Run::config(
        "FromDevice(eth0) -> r :: RED(2, 4, 0, STABILITY 0, GENTLE false) -> q :: Queue(100) -> Idle;\n\
         r[1] -> dropped :: Counter -> Discard;",
    );
    send_all(&mut run, "eth0", &frames(10));
    assert_eq!(run.read_int("q", "length"), 5);
    assert_eq!(run.read_int("r", "drops"), 5);
    assert_eq!(run.read_int("dropped", "count"), 5);
    assert_eq!(run.read("r", "queues"), "q\n");
    assert_eq!(run.read("r", "config"), "2, 4, 0, QUEUES q, STABILITY 0, GENTLE false");
    assert_eq!(run.read("r", "stats"), "5 current queue\n0 avg queue\n5 drops\n");
    // Raising MAX_THRESH lets packets through again; MIN_THRESH may not pass it.
    run.write("r", "max_thresh", "8").unwrap();
    run.write("r", "max_p", "0.02").unwrap();
    assert!(run.write("r", "min_thresh", "9").is_err());
    assert_eq!((run.read_int("r", "min_thresh"), run.read_int("r", "max_thresh"), run.read("r", "max_p")), (2, 8, "0.02".to_string()));
    send_all(&mut run, "eth0", &frames(1));
    assert_eq!(run.read_int("q", "length"), 6);
    run
}

fn align() -> Run {
    // Strip(1) leaves the data one byte past wherever it was. `b` wants it 1 past a 4-byte
    // boundary, where `a` leaves it 0 past: b copies every packet, and c, which wants what b
    // made, copies none.
    let mut run = Run::config("FromDevice(eth0) -> Strip(1) -> a :: Align(4, 0) -> b :: Align(4, 1) -> c :: Align(4, 1) -> Queue -> ToDevice(eth1);");
    let sent = frames(6);
    send_all(&mut run, "eth0", &sent);
    let stripped: Vec<Vec<u8>> = sent.iter().map(|f| f[1..].to_vec()).collect();
    assert_eq!(run.take("eth1"), stripped);
    assert_eq!((run.read_int("b", "copies"), run.read_int("c", "copies")), (6, 0));
    assert_eq!(run.read_int("a", "drops") + run.read_int("b", "drops") + run.read_int("c", "drops"), 0);
    run
}

fn set_timestamp() -> Run {
    // The device stamps each frame when it arrives (t = 1 s). SetTimestamp(100ms) moves that
    // back, so a 10 ms DelayShaper lets the frame go at once; a SetTimestamp without argument
    // after it stamps the time again, and the frame waits its 10 ms.
    let mut run = Run::config(
        "rx :: FromDevice(eth0) -> t :: Tee(2);\n\
         t[0] -> SetTimestamp(100ms) -> Queue -> DelayShaper(10ms) -> ToDevice(eth1);\n\
         t[1] -> SetTimestamp(100ms) -> SetTimestamp -> Queue -> DelayShaper(10ms) -> ToDevice(eth2);",
    );
    let sent = frames(1);
    run.send_at("eth0", &sent[0], NS_PER_SECOND);
    run.run_until(2 * NS_PER_SECOND);
    assert_eq!(run.take_timed("eth1"), vec![(NS_PER_SECOND, sent[0].clone())]);
    assert_eq!(run.take_timed("eth2"), vec![(NS_PER_SECOND + 10_000_000, sent[0].clone())]);
    run
}

fn delay_shaper() -> Run {
    // Frames stamped on arrival at 1 s, 1.002 s and 1.004 s leave exactly 10 ms later.
    let mut run = Run::config("FromDevice(eth0) -> Queue -> d :: DelayShaper(10ms) -> ToDevice(eth1);");
    let sent = frames(3);
    for (i, frame) in sent.iter().enumerate() {
        run.send_at("eth0", frame, NS_PER_SECOND + i as u64 * 2_000_000);
    }
    run.run_until(2 * NS_PER_SECOND);
    let times: Vec<u64> = run.take_timed("eth1").into_iter().map(|(time, _)| time).collect();
    assert_eq!(times, vec![1_010_000_000, 1_012_000_000, 1_014_000_000]);
    assert_eq!(run.read("d", "delay"), "10ms");
    run.write("d", "delay", "1.5").unwrap();
    assert_eq!(run.read("d", "delay"), "1.500000s");
    assert!(run.write("d", "delay", "soon").is_err());
    run
}

fn poll_device() -> Run {
    let mut run = Run::config("p :: PollDevice(eth0, BURST 2) -> Queue -> ToDevice(eth1);");
    let sent = frames(5);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("eth1"), sent);
    assert_eq!((run.read_int("p", "count"), run.read_int("p", "burst")), (5, 2));
    run.write("p", "reset_counts", "").unwrap();
    assert_eq!(run.read_int("p", "count"), 0);
    run
}

fn to_host() -> Run {
    // ToHost(host0): the run's system config names host0 the tenant's host device.
    let mut run = Run::config("FromDevice(eth0) -> th :: ToHost(host0);");
    let sent = frames(3);
    send_all(&mut run, "eth0", &sent);
    assert_eq!(run.take("host0"), sent);
    assert_eq!(run.read_int("th", "drops"), 0);
    run
}

fn from_host() -> Run {
    let mut run = Run::config("fh :: FromHost(host0, BURST 2) -> Queue -> ToDevice(eth1);");
    let sent = frames(4);
    send_all(&mut run, "host0", &sent);
    assert_eq!(run.take("eth1"), sent);
    assert_eq!((run.read_int("fh", "length"), run.read_int("fh", "capacity"), run.read_int("fh", "drops")), (0, 1024, 0));
    assert_eq!(run.read_int("fh", "burst"), 2);
    run.write("fh", "burst", "16").unwrap();
    assert_eq!(run.read_int("fh", "burst"), 16);
    run
}
