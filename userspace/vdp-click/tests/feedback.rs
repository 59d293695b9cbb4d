//! Feedback paths: a push-only cycle through ICMPError (Click's router sends its errors back
//! into the route table) gets a queue and a warning; any other push-only cycle is still an error.

use vdp_click::check::CheckOptions;
use vdp_click::flatten::FlatGraph;
use vdp_click::source::{Diagnostics, Sources};

/// Checks `text`; returns the graph and the rendered errors and warnings.
fn check(text: &str) -> (FlatGraph, Vec<String>, Vec<String>) {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let (flat, _) = vdp_click::check_text(&mut sources, "t.click", text, &CheckOptions::default(), &mut diagnostics);
    let (errors, warnings): (Vec<_>, Vec<_>) = diagnostics.items.iter().partition(|d| d.is_error());
    let render = |items: Vec<_>| items.into_iter().map(|d| sources.render(d)).collect();
    (flat, render(errors), render(warnings))
}

fn connected(flat: &FlatGraph, from: &str, to: &str) -> bool {
    let (Some(from), Some(to)) = (flat.find(from), flat.find(to)) else { return false };
    flat.connections.iter().any(|c| c.from == from && c.to == to)
}

const ROUTER: &str = "FromDevice(eth0) -> Strip(14) -> CheckIPHeader -> rt :: RadixIPLookup(10.0.0.0/8 0);\n\
                      rt[0] -> dt :: DecIPTTL -> EtherEncap(0x0800, 02:00:00:00:00:01, 02:00:00:00:00:02) -> Queue -> ToDevice(eth1);\n";

#[test]
fn an_icmp_error_sent_back_into_the_route_table_goes_through_a_queue() {
    let (flat, errors, warnings) = check(&format!("{ROUTER}dt[1] -> err :: ICMPError(10.0.0.1, timeexceeded) -> rt;\n"));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("t.click:3:") && warnings[0].contains("'err' feeds back"), "{}", warnings[0]);
    assert!(connected(&flat, "err", "err/feedback_queue"));
    assert!(connected(&flat, "err/feedback_queue", "err/feedback_unqueue"));
    assert!(connected(&flat, "err/feedback_unqueue", "rt"));
    assert!(!connected(&flat, "err", "rt"));
}

#[test]
fn an_icmp_error_that_does_not_loop_is_left_alone() {
    let (flat, errors, warnings) = check(&format!("{ROUTER}dt[1] -> err :: ICMPError(10.0.0.1, timeexceeded) -> Discard;\n"));
    assert!(errors.is_empty() && warnings.is_empty(), "{errors:?} {warnings:?}");
    assert!(flat.find("err/feedback_queue").is_none());
}

#[test]
fn an_icmp_error_behind_a_queue_already_needs_none() {
    let (flat, errors, warnings) = check(&format!("{ROUTER}dt[1] -> err :: ICMPError(10.0.0.1, timeexceeded) -> Queue -> Unqueue -> rt;\n"));
    assert!(errors.is_empty() && warnings.is_empty(), "{errors:?} {warnings:?}");
    assert!(flat.find("err/feedback_queue").is_none());
}

#[test]
fn other_push_only_cycles_are_still_refused() {
    let (_, errors, _) = check(&format!("{ROUTER}dt[1] -> Paint(3) -> rt;\n"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("push-only cycle"), "{}", errors[0]);
}
