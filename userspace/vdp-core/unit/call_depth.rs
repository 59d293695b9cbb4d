//! Unit tests of `kmod/core/call_depth.rs`.

extern crate std;
use super::*;
use std::vec;
use std::vec::Vec;

/// Runs the analysis on `count` elements and `(caller, entry)` pairs.
fn run(count: usize, pairs: &[(u32, u32)]) -> (Result<Deepest, CallError>, Vec<CallNode>, Vec<u32>) {
    let mut nodes = vec![CallNode::default(); count];
    let mut edges = vec![0u32; pairs.len()];
    build_callees(&mut nodes[..], &mut edges, pairs.len(), |_, i| pairs.get(i).copied()).unwrap();
    let result = analyze(&mut nodes[..], &edges);
    (result, nodes, edges)
}

#[test]
fn a_push_chain_has_its_length_as_depth() {
    let pairs: Vec<(u32, u32)> = (0..9).map(|i| (i, i + 1)).collect();
    let (result, nodes, edges) = run(10, &pairs);
    assert_eq!(result, Ok(Deepest { element: 0, depth: 10, pull: false }));
    assert_eq!(nodes[9].push_depth, 1);
    let mut hops = Vec::new();
    walk_deepest(&nodes[..], &edges, 0, true, |caller, entry| hops.push((caller, entry)));
    assert_eq!(hops, pairs);
}

#[test]
fn cycles_are_found_in_either_graph() {
    // 0 -> 1 -> 2 -> 1 by push.
    let (result, _, _) = run(3, &[(0, 1), (1, 2), (2, 1)]);
    assert!(matches!(result, Err(CallError::PushCycle { element: 1 | 2 })), "{result:?}");
    // 0 pulls from 1, 1 from 2, 2 from 0.
    let (result, _, _) = run(3, &[(0, 1 | PULL_EDGE), (1, 2 | PULL_EDGE), (2, PULL_EDGE)]);
    assert!(matches!(result, Err(CallError::PullCycle { .. })), "{result:?}");
    // A push one way and a pull back is no cycle: pushes never pull.
    let (result, _, _) = run(2, &[(0, 1), (1, PULL_EDGE)]);
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn a_pull_nests_the_push_chain_of_its_push_outputs() {
    // 0 (task) pulls from 1; 1 pulls from 2 and pushes to 3 -> 4.
    let (result, nodes, _) = run(5, &[(0, 1 | PULL_EDGE), (1, 2 | PULL_EDGE), (1, 3), (3, 4)]);
    assert_eq!(result, Ok(Deepest { element: 0, depth: 4, pull: true }));
    assert_eq!(nodes[1].pull_depth, 3);
    assert_eq!(nodes[1].push_depth, 3);
}

#[test]
fn fan_outs_that_meet_again_are_walked_once() {
    // A ladder of diamonds: exponential paths, linear work.
    let mut pairs = Vec::new();
    for i in 0..40u32 {
        let (a, b, c, d) = (3 * i, 3 * i + 1, 3 * i + 2, 3 * i + 3);
        pairs.extend([(a, b), (a, c), (b, d), (c, d)]);
    }
    let (result, _, _) = run(121, &pairs);
    assert_eq!(result.map(|d| d.depth), Ok(81));
}

#[test]
fn inconsistent_input_is_an_error_not_a_panic() {
    let mut nodes = [CallNode::default(); 2];
    let mut edges = [0u32; 1];
    let pairs = |list: &'static [(u32, u32)]| move |_: &[CallNode], i: usize| list.get(i).copied();
    assert_eq!(build_callees(&mut nodes[..], &mut edges, 1, pairs(&[(5, 0)])), Err(CallError::Inconsistent));
    assert_eq!(build_callees(&mut nodes[..], &mut edges, 2, pairs(&[(0, 1), (1, 0)])), Err(CallError::Inconsistent));
    assert_eq!(build_callees(&mut nodes[..], &mut edges, 2, pairs(&[(0, 1)])), Err(CallError::Inconsistent));
    build_callees(&mut nodes[..], &mut edges, 1, pairs(&[(0, 7)])).unwrap();
    assert_eq!(analyze(&mut nodes[..], &edges), Err(CallError::Inconsistent));
}
