//! Push/pull call chains of an element graph: cycles (which would recurse forever) and the
//! longest chain (which bounds the kernel stack a packet needs).
//!
//! A push into an element runs on the caller's stack and may push on out of its push outputs;
//! a pull from an element may pull from its pull inputs and, for Click's `a/ah` classes in pull
//! mode, push out of its push outputs. Push calls never pull. So the calls form two graphs:
//!
//! - push: element A calls B for every connection from a push output of A to B;
//! - pull: element A calls C for every connection from C to a pull input of A, and it may call
//!   the push chain of every push output of A.
//!
//! This is the rule the Click front end uses for push-only and pull-only cycles, at the level of
//! elements: a packet pushed into an element may leave by any of its push outputs, and a pull
//! from an element may reach any of its pull inputs. A cycle in either graph is refused. The
//! depth of an element is the number of elements on the longest nested call chain it starts,
//! itself included: `push_depth` for its push chain, `pull_depth` for everything a pull from it
//! (or a task running it) may nest, which is at least its `push_depth`.
//!
//! The search is an iterative depth-first search over a caller-provided adjacency array
//! ([`build_callees`]); it allocates nothing, recurses nowhere and takes at most one step per
//! node and per edge of each graph.

/// Flag on an adjacency entry: the callee is reached by a pull (it is upstream of a pull input).
pub const PULL_EDGE: u32 = 1 << 31;
const NO_PARENT: u32 = u32::MAX;

const WHITE: u8 = 0;
const GREY: u8 = 1;
const BLACK: u8 = 2;

/// Per-element state of the search; the caller provides one per element.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallNode {
    /// This element's callees: `edges[start .. start + count]`.
    pub start: u32,
    pub count: u32,
    cursor: u32,
    parent: u32,
    state: u8,
    best: u32,
    pub push_depth: u32,
    pub pull_depth: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError {
    /// A push-only cycle passes through this element.
    PushCycle { element: u32 },
    /// A pull-only cycle passes through this element.
    PullCycle { element: u32 },
    /// An adjacency entry or count does not fit the arrays (a caller's bug, or scratch too small).
    Inconsistent,
}

/// The deepest chain of a graph: the element that starts it and its length in elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Deepest {
    pub element: u32,
    pub depth: u32,
    /// Whether the chain starts with pulls (else it is a push chain).
    pub pull: bool,
}

/// Where the search keeps its per-element state: a plain array, or a field of some larger
/// per-element scratch (the validator's).
pub trait CallNodes {
    fn count(&self) -> usize;
    fn node(&self, index: usize) -> Option<&CallNode>;
    fn node_mut(&mut self, index: usize) -> Option<&mut CallNode>;
}

impl CallNodes for [CallNode] {
    fn count(&self) -> usize {
        self.len()
    }
    fn node(&self, index: usize) -> Option<&CallNode> {
        self.get(index)
    }
    fn node_mut(&mut self, index: usize) -> Option<&mut CallNode> {
        self.get_mut(index)
    }
}

/// Fills the adjacency array from `pair_count` pairs `(caller, entry)`, where `entry` is the
/// callee's index, or'ed with [`PULL_EDGE`] for a pull; `pair(nodes, i)` gives pair `i` (it may
/// read the caller's scratch around the nodes). Each pair is asked for twice (count, then
/// place); `edges` needs one slot per pair.
pub fn build_callees<N: CallNodes + ?Sized>(
    nodes: &mut N,
    edges: &mut [u32],
    pair_count: usize,
    pair: impl Fn(&N, usize) -> Option<(u32, u32)>,
) -> Result<(), CallError> {
    for index in 0..nodes.count() {
        *nodes.node_mut(index).ok_or(CallError::Inconsistent)? = CallNode::default();
    }
    for i in 0..pair_count {
        let (caller, _) = pair(nodes, i).ok_or(CallError::Inconsistent)?;
        let node = nodes.node_mut(caller as usize).ok_or(CallError::Inconsistent)?;
        node.count = node.count.checked_add(1).ok_or(CallError::Inconsistent)?;
    }
    let mut next = 0u32;
    for index in 0..nodes.count() {
        let node = nodes.node_mut(index).ok_or(CallError::Inconsistent)?;
        node.start = next;
        next = next.checked_add(node.count).ok_or(CallError::Inconsistent)?;
    }
    if next as usize > edges.len() {
        return Err(CallError::Inconsistent);
    }
    for i in 0..pair_count {
        let (caller, entry) = pair(nodes, i).ok_or(CallError::Inconsistent)?;
        let node = nodes.node_mut(caller as usize).ok_or(CallError::Inconsistent)?;
        if node.cursor >= node.count {
            return Err(CallError::Inconsistent);
        }
        let slot = edges.get_mut(node.start.checked_add(node.cursor).ok_or(CallError::Inconsistent)? as usize).ok_or(CallError::Inconsistent)?;
        *slot = entry;
        node.cursor += 1;
    }
    Ok(())
}

/// Refuses cycles and computes every element's `push_depth` and `pull_depth`; returns the
/// deepest chain. `nodes` and `edges` come from [`build_callees`].
pub fn analyze<N: CallNodes + ?Sized>(nodes: &mut N, edges: &[u32]) -> Result<Deepest, CallError> {
    search(nodes, edges, false)?;
    search(nodes, edges, true)?;
    let mut deepest = Deepest::default();
    for index in 0..nodes.count() {
        let node = nodes.node(index).ok_or(CallError::Inconsistent)?;
        if node.pull_depth > deepest.depth {
            deepest = Deepest { element: index as u32, depth: node.pull_depth, pull: node.pull_depth > node.push_depth };
        }
    }
    Ok(deepest)
}

fn depth_of(node: &CallNode, pull: bool) -> u32 {
    if pull {
        node.pull_depth
    } else {
        node.push_depth
    }
}

/// One depth-first search over the push graph (`pull` false) or the pull graph. In the pull
/// search, push entries are leaves whose depth the push search already knows.
fn search<N: CallNodes + ?Sized>(nodes: &mut N, edges: &[u32], pull: bool) -> Result<(), CallError> {
    for index in 0..nodes.count() {
        let node = nodes.node_mut(index).ok_or(CallError::Inconsistent)?;
        node.state = WHITE;
        node.cursor = 0;
        node.best = 0;
        node.parent = NO_PARENT;
    }
    // Every step advances a cursor over one edge or finishes one node: a hard bound.
    let mut budget = nodes.count().saturating_add(edges.len()).saturating_add(1);
    for root in 0..nodes.count() {
        let current_node = nodes.node_mut(root).ok_or(CallError::Inconsistent)?;
        if current_node.state != WHITE {
            continue;
        }
        current_node.state = GREY;
        let mut current = root as u32;
        loop {
            budget = budget.checked_sub(1).ok_or(CallError::Inconsistent)?;
            let node = *nodes.node(current as usize).ok_or(CallError::Inconsistent)?;
            if node.cursor < node.count {
                let entry = *edges.get(node.start.checked_add(node.cursor).ok_or(CallError::Inconsistent)? as usize).ok_or(CallError::Inconsistent)?;
                let callee_index = entry & !PULL_EDGE;
                let pull_edge = entry & PULL_EDGE != 0;
                let callee = *nodes.node(callee_index as usize).ok_or(CallError::Inconsistent)?;
                let mut best = node.best;
                let mut descend = false;
                if pull_edge && !pull {
                    // The push search does not follow pulls.
                } else if !pull_edge && pull {
                    best = best.max(callee.push_depth);
                } else {
                    match callee.state {
                        WHITE => descend = true,
                        GREY if pull => return Err(CallError::PullCycle { element: callee_index }),
                        GREY => return Err(CallError::PushCycle { element: callee_index }),
                        _ => best = best.max(depth_of(&callee, pull)),
                    }
                }
                let slot = nodes.node_mut(current as usize).ok_or(CallError::Inconsistent)?;
                slot.cursor += 1;
                slot.best = best;
                if descend {
                    let next = nodes.node_mut(callee_index as usize).ok_or(CallError::Inconsistent)?;
                    next.state = GREY;
                    next.parent = current;
                    current = callee_index;
                }
            } else {
                let depth = node.best.saturating_add(1);
                let slot = nodes.node_mut(current as usize).ok_or(CallError::Inconsistent)?;
                slot.state = BLACK;
                if pull {
                    slot.pull_depth = depth;
                } else {
                    slot.push_depth = depth;
                }
                if node.parent == NO_PARENT {
                    break;
                }
                let parent = nodes.node_mut(node.parent as usize).ok_or(CallError::Inconsistent)?;
                parent.best = parent.best.max(depth);
                current = node.parent;
            }
        }
    }
    Ok(())
}

/// Walks the deepest chain that `start` begins (after [`analyze`]): calls `visit(caller, entry)`
/// for each hop, `entry` being the adjacency entry taken. `pull` starts on the pull graph (as a
/// task or a pull does), else on the push graph. At most `depth` hops.
pub fn walk_deepest<N: CallNodes + ?Sized>(nodes: &N, edges: &[u32], start: u32, pull: bool, mut visit: impl FnMut(u32, u32)) {
    let mut current = start;
    let mut in_pull = pull;
    let Some(first) = nodes.node(start as usize) else { return };
    for _ in 0..depth_of(first, pull) {
        let Some(node) = nodes.node(current as usize) else { return };
        let want = depth_of(node, in_pull).saturating_sub(1);
        if want == 0 {
            return;
        }
        let from = node.start as usize;
        let to = from.saturating_add(node.count as usize);
        let next = edges.get(from..to).unwrap_or(&[]).iter().copied().find(|entry| {
            let pull_edge = entry & PULL_EDGE != 0;
            if pull_edge && !in_pull {
                return false;
            }
            nodes.node((entry & !PULL_EDGE) as usize).is_some_and(|callee| depth_of(callee, pull_edge) == want)
        });
        let Some(entry) = next else { return };
        visit(current, entry);
        in_pull = entry & PULL_EDGE != 0;
        current = entry & !PULL_EDGE;
    }
}

#[cfg(test)]
#[path = "../../userspace/vdp-core/unit/call_depth.rs"]
mod tests;
