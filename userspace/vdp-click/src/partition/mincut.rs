//! The assignment of elements to levels that needs the fewest boundaries: a minimum s-t cut
//! (Edmonds–Karp) on a graph built so that a cut's capacity is exactly the number of boundaries
//! the assignment needs.
//!
//! The nodes are groups of elements that must stay together (joined by pull connections or by
//! references; the caller contracts them). A boundary is needed per input port that receives a
//! push connection from a group at the other level: several senders on the other side share it.
//! For an input port of group `v` fed by groups `U`, two auxiliary nodes `a` and `b` are added:
//!
//! - `u -> a` (unbounded) for every `u` in `U`, and `a -> v` (1). If any `u` is in the kernel,
//!   `a` must be too, and the cut pays 1 when `v` is in the container; otherwise `a` goes with
//!   the container and nothing is paid. This is "a kernel-to-container boundary into `v`".
//! - `b -> u` (unbounded) for every `u`, and `v -> b` (1): the same for container to kernel.
//!
//! A port pays for at most one of the two, since `v` is at one level. The minimum over the
//! auxiliary nodes' sides is exactly the port's boundary count, so the minimum cut is the
//! minimum number of boundaries. Among the minimum cuts, the one taken has the largest kernel
//! side: every node that cannot reach the sink in the final residual graph.

use std::collections::VecDeque;

/// Which level a group is pinned to, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pin {
    Free,
    Kernel,
    Container,
}

/// One input port that receives push connections: the receiving group and the sending groups.
#[derive(Clone, Debug)]
pub struct PortFeed {
    pub receiver: usize,
    pub senders: Vec<usize>,
}

/// Capacity of an edge the cut may not take; larger than any cut that does not take one (each
/// port pays at most 1, and a finite cut always exists when no unbounded path joins the pins).
const UNBOUNDED: u64 = u64::MAX / 4;

struct Edge {
    to: usize,
    capacity: u64,
}

struct Network {
    edges: Vec<Edge>,
    adjacency: Vec<Vec<usize>>,
}

impl Network {
    fn new(nodes: usize) -> Network {
        Network { edges: Vec::new(), adjacency: vec![Vec::new(); nodes] }
    }

    fn add_node(&mut self) -> usize {
        self.adjacency.push(Vec::new());
        self.adjacency.len() - 1
    }

    /// An edge and its residual reverse (edge `e ^ 1`).
    fn add(&mut self, from: usize, to: usize, capacity: u64) {
        self.adjacency[from].push(self.edges.len());
        self.edges.push(Edge { to, capacity });
        self.adjacency[to].push(self.edges.len());
        self.edges.push(Edge { to: from, capacity: 0 });
    }

    /// Edmonds–Karp: shortest augmenting paths until none is left. Returns the flow, or `None`
    /// if it reaches `UNBOUNDED` (the pins cannot be separated).
    fn max_flow(&mut self, source: usize, sink: usize) -> Option<u64> {
        let mut flow = 0u64;
        loop {
            let mut arrived_by = vec![usize::MAX; self.adjacency.len()];
            let mut seen = vec![false; self.adjacency.len()];
            seen[source] = true;
            let mut queue = VecDeque::from([source]);
            while let Some(node) = queue.pop_front() {
                if node == sink {
                    break;
                }
                for &edge in &self.adjacency[node] {
                    let to = self.edges[edge].to;
                    if !seen[to] && self.edges[edge].capacity > 0 {
                        seen[to] = true;
                        arrived_by[to] = edge;
                        queue.push_back(to);
                    }
                }
            }
            if !seen[sink] {
                return Some(flow);
            }
            let mut bottleneck = u64::MAX;
            let mut node = sink;
            while node != source {
                let edge = arrived_by[node];
                bottleneck = bottleneck.min(self.edges[edge].capacity);
                node = self.edges[edge ^ 1].to;
            }
            let mut node = sink;
            while node != source {
                let edge = arrived_by[node];
                self.edges[edge].capacity -= bottleneck;
                self.edges[edge ^ 1].capacity += bottleneck;
                node = self.edges[edge ^ 1].to;
            }
            flow = flow.saturating_add(bottleneck);
            if flow >= UNBOUNDED {
                return None;
            }
        }
    }

    /// Nodes that can still reach `sink` in the residual graph.
    fn reaching(&self, sink: usize) -> Vec<bool> {
        let mut reach = vec![false; self.adjacency.len()];
        reach[sink] = true;
        let mut queue = VecDeque::from([sink]);
        while let Some(node) = queue.pop_front() {
            // An edge x -> node with residual capacity is the reverse of one of node's edges.
            for &edge in &self.adjacency[node] {
                let from = self.edges[edge].to;
                if !reach[from] && self.edges[edge ^ 1].capacity > 0 {
                    reach[from] = true;
                    queue.push_back(from);
                }
            }
        }
        reach
    }
}

/// The container side of a minimum cut with the largest kernel side (`true` = container), or
/// `None` if a kernel pin and a container pin are in one group (the caller reports it first).
pub fn min_cut(pins: &[Pin], feeds: &[PortFeed]) -> Option<Vec<bool>> {
    cut(pins, feeds, false, &[])
}

/// [`min_cut`] where packets may cross one way only, from the kernel side to the container
/// side: a container-side sender into a kernel-side port is not a boundary but impossible (its
/// edge `v -> b` is unbounded). The FPGA partition uses it with the FPGA as the kernel side, so
/// the FPGA side is closed upstream: a prefix of the graph. A free group on the container side
/// also costs its `weight` (an edge from the source of that capacity), so that the cut trades
/// one boundary against one weight unit kept on the kernel side. `None` when no finite cut
/// exists.
pub fn min_cut_one_way(pins: &[Pin], feeds: &[PortFeed], weight: &[u64]) -> Option<Vec<bool>> {
    cut(pins, feeds, true, weight)
}

fn cut(pins: &[Pin], feeds: &[PortFeed], one_way: bool, weight: &[u64]) -> Option<Vec<bool>> {
    let groups = pins.len();
    let (source, sink) = (groups, groups + 1);
    let mut network = Network::new(groups + 2);
    for (group, pin) in pins.iter().enumerate() {
        match pin {
            Pin::Free => match weight.get(group) {
                Some(&w) if w > 0 => network.add(source, group, w),
                _ => {}
            },
            Pin::Kernel => network.add(source, group, UNBOUNDED),
            Pin::Container => network.add(group, sink, UNBOUNDED),
        }
    }
    for feed in feeds {
        let senders: Vec<usize> = feed.senders.iter().copied().filter(|s| *s != feed.receiver).collect();
        if senders.is_empty() {
            continue;
        }
        let into_container = network.add_node();
        let into_kernel = network.add_node();
        for &sender in &senders {
            network.add(sender, into_container, UNBOUNDED);
            network.add(into_kernel, sender, UNBOUNDED);
        }
        network.add(into_container, feed.receiver, 1);
        network.add(feed.receiver, into_kernel, if one_way { UNBOUNDED } else { 1 });
    }
    network.max_flow(source, sink)?;
    let reach = network.reaching(sink);
    Some(reach[..groups].to_vec())
}

/// Boundaries an assignment needs: one per port with a sender at the other level.
#[cfg(test)]
pub fn boundaries_needed(container: &[bool], feeds: &[PortFeed]) -> usize {
    feeds.iter().filter(|feed| feed.senders.iter().any(|s| container[*s] != container[feed.receiver])).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(receiver: usize, senders: &[usize]) -> PortFeed {
        PortFeed { receiver, senders: senders.to_vec() }
    }

    #[test]
    fn a_chain_is_cut_next_to_the_container_element() {
        // 0 (kernel) -> 1 -> 2 (container) -> 3 -> 4 (kernel)
        let pins = [Pin::Kernel, Pin::Free, Pin::Container, Pin::Free, Pin::Kernel];
        let feeds = [feed(1, &[0]), feed(2, &[1]), feed(3, &[2]), feed(4, &[3])];
        let container = min_cut(&pins, &feeds).unwrap();
        assert_eq!(container, [false, false, true, false, false]);
        assert_eq!(boundaries_needed(&container, &feeds), 2);
    }

    #[test]
    fn senders_into_one_port_share_a_boundary() {
        // Three kernel senders into one container port: one boundary, not three.
        let pins = [Pin::Kernel, Pin::Kernel, Pin::Kernel, Pin::Container];
        let feeds = [feed(3, &[0, 1, 2])];
        let container = min_cut(&pins, &feeds).unwrap();
        assert_eq!(boundaries_needed(&container, &feeds), 1);
        // A free receiver between them and a container element: cutting before it or after it
        // costs one boundary each, and the tie goes to the kernel.
        let pins = [Pin::Kernel, Pin::Kernel, Pin::Kernel, Pin::Free, Pin::Container];
        let feeds = [feed(3, &[0, 1, 2]), feed(4, &[3])];
        let container = min_cut(&pins, &feeds).unwrap();
        assert_eq!(container, [false, false, false, false, true]);
    }

    #[test]
    fn one_way_keeps_the_kernel_side_closed_upstream() {
        // 0 (kernel) -> 1 -> 2 -> 3 (container), and 0 -> 4 -> 2: two ways into 2. Both ways
        // the cut takes one boundary; one-way, 2 may not be on the kernel side unless 1 and 4
        // are, and the largest kernel side is 0, 1, 2, 4.
        let pins = [Pin::Kernel, Pin::Free, Pin::Free, Pin::Container, Pin::Free];
        let feeds = [feed(1, &[0]), feed(2, &[1, 4]), feed(3, &[2]), feed(4, &[0])];
        assert_eq!(min_cut_one_way(&pins, &feeds, &[]).unwrap(), [false, false, false, true, false]);
        // A container element feeding a free one that feeds the kernel's: the free one must
        // follow the container, and the kernel side may not receive from it at all.
        let pins = [Pin::Container, Pin::Free, Pin::Free];
        let feeds = [feed(1, &[0]), feed(2, &[1])];
        assert_eq!(min_cut_one_way(&pins, &feeds, &[]).unwrap(), [true, true, true]);
        let pins = [Pin::Container, Pin::Kernel];
        assert_eq!(min_cut_one_way(&pins, &[feed(1, &[0])], &[]), None);
        // Where two-way the tie keeps 2 in the kernel, one-way it cannot be (3 feeds it).
        let pins = [Pin::Kernel, Pin::Free, Pin::Free, Pin::Container];
        let feeds = [feed(1, &[0]), feed(2, &[1, 3])];
        assert_eq!(min_cut(&pins, &feeds).unwrap(), [false, false, false, true]);
        assert_eq!(min_cut_one_way(&pins, &feeds, &[]).unwrap(), [false, false, true, true]);
    }

    #[test]
    fn weights_trade_boundaries_for_elements_on_the_kernel_side() {
        // 0 (kernel) -> 1 -> 2, 3, 4 (three outputs of 1, each into a container element).
        let pins = [Pin::Kernel, Pin::Free, Pin::Container, Pin::Container, Pin::Container];
        let feeds = [feed(1, &[0]), feed(2, &[1]), feed(3, &[1]), feed(4, &[1])];
        // Without weights one boundary before 1 beats three after it.
        assert_eq!(min_cut_one_way(&pins, &feeds, &[]).unwrap(), [false, true, true, true, true]);
        // 1 worth one: one boundary and it in the container (2) beat three boundaries.
        assert_eq!(min_cut_one_way(&pins, &feeds, &[0, 1, 0, 0, 0]).unwrap(), [false, true, true, true, true]);
        // Worth two: three boundaries cost what one and it in the container do; the tie goes
        // to the kernel side.
        assert_eq!(min_cut_one_way(&pins, &feeds, &[0, 2, 0, 0, 0]).unwrap(), [false, false, true, true, true]);
    }

    #[test]
    fn nothing_pinned_stays_in_the_kernel() {
        assert_eq!(min_cut(&[Pin::Kernel, Pin::Container], &[]).unwrap(), [false, true]);
        assert_eq!(min_cut(&[Pin::Free, Pin::Free], &[feed(1, &[0])]).unwrap(), [false, false]);
    }
}
