//! The kernel's validator against hostile blobs: push and pull cycles, and call chains longer
//! than the kernel's stack allows; and the front end's splitting of long chains.

use vdp_click::check::CheckOptions;
use vdp_click::source::{Diagnostics, Sources};
use vdp_click::system::SystemConfig;
use vdp_core::compiled_graph::{FormatError, MAX_CALL_DEPTH};

/// Checks, splits (or not) and compiles `text` as one graph; returns the blob and the analysis.
fn compile(text: &str, split_deep: bool) -> (Vec<u8>, vdp_click::check::CheckedGraph, vdp_click::tasks::Analysis) {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let mut options = CheckOptions::default();
    options.limits.max_elements = 10_000;
    let (mut flat, _) = vdp_click::check_text(&mut sources, "t.click", text, &options, &mut diagnostics);
    assert!(!diagnostics.has_errors(), "{}", sources.render_all(&diagnostics));
    let (checked, analysis) = vdp_click::tasks::analyze_and_split_depth(&mut flat, &options, u64::MAX, split_deep).unwrap();
    let system = SystemConfig::parse("").unwrap();
    let blob = vdp_click::compile::compile(&checked, &system).unwrap();
    (blob, checked, analysis)
}

/// Rewrites the target of connection `index` (in graph order) in a blob.
fn retarget(blob: &mut [u8], index: usize, to: u32, to_port: u16) {
    let word = |at: usize| u32::from_le_bytes(blob[at..at + 4].try_into().unwrap()) as usize;
    let (connections, tasks) = (word(24), word(28));
    let at = blob.len() - 12 * tasks - 12 * (connections - index);
    blob[at + 6..at + 10].copy_from_slice(&to.to_le_bytes());
    blob[at + 10..at + 12].copy_from_slice(&to_port.to_le_bytes());
}

fn connection(graph: &vdp_click::check::CheckedGraph, from: &str, from_port: u16) -> usize {
    let from = graph.find(from).unwrap();
    graph.connections.iter().position(|c| c.from == from && c.from_port == from_port).unwrap()
}

fn chain(counters: usize) -> String {
    let mut text = String::from("src :: InfiniteSource");
    for i in 0..counters {
        text.push_str(&format!(" -> c{i} :: Counter"));
    }
    text.push_str(" -> Discard;");
    text
}

#[test]
fn the_tee_example_edited_into_a_push_cycle_is_refused_naming_an_element() {
    let (mut blob, graph, _) = compile("src :: InfiniteSource -> c :: Counter -> t :: Tee(2); t[0] -> d :: Discard; t[1] -> d;", true);
    vdp_click::compile::validate(&blob).unwrap();
    let last = connection(&graph, "t", 1);
    assert_eq!(last, graph.connections.len() - 1, "t[1] -> d is the last connection record");
    retarget(&mut blob, last, graph.find("c").unwrap() as u32, 0);
    let (error, text) = vdp_click::compile::validate_explained(&blob).map(|_| ()).unwrap_err();
    assert!(matches!(error, FormatError::PushCycle { .. }), "{error:?}");
    assert!(text.contains("push cycle through element 'c'") || text.contains("push cycle through element 't'"), "{text}");
}

#[test]
fn a_pull_cycle_is_refused_naming_an_element() {
    let text = "Idle -> q :: Queue -> a :: Counter -> b :: Counter -> u :: Unqueue -> Discard; q -> Discard;";
    let (mut blob, graph, _) = compile(text, true);
    vdp_click::compile::validate(&blob).unwrap();
    // q -> a becomes b -> a: a pulls from b, which pulls from a.
    let q_to_a = connection(&graph, "q", 0);
    assert_eq!(graph.connections[q_to_a].to, graph.find("a").unwrap());
    let word = |blob: &[u8], at: usize| u32::from_le_bytes(blob[at..at + 4].try_into().unwrap()) as usize;
    let at = blob.len() - 12 * word(&blob, 28) - 12 * (word(&blob, 24) - q_to_a);
    blob[at..at + 4].copy_from_slice(&(graph.find("b").unwrap() as u32).to_le_bytes());
    let (error, text) = vdp_click::compile::validate_explained(&blob).map(|_| ()).unwrap_err();
    assert!(matches!(error, FormatError::PullCycle { .. }), "{error:?}");
    assert!(text.contains("pull cycle through element 'a'") || text.contains("pull cycle through element 'b'"), "{text}");
}

#[test]
fn a_chain_at_the_bound_is_accepted_and_one_past_it_refused() {
    // The source and the Discard count: MAX_CALL_DEPTH elements in all.
    let at_bound = MAX_CALL_DEPTH as usize - 2;
    let (blob, _, analysis) = compile(&chain(at_bound), false);
    vdp_click::compile::validate(&blob).unwrap();
    assert_eq!(analysis.deepest, Some(("src".to_string(), MAX_CALL_DEPTH)));
    let (blob, _, _) = compile(&chain(at_bound + 1), false);
    let (error, text) = vdp_click::compile::validate_explained(&blob).map(|_| ()).unwrap_err();
    assert_eq!(error, FormatError::ChainTooLong { element: 0, depth: MAX_CALL_DEPTH + 1, pull: false });
    assert_eq!(text, format!("push chain from 'src' is {} elements deep, over {MAX_CALL_DEPTH}", MAX_CALL_DEPTH + 1));
}

#[test]
fn a_4096_element_chain_is_refused_unless_split() {
    let (blob, _, analysis) = compile(&chain(4094), false);
    assert_eq!(analysis.deepest.as_ref().map(|d| d.1), Some(4096));
    assert!(vdp_click::tasks::explain(&analysis).contains("TOO DEEP"));
    let (error, _) = vdp_click::compile::validate_explained(&blob).map(|_| ()).unwrap_err();
    assert_eq!(error, FormatError::ChainTooLong { element: 0, depth: 4096, pull: false });
}

#[test]
fn the_front_end_splits_long_push_and_pull_chains() {
    let (blob, graph, analysis) = compile(&chain(200), true);
    vdp_click::compile::validate(&blob).unwrap();
    assert!(!analysis.depth_splits.is_empty());
    assert!(analysis.deepest.as_ref().is_some_and(|d| d.1 <= MAX_CALL_DEPTH), "{analysis:?}");
    let explained = vdp_click::tasks::explain(&analysis);
    assert!(explained.contains(&format!("split the push call chain from src (202 elements, more than the kernel's {MAX_CALL_DEPTH})")), "{explained}");
    // The inserted elements are the root's.
    assert!(graph.elements.iter().filter(|e| e.name.contains("@split_")).all(|e| e.root));
    let compiled = vdp_click::compile::validate(&blob).unwrap();
    assert!(compiled.elements().filter(|e| e.name.contains("@split_")).all(|e| e.owner == vdp_core::compiled_graph::OWNER_ROOT));
    // (Without tenants every element is the coordinator's; tests/merge.rs checks tenant owners.)

    let mut pull = String::from("Idle -> q :: Queue");
    for i in 0..100 {
        pull.push_str(&format!(" -> p{i} :: Counter"));
    }
    pull.push_str(" -> ToDevice(eth0);");
    let (blob, _, analysis) = compile(&pull, true);
    vdp_click::compile::validate(&blob).unwrap();
    assert!(analysis.depth_splits.iter().any(|s| s.pull), "{analysis:?}");
}
