//! Splits a tenant's checked graph into a kernel part and a container part (Keller's multi-level
//! design), joined by boundary elements at each cut connection.
//!
//! Elements whose class is `Level::Kernel` (the tenant's devices, the coordinator's classes) and
//! elements the coordinator added (`root`) stay in the kernel; elements whose class is
//! `Level::Container` (a tenant's custom classes) go to the container, and so do the free
//! elements of a task the cost model moves there (`container_level = "auto"`). Every other
//! element is placed by a minimum cut ([`mincut`]): the assignment that needs the fewest
//! boundaries, ties going to the largest kernel part.
//!
//! A boundary is a push channel, so elements joined by a pull connection stay together, and so
//! do a scheduling directive and the elements it names. A kernel-to-container boundary `k` is
//! `ToContainer(k)` in the kernel part and `FromKernel(k)` in the container part; a
//! container-to-kernel boundary `k` is `ToKernel(k)` and `FromContainer(k)`. Both halves are
//! named `k2cK@boundary` or `c2kK@boundary` and belong to the root. Push connections that arrive
//! at one input port from several elements at the other level share one boundary. Each level
//! has at most [`MAX_BOUNDARIES`] boundaries per direction.
//!
//! When nothing goes to the container, the kernel part is the tenant's graph unchanged.

pub mod fpga;
mod mincut;

use crate::check::CheckedGraph;
use crate::flatten::{FlatArg, FlatConnection, FlatElement, FlatGraph};
use crate::source::{Diagnostic, Diagnostics, Sources, Span};
use crate::system::ContainerLevel;
use crate::values::ArgValue;
use mincut::{Pin, PortFeed};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use vdp_core::catalog::{Level, Processing};
use vdp_core::library::MAX_BOUNDARIES;

/// The two levels an element can run at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Kernel,
    Container,
}

impl Side {
    fn word(self) -> &'static str {
        match self {
            Side::Kernel => "kernel",
            Side::Container => "container",
        }
    }
}

/// Which way a boundary carries packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    KernelToContainer,
    ContainerToKernel,
}

impl Direction {
    /// The classes of its two halves: (sending side, receiving side).
    pub fn classes(self) -> (&'static str, &'static str) {
        match self {
            Direction::KernelToContainer => ("ToContainer", "FromKernel"),
            Direction::ContainerToKernel => ("ToKernel", "FromContainer"),
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Direction::KernelToContainer => "k2c",
            Direction::ContainerToKernel => "c2k",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Direction::KernelToContainer => "kernel -> container",
            Direction::ContainerToKernel => "container -> kernel",
        }
    }
}

/// A connection of the tenant's graph that a boundary replaces.
#[derive(Clone, Debug, Serialize)]
pub struct CutConnection {
    pub from: String,
    pub from_port: u16,
    pub to: String,
    pub to_port: u16,
    /// `file:line:col` of the connection, or a word for one the coordinator added.
    pub at: String,
    #[serde(skip)]
    pub span: Option<Span>,
}

/// One channel between the levels: the connections into one input port from the other level.
#[derive(Clone, Debug, Serialize)]
pub struct Boundary {
    /// The `INDEX` argument of both halves, below [`MAX_BOUNDARIES`], counted per direction.
    pub index: u8,
    pub direction: Direction,
    /// The name both halves carry in their parts (`k2c0@boundary`).
    pub element: String,
    pub connections: Vec<CutConnection>,
}

/// Why an element is at its level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Reason {
    /// Its class runs only at this level.
    Class,
    /// The coordinator added it on the root's behalf; it stays in the kernel.
    Coordinator,
    /// The cost model moved its task to the container (`container_level = "auto"`).
    Task { task: String, cost: u64, budget: u64 },
    /// Joined by pull connections or a reference to an element pinned at this level.
    Joined { to: String },
    /// Free; placed by the minimum cut.
    Cut,
}

/// Where one element of the tenant's graph runs, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Placement {
    pub element: String,
    pub class: String,
    pub side: Side,
    #[serde(flatten)]
    pub reason: Reason,
}

/// A tenant's graph split between the levels.
#[derive(Clone, Debug, Serialize)]
pub struct Partition {
    /// What the kernel runs: the kernel elements and the kernel halves of the boundaries.
    pub kernel: FlatGraph,
    /// What the tenant's container engine runs, if anything goes there.
    pub container: Option<FlatGraph>,
    pub boundaries: Vec<Boundary>,
    /// Every element of the tenant's graph, in its order.
    pub placements: Vec<Placement>,
}

/// A task the cost model moves to the container: its free elements go with it.
#[derive(Clone, Debug)]
pub struct MovedTask {
    pub task: String,
    pub cost: u64,
    pub budget: u64,
    /// Every element the task may call (its own index included).
    pub elements: Vec<usize>,
}

/// The tasks of `checked` whose estimated cost per packet exceeds `budget`.
pub fn tasks_over_budget(checked: &CheckedGraph, budget: u64) -> Vec<MovedTask> {
    crate::tasks::find_tasks(checked)
        .into_iter()
        .filter(|task| task.cost > budget)
        .map(|task| MovedTask {
            elements: task.elements.iter().filter_map(|name| checked.find(name)).collect(),
            task: task.name,
            cost: task.cost,
            budget,
        })
        .collect()
}

/// `file:line:col` of a span.
pub fn position(sources: &Sources, span: Option<Span>) -> String {
    match span {
        Some(span) => {
            let (line, column) = sources.line_col(span.file, span.start);
            format!("{}:{line}:{column}", sources.file(span.file).name)
        }
        None => "added by the coordinator".to_string(),
    }
}

/// Partitions one tenant's graph as its `container_level` says. `budget` is the task budget
/// (`limits.task_budget_cycles`) the cost model compares tasks with under `auto`.
pub fn partition_tenant(
    flat: &FlatGraph,
    checked: &CheckedGraph,
    sources: &Sources,
    level: ContainerLevel,
    budget: u64,
) -> Result<Partition, Diagnostics> {
    match level {
        ContainerLevel::Never => {
            let mut diagnostics = Diagnostics::default();
            for element in checked.elements.iter().filter(|e| e.class.level == Level::Container) {
                diagnostics.push(
                    Diagnostic::error(
                        element.span,
                        format!("'{}' ({}) runs only at the container level, and this tenant has no container engine", element.name, element.class.name),
                    )
                    .note("its system config says container_level = \"never\""),
                );
            }
            if diagnostics.has_errors() {
                return Err(diagnostics);
            }
            partition(flat, checked, sources, &[])
        }
        ContainerLevel::Custom => partition(flat, checked, sources, &[]),
        ContainerLevel::Auto => partition(flat, checked, sources, &tasks_over_budget(checked, budget)),
        ContainerLevel::All => partition(flat, checked, sources, &tasks_over_budget(checked, 0)),
    }
}

/// Union-find over element indices, without recursion.
struct Groups {
    parent: Vec<usize>,
}

impl Groups {
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[b] = a;
        }
    }
}

/// Elements that must stay at one level: those joined by pull connections, and by references (a
/// scheduling directive and the tasks it names, a RED and the queues it watches).
fn together(flat: &FlatGraph, checked: &CheckedGraph) -> Groups {
    let mut groups = Groups { parent: (0..flat.elements.len()).collect() };
    for connection in &flat.connections {
        if !is_push(checked, connection) {
            groups.join(connection.from, connection.to);
        }
    }
    for (index, element) in checked.elements.iter().enumerate() {
        for value in element.args.iter().flatten().chain(element.repeated.iter()) {
            let names: &[String] = match value {
                ArgValue::ElementNumber(name, _) => std::slice::from_ref(name),
                ArgValue::Names(names) => names,
                _ => &[],
            };
            for target in names.iter().filter_map(|name| checked.find(name)) {
                groups.join(index, target);
            }
        }
    }
    groups
}

/// Each element's group, numbered from 0 in the elements' order, and the number of groups.
fn numbered(groups: &mut Groups, count: usize) -> (Vec<usize>, usize) {
    let mut ids: HashMap<usize, usize> = HashMap::new();
    let group_of = (0..count)
        .map(|index| {
            let root = groups.find(index);
            let next = ids.len();
            *ids.entry(root).or_insert(next)
        })
        .collect();
    (group_of, ids.len())
}

/// One feed per input port that receives push connections, between groups.
fn port_feeds(flat: &FlatGraph, checked: &CheckedGraph, group_of: &[usize]) -> Vec<PortFeed> {
    let mut feed_of: HashMap<(usize, u16), usize> = HashMap::new();
    let mut feeds: Vec<PortFeed> = Vec::new();
    for connection in flat.connections.iter().filter(|c| is_push(checked, c)) {
        let slot = *feed_of.entry((connection.to, connection.to_port)).or_insert_with(|| {
            feeds.push(PortFeed { receiver: group_of[connection.to], senders: Vec::new() });
            feeds.len() - 1
        });
        feeds[slot].senders.push(group_of[connection.from]);
    }
    feeds
}

/// Whether a connection of the checked graph carries packets by push.
fn is_push(checked: &CheckedGraph, connection: &FlatConnection) -> bool {
    checked.elements[connection.from].output_modes.get(usize::from(connection.from_port)) == Some(&Processing::Push)
}

/// Partitions `flat` (checked as `checked`), moving `moved` tasks' free elements to the
/// container. Errors name the elements that cannot be separated, or the boundaries over the
/// limit.
pub fn partition(flat: &FlatGraph, checked: &CheckedGraph, sources: &Sources, moved: &[MovedTask]) -> Result<Partition, Diagnostics> {
    let count = flat.elements.len();
    let mut diagnostics = Diagnostics::default();
    if checked.elements.len() != count || checked.connections.len() != flat.connections.len() {
        diagnostics.error(None, "internal error: the checked graph is not the flat graph's");
        return Err(diagnostics);
    }
    let mut groups = together(flat, checked);
    // Pins: the class's level, the coordinator's elements, then moved tasks.
    let mut reasons: Vec<Option<(Side, Reason)>> = checked
        .elements
        .iter()
        .map(|element| match (element.class.level, element.root) {
            (Level::Kernel, _) => Some((Side::Kernel, Reason::Class)),
            (Level::Container, _) => Some((Side::Container, Reason::Class)),
            (Level::Any, true) => Some((Side::Kernel, Reason::Coordinator)),
            (Level::Any, false) => None,
        })
        .collect();
    let mut pinned_in: HashMap<(usize, Side), usize> = HashMap::new();
    for (index, reason) in reasons.iter().enumerate() {
        if let Some((side, _)) = reason {
            pinned_in.entry((groups.find(index), *side)).or_insert(index);
        }
    }
    for task in moved {
        for &element in &task.elements {
            let group = groups.find(element);
            // A free element tied to the kernel by pull stays free: the cut places it.
            if reasons[element].is_none() && !pinned_in.contains_key(&(group, Side::Kernel)) {
                reasons[element] = Some((Side::Container, Reason::Task { task: task.task.clone(), cost: task.cost, budget: task.budget }));
                pinned_in.entry((group, Side::Container)).or_insert(element);
            }
        }
    }
    let (group_of, group_count) = numbered(&mut groups, count);
    let mut pins = vec![Pin::Free; group_count];
    let mut reported = Vec::new();
    let mut pinned: Vec<((usize, Side), usize)> = pinned_in.iter().map(|(key, element)| (*key, *element)).collect();
    pinned.sort_by_key(|(_, element)| *element);
    for ((root, side), element) in pinned {
        let group = group_of[root];
        let other = match side {
            Side::Kernel => Side::Container,
            Side::Container => Side::Kernel,
        };
        match pinned_in.get(&(root, other)) {
            Some(&other_element) if side == Side::Container && !reported.contains(&group) => {
                reported.push(group);
                let describe = |i: usize| format!("'{}' ({})", checked.elements[i].name, checked.elements[i].class.name);
                diagnostics.push(
                    Diagnostic::error(
                        checked.elements[element].span,
                        format!(
                            "{} must run in the container and {} in the kernel, but pull connections or a reference join them",
                            describe(element),
                            describe(other_element)
                        ),
                    )
                    .label(checked.elements[other_element].span, format!("{} must run in the kernel", describe(other_element)))
                    .note(format!("{} is at {}", describe(other_element), position(sources, checked.elements[other_element].span)))
                    .note("a boundary between the levels is a push channel: put a Queue before a pull connection that must cross, or write one scheduling directive per level"),
                );
            }
            Some(_) => {}
            None => pins[group] = if side == Side::Kernel { Pin::Kernel } else { Pin::Container },
        }
    }
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    // One feed per input port that receives push connections.
    let feeds = port_feeds(flat, checked, &group_of);
    let Some(in_container) = mincut::min_cut(&pins, &feeds) else {
        diagnostics.error(None, "internal error: pinned elements could not be separated");
        return Err(diagnostics);
    };
    let side_of = |element: usize| if in_container[group_of[element]] { Side::Container } else { Side::Kernel };
    let placements = (0..count)
        .map(|index| {
            let side = side_of(index);
            let reason = match &reasons[index] {
                Some((_, reason)) => reason.clone(),
                None => match pinned_in.get(&(groups.find(index), side)) {
                    Some(&pinned) => Reason::Joined { to: checked.elements[pinned].name.clone() },
                    None => Reason::Cut,
                },
            };
            Placement { element: checked.elements[index].name.clone(), class: flat.elements[index].class.clone(), side, reason }
        })
        .collect();
    if (0..count).all(|index| side_of(index) == Side::Kernel) {
        return Ok(Partition { kernel: flat.clone(), container: None, boundaries: Vec::new(), placements });
    }
    let built = channel_halves(|halves| build(flat, sources, &side_of, |c| is_push(checked, c), halves));
    let (kernel, container, boundaries) = built?;
    Ok(Partition { kernel, container: Some(container), boundaries, placements })
}

/// What the halves of a boundary are, for [`build`].
pub(crate) struct Halves<'a> {
    /// The name both halves of boundary `index` carry (made unique in both parts).
    pub name: &'a dyn Fn(Direction, usize) -> String,
    /// (class, argument) of the sending half and of the receiving half of boundary `index`.
    pub classes: &'a dyn Fn(Direction, usize) -> [(String, String); 2],
    /// The error when `used` boundaries in one direction are too many.
    pub over: &'a dyn Fn(Direction, usize, &[&Boundary]) -> Option<Diagnostic>,
}

/// The kernel/container boundaries: `ToContainer(k)`/`FromKernel(k)` and
/// `ToKernel(k)`/`FromContainer(k)`, at most [`MAX_BOUNDARIES`] a direction.
fn channel_halves(build_with: impl FnOnce(&Halves) -> BuildResult) -> BuildResult {
    let classes = |direction: Direction, index: usize| {
        let (send, receive) = direction.classes();
        [(send.to_string(), index.to_string()), (receive.to_string(), index.to_string())]
    };
    let over = |direction: Direction, used: usize, boundaries: &[&Boundary]| {
        (used > MAX_BOUNDARIES as usize).then(|| {
            let ports: Vec<String> =
                boundaries.iter().filter_map(|b| b.connections.first()).map(|c| format!("[{}] {} ({})", c.to_port, c.to, c.at)).collect();
            Diagnostic::error(None, format!("the partition needs {used} {} boundaries, more than the {MAX_BOUNDARIES} a tenant may have", direction.text()))
                .note(format!("the input ports they feed: {}", ports.join(", ")))
                .note("fewer elements at the container level, or a Tee-free path through one of them, needs fewer crossings")
        })
    };
    build_with(&Halves { name: &|direction: Direction, index| format!("{}{index}@boundary", direction.prefix()), classes: &classes, over: &over })
}

pub(crate) type BuildResult = Result<(FlatGraph, FlatGraph, Vec<Boundary>), Diagnostics>;

/// Builds both parts from an assignment: elements keep their order, boundary halves follow.
pub(crate) fn build(
    flat: &FlatGraph,
    sources: &Sources,
    side_of: &dyn Fn(usize) -> Side,
    is_push: impl Fn(&FlatConnection) -> bool,
    halves: &Halves,
) -> BuildResult {
    let mut parts = [FlatGraph::default(), FlatGraph::default()];
    let part = |side: Side| if side == Side::Kernel { 0 } else { 1 };
    let mut new_index = vec![0usize; flat.elements.len()];
    for (index, element) in flat.elements.iter().enumerate() {
        let graph = &mut parts[part(side_of(index))];
        graph.elements.push(element.clone());
        new_index[index] = graph.elements.len() - 1;
    }
    let mut boundaries: Vec<Boundary> = Vec::new();
    // (receiving element, port) -> boundary, and the halves' indices in (sending, receiving) part.
    let mut boundary_of: HashMap<(usize, u16), (usize, usize, usize)> = HashMap::new();
    let mut per_direction = [0usize; 2];
    for connection in &flat.connections {
        let (from_side, to_side) = (side_of(connection.from), side_of(connection.to));
        let link = |from, from_port, to, to_port| FlatConnection { from, from_port, to, to_port, span: connection.span };
        if from_side == to_side {
            parts[part(from_side)].connections.push(link(new_index[connection.from], connection.from_port, new_index[connection.to], connection.to_port));
            continue;
        }
        if !is_push(connection) {
            let mut diagnostics = Diagnostics::default();
            diagnostics.error(connection.span, "internal error: a pull connection would cross between the levels");
            return Err(diagnostics);
        }
        let direction = if from_side == Side::Kernel { Direction::KernelToContainer } else { Direction::ContainerToKernel };
        let key = (connection.to, connection.to_port);
        let (boundary, sender, _) = match boundary_of.get(&key) {
            Some(found) => *found,
            None => {
                let count = &mut per_direction[usize::from(direction == Direction::ContainerToKernel)];
                let index = *count;
                *count += 1;
                let [send_half, receive_half] = (halves.classes)(direction, index);
                let name = unique_name(&parts, &(halves.name)(direction, index));
                let add = |graph: &mut FlatGraph, (class, arg): &(String, String)| {
                    graph.elements.push(FlatElement {
                        name: name.clone(),
                        class: class.clone(),
                        args: vec![FlatArg { text: arg.clone(), span: None }],
                        span: None,
                        class_span: None,
                        root: true,
                        damage: Default::default(),
                    });
                    graph.elements.len() - 1
                };
                let sender = add(&mut parts[part(from_side)], &send_half);
                let receiver = add(&mut parts[part(to_side)], &receive_half);
                parts[part(to_side)].connections.push(link(receiver, 0, new_index[connection.to], connection.to_port));
                boundaries.push(Boundary { index: u8::try_from(index).unwrap_or(u8::MAX), direction, element: name, connections: Vec::new() });
                let found = (boundaries.len() - 1, sender, receiver);
                boundary_of.insert(key, found);
                found
            }
        };
        parts[part(from_side)].connections.push(link(new_index[connection.from], connection.from_port, sender, 0));
        boundaries[boundary].connections.push(CutConnection {
            from: flat.elements[connection.from].name.clone(),
            from_port: connection.from_port,
            to: flat.elements[connection.to].name.clone(),
            to_port: connection.to_port,
            at: position(sources, connection.span),
            span: connection.span,
        });
    }
    let mut diagnostics = Diagnostics::default();
    for (direction, used) in [Direction::KernelToContainer, Direction::ContainerToKernel].into_iter().zip(per_direction) {
        let these: Vec<&Boundary> = boundaries.iter().filter(|b| b.direction == direction).collect();
        if let Some(error) = (halves.over)(direction, used, &these) {
            diagnostics.push(error);
        }
    }
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    let [kernel, container] = parts;
    Ok((kernel, container, boundaries))
}

/// `base`, or `base2`, `base3`... if an element of either part has that name.
fn unique_name(parts: &[FlatGraph; 2], base: &str) -> String {
    let taken = |name: &str| parts.iter().any(|graph| graph.find(name).is_some());
    let mut name = base.to_string();
    let mut counter = 2;
    while taken(&name) {
        name = format!("{base}{counter}");
        counter += 1;
    }
    name
}

impl Partition {
    /// Whether anything runs at the container level.
    pub fn has_container(&self) -> bool {
        self.container.is_some()
    }

    /// The container part as Click text for the tenant's engine; it parses back to the same graph.
    pub fn container_click(&self, header: &str) -> Option<String> {
        self.container.as_ref().map(|graph| crate::print::to_click(graph, header))
    }

    /// Boundaries in one direction.
    pub fn boundaries(&self, direction: Direction) -> impl Iterator<Item = &Boundary> {
        self.boundaries.iter().filter(move |b| b.direction == direction)
    }

    /// The partition as text for `vdpctl check --explain`: each level's elements and why they
    /// are there, then each boundary with the connections it replaces.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let at = |side: Side| self.placements.iter().filter(move |p| p.side == side);
        let _ = writeln!(
            out,
            "partition: {} element(s) in the kernel, {} in the container, {} boundar{} (the fewest possible)",
            at(Side::Kernel).count(),
            at(Side::Container).count(),
            self.boundaries.len(),
            if self.boundaries.len() == 1 { "y" } else { "ies" }
        );
        for side in [Side::Kernel, Side::Container] {
            let _ = writeln!(out, "  {} level:", side.word());
            for placement in at(side) {
                let why = match &placement.reason {
                    Reason::Class => format!("pinned: class {} runs only in the {}", placement.class, side.word()),
                    Reason::Coordinator => "pinned: added by the coordinator".to_string(),
                    Reason::Task { task, cost, budget } => {
                        format!("pinned: task {task} costs {cost} cycles per packet, over the budget of {budget}, and moved to the container")
                    }
                    Reason::Joined { to } => format!("joined to {to} by pull connections or a reference"),
                    Reason::Cut => "placed by the minimum cut".to_string(),
                };
                let _ = writeln!(out, "    {} ({}): {why}", placement.element, placement.class);
            }
        }
        for boundary in &self.boundaries {
            let (send, receive) = boundary.direction.classes();
            let _ = writeln!(
                out,
                "  boundary {} {}: {send}({}) -> {receive}({}), named {}",
                boundary.direction.text(),
                boundary.index,
                boundary.index,
                boundary.index,
                boundary.element
            );
            for cut in &boundary.connections {
                let _ = writeln!(out, "    replaces {} [{}] -> [{}] {} ({})", cut.from, cut.from_port, cut.to_port, cut.to, cut.at);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
