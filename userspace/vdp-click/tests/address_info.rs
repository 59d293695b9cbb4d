//! AddressInfo in the front end: names resolved by the kind of address each argument takes,
//! the suffixes, compound scoping, errors at `file:line:col` (each reported once), and tenants
//! whose names never reach each other.

mod common;

use vdp_click::check::CheckOptions;
use vdp_click::flatten::FlatGraph;
use vdp_click::source::{Diagnostics, Sources};

/// Checks `text`; returns the resolved graph, and the rendered errors.
fn check(text: &str) -> (FlatGraph, Vec<String>) {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let (flat, _) = vdp_click::check_text(&mut sources, "t.click", text, &CheckOptions::default(), &mut diagnostics);
    let errors = diagnostics.items.iter().filter(|d| d.is_error()).map(|d| sources.render(d)).collect();
    (flat, errors)
}

/// The argument texts of element `name` after resolution.
fn args_of(flat: &FlatGraph, name: &str) -> Vec<String> {
    let index = flat.find(name).unwrap_or_else(|| panic!("no element {name}"));
    flat.elements[index].args.iter().map(|a| a.text.clone()).collect()
}

const NAMES: &str = "AddressInfo(me 10.0.0.1/24 02:00:00:00:00:01, gw 10.0.0.254, peer 02-00-00-00-00-09, far 10.1.0.0/16);\n";

#[test]
fn each_argument_takes_the_kind_it_needs() {
    let text = format!(
        "{NAMES}\
         FromDevice(eth0) -> c :: Classifier(12/0806 20/0002, 12/0806 20/0001, -);\n\
         c[0] -> [1] q :: ARPQuerier(me);\n\
         c[1] -> ar :: ARPResponder(me, far 02:00:00:00:00:05, me:ipnet peer) -> Discard;\n\
         c[2] -> Strip(14) -> ck :: CheckIPHeader(INTERFACES me:ipnet) -> rt :: RadixIPLookup(far gw 0, me:ipnet 1, 0.0.0.0/0 gw:ip 0);\n\
         rt[0] -> ip :: IPEncap(gre, me, gw) -> [0] q; rt[1] -> e :: EtherEncap(0x0800, me:eth, peer) -> Discard;\n\
         q -> q2 :: ARPQuerier(me:ip, me:eth, BROADCAST me:bcast, TIMEOUT 10s) -> Discard; Idle -> [1] q2;\n\
         q2b :: ARPQuerier(me/16, peer); Idle -> q2b -> Discard; Idle -> [1] q2b;\n\
         gwq :: ARPQuerier(far:gw, peer); Idle -> gwq -> Discard; Idle -> [1] gwq;"
    );
    let (flat, errors) = check(&text);
    assert!(errors.is_empty(), "{}", errors.concat());
    assert!(flat.elements.iter().all(|e| e.class != "AddressInfo"), "the declaration is gone");
    // A lone name where an IP and an Ethernet address are expected stands for both; a prefix
    // argument prefers the address, as a /32.
    assert_eq!(args_of(&flat, "q"), ["10.0.0.1/32", "02:00:00:00:00:01"]);
    assert_eq!(args_of(&flat, "ar"), ["10.0.0.1/32 02:00:00:00:00:01", "10.1.0.0/16 02:00:00:00:00:05", "10.0.0.1/24 02:00:00:00:00:09"]);
    assert_eq!(args_of(&flat, "ck"), ["INTERFACES 10.0.0.1/24"]);
    assert_eq!(args_of(&flat, "rt"), ["10.1.0.0/16 10.0.0.254 0", "10.0.0.1/24 1", "0.0.0.0/0 10.0.0.254 0"]);
    assert_eq!(args_of(&flat, "ip"), ["gre", "10.0.0.1", "10.0.0.254"]);
    assert_eq!(args_of(&flat, "e"), ["0x0800", "02:00:00:00:00:01", "02:00:00:00:00:09"]);
    assert_eq!(args_of(&flat, "q2"), ["10.0.0.1/32", "02:00:00:00:00:01", "BROADCAST 10.0.0.255", "TIMEOUT 10s"]);
    assert_eq!(args_of(&flat, "q2b"), ["10.0.0.1/16", "02:00:00:00:00:09"]);
    assert_eq!(args_of(&flat, "gwq"), ["10.1.0.1/32", "02:00:00:00:00:09"]);
}

#[test]
fn literals_are_left_alone_and_suffixes_ignore_case() {
    let text = format!("{NAMES}Idle -> e :: EtherEncap(0x0800, 0a:0b:0c:0d:0e:0f, PEER:ETH) -> Discard;");
    let (_, errors) = check(&text);
    assert_eq!(errors.len(), 1, "names are case-sensitive: {}", errors.concat());
    let text = format!("{NAMES}Idle -> e :: EtherEncap(0x0800, 0a:0b:0c:0d:0e:0f, peer:ETH) -> Discard;");
    let (flat, errors) = check(&text);
    assert!(errors.is_empty(), "{}", errors.concat());
    assert_eq!(args_of(&flat, "e"), ["0x0800", "0a:0b:0c:0d:0e:0f", "02:00:00:00:00:09"]);
}

#[test]
fn an_unknown_name_is_one_error_at_its_argument() {
    let text = format!("{NAMES}Idle -> EtherEncap(0x0800, me, nobody) -> Discard;");
    let (_, errors) = check(&text);
    assert_eq!(errors.len(), 1, "{}", errors.concat());
    assert!(
        errors[0].starts_with("t.click:2:32: error: bad EtherEncap argument DST 'nobody': 'nobody' is not an Ethernet address and no AddressInfo in scope names it"),
        "{}",
        errors[0]
    );
    // Without any AddressInfo, the same.
    let (_, errors) = check("Idle -> IPEncap(gre, 10.0.0.1, gateway) -> Discard;");
    assert_eq!(errors.len(), 1, "{}", errors.concat());
    assert!(errors[0].contains("1:32: error: bad IPEncap argument DST 'gateway': 'gateway' is not an IPv4 address"), "{}", errors[0]);
}

#[test]
fn a_name_without_the_kind_needed_is_an_error_naming_its_declaration() {
    let text = format!("{NAMES}Idle -> EtherEncap(0x0800, gw, peer) -> IPEncap(gre, peer, far:ip) -> Discard;");
    let (_, errors) = check(&text);
    assert_eq!(errors.len(), 3, "{}", errors.concat());
    assert!(errors[0].contains("2:28: error: bad EtherEncap argument SRC 'gw': 'gw' names no Ethernet address"), "{}", errors[0]);
    assert!(errors[0].contains("note: 'gw' is declared at t.click:1:47 with: IPv4 address 10.0.0.254"), "{}", errors[0]);
    assert!(errors[1].contains("bad IPEncap argument SRC 'peer': 'peer' names no IPv4 address"), "{}", errors[1]);
    assert!(errors[1].contains("with: Ethernet address 02:00:00:00:00:09"), "{}", errors[1]);
    assert!(errors[2].contains("bad IPEncap argument DST 'far:ip': 'far' names no IPv4 address"), "{}", errors[2]);
    // A suffix that is none of Click's, and :bcast of a name without a prefix.
    let text = format!("{NAMES}Idle -> IPEncap(gre, me:mac, gw:bcast) -> Discard;");
    let (_, errors) = check(&text);
    assert_eq!(errors.len(), 2, "{}", errors.concat());
    assert!(errors[0].contains("':mac' is not an address suffix of 'me'"), "{}", errors[0]);
    assert!(errors[1].contains("'gw' names no IPv4 prefix"), "{}", errors[1]);
}

#[test]
fn bad_declarations_are_reported() {
    let (_, errors) = check("AddressInfo(lonely, 9lives 10.0.0.1, x 10.0.0.1 nonsense, , y 1.2.3.4);\nIdle -> Discard;");
    assert_eq!(errors.len(), 3, "{}", errors.concat());
    assert!(errors[0].contains("1:13: error: bad AddressInfo entry 'lonely': 'lonely' is given no address"), "{}", errors[0]);
    assert!(errors[1].contains("'9lives' cannot be an address name"), "{}", errors[1]);
    assert!(errors[2].contains("'nonsense' is not an IPv4 address, an IPv4 prefix or an Ethernet address"), "{}", errors[2]);
    let (_, errors) = check("i :: AddressInfo(a 10.0.0.1);\nIdle -> i;");
    assert_eq!(errors.len(), 1, "{}", errors.concat());
    assert!(errors[0].contains("'i' is an AddressInfo, which has no ports"), "{}", errors[0]);
}

#[test]
fn names_are_scoped_by_compound() {
    let text = "AddressInfo(outer 10.0.0.1, both 10.0.0.2);\n\
                elementclass Box { AddressInfo(inner 10.9.0.1, both 10.9.0.2);\n\
                  input -> a :: IPEncap(gre, outer, inner) -> b :: IPEncap(gre, both, both) -> output }\n\
                x :: Box; Idle -> x -> c :: IPEncap(gre, outer, both) -> Discard;";
    let (flat, errors) = check(text);
    assert!(errors.is_empty(), "{}", errors.concat());
    assert_eq!(args_of(&flat, "x/a"), ["gre", "10.0.0.1", "10.9.0.1"]);
    assert_eq!(args_of(&flat, "x/b"), ["gre", "10.9.0.2", "10.9.0.2"], "the innermost declaration wins");
    assert_eq!(args_of(&flat, "c"), ["gre", "10.0.0.1", "10.0.0.2"]);
    // A compound's names are its own.
    let (_, errors) = check(&format!("{text}\nIdle -> IPEncap(gre, inner, outer) -> Discard;"));
    assert_eq!(errors.len(), 1, "{}", errors.concat());
    assert!(errors[0].contains("'inner' is not an IPv4 address and no AddressInfo in scope names it"), "{}", errors[0]);
}

#[test]
fn later_declarations_add_kinds_and_replace_them() {
    let text = "AddressInfo(h 10.0.0.1); AddressInfo(h 02:00:00:00:00:07, h 10.0.0.2);\nIdle -> ip :: IPEncap(gre, h, h) -> e :: EtherEncap(0x0800, h, h) -> Discard;";
    let (flat, errors) = check(text);
    assert!(errors.is_empty(), "{}", errors.concat());
    assert_eq!(args_of(&flat, "ip"), ["gre", "10.0.0.2", "10.0.0.2"]);
    assert_eq!(args_of(&flat, "e"), ["0x0800", "02:00:00:00:00:07", "02:00:00:00:00:07"]);
}

/// The merge of `inputs`, and its rendered diagnostics.
fn merge(inputs: &[(&str, &str)]) -> (Option<vdp_click::Merged>, String) {
    let (result, sources, diagnostics) = common::merge_example(inputs);
    (result, sources.render_all(&diagnostics))
}

#[test]
fn tenants_names_stay_their_own() {
    let red = "AddressInfo(gw 10.0.0.1 02:00:00:00:00:0a);\nFromDevice(eth1) -> Strip(14) -> e :: EtherEncap(0x0800, gw, gw) -> Queue -> ToDevice(eth2);";
    let blue_same_name = "AddressInfo(gw 10.0.0.2 02:00:00:00:00:0b);\nFromDevice(eth1) -> Strip(14) -> e :: EtherEncap(0x0800, gw, gw) -> Queue -> ToDevice(eth2);";
    let (result, rendered) = merge(&[("red", red), ("blue", blue_same_name)]);
    let merged = result.unwrap_or_else(|| panic!("{rendered}"));
    let arg = |name: &str| args_of(&merged.flat, name);
    assert_eq!(arg("red/e"), ["0x0800", "02:00:00:00:00:0a", "02:00:00:00:00:0a"]);
    assert_eq!(arg("blue/e"), ["0x0800", "02:00:00:00:00:0b", "02:00:00:00:00:0b"]);
    assert!(merged.flat.elements.iter().all(|e| e.class != "AddressInfo"));
    // The merged text holds addresses only.
    let text = vdp_click::print::to_click(&merged.flat, "merged");
    assert!(!text.contains("gw"), "{text}");
    // blue may not use a name only red declares.
    let blue_borrowing = "FromDevice(eth1) -> Strip(14) -> e :: EtherEncap(0x0800, gw, gw) -> Queue -> ToDevice(eth2);";
    let (result, rendered) = merge(&[("red", red), ("blue", blue_borrowing)]);
    assert!(result.is_none());
    assert!(rendered.contains("blue.click:1:58: error: bad EtherEncap argument SRC 'gw': 'gw' is not an Ethernet address and no AddressInfo in scope names it"), "{rendered}");
    assert!(!rendered.contains("red.click"), "{rendered}");
}
