//! Per-element packet counters (`Graph::element_counters`, the STATS dump's ELEMENT_STATS
//! counters): what the graph runtime counts on each push and pull, the same code as the
//! kernel's.

mod common;

use common::*;
use vdp_core::element::ElementCounters;

/// The counters of the element named `TENANT/name`.
fn counters(run: &Run, name: &str) -> ElementCounters {
    let graph = run.engine.graph();
    let full = format!("{TENANT}/{name}");
    let index = (0..graph.element_count())
        .find(|&i| graph.element(i).is_some_and(|(n, _, _)| n == full.as_bytes()))
        .unwrap_or_else(|| panic!("no element {full}"));
    graph.element_counters(index).expect("counters")
}

fn ip_frame() -> Vec<u8> {
    udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 1000, 2000)
}

fn arp() -> Vec<u8> {
    ether([0x08, 0x06], &[0u8; 28])
}

fn all(run: &Run) -> Vec<(String, ElementCounters)> {
    let graph = run.engine.graph();
    (0..graph.element_count())
        .map(|i| {
            let name = String::from_utf8_lossy(graph.element(i).expect("element").0).into_owned();
            (name, graph.element_counters(i).expect("counters"))
        })
        .collect()
}

#[test]
fn push_and_pull_counts_add_up_along_a_chain() {
    let mut run = Run::config(
        "src :: FromDevice(eth0) -> c :: Counter -> cl :: Classifier(12/0800) -> q :: Queue(100) -> sink :: ToDevice(eth1);",
    );
    for _ in 0..5 {
        run.send("eth0", &ip_frame());
    }
    for _ in 0..2 {
        run.send("eth0", &arp());
    }
    run.run_until(1_000_000);
    assert_eq!(run.take("eth1").len(), 5);
    let at = |name| counters(&run, name);
    // FromDevice: packets come from the device, not an input.
    assert_eq!(at("src"), ElementCounters { packets_in: 0, packets_out: 7, drops: 0, queue: None });
    assert_eq!(at("c"), ElementCounters { packets_in: 7, packets_out: 7, drops: 0, queue: None });
    // The Classifier's one pattern takes the IPv4 frames; it drops the ARP ones.
    assert_eq!(at("cl"), ElementCounters { packets_in: 7, packets_out: 5, drops: 2, queue: None });
    // Pushed in, pulled out by ToDevice.
    assert_eq!(at("q"), ElementCounters { packets_in: 5, packets_out: 5, drops: 0, queue: Some((0, 100)) });
    // ToDevice's packets leave the graph for the device: in, not out.
    assert_eq!(at("sink"), ElementCounters { packets_in: 5, packets_out: 0, drops: 0, queue: None });
    assert_eq!(run.read_int("c", "count"), at("c").packets_in);
}

#[test]
fn a_full_queue_counts_its_drops_and_holds_its_length() {
    let mut run = Run::config("src :: FromDevice(eth0) -> q :: Queue(3) -> u :: Unqueue(ACTIVE false) -> d :: Discard;");
    for _ in 0..5 {
        run.send("eth0", &ip_frame());
    }
    run.run_until(1_000_000);
    assert_eq!(counters(&run, "q"), ElementCounters { packets_in: 5, packets_out: 0, drops: 2, queue: Some((3, 3)) });
    assert_eq!(run.read_int("q", "drops"), 2);
    run.write("u", "active", "true").expect("active");
    run.run_until(2_000_000);
    assert_eq!(counters(&run, "q"), ElementCounters { packets_in: 5, packets_out: 3, drops: 2, queue: Some((0, 3)) });
    assert_eq!(counters(&run, "u"), ElementCounters { packets_in: 3, packets_out: 3, drops: 0, queue: None });
    // Discard's packets end there: all of them are its drops.
    assert_eq!(counters(&run, "d"), ElementCounters { packets_in: 3, packets_out: 0, drops: 3, queue: None });
}

#[test]
fn a_pull_mode_simple_action_counts_both_its_outputs() {
    // CheckLength in pull mode: short packets leave by output 1 (pushed), long ones are
    // returned to the pull.
    let mut run = Run::config(
        "FromDevice(eth0) -> q :: Queue(50) -> cl :: CheckLength(80) -> sink :: ToDevice(eth1); cl[1] -> long :: Counter -> Discard;",
    );
    let long = ether([0x08, 0x00], &[0u8; 100]);
    for _ in 0..4 {
        run.send("eth0", &ip_frame());
        run.send("eth0", &long);
    }
    run.run_until(1_000_000);
    let cl = counters(&run, "cl");
    assert_eq!(cl.packets_in, 8);
    assert_eq!(cl.packets_out, 8);
    assert_eq!(cl.drops, 0);
    assert_eq!(counters(&run, "long").packets_in, 4);
    assert_eq!(counters(&run, "sink").packets_in, 4);
    assert_eq!(counters(&run, "q").packets_out, 8);
}

#[test]
fn a_tee_passes_on_a_copy_per_output() {
    let mut run = Run::config("FromDevice(eth0) -> t :: Tee(3); t[0] -> a :: Discard; t[1] -> b :: Discard; t[2] -> c :: Discard;");
    for _ in 0..4 {
        run.send("eth0", &ip_frame());
    }
    run.run_until(1_000_000);
    assert_eq!(counters(&run, "t"), ElementCounters { packets_in: 4, packets_out: 12, drops: 0, queue: None });
    for sink in ["a", "b", "c"] {
        assert_eq!(counters(&run, sink).drops, 4, "{sink}");
    }
}

#[test]
fn every_packet_in_is_accounted_for_in_a_router() {
    // Elements that neither make nor copy packets: what went in went out, was dropped, or is
    // still queued.
    let mut run = Run::config(
        "FromDevice(eth0) -> c :: Counter -> ch :: CheckIPHeader(14) -> ttl :: DecIPTTL -> q :: Queue(10) -> ToDevice(eth1); ttl[1] -> Discard;",
    );
    for i in 0..30u8 {
        let mut frame = ip_frame();
        if i % 3 == 0 {
            // A broken header checksum: CheckIPHeader drops it.
            frame[24] ^= 0xff;
        }
        run.send("eth0", &frame);
    }
    run.run_until(1_000_000);
    let mut checked = 0;
    for (name, e) in all(&run) {
        let class = run.compiled.elements.iter().find(|(n, _)| format!("{TENANT}/{n}") == name || *n == name).map(|(_, c)| *c);
        if matches!(class, Some("FromDevice" | "ToDevice" | "Discard")) {
            continue;
        }
        let held = e.queue.map_or(0, |(length, _)| length);
        assert_eq!(e.packets_in, e.packets_out + e.drops + held, "{name}: {e:?}");
        checked += 1;
    }
    assert_eq!(checked, 4);
    assert_eq!(counters(&run, "ch").drops, 10);
    assert_eq!(counters(&run, "c").packets_in, 30);
}

#[test]
fn counts_made_on_two_threads_add_up() {
    // Each thread writes its own cells of a counter; the Counter is reached from both.
    let compiled = compile(
        "a :: FromDevice(eth0) -> c :: Counter -> q :: Queue(100) -> ToDevice(eth1); b :: FromDevice(eth2) -> c; StaticThreadSched(a 0, b 1);",
    );
    let mut run = Run::with_threads(compiled, 2);
    assert_eq!(run.engine.graph().thread_count(), 2);
    assert_ne!(run.engine.graph().thread_tasks(0), run.engine.graph().thread_tasks(1));
    for _ in 0..3 {
        run.send("eth0", &ip_frame());
    }
    for _ in 0..4 {
        run.send("eth2", &ip_frame());
    }
    run.run_until(1_000_000);
    assert_eq!(run.take("eth1").len(), 7);
    assert_eq!(counters(&run, "a").packets_out, 3);
    assert_eq!(counters(&run, "b").packets_out, 4);
    assert_eq!(counters(&run, "c"), ElementCounters { packets_in: 7, packets_out: 7, drops: 0, queue: None });
    assert_eq!(counters(&run, "q"), ElementCounters { packets_in: 7, packets_out: 7, drops: 0, queue: Some((0, 100)) });
}
