//! Task analysis: which elements are scheduled, what each task costs per packet, and where to
//! cut tasks that would run longer than the per-task budget.
//!
//! A task runs its element's calls: it pulls through the pull chain upstream of its pull inputs
//! and pushes through the push chain downstream of its push outputs, up to the next Queue. A
//! kernel thread that runs one long task cannot yield in the middle of it, so the coordinator
//! cuts long tasks by inserting a Queue and an Unqueue: the Unqueue is a new task, scheduled
//! (and accounted) on its own.

use crate::check::{check, CheckOptions, CheckedGraph};
use crate::flatten::{FlatArg, FlatConnection, FlatElement, FlatGraph};
use crate::source::Diagnostics;
use serde::Serialize;
use vdp_core::catalog::{PacketFlow, Processing};

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
    /// Tasks still over budget because one element alone costs more than the budget.
    pub unsplittable: Vec<String>,
}

type Memo = std::collections::HashMap<usize, (u64, Vec<usize>)>;

/// Costliest push path downstream of `element`'s push outputs, excluding `element` itself.
/// Memoized: fan-outs that meet again would otherwise be walked once per path.
fn push_path(graph: &CheckedGraph, element: usize, depth: usize, memo: &mut Memo) -> (u64, Vec<usize>) {
    if let Some(known) = memo.get(&element) {
        return known.clone();
    }
    if depth > graph.elements.len() {
        return (0, vec![]);
    }
    let mut children = Vec::new();
    for connection in &graph.connections {
        if connection.from == element && graph.elements[element].output_modes.get(usize::from(connection.from_port)) == Some(&Processing::Push) {
            let target = connection.to;
            let (cost, mut path) = push_path(graph, target, depth + 1, memo);
            path.insert(0, target);
            children.push((graph.elements[target].cost().saturating_add(cost), path));
        }
    }
    let result = match graph.elements[element].class.flow {
        PacketFlow::EveryOutput => {
            let total = children.iter().fold(0u64, |sum, (c, _)| sum.saturating_add(*c));
            let path = children.into_iter().max_by_key(|(c, _)| *c).map(|(_, p)| p).unwrap_or_default();
            (total, path)
        }
        PacketFlow::OneOutput => children.into_iter().max_by_key(|(c, _)| *c).unwrap_or_default(),
    };
    memo.insert(element, result.clone());
    result
}

/// Costliest pull path upstream of `element`'s pull inputs, excluding `element`, nearest last.
fn pull_path(graph: &CheckedGraph, element: usize, depth: usize, memo: &mut Memo) -> (u64, Vec<usize>) {
    if let Some(known) = memo.get(&element) {
        return known.clone();
    }
    if depth > graph.elements.len() {
        return (0, vec![]);
    }
    let mut best = (0, vec![]);
    for connection in &graph.connections {
        if connection.to == element && graph.elements[element].input_modes.get(usize::from(connection.to_port)) == Some(&Processing::Pull) {
            let source = connection.from;
            let (cost, mut path) = pull_path(graph, source, depth + 1, memo);
            path.push(source);
            let total = cost.saturating_add(graph.elements[source].cost());
            if total >= best.0 {
                best = (total, path);
            }
        }
    }
    memo.insert(element, best.clone());
    best
}

/// Every element a task may call: push connections downstream, pull connections upstream.
fn reachable(graph: &CheckedGraph, task: usize) -> Vec<usize> {
    let mut seen = vec![task];
    let mut pending = vec![(task, true), (task, false)];
    while let Some((element, downstream)) = pending.pop() {
        for connection in &graph.connections {
            let next = if downstream {
                let push = graph.elements[element].output_modes.get(usize::from(connection.from_port)) == Some(&Processing::Push);
                (connection.from == element && push).then_some(connection.to)
            } else {
                let pull = graph.elements[element].input_modes.get(usize::from(connection.to_port)) == Some(&Processing::Pull);
                (connection.to == element && pull).then_some(connection.from)
            };
            if let Some(next) = next.filter(|n| !seen.contains(n)) {
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
        let (up_cost, up_path) = pull_path(graph, index, 0, &mut Memo::new());
        let (down_cost, down_path) = push_path(graph, index, 0, &mut Memo::new());
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

/// Where to cut a task over budget: the connection before the first element of its costliest
/// path at which the running cost passes the budget. Each cut leaves a strictly shorter path.
fn split_point(graph: &CheckedGraph, task: &TaskReport, budget: u64) -> Option<usize> {
    let indices: Vec<usize> = task.path.iter().filter_map(|n| graph.find(n)).collect();
    // Cutting cannot help an element that alone costs more than a whole task may.
    if indices.iter().any(|i| graph.elements[*i].cost() > budget) {
        return None;
    }
    let mut running = 0u64;
    for (position, element) in indices.iter().enumerate() {
        running += graph.elements[*element].cost();
        if running > budget && position > 0 {
            let (from, to) = (indices[position - 1], *element);
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
    let mut analysis = Analysis { budget, ..Analysis::default() };
    let capacity = options.limits.max_queue_capacity.clamp(1, 1000);
    let mut stuck: Vec<String> = Vec::new();
    loop {
        let mut diagnostics = Diagnostics::default();
        let graph = check(flat, options, &mut diagnostics);
        if diagnostics.has_errors() {
            return Err(diagnostics);
        }
        let tasks = find_tasks(&graph);
        let over = tasks.iter().find(|t| t.cost > budget && !stuck.contains(&t.name));
        let Some(task) = over else {
            analysis.tasks = tasks;
            analysis.unsplittable = stuck;
            return Ok((graph, analysis));
        };
        // Each split leaves a strictly shorter task, so this ends; the bound guards the graph size.
        let Some(cut) = split_point(&graph, task, budget).filter(|_| analysis.splits.len() < 4 * graph.elements.len()) else {
            stuck.push(task.name.clone());
            continue;
        };
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
        analysis.splits.push(SplitReport {
            task: task.name.clone(),
            cost_before: task.cost,
            cut: format!("{} [{}] -> [{}] {}", flat.elements[connection.from].name, connection.from_port, connection.to_port, target),
            queue: queue_name,
            unqueue: unqueue_name,
        });
    }
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
        let _ = writeln!(out, "warning: task {name} stays over budget: a single element on its path costs more than the budget");
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
}
