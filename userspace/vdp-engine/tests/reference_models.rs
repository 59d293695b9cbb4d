//! Property tests of the IP and classification classes against reference models written from
//! their documentation (`models/`): random valid configurations compiled as `vdpctl compile`
//! compiles them, random packets (malformed ones included) through the engine, and the output
//! of each device compared with what the model says, packet by packet.
//!
//! Every test sends its packets on `eth0` behind an Ethernet header and reads output N of the
//! element under test on device `eth{N+1}`, so both where a packet went and what it became are
//! checked. `VDP_PROPTEST_CASES` sets the number of cases.

mod common;
mod models;

use common::*;
use models::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn config(default_cases: u32) -> ProptestConfig {
    ProptestConfig { cases: cases(default_cases), failure_persistence: None, ..ProptestConfig::default() }
}

/// The Ethernet header every test frame carries in front of its IP part.
const ETHER_HEADER: [u8; 14] = [2, 0xbb, 0, 0, 0, 2, 2, 0xaa, 0, 0, 0, 1, 0x08, 0x00];

fn framed(ip: &[u8]) -> Vec<u8> {
    let mut frame = ETHER_HEADER.to_vec();
    frame.extend_from_slice(ip);
    frame
}

/// `FromDevice(eth0) -> [Strip(14) ->] ELEMENT`, each of its `outputs` through `[Unstrip(14)
/// ->] Queue -> ToDevice(eth{N+1})`.
fn fan_out(element: &str, outputs: usize, strip: bool) -> String {
    let (strip, unstrip) = if strip { ("Strip(14) -> ", "Unstrip(14) -> ") } else { ("", "") };
    let mut text = format!("FromDevice(eth0) -> {strip}x :: {element};\n");
    for port in 0..outputs {
        text.push_str(&format!("x[{port}] -> {unstrip}Queue -> ToDevice(eth{});\n", port + 1));
    }
    text
}

/// Sends `frames` and returns, per output, what the devices `eth1`… transmitted.
fn outputs_of(run: &mut Run, frames: &[Vec<u8>], outputs: usize) -> Vec<Vec<Vec<u8>>> {
    for frame in frames {
        run.send("eth0", frame);
    }
    run.run_until(run.engine.now_ns());
    (1..=outputs).map(|n| run.take(&format!("eth{n}"))).collect()
}

fn check_outputs(got: &[Vec<Vec<u8>>], expected: &[Vec<Vec<u8>>], text: &str) -> Result<(), TestCaseError> {
    for (port, (got, expected)) in got.iter().zip(expected).enumerate() {
        prop_assert_eq!(got, expected, "output {} of\n{}", port, text);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Classifier.

/// A packet for the Classifier tests: random bytes of a few likely values, with one pattern's
/// first term planted in it when `plant` names one.
fn classifier_packet() -> impl Strategy<Value = (Vec<u8>, Option<usize>)> {
    (prop::collection::vec(likely_byte(), 0..48), prop::option::weighted(0.5, any::<usize>()))
}

proptest! {
    #![proptest_config(config(512))]

    /// Each packet leaves by the output of the first pattern it matches, read literally from
    /// the pattern text, or is dropped; its bytes are untouched.
    #[test]
    fn classifier_sends_each_packet_to_its_first_matching_pattern(
        patterns in prop::collection::vec(pattern(), 1..5),
        packets in prop::collection::vec(classifier_packet(), 1..16),
    ) {
        let texts: Vec<String> = patterns.iter().map(Pattern::text).collect();
        let text = fan_out(&format!("Classifier({})", texts.join(", ")), patterns.len(), false);
        let mut run = Run::config(&text);
        // The packets arrive as frames of their own: FromDevice takes any bytes. Short ones are
        // sent with a 14-byte prefix only because a device cannot transmit fewer bytes.
        let mut frames = Vec::new();
        let mut expected = vec![Vec::new(); patterns.len()];
        for (bytes, plant) in &packets {
            let mut packet = bytes.clone();
            if let Some(which) = plant {
                patterns[which % patterns.len()].plant(&mut packet);
            }
            if let Some(port) = patterns.iter().position(|p| p.matches(&packet)) {
                expected[port].push(packet.clone());
            }
            frames.push(packet);
        }
        for output in &mut expected {
            // Frames under 14 bytes cannot leave an Ethernet device.
            output.retain(|frame| frame.len() >= 14);
        }
        let got = outputs_of(&mut run, &frames, patterns.len());
        check_outputs(&got, &expected, &text)?;
    }

    /// The same with every packet long enough to leave, so that none is lost to the device.
    #[test]
    fn classifier_matches_long_packets_exactly(
        patterns in prop::collection::vec(pattern(), 1..5),
        packets in prop::collection::vec((prop::collection::vec(likely_byte(), 14..48), prop::option::of(any::<usize>())), 1..16),
    ) {
        let texts: Vec<String> = patterns.iter().map(Pattern::text).collect();
        let text = fan_out(&format!("Classifier({})", texts.join(", ")), patterns.len(), false);
        let mut run = Run::config(&text);
        let mut frames = Vec::new();
        let mut expected = vec![Vec::new(); patterns.len()];
        for (bytes, plant) in &packets {
            let mut packet = bytes.clone();
            if let Some(which) = plant {
                patterns[which % patterns.len()].plant(&mut packet);
            }
            if let Some(port) = patterns.iter().position(|p| p.matches(&packet)) {
                expected[port].push(packet.clone());
            }
            frames.push(packet);
        }
        let got = outputs_of(&mut run, &frames, patterns.len());
        check_outputs(&got, &expected, &text)?;
    }
}

// ---------------------------------------------------------------------------------------------
// IPClassifier.

proptest! {
    #![proptest_config(config(512))]

    /// Behind Strip(14) the IP header is at the packet's start: each packet leaves by the output
    /// of the first expression the reference evaluation makes true, or is dropped.
    #[test]
    fn ip_classifier_agrees_with_direct_evaluation(
        exprs in prop::collection::vec(expr(), 1..5),
        packets in prop::collection::vec(ip_packet(), 1..16),
    ) {
        let texts: Vec<String> = exprs.iter().map(Expr::text).collect();
        let text = fan_out(&format!("IPClassifier({})", texts.join(", ")), exprs.len(), true);
        let mut run = Run::config(&text);
        let mut frames = Vec::new();
        let mut expected = vec![Vec::new(); exprs.len()];
        for packet in &packets {
            let ip = packet.bytes();
            let frame = framed(&ip);
            if let Some(port) = exprs.iter().position(|e| e.eval(&Pkt::new(ip.clone()))) {
                expected[port].push(frame.clone());
            }
            frames.push(frame);
        }
        let got = outputs_of(&mut run, &frames, exprs.len());
        check_outputs(&got, &expected, &text)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Behind CheckIPHeader(OFFSET 14) the header is where the network mark says, 14 bytes in:
    /// IPClassifier reads it there, and what it passes on is what CheckIPHeader accepted.
    #[test]
    fn ip_classifier_reads_the_header_at_the_network_mark(
        exprs in prop::collection::vec(expr(), 1..4),
        packets in prop::collection::vec(ip_packet(), 1..16),
    ) {
        let texts: Vec<String> = exprs.iter().map(Expr::text).collect();
        let text = fan_out(&format!("IPClassifier({})", texts.join(", ")), exprs.len(), false)
            .replace("FromDevice(eth0) -> ", "FromDevice(eth0) -> CheckIPHeader(OFFSET 14, CHECKSUM false) -> ");
        let mut run = Run::config(&text);
        let check = CheckIp { offset: 14, checksum: false, badsrc: Vec::new(), interfaces: Vec::new() };
        let mut frames = Vec::new();
        let mut expected = vec![Vec::new(); exprs.len()];
        for packet in &packets {
            let frame = framed(&packet.bytes());
            if let Ok(checked) = check.check(Pkt::new(frame.clone())) {
                if let Some(port) = exprs.iter().position(|e| e.eval(&checked)) {
                    expected[port].push(checked.data.clone());
                }
            }
            frames.push(frame);
        }
        let got = outputs_of(&mut run, &frames, exprs.len());
        check_outputs(&got, &expected, &text)?;
    }
}

// ---------------------------------------------------------------------------------------------
// RadixIPLookup, LinearIPLookup, StaticIPLookup.

const LOOKUP_OUTPUTS: usize = 4;

/// What the route tests do, in order.
#[derive(Clone, Debug)]
enum Op {
    /// A packet to this address arrives (`cut`: the IP part is cut to that many bytes).
    Send([u8; 4], Option<usize>),
    /// One handler write of these lines: all or nothing.
    Add(Vec<Route>),
    Set(Vec<Route>),
    /// Prefix, and the gateway and output the entry names (each must match, when given).
    Remove(Vec<(Route, bool, bool)>),
    Flush,
    /// An `add` naming an output the table does not have: refused whole.
    AddBadPort(Route),
}

fn op() -> impl Strategy<Value = Op> {
    let routes = || prop::collection::vec(route(LOOKUP_OUTPUTS as u16 - 1), 1..4);
    prop_oneof![
        8 => (address(), prop::option::weighted(0.1, 0usize..24)).prop_map(|(a, cut)| Op::Send(a, cut)),
        3 => routes().prop_map(Op::Add),
        2 => routes().prop_map(Op::Set),
        3 => prop::collection::vec((route(LOOKUP_OUTPUTS as u16 - 1), any::<bool>(), any::<bool>()), 1..3).prop_map(Op::Remove),
        1 => Just(Op::Flush),
        1 => route(0).prop_map(Op::AddBadPort),
    ]
}

/// The model's answer to `lookup ADDR`.
fn lookup_text(table: &Table, address: [u8; 4]) -> String {
    match table.lookup(address) {
        None => "-1".into(),
        Some(Route { gateway: Some(gateway), port, .. }) => format!("{port} {}", ipv4_text(gateway)),
        Some(Route { port, .. }) => port.to_string(),
    }
}

/// Applies a batch to a copy of the table; the copy replaces it only if every entry applied.
fn apply_batch(table: &mut Table, batch: impl Fn(&mut Table) -> Result<(), ()>) -> Result<(), ()> {
    let mut copy = table.clone();
    batch(&mut copy)?;
    *table = copy;
    Ok(())
}

fn remove_text((route, name_gateway, name_port): &(Route, bool, bool)) -> String {
    let mut text = route.prefix_text();
    if *name_gateway {
        text.push(' ');
        text.push_str(&ipv4_text(route.gateway.unwrap_or([10, 0, 0, 1])));
    }
    if *name_port {
        text.push_str(&format!(" {}", route.port));
    }
    text
}

fn lookup_case(class: &str, initial: &[Route], ops: &[Op]) -> Result<(), TestCaseError> {
    let writable = class != "StaticIPLookup";
    let routes: Vec<String> = initial.iter().map(Route::text).collect();
    let text = fan_out(&format!("{class}({})", routes.join(", ")), LOOKUP_OUTPUTS, true);
    let mut run = Run::config(&text);
    let mut table = Table::default();
    for route in initial {
        table.set(*route);
    }
    prop_assert_eq!(run.read("x", "table"), table.text(), "initial table of\n{}", text);
    for op in ops {
        // StaticIPLookup refuses every write, so its table stays as configured.
        let before = table.clone();
        let (handler, value, model): (&str, String, Result<(), ()>) = match op {
            Op::Send(dst, cut) => {
                let mut ip = Ip::new(17, [192, 0, 2, 1], *dst).packet(&ports(1, 2, 8));
                if let Some(cut) = cut {
                    ip.truncate(*cut);
                }
                let mut expected = vec![Vec::new(); LOOKUP_OUTPUTS];
                if let Some(port) = table.route(&mut Pkt::new(ip.clone())) {
                    expected[usize::from(port)].push(framed(&ip));
                }
                let got = outputs_of(&mut run, &[framed(&ip)], LOOKUP_OUTPUTS);
                check_outputs(&got, &expected, &format!("{text}after {ops:?}"))?;
                prop_assert_eq!(run.read("x", &format!("lookup {}", ipv4_text(*dst))), lookup_text(&table, *dst));
                continue;
            }
            Op::Add(routes) => {
                let value = routes.iter().map(Route::text).collect::<Vec<_>>().join("\n");
                ("add", value, apply_batch(&mut table, |t| routes.iter().try_for_each(|r| t.add(*r))))
            }
            Op::Set(routes) => {
                let value = routes.iter().map(Route::text).collect::<Vec<_>>().join("\n");
                ("set", value, apply_batch(&mut table, |t| {
                    routes.iter().for_each(|r| t.set(*r));
                    Ok(())
                }))
            }
            Op::Remove(entries) => {
                let value = entries.iter().map(remove_text).collect::<Vec<_>>().join("\n");
                let model = apply_batch(&mut table, |t| {
                    entries.iter().try_for_each(|(r, gw, port)| {
                        let gateway = gw.then(|| r.gateway.unwrap_or([10, 0, 0, 1]));
                        t.remove(r.network, r.len, gateway, port.then_some(r.port))
                    })
                });
                ("remove", value, model)
            }
            Op::Flush => {
                table.0.clear();
                ("flush", String::new(), Ok(()))
            }
            Op::AddBadPort(route) => {
                let bad = Route { port: LOOKUP_OUTPUTS as u16, ..*route };
                // A good line before the bad one: the write is refused whole all the same.
                ("add", format!("{}\n{}", route.text(), bad.text()), Err(()))
            }
        };
        let result = run.write("x", handler, &value);
        if !writable {
            prop_assert_eq!(result, Err(vdp_core::element::HandlerError::NoSuchHandler));
            table = before;
            continue;
        }
        prop_assert_eq!(result.is_ok(), model.is_ok(), "{} {:?}: {:?}", handler, value, result);
        prop_assert_eq!(run.read("x", "table"), table.text(), "after {} {:?}", handler, value);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    /// Routes against a brute-force longest-prefix match over the same routes, through
    /// packets, `lookup` and `table`, with handler writes (batches are all or nothing).
    #[test]
    fn radix_ip_lookup_is_a_longest_prefix_match(initial in prop::collection::vec(route(3), 0..8), ops in prop::collection::vec(op(), 1..24)) {
        lookup_case("RadixIPLookup", &initial, &ops)?;
    }

    #[test]
    fn linear_ip_lookup_is_a_longest_prefix_match(initial in prop::collection::vec(route(3), 0..8), ops in prop::collection::vec(op(), 1..24)) {
        lookup_case("LinearIPLookup", &initial, &ops)?;
    }

    /// StaticIPLookup routes the same and refuses every write.
    #[test]
    fn static_ip_lookup_is_a_longest_prefix_match(initial in prop::collection::vec(route(3), 0..8), ops in prop::collection::vec(op(), 1..24)) {
        lookup_case("StaticIPLookup", &initial, &ops)?;
    }
}

/// Distinct routes for the large loads: every prefix once.
fn distinct_routes(min: usize, max: usize) -> impl Strategy<Value = Vec<Route>> {
    prop::collection::vec((any::<[u8; 4]>(), 8u8..=32, prop::option::weighted(0.2, any::<[u8; 4]>()), 0..LOOKUP_OUTPUTS as u16), min..max).prop_map(|raw| {
        let mut table = Table::default();
        for (address, len, gateway, port) in raw {
            let _ = table.add(Route::new(address, len, gateway, port));
        }
        table.0
    })
}

proptest! {
    #![proptest_config(config(12))]

    /// Loads of hundreds to thousands of routes in one write (several of the table's slices of
    /// 256, and more nodes than one arena block holds): a bad entry anywhere undoes the whole
    /// write, a good load routes as the brute-force match does, and a removal of all of them
    /// empties the table.
    #[test]
    fn large_route_loads_are_all_or_nothing(
        class in prop::sample::select(vec!["RadixIPLookup", "LinearIPLookup"]),
        routes in distinct_routes(300, 3000),
        bad_at in any::<prop::sample::Index>(),
        addresses in prop::collection::vec(any::<[u8; 4]>(), 100),
    ) {
        let text = fan_out(&format!("{class}(10.0.0.0/8 1)"), LOOKUP_OUTPUTS, true);
        let mut run = Run::config(&text);
        let mut initial = Table::default();
        initial.set(Route::new([10, 0, 0, 0], 8, None, 1));
        let lines: Vec<String> = routes.iter().map(Route::text).collect();
        // A line that exists already (the configuration's route, or an earlier line of the
        // same write), at a random place: refused, and nothing of the write stays.
        let mut bad = lines.clone();
        let at = bad_at.index(bad.len() + 1);
        let duplicate = if at == 0 || routes.iter().any(|r| r.network == 0x0a00_0000 && r.len == 8) { lines[0].clone() } else { "10.0.0.0/8 2".to_string() };
        bad.insert(at.max(1), duplicate);
        prop_assert!(run.write("x", "add", &bad.join("\n")).is_err());
        prop_assert_eq!(run.read("x", "table"), initial.text());
        let mut table = initial.clone();
        let added = routes.iter().all(|r| table.add(*r).is_ok());
        let result = run.write("x", "add", &lines.join("\n"));
        prop_assert_eq!(result.is_ok(), added);
        if !added {
            table = initial.clone();
        }
        for address in &addresses {
            prop_assert_eq!(run.read("x", &format!("lookup {}", ipv4_text(*address))), lookup_text(&table, *address), "lookup {}", ipv4_text(*address));
        }
        if table.0.len() < 1500 {
            prop_assert_eq!(run.read("x", "table"), table.text());
        }
        // Remove every route but the configuration's, then one that is not there: refused whole.
        let mut removals: Vec<String> = table.0.iter().filter(|r| !(r.network == 0x0a00_0000 && r.len == 8)).map(Route::prefix_text).collect();
        removals.push("203.0.113.0/24".into());
        prop_assert!(run.write("x", "remove", &removals.join("\n")).is_err());
        prop_assert_eq!(run.read("x", &format!("lookup {}", ipv4_text(addresses[0]))), lookup_text(&table, addresses[0]));
        removals.pop();
        if !removals.is_empty() {
            prop_assert!(run.write("x", "remove", &removals.join("\n")).is_ok());
        }
        prop_assert_eq!(run.read("x", "table"), initial.text());
    }
}

// ---------------------------------------------------------------------------------------------
// SetIPChecksum, CheckIPHeader, DecIPTTL.

fn check_ip() -> impl Strategy<Value = CheckIp> {
    (
        prop_oneof![3 => Just(14usize), 1 => Just(18usize)],
        prop::bool::weighted(0.8),
        prop::collection::vec(address(), 0..3),
        prop::collection::vec((address(), prefix_len()), 0..3),
    )
        .prop_map(|(offset, checksum, badsrc, interfaces)| CheckIp { offset, checksum, badsrc, interfaces })
}

proptest! {
    #![proptest_config(config(512))]

    /// The header's checksum is RFC 1071's over the header; packets whose header does not fit
    /// are dropped.
    #[test]
    fn set_ip_checksum_computes_rfc_1071(packets in prop::collection::vec(ip_packet(), 1..16)) {
        let text = fan_out("SetIPChecksum", 1, true);
        let mut run = Run::config(&text);
        let frames: Vec<Vec<u8>> = packets.iter().map(|p| framed(&p.bytes())).collect();
        let expected: Vec<Vec<u8>> = packets.iter().filter_map(|p| set_ip_checksum(Pkt::new(p.bytes()))).map(|p| framed(&p.data)).collect();
        let got = outputs_of(&mut run, &frames, 1);
        check_outputs(&got, &[expected], &text)?;
    }

    /// Accepted packets leave by output 0, cut to their total length; refused ones by output 1
    /// (or nowhere, without it), untouched, and `drops` counts them.
    #[test]
    fn check_ip_header_accepts_by_rfc_791_and_1812(
        check in check_ip(),
        reject_output in any::<bool>(),
        packets in prop::collection::vec((ip_packet(), any::<[u8; 4]>()), 1..16),
    ) {
        let outputs = if reject_output { 2 } else { 1 };
        let text = fan_out(&format!("CheckIPHeader({})", check.args()), outputs, false);
        let mut run = Run::config(&text);
        let mut frames = Vec::new();
        let mut expected = vec![Vec::new(); 2];
        let mut refused = 0;
        for (packet, vlan) in &packets {
            let mut frame = ETHER_HEADER.to_vec();
            // OFFSET 18: four more bytes before the header.
            frame.extend_from_slice(&vlan[..check.offset - 14]);
            frame.extend_from_slice(&packet.bytes());
            match check.check(Pkt::new(frame.clone())) {
                Ok(accepted) => expected[0].push(accepted.data),
                Err(refused_packet) => {
                    refused += 1;
                    expected[1].push(refused_packet.data);
                }
            }
            frames.push(frame);
        }
        let got = outputs_of(&mut run, &frames, outputs);
        check_outputs(&got, &expected[..outputs], &text)?;
        prop_assert_eq!(run.read_int("x", "drops"), refused);
    }

    /// TTL decremented with the checksum patched incrementally: equal to a full recomputation
    /// whenever the header was whole and its checksum right, and RFC 1624's update otherwise;
    /// TTL 0 or 1 to output 1 (or dropped); too short for a header: dropped.
    #[test]
    fn dec_ip_ttl_decrements_and_patches_the_checksum(reject_output in any::<bool>(), packets in prop::collection::vec(ip_packet(), 1..16)) {
        let outputs = if reject_output { 2 } else { 1 };
        let text = fan_out("DecIPTTL", outputs, true);
        let mut run = Run::config(&text);
        let mut frames = Vec::new();
        let mut expected = vec![Vec::new(); 2];
        for packet in &packets {
            let ip = packet.bytes();
            match dec_ip_ttl(Pkt::new(ip.clone())) {
                Ttl::Forward(p) => {
                    let header_len = usize::from(ip[0] & 0x0f) * 4;
                    if ip.len() >= header_len && rfc1071(&ip[..header_len]) == 0 {
                        prop_assert_eq!(
                            u16::from_be_bytes([p.data[10], p.data[11]]),
                            header_checksum(&p.data[..header_len]),
                            "incremental and recomputed checksums differ for {:?}", packet
                        );
                    }
                    expected[0].push(framed(&p.data));
                }
                Ttl::Expired(p) => expected[1].push(framed(&p.data)),
                Ttl::Dropped => {}
            }
            frames.push(framed(&ip));
        }
        let got = outputs_of(&mut run, &frames, outputs);
        check_outputs(&got, &expected[..outputs], &text)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Random chains: the output is the composition of the models.

/// One element of a chain, with its arguments. Elements with a reject output have it
/// unconnected, so rejects are drops.
#[derive(Clone, Debug)]
enum Stage {
    CheckIp { checksum: bool, badsrc: Vec<[u8; 4]> },
    SetChecksum,
    DecTtl,
    CheckLength(u16),
    Classifier(Pattern),
    IpClassifier(Expr),
    /// Every route to output 0: the table keeps the packets it has a route for.
    Lookup { class: &'static str, routes: Vec<Route> },
    Encap(Encap),
    GetIp(u8),
    Counter,
    /// `Unstrip(k) -> Strip(k)`: the data as it was, in a larger buffer when k is more than
    /// the headroom left, with the network mark moved along.
    Headroom(u16),
}

impl Stage {
    fn text(&self) -> String {
        match self {
            Stage::CheckIp { checksum, badsrc } => {
                format!("CheckIPHeader({})", CheckIp { offset: 0, checksum: *checksum, badsrc: badsrc.clone(), interfaces: Vec::new() }.args())
            }
            Stage::SetChecksum => "SetIPChecksum".into(),
            Stage::DecTtl => "DecIPTTL".into(),
            Stage::CheckLength(max) => format!("CheckLength({max})"),
            Stage::Classifier(pattern) => format!("Classifier({})", pattern.text()),
            Stage::IpClassifier(expr) => format!("IPClassifier({})", expr.text()),
            Stage::Lookup { class, routes } => format!("{class}({})", routes.iter().map(Route::text).collect::<Vec<_>>().join(", ")),
            Stage::Encap(encap) => format!("IPEncap({})", encap.args()),
            Stage::GetIp(offset) => format!("GetIPAddress({offset})"),
            Stage::Counter => "Counter".into(),
            Stage::Headroom(k) => format!("Unstrip({k}) -> Strip({k})"),
        }
    }
}

fn stage() -> impl Strategy<Value = Stage> {
    prop_oneof![
        3 => (prop::bool::weighted(0.8), prop::collection::vec(address(), 0..2)).prop_map(|(checksum, badsrc)| Stage::CheckIp { checksum, badsrc }),
        2 => Just(Stage::SetChecksum),
        3 => Just(Stage::DecTtl),
        1 => (20u16..80).prop_map(Stage::CheckLength),
        1 => pattern().prop_map(Stage::Classifier),
        2 => expr().prop_map(Stage::IpClassifier),
        2 => (prop::sample::select(vec!["RadixIPLookup", "LinearIPLookup", "StaticIPLookup"]), prop::collection::vec(route(0), 0..4))
            .prop_map(|(class, routes)| Stage::Lookup { class, routes }),
        1 => (protocol(), address(), address(), 1u8..=255, any::<u8>()).prop_map(|(proto, src, dst, ttl, tos)| Stage::Encap(Encap { proto, src, dst, ttl, tos })),
        1 => (0u8..24).prop_map(Stage::GetIp),
        1 => Just(Stage::Counter),
        1 => prop_oneof![0u16..=80, 0u16..=256].prop_map(Stage::Headroom),
    ]
}

/// Runs one packet through the chain's models; `idents` holds each IPEncap's next
/// identification.
fn chain_model(stages: &[Stage], idents: &mut [u16], mut p: Pkt) -> Option<Pkt> {
    for (index, stage) in stages.iter().enumerate() {
        p = match stage {
            Stage::CheckIp { checksum, badsrc } => {
                CheckIp { offset: 0, checksum: *checksum, badsrc: badsrc.clone(), interfaces: Vec::new() }.check(p).ok()?
            }
            Stage::SetChecksum => set_ip_checksum(p)?,
            Stage::DecTtl => match dec_ip_ttl(p) {
                Ttl::Forward(p) => p,
                _ => return None,
            },
            Stage::CheckLength(max) => Some(p).filter(|p| check_length(p, *max))?,
            Stage::Classifier(pattern) => Some(p).filter(|p| pattern.matches(&p.data))?,
            Stage::IpClassifier(expr) => Some(p).filter(|p| expr.eval(p))?,
            Stage::Lookup { routes, .. } => {
                let mut table = Table::default();
                routes.iter().for_each(|r| table.set(*r));
                table.route(&mut p)?;
                p
            }
            Stage::Encap(encap) => {
                let ident = idents[index];
                idents[index] = ident.wrapping_add(1);
                encap.apply(p, ident)?
            }
            Stage::GetIp(offset) => get_ip_address(p, usize::from(*offset))?,
            Stage::Counter | Stage::Headroom(_) => p,
        };
    }
    Some(p)
}

proptest! {
    #![proptest_config(config(512))]

    /// A chain of a random selection of the IP elements, in random order with random
    /// arguments, between `FromDevice -> Strip(14)` and `Unstrip(14) -> Queue -> ToDevice`:
    /// what leaves is, packet by packet, what the models composed in that order make of it.
    #[test]
    fn chains_of_ip_elements_compose_their_models(
        stages in prop::collection::vec(stage(), 1..7),
        packets in prop::collection::vec(ip_packet(), 1..12),
    ) {
        let chain: Vec<String> = stages.iter().map(Stage::text).collect();
        let text = format!("FromDevice(eth0) -> Strip(14) -> {} -> Unstrip(14) -> Queue -> ToDevice(eth1);\n", chain.join(" -> "));
        let mut run = Run::config(&text);
        let mut idents = vec![1u16; stages.len()];
        let mut frames = Vec::new();
        let mut expected = Vec::new();
        for packet in &packets {
            let ip = packet.bytes();
            if let Some(p) = chain_model(&stages, &mut idents, Pkt::new(ip.clone())) {
                expected.push(p.data);
            }
            frames.push(framed(&ip));
        }
        let got = outputs_of(&mut run, &frames, 1).remove(0);
        // What is in front of the IP part after an IPEncap is no longer the Ethernet header
        // (Unstrip gives back whatever precedes the data), so only the IP part is compared.
        let got_ip: Vec<Vec<u8>> = got.iter().map(|frame| frame[14..].to_vec()).collect();
        prop_assert_eq!(got_ip, expected, "{}", text);
        if !stages.iter().any(|s| matches!(s, Stage::Encap(_))) {
            prop_assert!(got.iter().all(|frame| frame[..14] == ETHER_HEADER), "the Ethernet header comes back whole");
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// A Tee in front of two random chains: each output is its chain's models applied to the
    /// packet as it arrived, so what one branch writes (TTLs, checksums, headers pushed, cuts)
    /// never shows in the other.
    #[test]
    fn tee_branches_do_not_see_each_others_writes(
        left in prop::collection::vec(stage(), 1..5),
        right in prop::collection::vec(stage(), 1..5),
        packets in prop::collection::vec(ip_packet(), 1..10),
    ) {
        let chain = |stages: &[Stage]| stages.iter().map(Stage::text).collect::<Vec<_>>().join(" -> ");
        let text = format!(
            "FromDevice(eth0) -> Strip(14) -> t :: Tee(2);\n\
             t[0] -> {} -> Unstrip(14) -> Queue -> ToDevice(eth1);\n\
             t[1] -> {} -> Unstrip(14) -> Queue -> ToDevice(eth2);\n",
            chain(&left),
            chain(&right)
        );
        let mut run = Run::config(&text);
        let (mut left_idents, mut right_idents) = (vec![1u16; left.len()], vec![1u16; right.len()]);
        let mut frames = Vec::new();
        let mut expected = vec![Vec::new(); 2];
        for packet in &packets {
            let ip = packet.bytes();
            if let Some(p) = chain_model(&left, &mut left_idents, Pkt::new(ip.clone())) {
                expected[0].push(p.data);
            }
            if let Some(p) = chain_model(&right, &mut right_idents, Pkt::new(ip.clone())) {
                expected[1].push(p.data);
            }
            frames.push(framed(&ip));
        }
        let got = outputs_of(&mut run, &frames, 2);
        for (branch, stages) in [&left, &right].into_iter().enumerate() {
            let got_ip: Vec<Vec<u8>> = got[branch].iter().map(|frame| frame[14..].to_vec()).collect();
            prop_assert_eq!(&got_ip, &expected[branch], "branch {} of\n{}", branch, text);
            if !stages.iter().any(|s| matches!(s, Stage::Encap(_))) {
                prop_assert!(got[branch].iter().all(|frame| frame[..14] == ETHER_HEADER), "branch {}: the Ethernet header comes back whole", branch);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The example router (docs/examples/router.click), end to end.

const ROUTER: &str = include_str!("../../../docs/examples/router.click");
const MAC: [[u8; 6]; 2] = [[2, 0, 0x0a, 1, 0, 1], [2, 0, 0x0a, 2, 0, 1]];
const PEER: [[u8; 6]; 2] = [[2, 0, 0x0a, 1, 0, 0xfe], [2, 0, 0x0a, 2, 0, 0xfe]];

/// Addresses around the router's networks: its own, hosts, the subnet broadcasts, elsewhere.
fn router_address() -> impl Strategy<Value = [u8; 4]> {
    prop_oneof![
        4 => prop::sample::select(vec![[10, 1, 0, 1], [10, 1, 0, 7], [10, 2, 0, 1], [10, 2, 0, 9], [10, 1, 0, 255], [10, 2, 0, 255], [8, 8, 8, 8]]),
        1 => address(),
    ]
}

/// A frame for the router: mostly IPv4, some ARP, some other or too short.
fn router_frame() -> impl Strategy<Value = (usize, [u8; 2], IpGen, [u8; 4], [u8; 4], Option<usize>)> {
    (
        0usize..2,
        prop_oneof![6 => Just([0x08, 0x00]), 1 => Just([0x08, 0x06]), 1 => any::<[u8; 2]>()],
        ip_packet(),
        router_address(),
        router_address(),
        prop::option::weighted(0.05, 0usize..14),
    )
}

/// What the router's counters should read.
#[derive(Debug, Default, PartialEq, Eq)]
struct RouterCounts {
    arp: u64,
    bad: u64,
    local: u64,
    expired: u64,
}

/// The router's models composed: Classifier(12/0800, 12/0806, -), Strip(14), CheckIPHeader
/// with the two INTERFACES, GetIPAddress(16), the route table, DecIPTTL, SetIPChecksum and
/// EtherEncap. Returns the egress interface and frame, if any.
fn router_model(frame: &[u8], counts: &mut RouterCounts) -> Option<(usize, Vec<u8>)> {
    let ip = Pattern(vec![Term { negated: false, offset: 12, bytes: vec![byte(0x08), byte(0x00)], explicit_mask: false }]);
    let arp = Pattern(vec![Term { negated: false, offset: 12, bytes: vec![byte(0x08), byte(0x06)], explicit_mask: false }]);
    if !ip.matches(frame) {
        counts.arp += u64::from(arp.matches(frame));
        return None;
    }
    let check = CheckIp { offset: 0, checksum: true, badsrc: Vec::new(), interfaces: vec![([10, 1, 0, 1], 24), ([10, 2, 0, 1], 24)] };
    let Ok(p) = check.check(Pkt::new(frame[14..].to_vec())) else {
        counts.bad += 1;
        return None;
    };
    let mut p = get_ip_address(p, 16)?;
    let mut table = Table::default();
    for route in [
        Route::new([10, 1, 0, 1], 32, None, 0),
        Route::new([10, 2, 0, 1], 32, None, 0),
        Route::new([10, 1, 0, 0], 24, None, 1),
        Route::new([10, 2, 0, 0], 24, None, 2),
        Route::new([0, 0, 0, 0], 0, Some([10, 2, 0, 254]), 2),
    ] {
        table.set(route);
    }
    let port = table.route(&mut p)?;
    if port == 0 {
        counts.local += 1;
        return None;
    }
    let p = match dec_ip_ttl(p) {
        Ttl::Forward(p) => p,
        Ttl::Expired(_) => {
            counts.expired += 1;
            return None;
        }
        Ttl::Dropped => return None,
    };
    let p = set_ip_checksum(p)?;
    let egress = usize::from(port) - 1;
    let mut out = PEER[egress].to_vec();
    out.extend_from_slice(&MAC[egress]);
    out.extend_from_slice(&[0x08, 0x00]);
    out.extend_from_slice(&p.data);
    Some((egress, out))
}

fn byte(value: u8) -> PatternByte {
    PatternByte { value, wild_high: false, wild_low: false, mask: 0xff }
}

proptest! {
    #![proptest_config(config(256))]

    /// The example router, on 1 to 4 threads: what leaves each interface, and what the
    /// counters count, is what its elements' models composed make of the frames.
    #[test]
    fn the_example_router_forwards_as_its_models_compose(threads in 1u32..=4, frames in prop::collection::vec(router_frame(), 1..24)) {
        let mut run = Run::with_threads(compile(ROUTER), threads);
        let mut counts = RouterCounts::default();
        let mut expected = vec![Vec::new(); 2];
        for (ingress, ethertype, packet, src, dst, cut) in &frames {
            let mut ip = packet.clone();
            ip.src = *src;
            ip.dst = *dst;
            let mut frame = ETHER_HEADER.to_vec();
            frame[12..14].copy_from_slice(ethertype);
            frame.extend_from_slice(&ip.bytes());
            if let Some(cut) = cut {
                frame.truncate(*cut);
            }
            if let Some((egress, out)) = router_model(&frame, &mut counts) {
                expected[egress].push(out);
            }
            run.send(["eth1", "eth2"][*ingress], &frame);
        }
        run.run_until(run.engine.now_ns());
        prop_assert_eq!(run.take("eth1"), expected[0].clone(), "eth1");
        prop_assert_eq!(run.take("eth2"), expected[1].clone(), "eth2");
        let arp = run.read_int("in1/arp", "count") + run.read_int("in2/arp", "count");
        let got = RouterCounts { arp, bad: run.read_int("bad", "count"), local: run.read_int("local", "count"), expired: run.read_int("expired", "count") };
        prop_assert_eq!(got, counts);
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: cases the properties found, kept as plain tests.

/// A Classifier term of 3 bytes (or a longer one with a 3-byte tail) that ends exactly where
/// the packet ends matched nothing: the compiler made its 3-byte tail a 4-byte test, which read
/// a byte past the term and so failed on such a packet.
#[test]
fn classifier_term_ending_with_the_packet_matches() {
    let text = fan_out("Classifier(11/aabbcc, 7/0102030405aabbcc, -)", 3, false);
    let mut run = Run::config(&text);
    let mut ends_with_term = vec![0u8; 11];
    ends_with_term.extend_from_slice(&[0xaa, 0xbb, 0xcc]);
    let mut longer = vec![0u8; 7];
    longer.extend_from_slice(&[1, 2, 3, 4, 5, 0xaa, 0xbb, 0xcc]);
    let mut one_short = ends_with_term.clone();
    one_short[13] = 0;
    let got = outputs_of(&mut run, &[ends_with_term.clone(), longer.clone(), one_short.clone()], 3);
    assert_eq!(got, [vec![ends_with_term], vec![longer], vec![one_short]]);
}

/// An Unstrip beyond the headroom left moved the data into a larger buffer without the old
/// headroom, so the bytes an earlier Strip took off were gone (zeros came back instead), where
/// the kernel's skb_cow_head keeps them. Here the Ethernet header.
#[test]
fn a_push_that_grows_the_buffer_keeps_what_was_stripped() {
    for k in [64, 65, 79, 200, 256] {
        let text = format!("FromDevice(eth0) -> Strip(14) -> Unstrip({k}) -> Strip({k}) -> DecIPTTL -> Unstrip(14) -> Queue -> ToDevice(eth1);");
        let mut run = Run::config(&text);
        let frame = udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 1, 2);
        let got = outputs_of(&mut run, std::slice::from_ref(&frame), 1).remove(0);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0][..14], frame[..14], "Unstrip({k})");
        assert_eq!(got[0][14 + 8], frame[14 + 8] - 1, "Unstrip({k}): DecIPTTL found the header");
    }
}
