//! One test per checker rule, on small configurations written for the purpose.

use vdp_click::check::{CheckOptions, Limits};
use vdp_click::source::{Diagnostics, Sources};

fn errors_with(text: &str, options: &CheckOptions) -> Vec<String> {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    vdp_click::check_text(&mut sources, "t.click", text, options, &mut diagnostics);
    diagnostics.items.iter().filter(|d| d.is_error()).map(|d| d.message.clone()).collect()
}

fn errors(text: &str) -> Vec<String> {
    errors_with(text, &CheckOptions::default())
}

fn assert_one(text: &str, expected: &str) {
    let found = errors(text);
    assert_eq!(found.len(), 1, "expected one error containing {expected:?}, got {found:?}");
    assert!(found[0].contains(expected), "expected {expected:?}, got {found:?}");
}

#[test]
fn a_valid_configuration_has_no_errors() {
    let text = "src :: FromDevice(eth0) -> c :: Counter -> q :: Queue(64) -> ToDevice(eth0);";
    assert_eq!(errors(text), Vec::<String>::new());
}

#[test]
fn unknown_class_suggests_supported_ones() {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    vdp_click::check_text(&mut sources, "t.click", "FromDevice(eth0) -> Qeue -> ToDevice(eth0);", &CheckOptions::default(), &mut diagnostics);
    let error = &diagnostics.items[0];
    assert!(error.message.contains("unknown element class 'Qeue'"), "{error:?}");
    assert!(error.notes[0].contains("Queue"), "{error:?}");
    let rendered = sources.render(error);
    assert!(rendered.starts_with("t.click:1:21: error"), "{rendered}");
    assert!(rendered.contains("^^^^"), "{rendered}");
    let tapped = errors("TapDevice(eth0) -> Discard;");
    assert_eq!(tapped.len(), 1, "{tapped:?}");
}

#[test]
fn bad_arguments() {
    assert_one("Idle -> Queue(0) -> Discard;", "bad Queue argument CAPACITY '0': must be between 1");
    assert_one("Idle -> Queue(lots) -> Discard;", "expected an integer");
    assert_one("Idle -> Strip -> Discard;", "missing its required argument LENGTH");
    assert_one("Idle -> Queue(SIZE 5) -> Discard;", "Queue has no keyword argument 'SIZE'");
    assert_one("Idle -> Queue(5, 6) -> Discard;", "too many arguments");
    assert_one("Idle -> Queue(5, CAPACITY 6) -> Discard;", "CAPACITY is given twice");
    assert_one("Idle -> EtherEncap(0x0800, 1:2:3:4:5, 0:0:0:0:0:0) -> Discard;", "Ethernet address");
    assert_one("Idle -> Classifier(12/08x0) -> Discard;", "bad Classifier pattern");
    assert_one("Idle -> IPClassifier(tcp port) -> Discard;", "bad IPClassifier expression");
    assert_one("Idle -> BandwidthShaper(fast) -> Discard;", "bandwidth");
    assert_one("Idle -> IPEncap(gre, 1.2.3.4, 5.6.7.256) -> Discard;", "IPv4");
    assert_one("Idle -> Unqueue(ACTIVE maybe) -> Discard;", "boolean");
    assert_one("Idle -> Classifier;", "needs at least 1 pattern");
    assert_eq!(errors("Idle -> Queue(CAPACITY 5) -> Unqueue(ACTIVE false) -> Discard;"), Vec::<String>::new());
}

#[test]
fn icmp_types_and_codes() {
    assert_one("Idle -> ICMPError(1.2.3.4, echo) -> Discard;", "bad ICMPError argument TYPE 'echo': expected an ICMP error type");
    assert_one("Idle -> ICMPError(1.2.3.4, 8) -> Discard;", "expected an ICMP error type");
    assert_one("Idle -> ICMPError(1.2.3.4, timeexceeded, needfrag) -> Discard;", "'needfrag': not a code of ICMP type 11 (timeexceeded)");
    assert_one("Idle -> ICMPError(1.2.3.4, unreachable, sideways) -> Discard;", "expected an ICMP code 0-255");
    assert_one("Idle -> ICMPError(1.2.3.4, unreachable, 256) -> Discard;", "expected an ICMP code 0-255");
    assert_one("Idle -> ICMPError(1.2.3.4, unreachable, MTU 67) -> Discard;", "bad ICMPError argument MTU '67'");
    for good in ["timeexceeded", "timeexceeded, reassembly", "3, needfrag, PMTU 1400", "unreachable, 99, 10.0.0.255 10.255.255.255", "parameterproblem, SET_FIX_ANNO false", "redirect, toshost, MTU 68"] {
        assert_eq!(errors(&format!("Idle -> ICMPError(1.2.3.4, {good}) -> Discard;")), Vec::<String>::new(), "{good}");
    }
    // The error points at the code, and says which codes the type has.
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    vdp_click::check_text(&mut sources, "t.click", "Idle -> ICMPError(1.2.3.4, redirect, port) -> Discard;", &CheckOptions::default(), &mut diagnostics);
    let error = &diagnostics.items[0];
    assert!(sources.render(error).starts_with("t.click:1:38: error"), "{}", sources.render(error));
    assert!(error.notes[0].contains("net (0), host (1), tosnet (2), toshost (3)"), "{error:?}");
}

#[test]
fn undeclared_and_duplicate_elements() {
    assert_one("a -> Discard;", "undeclared element 'a'");
    assert_one("a :: Idle; a :: Idle; a -> Discard;", "already declared");
}

#[test]
fn ports_out_of_range_and_unconnected() {
    assert_one("Idle -> c :: Counter; c [1] -> Discard; c -> Discard;", "output port 1 is out of range");
    assert_one("Idle -> c :: Classifier(12/0800, -); c [0] -> Discard;", "output 1 of 'c' (Classifier) is not connected (one per pattern)");
    assert_one("Idle -> c :: Classifier(-); c [0] -> Discard; c [1] -> Discard;", "output port 1 is out of range");
    assert_one("c :: Counter -> Discard;", "input 0 of 'c' (Counter) is not connected");
    assert_one("Idle -> t :: Tee(3); t [0] -> Discard; t [1] -> Discard;", "output 2 of 't' (Tee) is not connected (N is 3)");
    assert_one(
        "Idle -> r :: RadixIPLookup(10.0.0.0/8 2, 0.0.0.0/0 0); r [0] -> Discard; r [2] -> Discard;",
        "output 1 of 'r' (RadixIPLookup) is not connected",
    );
    let found = errors("FromDevice(eth0) -> [1] Counter -> Discard;");
    assert!(found.iter().any(|e| e.contains("input port 1 is out of range")), "{found:?}");
}

#[test]
fn push_pull_conflicts() {
    assert_one("FromDevice(eth0) -> ToDevice(eth0);", "push/pull conflict: push output 0 of 'FromDevice@1'");
    let found = errors("FromDevice(eth0) -> q :: Queue -> c :: Counter -> Discard; Idle -> [0] c;");
    assert!(found.iter().any(|e| e.contains("pull input 0 of 'c' is connected 2 times")), "{found:?}");
    assert_one("f :: FromDevice(eth0); f -> Discard; f -> Discard;", "push output 0 of 'f' is connected 2 times");
    let valid = "q :: Queue; FromDevice(eth0) -> Counter -> q -> Counter -> Unqueue -> Discard; q2 :: Queue; Idle -> q2 -> Counter -> ToDevice(eth0);";
    assert_eq!(errors(valid), Vec::<String>::new());
}

#[test]
fn push_and_pull_cycles() {
    assert_one("FromDevice(eth0) -> a :: Counter -> b :: Tee(2); b [0] -> Discard; b [1] -> [0] a;", "");
    let found = errors("Idle -> a :: Counter -> b :: Tee(2); b [0] -> Discard; b [1] -> a;");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("push-only cycle: a -> b -> a"), "{found:?}");
    let found = errors("q :: Queue -> s :: BandwidthShaper(1000) -> t :: BandwidthShaper(10) -> ToDevice(eth0); Idle -> q; s2 :: BandwidthShaper(5); t2 :: BandwidthShaper(5); s2 -> t2 -> s2;");
    assert!(found.iter().any(|e| e.starts_with("pull-only cycle")), "{found:?}");
}

#[test]
fn devices_must_belong_to_the_tenant() {
    let options = CheckOptions { devices: Some(vec!["eth1".into()]), ..CheckOptions::default() };
    assert_eq!(errors_with("FromDevice(eth1) -> Queue -> ToDevice(eth1);", &options), Vec::<String>::new());
    let found = errors_with("FromDevice(eth3) -> Queue -> ToDevice(eth1);", &options);
    assert_eq!(found, ["device 'eth3' is not assigned to this tenant"]);
    assert_one("FromDevice(eth0) -> Discard; FromDevice(eth0) -> Discard;", "both FromDevice elements for device 'eth0'");
}

#[test]
fn resource_limits() {
    let options = CheckOptions {
        limits: Limits { max_elements: 3, max_queue_capacity: 100, max_table_entries: 1, ..Limits::default() },
        ..CheckOptions::default()
    };
    let found = errors_with("Idle -> Queue(101) -> Unqueue -> LinearIPLookup(1.0.0.0/8 0, 2.0.0.0/8 0) -> Discard;", &options);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().any(|e| e.contains("has 5 elements; the limit is 3")));
    assert!(found.iter().any(|e| e.contains("101 packets of queue; the limit is 100")));
    assert!(found.iter().any(|e| e.contains("2 table entries; the limit is 1")));
}

#[test]
fn scheduling_targets() {
    assert_eq!(errors("u :: Unqueue; Idle -> Queue -> u -> Discard; StaticThreadSched(u 1); ScheduleInfo(u 0.5);"), Vec::<String>::new());
    assert_one("c :: Counter; Idle -> c -> Discard; StaticThreadSched(c 0);", "schedules 'c', which is not a task");
    assert_one("u :: Unqueue; Idle -> Queue -> u -> Discard; StaticThreadSched(u 9);", "threads are numbered 0 to 3");
    assert_one("StaticThreadSched(nothing 0);", "refers to 'nothing'");
}

#[test]
fn coordinator_classes_are_reserved() {
    assert_one("Idle -> GREEncap(0x0800) -> Discard;", "reserved for the coordinator");
}

#[test]
fn every_error_of_a_file_is_reported() {
    let found = errors("a :: Qeue; b :: Strip; FromDevice(eth0) -> ToDevice(eth0); x -> Discard; Idle -> Queue(-1) -> Discard;");
    assert!(found.len() >= 5, "{found:?}");
}

#[test]
fn agnostic_elements_take_their_neighbours_mode() {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let (_, graph) = vdp_click::check_text(
        &mut sources,
        "t.click",
        "FromDevice(eth0) -> a :: Counter -> Queue -> b :: Counter -> ToDevice(eth0);",
        &CheckOptions::default(),
        &mut diagnostics,
    );
    assert!(!diagnostics.has_errors());
    use vdp_core::catalog::Processing::{Pull, Push};
    let a = &graph.elements[graph.find("a").unwrap()];
    let b = &graph.elements[graph.find("b").unwrap()];
    assert_eq!((a.input_modes[0], a.output_modes[0]), (Push, Push));
    assert_eq!((b.input_modes[0], b.output_modes[0]), (Pull, Pull));
}

#[test]
fn names_the_coordinator_gives_what_it_adds_are_reserved() {
    assert_one("Idle -> tx@shaper :: Counter -> Discard;", "element name 'tx@shaper' is reserved for the coordinator");
    assert_one("Idle -> c@split_queue :: Queue -> Discard;", "element name 'c@split_queue' is reserved for the coordinator");
    assert_one("elementclass E { input -> x@y :: Counter -> output } Idle -> e :: E -> Discard;", "'e/x@y' is reserved");
    // Click's own anonymous names, and names written like them, stay the tenant's.
    assert_eq!(errors("Idle -> Counter -> Counter@9 :: Counter -> Discard;"), Vec::<String>::new());
    assert!(vdp_click::check::is_reserved_name("a/b@"));
    assert!(!vdp_click::check::is_reserved_name("a/Counter@12"));
    // The merged graph (the coordinator's own check) allows them.
    let merged = CheckOptions { coordinator: true, ..CheckOptions::default() };
    assert_eq!(errors_with("Idle -> tx@shaper :: Counter -> Discard;", &merged), Vec::<String>::new());
}

#[test]
fn a_click_class_left_out_is_refused_with_its_reason() {
    for entry in vdp_click::unsupported::UNSUPPORTED {
        let mut sources = Sources::new();
        let mut diagnostics = Diagnostics::default();
        let text = format!("Idle -> x :: {} -> Discard;", entry.class);
        vdp_click::check_text(&mut sources, "t.click", &text, &CheckOptions::default(), &mut diagnostics);
        let errors: Vec<_> = diagnostics.items.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 1, "{}: {errors:?}", entry.class);
        let error = errors[0];
        assert!(error.message.contains(&format!("'{}' is a Click class vdp does not support", entry.class)), "{error:?}");
        assert!(error.message.ends_with(entry.reason.summary()), "{error:?}");
        assert!(error.notes.iter().all(|n| !n.contains("did you mean")), "{error:?}");
        assert!(sources.render(error).starts_with("t.click:1:14: error"), "{}", sources.render(error));
    }
}

#[test]
fn click_positional_forms_and_units_of_its_sample_configurations() {
    // PollDevice's PROMISC and BURST by position, CheckIPHeader's OFFSET by position, and a
    // bandwidth in B/s, as Click's own configurations write them.
    let text = "PollDevice(eth0, true, 16) -> CheckIPHeader(14, CHECKSUM false) -> Queue -> BandwidthShaper(131072B/s) -> ToDevice(eth1);";
    assert_eq!(errors(text), Vec::<String>::new());
    assert_eq!(vdp_core::click_value::parse_bandwidth("131072B/s"), Ok(131_072));
    assert_eq!(vdp_core::click_value::parse_bandwidth("8kb/s"), Ok(1_000));
    assert_one("FromDevice(eth0) -> CheckIPHeader(10.0.0.1) -> Discard;", "OFFSET");
}
