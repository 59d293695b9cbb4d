//! Merging tenants: the router example for two tenants, renaming, tunnel plumbing, round trip.

mod common;

use common::ROUTER;
use vdp_click::source::{Diagnostics, Sources};

use common::merge_example as merged;

#[test]
fn the_router_example_checks_alone() {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    vdp_click::check_text(&mut sources, "router.click", ROUTER, &Default::default(), &mut diagnostics);
    assert!(diagnostics.items.is_empty(), "{}", sources.render_all(&diagnostics));
}

#[test]
fn two_routers_merge() {
    let (result, sources, diagnostics) = merged(&[("red", ROUTER), ("blue", ROUTER)]);
    let merged = result.unwrap_or_else(|| panic!("{}", sources.render_all(&diagnostics)));
    let graph = &merged.flat;
    for name in ["red/rt", "blue/rt", "red/in1/rx", "blue/out2/tx"] {
        assert!(graph.find(name).is_some(), "{name} missing");
    }
    // Device elements stay the tenant's own: the kernel binds each to its tenant's device.
    let from_devices: Vec<_> = graph.elements.iter().filter(|e| e.class == "FromDevice").map(|e| e.name.as_str()).collect();
    assert_eq!(from_devices, ["red/in1/rx", "red/in2/rx", "blue/in1/rx", "blue/in2/rx"]);
    assert!(graph.elements.iter().all(|e| !e.name.starts_with("phys/")), "no shared elements");
    // red's bandwidth cap adds nothing to the graph: the module holds its devices to it.
    assert!(graph.elements.iter().all(|e| e.class != "BandwidthShaper" && !e.root), "the merge adds no element of its own");
    let count = |tenant: &str| graph.elements.iter().filter(|e| e.name.starts_with(&format!("{tenant}/"))).count();
    assert_eq!(count("red"), count("blue"), "red's cap adds no element");
    // The printed text parses back to the same graph.
    let text = vdp_click::print::to_click(graph, "merged");
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let loaded = vdp_click::load(&mut sources, "merged.click", &text, &mut diagnostics);
    assert!(!diagnostics.has_errors(), "{}", sources.render_all(&diagnostics));
    assert_eq!(loaded.flat.canonical(), graph.canonical());
}

#[test]
fn tenants_may_not_use_devices_they_were_not_given() {
    let (result, sources, diagnostics) = merged(&[("red", "FromDevice(eth3) -> Discard;")]);
    assert!(result.is_none());
    let text = sources.render_all(&diagnostics);
    assert!(text.contains("red.click:1:12: error: device 'eth3' is not assigned to this tenant"), "{text}");
    let (result, _, diagnostics) = merged(&[("green", "Idle -> Discard;")]);
    assert!(result.is_none());
    assert!(diagnostics.items[0].message.contains("'green'"));
}

#[test]
fn heavy_tenants_are_split() {
    let heavy = "FromDevice(eth1) -> Chew(9000) -> Chew(9000) -> Queue -> ToDevice(eth1);";
    let (result, sources, diagnostics) = merged(&[("blue", heavy)]);
    let merged = result.unwrap_or_else(|| panic!("{}", sources.render_all(&diagnostics)));
    assert_eq!(merged.analysis.splits.len(), 1, "{:?}", merged.analysis);
    assert!(merged.analysis.tasks.iter().all(|t| t.cost <= 15_000));
}
