//! Task analysis: which elements are scheduled, what each task costs per packet, and where to
//! cut tasks that would run longer than the per-task budget.
//!
//! A task runs its element's calls: it pulls through the pull chain upstream of its pull inputs
//! and pushes through the push chain downstream of its push outputs, up to the next Queue. A
//! kernel thread that runs one long task cannot yield in the middle of it, so the coordinator
//! cuts long tasks by inserting a Queue and an Unqueue: the Unqueue is a new task, scheduled
//! (and accounted) on its own.
//!
//! The same cut bounds the kernel stack: a nested push or pull call chain longer than the
//! kernel's `MAX_CALL_DEPTH` elements (which it refuses) is cut at that depth, each cut leaving
//! a chain of at most `MAX_CALL_DEPTH` elements before it.

use crate::check::{check, CheckOptions, CheckedGraph};
use crate::flatten::{FlatArg, FlatConnection, FlatElement, FlatGraph};
use crate::source::Diagnostics;
use serde::Serialize;
use vdp_core::call_depth::{self, CallNode, PULL_EDGE};
use vdp_core::catalog::{PacketFlow, Processing};
use vdp_core::compiled_graph::MAX_CALL_DEPTH;

#[derive(Clone, Debug, Serialize)]
pub struct TaskReport {
    pub name: String,
    pub class: &'static str,
    /// Estimated cycles for one packet along the costliest path.
    pub cost: u64,
    /// The elements of the costliest path, in the order a packet meets them.
    pub path: Vec<String>,
    /// Every element the task may call.
    pub elements: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SplitReport {
    pub task: String,
    pub cost_before: u64,
    /// The connection that was cut, as `from [port] -> [port] to`.
    pub cut: String,
    pub queue: String,
    pub unqueue: String,
}

#[derive(Clone, Debug, Serialize, Default)]
pub struct Analysis {
    pub budget: u64,
    pub tasks: Vec<TaskReport>,
    pub splits: Vec<SplitReport>,
    /// Tasks still over budget because no cut would shorten them (see `split_point`).
    pub unsplittable: Vec<String>,
    /// Most elements a nested call chain may hold (the kernel's `MAX_CALL_DEPTH`).
    pub max_call_depth: u32,
    /// The longest nested call chain after the splits: its first element and its length.
    pub deepest: Option<(String, u32)>,
    /// Splits of call chains longer than `max_call_depth`.
    pub depth_splits: Vec<DepthSplit>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DepthSplit {
    /// The element whose call chain was too long, and the chain's length in elements.
    pub chain_from: String,
    pub depth_before: u32,
    pub pull: bool,
    pub cut: String,
    pub queue: String,
    pub unqueue: String,
}

/// The longest nested call chain of a checked (cycle-free) graph, with the connection at which
/// to cut it if it is longer than [`MAX_CALL_DEPTH`]: `(first element, length, pull, cut)`.
/// The kernel runs the same analysis (`vdp_core::call_depth`) on the compiled graph.
pub fn deepest_chain(graph: &CheckedGraph) -> Option<(usize, u32, bool, Option<usize>)> {
    let pair = |connection: &FlatConnection| {
        let pull = graph.elements[connection.from].output_modes.get(usize::from(connection.from_port)) == Some(&Processing::Pull);
        if pull {
            (connection.to as u32, connection.from as u32 | PULL_EDGE)
        } else {
            (connection.from as u32, connection.to as u32)
        }
    };
    let mut nodes = vec![CallNode::default(); graph.elements.len()];
    let mut edges = vec![0u32; graph.connections.len()];
    call_depth::build_callees(&mut nodes[..], &mut edges, graph.connections.len(), |_, i| graph.connections.get(i).map(pair)).ok()?;
    let deepest = call_depth::analyze(&mut nodes[..], &edges).ok().filter(|d| d.depth > 0)?;
    let mut cut = None;
    if deepest.depth > MAX_CALL_DEPTH {
        // Cutting hop k leaves elements 0..=k and the new Queue: k + 2 elements.
        let wanted = (MAX_CALL_DEPTH as usize).saturating_sub(2);
        let mut hop = 0usize;
        call_depth::walk_deepest(&nodes[..], &edges, deepest.element, true, |caller, entry| {
            if hop == wanted {
                let callee = (entry & !PULL_EDGE) as usize;
                let (from, to) = if entry & PULL_EDGE != 0 { (callee, caller as usize) } else { (caller as usize, callee) };
                cut = graph.connections.iter().position(|c| c.from == from && c.to == to && pair(c) == (caller, entry));
            }
            hop += 1;
        });
    }
    Some((deepest.element as usize, deepest.depth, deepest.pull, cut))
}

type Memo = std::collections::HashMap<usize, (u64, Vec<usize>)>;

/// Post-order over `children`, memoized, without recursion (a call chain may be thousands of
/// elements long, more than a thread's stack would take): `combine(element, results)` gets each
/// child's memoized result. A child still being walked (a cycle, which the checker refuses)
/// counts as `(0, [])`.
fn memoized(
    start: usize,
    memo: &mut Memo,
    children: impl Fn(usize) -> Vec<usize>,
    combine: impl Fn(usize, Vec<(usize, (u64, Vec<usize>))>) -> (u64, Vec<usize>),
) -> (u64, Vec<usize>) {
    let mut walking = std::collections::HashSet::new();
    let mut stack = vec![(start, false)];
    while let Some((element, expanded)) = stack.pop() {
        if memo.contains_key(&element) {
            continue;
        }
        if !expanded {
            if !walking.insert(element) {
                continue;
            }
            stack.push((element, true));
            for child in children(element) {
                if !memo.contains_key(&child) && !walking.contains(&child) {
                    stack.push((child, false));
                }
            }
        } else {
            let results = children(element).into_iter().map(|c| (c, memo.get(&c).cloned().unwrap_or_default())).collect();
            let result = combine(element, results);
            memo.insert(element, result);
            walking.remove(&element);
        }
    }
    memo.get(&start).cloned().unwrap_or_default()
}

/// The elements `element` calls: downstream of its push outputs, or upstream of its pull inputs.
fn callees(graph: &CheckedGraph, element: usize, downstream: bool) -> Vec<usize> {
    let modes = &graph.elements[element];
    graph
        .connections
        .iter()
        .filter_map(|c| {
            if downstream {
                (c.from == element && modes.output_modes.get(usize::from(c.from_port)) == Some(&Processing::Push)).then_some(c.to)
            } else {
                (c.to == element && modes.input_modes.get(usize::from(c.to_port)) == Some(&Processing::Pull)).then_some(c.from)
            }
        })
        .collect()
}

/// Costliest push path downstream of `element`'s push outputs, excluding `element` itself.
/// Memoized: fan-outs that meet again would otherwise be walked once per path.
fn push_path(graph: &CheckedGraph, element: usize, memo: &mut Memo) -> (u64, Vec<usize>) {
    memoized(element, memo, |e| callees(graph, e, true), |element, results| {
        let children: Vec<(u64, Vec<usize>)> = results
            .into_iter()
            .map(|(target, (cost, mut path))| {
                path.insert(0, target);
                (graph.elements[target].cost().saturating_add(cost), path)
            })
            .collect();
        match graph.elements[element].class.flow {
            PacketFlow::EveryOutput => {
                let total = children.iter().fold(0u64, |sum, (c, _)| sum.saturating_add(*c));
                let path = children.into_iter().max_by_key(|(c, _)| *c).map(|(_, p)| p).unwrap_or_default();
                (total, path)
            }
            PacketFlow::OneOutput => children.into_iter().max_by_key(|(c, _)| *c).unwrap_or_default(),
        }
    })
}

/// Costliest pull path upstream of `element`'s pull inputs, excluding `element`, nearest last.
fn pull_path(graph: &CheckedGraph, element: usize, memo: &mut Memo) -> (u64, Vec<usize>) {
    memoized(element, memo, |e| callees(graph, e, false), |_, results| {
        let mut best = (0, vec![]);
        for (source, (cost, mut path)) in results {
            path.push(source);
            let total = cost.saturating_add(graph.elements[source].cost());
            if total >= best.0 {
                best = (total, path);
            }
        }
        best
    })
}

/// Every element a task may call: push connections downstream, pull connections upstream.
fn reachable(graph: &CheckedGraph, task: usize) -> Vec<usize> {
    let mut seen = vec![task];
    let mut pending = vec![(task, true), (task, false)];
    while let Some((element, downstream)) = pending.pop() {
        for next in callees(graph, element, downstream) {
            if !seen.contains(&next) {
                seen.push(next);
                pending.push((next, downstream));
            }
        }
    }
    seen
}

/// The tasks of a checked graph with their costs.
pub fn find_tasks(graph: &CheckedGraph) -> Vec<TaskReport> {
    let mut tasks = Vec::new();
    for (index, element) in graph.elements.iter().enumerate() {
        if !element.is_task() {
            continue;
        }
        let (up_cost, up_path) = pull_path(graph, index, &mut Memo::new());
        let (down_cost, down_path) = push_path(graph, index, &mut Memo::new());
        let seen = reachable(graph, index);
        let name = |i: &usize| graph.elements[*i].name.clone();
        let path: Vec<String> = up_path.iter().chain(std::iter::once(&index)).chain(down_path.iter()).map(name).collect();
        let mut elements: Vec<String> = seen.iter().map(name).collect();
        elements.sort();
        tasks.push(TaskReport {
            name: element.name.clone(),
            class: element.class.name,
            cost: up_cost.saturating_add(element.cost()).saturating_add(down_cost),
            path,
            elements,
        });
    }
    tasks
}

/// The thread each `StaticThreadSched` entry pins an element to, by name; as in Click, the last
/// entry for an element wins.
pub fn thread_pins(graph: &CheckedGraph) -> Vec<(String, u32)> {
    let mut pins: Vec<(String, u32)> = Vec::new();
    let entries = graph.elements.iter().filter(|e| e.class.name == "StaticThreadSched").flat_map(|e| e.repeated.iter());
    for value in entries {
        if let crate::values::ArgValue::ElementNumber(name, thread) = value {
            pins.retain(|(pinned, _)| pinned != name);
            pins.push((name.clone(), *thread));
        }
    }
    pins
}

/// The thread each task runs on, given each task's pin in task order, as the kernel places a
/// tenant's tasks when it builds the graph (`kmod/core/element/graph.rs`): a pinned task runs
/// on its thread, the others go round-robin over threads 0 to `threads` − 1 (the tenant's
/// `THREADS`, 1 to 8; see docs/netlink.md).
pub fn place_tasks(pins: &[Option<u32>], threads: u32) -> Vec<u32> {
    let threads = threads.clamp(1, vdp_core::uapi::TENANT_THREADS_MAX);
    let mut unpinned = 0u32;
    pins.iter()
        .map(|pin| {
            pin.unwrap_or_else(|| {
                let thread = unpinned % threads;
                unpinned = unpinned.wrapping_add(1);
                thread
            })
        })
        .collect()
}

/// Cycles per packet of a class of the built-in catalog, 0 if it is not there.
fn class_cost(name: &str) -> u64 {
    vdp_core::catalog::class_by_name(name).map_or(0, |class| u64::from(class.cost_cycles))
}

/// Where to cut a task over budget: the connection before the first element of its costliest
/// path at which the running cost passes the budget. A cut adds a Queue and an Unqueue between
/// the two parts, so it is made only if each part, with both, costs less than the task did;
/// otherwise (an element that with the new Queue and Unqueue costs about the whole budget)
/// cutting again and again would gain nothing, and the task is left over budget.
fn split_point(graph: &CheckedGraph, task: &TaskReport, budget: u64) -> Option<usize> {
    let indices: Vec<usize> = task.path.iter().filter_map(|n| graph.find(n)).collect();
    // Cutting cannot help an element that alone costs more than a whole task may.
    if indices.iter().any(|i| graph.elements[*i].cost() > budget) {
        return None;
    }
    let costs: Vec<u64> = indices.iter().map(|i| graph.elements[*i].cost()).collect();
    let total = costs.iter().fold(0u64, |sum, c| sum.saturating_add(*c));
    let mut running = 0u64;
    for (position, cost) in costs.iter().enumerate() {
        let before = running;
        running = running.saturating_add(*cost);
        if running > budget && position > 0 {
            // Either part may get both new elements (a pulled Queue and the Unqueue start the
            // part after a push cut), so each part is charged both.
            let added = class_cost("Queue").saturating_add(class_cost("Unqueue"));
            let after = total - before;
            let progress = before.saturating_add(added) < total && after.saturating_add(added) < total;
            if !progress {
                return None;
            }
            let (from, to) = (indices[position - 1], indices[position]);
            return graph.connections.iter().position(|c| c.from == from && c.to == to);
        }
    }
    None
}

fn unique_name(flat: &FlatGraph, base: &str) -> String {
    let mut name = base.to_string();
    let mut counter = 2;
    while flat.find(&name).is_some() {
        name = format!("{base}{counter}");
        counter += 1;
    }
    name
}

/// Finds the tasks, and splits those over `budget` until none is, or none can be split further.
/// The flat graph is updated in place; the returned graph is the checked final version.
pub fn analyze_and_split(flat: &mut FlatGraph, options: &CheckOptions, budget: u64) -> Result<(CheckedGraph, Analysis), Diagnostics> {
    analyze_and_split_depth(flat, options, budget, true)
}

/// [`analyze_and_split`]; `split_deep` false leaves call chains longer than the kernel allows
/// as they are (to test the kernel's own check).
pub fn analyze_and_split_depth(flat: &mut FlatGraph, options: &CheckOptions, budget: u64, split_deep: bool) -> Result<(CheckedGraph, Analysis), Diagnostics> {
    let mut analysis = Analysis { budget, max_call_depth: MAX_CALL_DEPTH, ..Analysis::default() };
    let capacity = options.limits.max_queue_capacity.clamp(1, 1000);
    let mut stuck: Vec<String> = Vec::new();
    // Every cut adds two elements; the bound is of the graph as given, so it holds.
    let max_splits = 4 * flat.elements.len();
    loop {
        let mut diagnostics = Diagnostics::default();
        let graph = check(flat, options, &mut diagnostics);
        if diagnostics.has_errors() {
            return Err(diagnostics);
        }
        let tasks = find_tasks(&graph);
        let over = tasks.iter().find(|t| t.cost > budget && !stuck.contains(&t.name));
        let split_count = analysis.splits.len() + analysis.depth_splits.len();
        let Some(task) = over else {
            let deepest = deepest_chain(&graph);
            analysis.deepest = deepest.map(|(element, depth, _, _)| (graph.elements[element].name.clone(), depth));
            // Each cut leaves a chain of at most MAX_CALL_DEPTH before it; the bound guards the size.
            if let Some((element, depth, pull, Some(cut))) = deepest.filter(|_| split_deep && split_count < max_splits) {
                let (cut_text, queue, unqueue) = split_at(flat, &graph, cut, capacity);
                analysis.depth_splits.push(DepthSplit {
                    chain_from: graph.elements[element].name.clone(),
                    depth_before: depth,
                    pull,
                    cut: cut_text,
                    queue,
                    unqueue,
                });
                continue;
            }
            analysis.tasks = tasks;
            analysis.unsplittable = stuck;
            return Ok((graph, analysis));
        };
        // Each split leaves two tasks, each cheaper than the one cut; the bound guards the size.
        let Some(cut) = split_point(&graph, task, budget).filter(|_| split_count < max_splits) else {
            stuck.push(task.name.clone());
            continue;
        };
        let (cut_text, queue_name, unqueue_name) = split_at(flat, &graph, cut, capacity);
        analysis.splits.push(SplitReport { task: task.name.clone(), cost_before: task.cost, cut: cut_text, queue: queue_name, unqueue: unqueue_name });
    }
}

/// Cuts connection `cut` with a new Queue and Unqueue (root-owned, named after the target):
/// `from -> Queue -> Unqueue -> to` for a push connection, `from -> Unqueue -> Queue -> to` for a
/// pull one. Returns the cut as text and the two new names.
fn split_at(flat: &mut FlatGraph, graph: &CheckedGraph, cut: usize, capacity: i64) -> (String, String, String) {
    {
        let connection = flat.connections[cut].clone();
        let target = flat.elements[connection.to].name.clone();
        let pull = graph.elements[connection.from].output_modes.get(usize::from(connection.from_port)) == Some(&Processing::Pull);
        let queue_name = unique_name(flat, &format!("{target}@split_queue"));
        let add = |flat: &mut FlatGraph, name: &str, class: &str, args: Vec<String>| {
            flat.elements.push(FlatElement {
                name: name.to_string(),
                class: class.to_string(),
                args: args.into_iter().map(|text| FlatArg { text, span: None }).collect(),
                span: None,
                class_span: None,
                // The coordinator adds it on the root's behalf: the tenant cannot write it.
                root: true,
                damage: Default::default(),
            });
            flat.elements.len() - 1
        };
        let queue = add(flat, &queue_name, "Queue", vec![capacity.to_string()]);
        let unqueue_name = unique_name(flat, &format!("{target}@split_unqueue"));
        let unqueue = add(flat, &unqueue_name, "Unqueue", vec![]);
        // Push side: from -> Queue -> Unqueue -> to. Pull side: from -> Unqueue -> Queue -> to.
        let (first, second) = if pull { (unqueue, queue) } else { (queue, unqueue) };
        let link = |from, from_port, to, to_port| FlatConnection { from, from_port, to, to_port, span: None };
        flat.connections[cut] = link(connection.from, connection.from_port, first, 0);
        flat.connections.push(link(first, 0, second, 0));
        flat.connections.push(link(second, 0, connection.to, connection.to_port));
        let cut = format!("{} [{}] -> [{}] {}", flat.elements[connection.from].name, connection.from_port, connection.to_port, target);
        (cut, queue_name, unqueue_name)
    }
}

/// The warning for a task [`Analysis::unsplittable`] names.
pub fn unsplittable_warning(task: &str) -> String {
    format!("warning: task {task} stays over the budget: no cut shortens it (an element on its path costs about the budget or more, with the Queue and Unqueue a cut adds)")
}

/// The analysis as text for `vdpctl check --explain`.
pub fn explain(analysis: &Analysis) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "tasks (budget {} cycles per packet):", analysis.budget);
    for task in &analysis.tasks {
        let mark = if task.cost > analysis.budget { "  OVER BUDGET" } else { "" };
        let _ = writeln!(out, "  {} ({}): {} cycles{mark}", task.name, task.class, task.cost);
        let _ = writeln!(out, "    costliest path: {}", task.path.join(" -> "));
    }
    if analysis.splits.is_empty() {
        let _ = writeln!(out, "no task needed splitting");
    }
    for split in &analysis.splits {
        let _ = writeln!(
            out,
            "split {} ({} cycles) at {}: inserted {} :: Queue and {} :: Unqueue",
            split.task, split.cost_before, split.cut, split.queue, split.unqueue
        );
    }
    for name in &analysis.unsplittable {
        let _ = writeln!(out, "{}", unsplittable_warning(name));
    }
    for split in &analysis.depth_splits {
        let _ = writeln!(
            out,
            "split the {} call chain from {} ({} elements, more than the kernel's {}) at {}: inserted {} :: Queue and {} :: Unqueue",
            if split.pull { "pull" } else { "push" },
            split.chain_from, split.depth_before, analysis.max_call_depth, split.cut, split.queue, split.unqueue
        );
    }
    if let Some((element, depth)) = &analysis.deepest {
        let mark = if *depth > analysis.max_call_depth { "  TOO DEEP: the kernel refuses this graph" } else { "" };
        let _ = writeln!(out, "longest call chain: {depth} elements from {element} (the kernel allows {}){mark}", analysis.max_call_depth);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;

    fn flat(text: &str) -> FlatGraph {
        let mut sources = Sources::new();
        let mut diagnostics = Diagnostics::default();
        let loaded = crate::load(&mut sources, "t.click", text, &mut diagnostics);
        assert!(!diagnostics.has_errors(), "{}", sources.render_all(&diagnostics));
        loaded.flat
    }

    #[test]
    fn finds_tasks_and_costs() {
        let mut graph = flat("FromDevice(eth0) -> c :: Counter -> t :: Tee(2); t[0] -> q :: Queue -> ToDevice(eth0); t[1] -> Discard;");
        let (_, analysis) = analyze_and_split(&mut graph, &CheckOptions::default(), 100_000).unwrap();
        let names: Vec<_> = analysis.tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["FromDevice@1", "ToDevice@5"]);
        // FromDevice 800 + Counter 700 + Tee 200 + both branches (Queue 150 + Discard 50).
        assert_eq!(analysis.tasks[0].cost, 800 + 700 + 200 + 150 + 50);
        assert_eq!(analysis.tasks[1].cost, 800 + 150);
        assert_eq!(analysis.tasks[1].path, ["q", "ToDevice@5"]);
        assert!(analysis.splits.is_empty());
    }

    #[test]
    fn splits_long_push_chains() {
        let mut graph = flat("FromDevice(eth0) -> a :: Chew(6000) -> b :: Chew(6000) -> c :: Chew(6000) -> Queue -> ToDevice(eth0);");
        let (checked, analysis) = analyze_and_split(&mut graph, &CheckOptions::default(), 15_000).unwrap();
        assert_eq!(analysis.splits.len(), 1, "{analysis:?}");
        assert_eq!(analysis.splits[0].cut, "b [0] -> [0] c");
        assert!(analysis.tasks.iter().all(|t| t.cost <= 15_000), "{analysis:?}");
        assert!(checked.find("c@split_unqueue").is_some());
        assert!(explain(&analysis).contains("split FromDevice@1"));
    }

    #[test]
    fn splits_long_pull_chains_and_reports_the_unsplittable() {
        let mut graph = flat("FromDevice(eth0) -> Queue -> a :: Chew(9000) -> b :: Chew(9000) -> ToDevice(eth0);");
        let (_, analysis) = analyze_and_split(&mut graph, &CheckOptions::default(), 15_000).unwrap();
        assert_eq!(analysis.splits.len(), 1, "{analysis:?}");
        assert!(analysis.tasks.iter().all(|t| t.cost <= 15_000), "{analysis:?}");
        let mut heavy = flat("FromDevice(eth0) -> Chew(50000) -> Discard;");
        let (_, analysis) = analyze_and_split(&mut heavy, &CheckOptions::default(), 15_000).unwrap();
        assert_eq!(analysis.unsplittable, ["FromDevice@1"]);
    }

    #[test]
    fn a_cut_that_would_not_shorten_the_task_is_not_made() {
        // FromDevice (800) then Chew (20 + 950): the first cut leaves Unqueue (100) + Chew, over
        // a 1000-cycle budget, and cutting between that Unqueue and Chew again would gain
        // nothing, forever. One cut is made and the Unqueue's task is reported.
        let mut graph = flat("FromDevice(eth0) -> c :: Chew(950) -> Queue -> ToDevice(eth0);");
        let (checked, analysis) = analyze_and_split(&mut graph, &CheckOptions::default(), 1000).unwrap();
        assert_eq!(analysis.splits.len(), 1, "{analysis:?}");
        assert_eq!(analysis.splits[0].cut, "FromDevice@1 [0] -> [0] c");
        assert_eq!(analysis.unsplittable, ["c@split_unqueue"]);
        assert_eq!(checked.elements.len(), 6);
        // A chain of elements each near the budget ends with a bounded number of cuts.
        let chain: Vec<String> = (0..40).map(|i| format!("c{i} :: Chew(900)")).collect();
        let mut long = flat(&format!("FromDevice(eth0) -> {} -> Queue -> ToDevice(eth0);", chain.join(" -> ")));
        let (_, analysis) = analyze_and_split(&mut long, &CheckOptions::default(), 1000).unwrap();
        assert!(analysis.splits.len() <= 4 * 43, "{}", analysis.splits.len());
        assert!(analysis.tasks.iter().all(|t| t.cost <= 1000 || analysis.unsplittable.contains(&t.name)), "{analysis:?}");
    }
}
