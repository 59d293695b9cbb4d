//! ARPQuerier and ARPResponder at user level, on the engine's virtual clock: queries for
//! unknown addresses and their rate limit, replies releasing held packets in order, entries
//! timing out and being renewed, the table's and the held packets' bounds under floods, the
//! special destinations, and ARPResponder's answers, byte for byte.

mod common;

use common::*;

const MS: u64 = 1_000_000;
const S: u64 = 1_000 * MS;
const ME: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MY_IP: [u8; 4] = [10, 0, 0, 1];
const HOST: [u8; 6] = [2, 0, 0, 0, 0, 9];
const HOST_IP: [u8; 4] = [10, 0, 0, 9];
const BROADCAST: [u8; 6] = [0xff; 6];

/// ARPQuerier `q` for 10.0.0.1/24 at ME with `keywords`: IPv4 frames and ARP replies arrive on
/// eth0; encapsulated packets leave by eth1, queries by eth2.
fn querier(keywords: &str) -> Run {
    Run::config(&format!(
        "FromDevice(eth0) -> c :: Classifier(12/0806 20/0002, 12/0800, -);\n\
         c[0] -> [1] q :: ARPQuerier(10.0.0.1/24, 02:00:00:00:00:01{keywords});\n\
         c[1] -> Strip(14) -> CheckIPHeader -> [0] q;\n\
         c[2] -> Discard;\n\
         q[0] -> Queue(1000) -> ToDevice(eth1); q[1] -> Queue(1000) -> ToDevice(eth2);"
    ))
}

/// An IPv4 packet to `dst` whose UDP source port tells it from the others.
fn packet_to(dst: [u8; 4], tag: u16) -> Vec<u8> {
    Ip::new(17, MY_IP, dst).packet(&ports(tag, 9, 8))
}

/// `packet` as ARPQuerier sends it to `mac`.
fn encapsulated(mac: [u8; 6], packet: &[u8]) -> Vec<u8> {
    let mut frame = mac.to_vec();
    frame.extend_from_slice(&ME);
    frame.extend_from_slice(&ETHERTYPE_IPV4);
    frame.extend_from_slice(packet);
    frame
}

fn query_for(target: [u8; 4], to: [u8; 6]) -> Vec<u8> {
    arp_frame(to, ME, ARP_REQUEST, (ME, MY_IP), ([0; 6], target))
}

fn reply_from(mac: [u8; 6], ip: [u8; 4]) -> Vec<u8> {
    arp_frame(ME, mac, ARP_REPLY, (mac, ip), (ME, MY_IP))
}

fn send_ip(run: &mut Run, packet: &[u8], at: u64) {
    run.send_at("eth0", &ether(ETHERTYPE_IPV4, packet), at);
    run.run_until(at);
}

fn send_frame(run: &mut Run, frame: &[u8], at: u64) {
    run.send_at("eth0", frame, at);
    run.run_until(at);
}

#[test]
fn a_reply_releases_the_held_packets_in_order() {
    let mut run = querier("");
    let packets: Vec<Vec<u8>> = (0..5).map(|i| packet_to(HOST_IP, 100 + i)).collect();
    for (i, packet) in packets.iter().enumerate() {
        send_ip(&mut run, packet, i as u64 * 10 * MS);
    }
    // Five packets within 100 ms: one query.
    assert_eq!(run.take("eth2"), [query_for(HOST_IP, BROADCAST)]);
    assert!(run.take("eth1").is_empty());
    assert_eq!(run.read_int("q", "length"), 5);
    send_frame(&mut run, &reply_from(HOST, HOST_IP), 60 * MS);
    let expected: Vec<Vec<u8>> = packets.iter().map(|p| encapsulated(HOST, p)).collect();
    assert_eq!(run.take("eth1"), expected);
    assert_eq!(run.read_int("q", "length"), 0);
    // Known now: the next packet goes straight out, with no query.
    let later = packet_to(HOST_IP, 200);
    send_ip(&mut run, &later, 70 * MS);
    assert_eq!(run.take("eth1"), [encapsulated(HOST, &later)]);
    assert!(run.take("eth2").is_empty());
    assert_eq!((run.read_int("q", "queries"), run.read_int("q", "responses"), run.read_int("q", "drops")), (1, 1, 0));
}

#[test]
fn queries_are_spaced_100_ms_then_2_s_after_ten_unanswered() {
    let mut run = querier("");
    let mut times = Vec::new();
    for step in 0..=60u64 {
        let at = step * 50 * MS;
        send_ip(&mut run, &packet_to(HOST_IP, step as u16), at);
        for (time, frame) in run.take_timed("eth2") {
            assert_eq!(frame, query_for(HOST_IP, BROADCAST));
            times.push(time);
        }
    }
    // Ten queries 100 ms apart, then one 2 s after the tenth.
    let mut expected: Vec<u64> = (0..10).map(|i| i * 100 * MS).collect();
    expected.push(900 * MS + 2 * S);
    assert_eq!(times, expected);
    assert_eq!(run.read_int("q", "queries"), 11);
    send_frame(&mut run, &reply_from(HOST, HOST_IP), 3_050 * MS);
    assert_eq!(run.take("eth1").len(), 61, "every packet waited for the reply");
}

#[test]
fn entries_expire_after_timeout_and_are_polled_before() {
    let mut run = querier(", TIMEOUT 1s, POLL_TIMEOUT 400ms");
    send_frame(&mut run, &reply_from(HOST, HOST_IP), 0);
    // Fresh: sent at once.
    let first = packet_to(HOST_IP, 1);
    send_ip(&mut run, &first, 200 * MS);
    assert_eq!(run.take("eth1"), [encapsulated(HOST, &first)]);
    assert!(run.take("eth2").is_empty());
    // Older than POLL_TIMEOUT: still sent, and a query renews the entry, unicast to the host.
    let second = packet_to(HOST_IP, 2);
    send_ip(&mut run, &second, 500 * MS);
    assert_eq!(run.take("eth1"), [encapsulated(HOST, &second)]);
    assert_eq!(run.take("eth2"), [query_for(HOST_IP, HOST)]);
    // Older than TIMEOUT: unknown again; the packet waits for a new, broadcast, query.
    let third = packet_to(HOST_IP, 3);
    send_ip(&mut run, &third, 1_500 * MS);
    assert!(run.take("eth1").is_empty());
    assert_eq!(run.take("eth2"), [query_for(HOST_IP, BROADCAST)]);
    assert_eq!(run.read_int("q", "length"), 1);
    send_frame(&mut run, &reply_from(HOST, HOST_IP), 1_600 * MS);
    assert_eq!(run.take("eth1"), [encapsulated(HOST, &third)]);
}

#[test]
fn expired_entries_are_swept_out() {
    // Swept TIMEOUT + 1 s after the table was made, at the first packet from then on.
    let mut run = querier(", TIMEOUT 1s");
    send_frame(&mut run, &reply_from(HOST, HOST_IP), 0);
    send_frame(&mut run, &reply_from([2, 0, 0, 0, 0, 8], [10, 0, 0, 8]), 1_500 * MS);
    assert_eq!(run.read_int("q", "count"), 2, "expired, not yet swept");
    let table = run.read("q", "table");
    assert!(table.starts_with(&format!("10.0.0.9 0 {} 1.500000\n", click_mac(HOST))), "{table}");
    send_frame(&mut run, &reply_from([2, 0, 0, 0, 0, 7], [10, 0, 0, 7]), 2_100 * MS);
    let table = run.read("q", "table");
    assert_eq!(table.lines().map(|line| line.split(' ').next().unwrap()).collect::<Vec<_>>(), ["10.0.0.8", "10.0.0.7"], "{table}");
}

#[test]
fn broadcast_poll_asks_everyone() {
    let mut run = querier(", POLL_TIMEOUT 100ms, BROADCAST_POLL true");
    send_frame(&mut run, &reply_from(HOST, HOST_IP), 0);
    send_ip(&mut run, &packet_to(HOST_IP, 1), 150 * MS);
    assert_eq!(run.take("eth2"), [query_for(HOST_IP, BROADCAST)]);
}

#[test]
fn held_packets_stay_within_capacity() {
    // CAPACITY 4, halved when full: the fifth packet drops the three oldest, leaving two with
    // itself, as Click's slimming does.
    let mut run = querier(", CAPACITY 4");
    let packets: Vec<Vec<u8>> = (0..5).map(|i| packet_to(HOST_IP, i)).collect();
    for packet in &packets {
        send_ip(&mut run, packet, 0);
    }
    assert_eq!(run.read_int("q", "length"), 2);
    assert_eq!(run.read("q", "stats"), "3 packets killed\n1 ARP queries sent\n");
    send_frame(&mut run, &reply_from(HOST, HOST_IP), MS);
    let expected: Vec<Vec<u8>> = packets[3..].iter().map(|p| encapsulated(HOST, p)).collect();
    assert_eq!(run.take("eth1"), expected);

    // ENTRY_PACKET_CAPACITY: the entry refuses packets past its own limit.
    let mut run = querier(", ENTRY_PACKET_CAPACITY 2");
    for packet in &packets[..3] {
        send_ip(&mut run, packet, 0);
    }
    assert_eq!(run.read_int("q", "length"), 2);
    send_frame(&mut run, &reply_from(HOST, HOST_IP), MS);
    assert_eq!(run.take("eth1"), packets[..2].iter().map(|p| encapsulated(HOST, p)).collect::<Vec<_>>());
}

#[test]
fn floods_cannot_grow_the_table() {
    let mut run = querier(", CAPACITY 8, ENTRY_CAPACITY 4");
    // Packets to 200 unresolved addresses: never more than 4 entries or 8 packets.
    for i in 0..200u32 {
        let dst = [10, 0, (i / 200) as u8, (i % 200 + 20) as u8];
        send_ip(&mut run, &packet_to(dst, i as u16), u64::from(i) * MS);
        assert!(run.read_int("q", "count") <= 4);
        assert!(run.read_int("q", "length") <= 8);
    }
    assert_eq!(run.take("eth2").len(), 200, "one query per new address");
    // Replies from 300 hosts: the table keeps the 4 newest.
    for i in 0..300u32 {
        let ip = [10, 1, (i / 250) as u8, (i % 250) as u8];
        let mac = [2, 0, 1, (i >> 8) as u8, i as u8, 1];
        send_frame(&mut run, &reply_from(mac, ip), 200 * MS + u64::from(i) * MS);
        assert!(run.read_int("q", "count") <= 4);
    }
    let table = run.read("q", "table");
    let addresses: Vec<&str> = table.lines().map(|line| line.split(' ').next().unwrap()).collect();
    assert_eq!(addresses, ["10.1.1.46", "10.1.1.47", "10.1.1.48", "10.1.1.49"], "{table}");
    assert_eq!(run.read_int("q", "responses"), 300);
    // Evicted entries' packets were dropped, and counted.
    assert_eq!(run.read_int("q", "length"), 0);
    assert!(run.read("q", "stats").starts_with("200 packets killed\n"), "{}", run.read("q", "stats"));
}

#[test]
fn special_destinations() {
    let mut run = querier("");
    let to_all = packet_to([255, 255, 255, 255], 1);
    let to_subnet = packet_to([10, 0, 0, 255], 2);
    let to_group = packet_to([224, 129, 2, 3], 3);
    for (i, packet) in [&to_all, &to_subnet, &to_group].into_iter().enumerate() {
        send_ip(&mut run, packet, i as u64);
    }
    assert_eq!(
        run.take("eth1"),
        [encapsulated(BROADCAST, &to_all), encapsulated(BROADCAST, &to_subnet), encapsulated([0x01, 0x00, 0x5e, 0x01, 2, 3], &to_group)]
    );
    assert!(run.take("eth2").is_empty());
    // No destination annotation (nothing set one): dropped and counted, as 0.0.0.0 is.
    let mut bare = Run::config(
        "FromDevice(eth0) -> Strip(14) -> [0] q :: ARPQuerier(10.0.0.1, 02:00:00:00:00:01) -> Queue -> ToDevice(eth1); Idle -> [1] q;",
    );
    bare.send("eth0", &ether(ETHERTYPE_IPV4, &to_all));
    bare.run_until(bare.engine.now_ns());
    assert!(bare.take("eth1").is_empty());
    assert_eq!(bare.read_int("q", "drops"), 1);
    // A bare IP address has no subnet: its broadcast is 255.255.255.255.
    assert_eq!(bare.read("q", "broadcast"), "255.255.255.255");
}

#[test]
fn with_one_output_queries_share_it() {
    let mut run = Run::config(
        "FromDevice(eth0) -> c :: Classifier(12/0806 20/0002, 12/0800, -);\n\
         c[0] -> [1] q :: ARPQuerier(10.0.0.1/24, 02:00:00:00:00:01, BROADCAST 10.0.0.127);\n\
         c[1] -> Strip(14) -> CheckIPHeader -> [0] q; c[2] -> Discard;\n\
         q -> Queue -> ToDevice(eth1);",
    );
    let packet = packet_to(HOST_IP, 1);
    send_ip(&mut run, &packet, 0);
    send_frame(&mut run, &reply_from(HOST, HOST_IP), MS);
    assert_eq!(run.take("eth1"), [query_for(HOST_IP, BROADCAST), encapsulated(HOST, &packet)]);
    assert_eq!(run.read("q", "broadcast"), "10.0.0.127");
}

#[test]
fn only_replies_for_ipv4_over_ethernet_are_learned() {
    // Every non-IPv4 frame goes to input 1: ARPQuerier checks what it learns from for itself.
    let mut run = Run::config(
        "FromDevice(eth0) -> c :: Classifier(12/0800, -); c[1] -> [1] q :: ARPQuerier(10.0.0.1/24, 02:00:00:00:00:01);\n\
         c[0] -> Strip(14) -> CheckIPHeader -> [0] q; q[0] -> Queue -> ToDevice(eth1); q[1] -> Queue -> ToDevice(eth2);",
    );
    send_ip(&mut run, &packet_to(HOST_IP, 1), 0);
    assert_eq!(run.take("eth2").len(), 1);
    // A request, a reply from a group address, a reply for another protocol, a truncated reply.
    let mut request = reply_from(HOST, HOST_IP);
    request[21] = 1;
    let mut group = reply_from(HOST, HOST_IP);
    group[22] |= 1;
    let mut other_protocol = reply_from(HOST, HOST_IP);
    other_protocol[16] = 0x86;
    let short = reply_from(HOST, HOST_IP)[..41].to_vec();
    for frame in [&request, &group, &other_protocol, &short] {
        send_frame(&mut run, frame, MS);
    }
    assert!(run.take("eth1").is_empty(), "nothing was learned");
    assert_eq!((run.read_int("q", "count"), run.read_int("q", "length")), (1, 1));
    // The three full-sized frames count as responses; the truncated one does not.
    assert_eq!(run.read_int("q", "responses"), 3);
    send_frame(&mut run, &reply_from(HOST, HOST_IP), 2 * MS);
    assert_eq!(run.take("eth1").len(), 1);
}

#[test]
fn handler_writes_are_checked() {
    let mut run = querier("");
    assert!(run.write("q", "insert", "10.0.0.5").is_err());
    assert!(run.write("q", "insert", "10.0.0.5 02:00:00:00:00:05 x").is_err());
    assert!(run.write("q", "insert", "10.0.0.300 02:00:00:00:00:05").is_err());
    assert!(run.write("q", "delete", "nothing").is_err());
    run.write("q", "insert", "10.0.0.5 02-00-00-00-00-05").unwrap();
    let packet = packet_to([10, 0, 0, 5], 1);
    send_ip(&mut run, &packet, MS);
    assert_eq!(run.take("eth1"), [encapsulated([2, 0, 0, 0, 0, 5], &packet)]);
    // A new source address shows in the queries that follow.
    run.write("q", "ipaddr", "10.0.0.2").unwrap();
    send_ip(&mut run, &packet_to(HOST_IP, 2), 2 * MS);
    assert_eq!(run.take("eth2"), [arp_frame(BROADCAST, ME, ARP_REQUEST, (ME, [10, 0, 0, 2]), ([0; 6], HOST_IP))]);
    // 0.0.0.0 as the address: ARPQuerier drops everything, as Click's does unconfigured.
    run.write("q", "ipaddr", "0.0.0.0").unwrap();
    send_ip(&mut run, &packet_to([10, 0, 0, 5], 3), 3 * MS);
    assert!(run.take("eth1").is_empty());
    assert_eq!(run.read_int("q", "drops"), 1);
}

/// ARPResponder `ar` with `entries`: requests arrive on eth0; replies leave by eth1, anything
/// else by eth2.
fn responder(entries: &str) -> Run {
    Run::config(&format!(
        "FromDevice(eth0) -> ar :: ARPResponder({entries}) -> Queue -> ToDevice(eth1); ar[1] -> Queue -> ToDevice(eth2);"
    ))
}

fn request_for(target: [u8; 4]) -> Vec<u8> {
    let mut frame = arp_frame(BROADCAST, HOST, ARP_REQUEST, (HOST, HOST_IP), ([0; 6], target));
    // Linux pads ARP frames to the Ethernet minimum.
    frame.resize(60, 0);
    frame
}

#[test]
fn the_responder_answers_only_its_own_addresses() {
    let mine_a = [2, 0, 0, 0, 0, 0xa];
    let mine_b = [2, 0, 0, 0, 0, 0xb];
    let mine_c = [2, 0, 0, 0, 0, 0xc];
    let mut run = responder("10.0.0.1 10.0.0.2 02:00:00:00:00:0a, 10.5.0.0/16 02:00:00:00:00:0b, 10.5.7.0/255.255.255.0 02:00:00:00:00:0c");
    let asked = [[10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3], [10, 5, 1, 1], [10, 5, 7, 200], [10, 6, 0, 1]];
    let requests: Vec<Vec<u8>> = asked.iter().map(|ip| request_for(*ip)).collect();
    for request in &requests {
        run.send("eth0", request);
    }
    run.run_until(run.engine.now_ns());
    let reply = |mac: [u8; 6], ip: [u8; 4]| arp_frame(HOST, mac, ARP_REPLY, (mac, ip), (HOST, HOST_IP));
    assert_eq!(
        run.take("eth1"),
        [reply(mine_a, asked[0]), reply(mine_a, asked[1]), reply(mine_b, asked[3]), reply(mine_c, asked[4])],
        "the longest prefix answers"
    );
    assert_eq!(run.take("eth2"), [requests[2].clone(), requests[5].clone()]);
    assert_eq!(
        run.read("ar", "table"),
        "10.0.0.1/32 02-00-00-00-00-0A\n10.0.0.2/32 02-00-00-00-00-0A\n10.5.7.0/24 02-00-00-00-00-0C\n10.5.0.0/16 02-00-00-00-00-0B\n"
    );
}

#[test]
fn the_responder_leaves_what_is_not_a_request_alone() {
    let mut run = responder("10.0.0.1 02:00:00:00:00:01");
    let mut reply = request_for(MY_IP);
    reply[21] = 2;
    let mut rarp = request_for(MY_IP);
    rarp[12..14].copy_from_slice(&[0x80, 0x35]);
    let mut other_hardware = request_for(MY_IP);
    other_hardware[15] = 6;
    let short = request_for(MY_IP)[..41].to_vec();
    let ip = ether(ETHERTYPE_IPV4, &packet_to(MY_IP, 1));
    let others = [reply, rarp, other_hardware, short, ip];
    for frame in &others {
        run.send("eth0", frame);
    }
    run.run_until(run.engine.now_ns());
    assert!(run.take("eth1").is_empty());
    assert_eq!(run.take("eth2"), others);
    // Without output 1, they are dropped.
    let mut alone = Run::config("FromDevice(eth0) -> ARPResponder(10.0.0.1 02:00:00:00:00:01) -> Queue -> ToDevice(eth1);");
    alone.send("eth0", &others[0]);
    alone.send("eth0", &request_for(MY_IP));
    alone.run_until(alone.engine.now_ns());
    assert_eq!(alone.take("eth1"), [arp_frame(HOST, ME, ARP_REPLY, (ME, MY_IP), (HOST, HOST_IP))]);
}

#[test]
fn the_responder_table_changes_at_run_time() {
    let mut run = responder("10.0.0.0/8 02:00:00:00:00:01");
    run.write("ar", "add", "10.1.2.3 10.1.2.4 02:00:00:00:00:02").unwrap();
    run.write("ar", "add", "10.0.0.0/8 02:00:00:00:00:03").unwrap();
    assert_eq!(run.read("ar", "table"), "10.1.2.3/32 02-00-00-00-00-02\n10.1.2.4/32 02-00-00-00-00-02\n10.0.0.0/8 02-00-00-00-00-03\n");
    for bad in ["", "10.1.2.3", "02:00:00:00:00:02", "10.1.2.3 02:00:00:00:00:02 02:00:00:00:00:03", "10.1.2.3 nonsense 02:00:00:00:00:02"] {
        assert!(run.write("ar", "add", bad).is_err(), "{bad:?}");
    }
    assert!(run.write("ar", "remove", "10.9.0.0/16").is_err());
    run.write("ar", "remove", "10.1.2.3").unwrap();
    assert_eq!(run.read("ar", "lookup 10.1.2.3"), "02-00-00-00-00-03");
    assert!(run.engine.read_handler("t/ar", "lookup").is_err(), "lookup needs an address");
}
