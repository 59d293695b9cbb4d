//! Generators and checks shared by the property tests and the fuzz target.
#![allow(dead_code)]

use proptest::prelude::*;
use vdp_click::check::CheckOptions;
use vdp_click::flatten::{FlatArg, FlatConnection, FlatElement, FlatGraph};
use vdp_click::source::{Diagnostics, Sources};
use vdp_click::system::SystemConfig;

pub const ROUTER: &str = include_str!("../../../../docs/examples/router.click");
pub const SYSTEM: &str = include_str!("../../../../docs/examples/system.toml");

/// Pieces of Click text, valid and not, that the fuzzer strings together.
const VOCABULARY: &[&str] = &[
    "a", "b", "c", "q", "u", "x/y", "::", "->", "[", "]", "0", "1", "2", "7", ";", ",", "{", "}", "|", "(", ")", "elementclass", "input",
    "output", "define($x 3)", "require(vdp)", "require(ns)", "$x", "$y", "Queue", "Queue(2)", "Counter", "Classifier(12/0800, -)",
    "IPClassifier(tcp port 80, udp, -)", "IPClassifier(ip[9:1] & 0x0f > 3)", "Tee(2)", "Tee(0)", "FromDevice(eth0)", "ToDevice(eth0)",
    "Unqueue", "Discard", "Idle", "Strip(14)", "\"", "'", "//", "/*", "*/", "\n", " ", "RadixIPLookup(10.0.0.0/8 1, 0.0.0.0/0 0)",
    "Chew(20000)", "StaticThreadSched(u 1)", "ScheduleInfo(u 0.5)", "InfiniteSource(\\<00 11>, 5)", "RatedSource(\"abc\", 10)",
    "BandwidthShaper(1Mbps)", "Print(\"x\", RATE 5)", "CheckIPHeader(INTERFACES 1.2.3.4/24)", "EtherEncap(0x0800, 0:1:2:3:4:5, 0:1:2:3:4:5)",
    "PollDevice(eth0)", "Qeue", "GREEncap(1)", "elementclass E { input -> Counter -> output }", "E", "E(1)", "@", "$", "=>", "...",
    "u :: Unqueue", "q :: Queue", "FromDevice(eth0) -> q", "q -> u -> Discard", "CheckLength(60)", "DecIPTTL", "HashSwitch(0, 4)",
    "PaintSwitch", "Paint(3)", "RoundRobinSwitch", "LinearIPLookup(1.0.0.0/8 0)", "IPEncap(gre, 1.1.1.1, 2.2.2.2)", "GetIPAddress(16)",
    "AddressInfo(a 10.0.0.1/24 0:1:2:3:4:5)", "AddressInfo(b 10.0.0.9, b 0:1:2:3:4:9)", "ARPResponder(a)", "ARPResponder(a:ipnet b:eth)",
    "ARPQuerier(a)", "[1] ARPQuerier(b, CAPACITY 2)", "IPEncap(gre, a, b:gw)", "EtherEncap(0x0800, a, b)", "a:bcast",
];

fn vocabulary_text() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(VOCABULARY), prop::bool::ANY), 0..40)
        .prop_map(|parts| parts.into_iter().map(|(p, space)| if space { format!("{p} ") } else { p.to_string() }).collect())
}

fn mutated_router() -> impl Strategy<Value = String> {
    prop::collection::vec((0usize..ROUTER.len(), prop::num::u8::ANY, 0u8..3), 1..8).prop_map(|edits| {
        let mut bytes = ROUTER.as_bytes().to_vec();
        for (at, byte, op) in edits {
            let at = at.min(bytes.len().saturating_sub(1));
            match op {
                0 if !bytes.is_empty() => bytes[at] = byte,
                1 if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, byte),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Click-like text: word soup, arbitrary strings, and mutations of the router example.
pub fn click_text() -> impl Strategy<Value = String> {
    prop_oneof![4 => vocabulary_text(), 2 => ".{0,200}", 3 => mutated_router()]
}

/// Everything the front end does with one text; any panic is a bug. Returns whether it was valid.
pub fn exercise(text: &str) -> bool {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let options = CheckOptions::default();
    let (mut flat, _) = vdp_click::check_text(&mut sources, "fuzz.click", text, &options, &mut diagnostics);
    let rendered = sources.render_all(&diagnostics);
    for diagnostic in &diagnostics.items {
        let _ = sources.to_json(diagnostic);
    }
    if diagnostics.has_errors() {
        assert!(rendered.contains("error"), "errors must be rendered");
        return false;
    }
    assert_round_trip(&flat);
    let (checked, _) = vdp_click::tasks::analyze_and_split(&mut flat, &options, 15_000).expect("a valid graph stays valid when split");
    let system = SystemConfig::parse("").expect("empty system config");
    let blob = vdp_click::compile::compile(&checked, &system).expect("a valid graph compiles");
    let compiled = vdp_click::compile::validate(&blob).unwrap_or_else(|e| panic!("compiled graph rejected: {e:?}\n{text}"));
    assert_eq!(compiled.element_count() as usize, checked.elements.len());
    assert_eq!(compiled.elements().count(), checked.elements.len());
    assert_eq!(compiled.connections().count(), checked.connections.len());
    true
}

/// Printing a graph and parsing the text gives the same graph.
pub fn assert_round_trip(flat: &FlatGraph) {
    let text = vdp_click::print::to_click(flat, "round trip");
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let again = vdp_click::load(&mut sources, "printed.click", &text, &mut diagnostics);
    assert!(!diagnostics.has_errors(), "printed text does not parse:\n{}\n{text}", sources.render_all(&diagnostics));
    assert_eq!(again.flat.canonical(), flat.canonical(), "{text}");
}

/// Mutates a byte string: flips, truncations and insertions.
pub fn mutate(blob: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut bytes = blob.to_vec();
    for &(at, byte, op) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = at % bytes.len();
        match op % 4 {
            0 => bytes[at] ^= byte | 1,
            1 => bytes.truncate(at),
            2 => bytes.insert(at, byte),
            _ => {
                bytes.remove(at);
            }
        }
    }
    bytes
}

/// Merges `(tenant, text)` pairs, each as `TENANT.click`; panics with the diagnostics if that fails.
pub fn merge_texts(system: &SystemConfig, inputs: &[(&str, &str)]) -> vdp_click::Merged {
    let inputs: Vec<_> = inputs
        .iter()
        .map(|(t, text)| vdp_click::TenantSource { tenant: t.to_string(), file_name: format!("{t}.click"), text: text.to_string(), catalog: vdp_core::catalog::Catalog::LIBRARY })
        .collect();
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    vdp_click::merge_tenants(&mut sources, system, &inputs, &mut diagnostics).unwrap_or_else(|| panic!("merge fails: {}", sources.render_all(&diagnostics)))
}

/// A compiled blob of the two-tenant router example.
pub fn router_blob() -> Vec<u8> {
    let system = SystemConfig::parse(SYSTEM).expect("example system config");
    let merged = merge_texts(&system, &[("red", ROUTER), ("blue", ROUTER)]);
    vdp_click::compile::compile(&merged.checked, &system).unwrap_or_else(|e| panic!("example compiles: {e:?}"))
}

/// Random flat graphs whose names and arguments are printable, for round-trip properties.
pub fn flat_graph() -> impl Strategy<Value = FlatGraph> {
    let name = "[a-z][a-z0-9_]{0,5}(/[a-z][a-z0-9_@]{0,4}){0,2}";
    let class = prop::sample::select(vec!["Queue", "Counter", "Classifier", "Nonexistent", "Tee", "Print", "InfiniteSource"]);
    let arg = prop::sample::select(vec![
        "5",
        "CAPACITY 10",
        "\"a, b\"",
        "'x,y'",
        "f(a, b)",
        "12/0800 14/45",
        "-",
        "\\<00 ff>",
        "[1, 2]",
        "{x, y}",
        "tcp port 80 or udp",
        "\"quote \\\" inside\"",
        "LABEL \"x\"",
    ]);
    let element = (name, class, prop::collection::vec(arg, 0..4));
    prop::collection::vec(element, 1..12)
        .prop_flat_map(|elements| {
            let mut seen = std::collections::HashSet::new();
            let elements: Vec<_> = elements.into_iter().filter(|(n, _, _)| seen.insert(n.clone()) && vdp_click::print::is_printable_name(n)).collect();
            let count = elements.len().max(1);
            let connection = (0..count, 0u16..4, 0..count, 0u16..4);
            (Just(elements), prop::collection::vec(connection, 0..16))
        })
        .prop_map(|(elements, connections)| FlatGraph {
            elements: elements
                .into_iter()
                .map(|(name, class, args)| FlatElement {
                    name,
                    class: class.to_string(),
                    args: args.into_iter().map(|text| FlatArg { text: text.to_string(), span: None }).collect(),
                    span: None,
                    class_span: None,
                    root: false,
                })
                .collect(),
            connections: connections
                .into_iter()
                .map(|(from, from_port, to, to_port)| FlatConnection { from, from_port, to, to_port, span: None })
                .collect(),
        })
}

/// Merges `(tenant, configuration)` pairs for the tenants of the example system config, as the
/// coordinator does.
pub fn merge_example(inputs: &[(&str, &str)]) -> (Option<vdp_click::Merged>, Sources, Diagnostics) {
    let system = SystemConfig::parse(SYSTEM).expect("example system config is valid");
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let inputs: Vec<vdp_click::TenantSource> = inputs
        .iter()
        .map(|(tenant, text)| vdp_click::TenantSource { tenant: tenant.to_string(), file_name: format!("{tenant}.click"), text: text.to_string(), catalog: vdp_core::catalog::Catalog::LIBRARY })
        .collect();
    let result = vdp_click::merge_tenants(&mut sources, &system, &inputs, &mut diagnostics);
    (result, sources, diagnostics)
}
