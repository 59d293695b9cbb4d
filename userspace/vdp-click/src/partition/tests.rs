use super::*;
use crate::check::{CheckOptions, CheckedElement};
use crate::source::FileId;
use proptest::prelude::*;
use vdp_core::catalog::{self, ElementClass};

/// A copy of a library class at another level, standing in for a tenant's custom class (the
/// catalog helper's declarations set `level` the same way).
fn at_level(class: &'static ElementClass, level: Level) -> &'static ElementClass {
    Box::leak(Box::new(ElementClass { level, ..*class }))
}

struct Loaded {
    sources: Sources,
    flat: FlatGraph,
    checked: CheckedGraph,
}

/// Parses and checks `text`, then moves the named elements' classes to the container level.
fn load(text: &str, container: &[&str]) -> Loaded {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let (flat, mut checked) = crate::check_text(&mut sources, "t.click", text, &CheckOptions::default(), &mut diagnostics);
    assert!(!diagnostics.has_errors(), "{}", sources.render_all(&diagnostics));
    for name in container {
        let index = checked.find(name).unwrap_or_else(|| panic!("no element {name}"));
        checked.elements[index].class = at_level(checked.elements[index].class, Level::Container);
    }
    Loaded { sources, flat, checked }
}

fn split(loaded: &Loaded) -> Result<Partition, Diagnostics> {
    partition(&loaded.flat, &loaded.checked, &loaded.sources, &[])
}

fn errors(loaded: &Loaded, result: Result<Partition, Diagnostics>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(diagnostics) => loaded.sources.render_all(&diagnostics),
    }
}

fn connections(graph: &FlatGraph) -> Vec<String> {
    graph.canonical().1.into_iter().map(|(a, p, b, q)| format!("{a}[{p}]->[{q}]{b}")).collect()
}

fn classes(graph: &FlatGraph) -> Vec<String> {
    graph.elements.iter().map(|e| format!("{} :: {}({})", e.name, e.class, e.config())).collect()
}

const CHAIN: &str = "FromDevice(eth0) -> a :: Counter -> x :: Counter -> b :: Counter -> q :: Queue -> ToDevice(eth0);";

#[test]
fn nothing_at_the_container_level_changes_nothing() {
    let loaded = load(CHAIN, &[]);
    let result = split(&loaded).unwrap();
    assert!(result.container.is_none() && result.boundaries.is_empty());
    assert_eq!(crate::print::to_click(&result.kernel, ""), crate::print::to_click(&loaded.flat, ""));
    assert_eq!(crate::print::to_json(&result.kernel), crate::print::to_json(&loaded.flat));
    assert!(result.placements.iter().all(|p| p.side == Side::Kernel));
}

#[test]
fn a_container_element_in_a_chain_gets_two_boundaries() {
    let loaded = load(CHAIN, &["x"]);
    let result = split(&loaded).unwrap();
    let container = result.container.as_ref().unwrap();
    assert_eq!(
        classes(&result.kernel),
        ["FromDevice@1 :: FromDevice(eth0)", "a :: Counter()", "b :: Counter()", "q :: Queue()", "ToDevice@6 :: ToDevice(eth0)", "k2c0@boundary :: ToContainer(0)", "c2k0@boundary :: FromContainer(0)"]
    );
    assert_eq!(classes(container), ["x :: Counter()", "k2c0@boundary :: FromKernel(0)", "c2k0@boundary :: ToKernel(0)"]);
    assert_eq!(connections(container), ["k2c0@boundary[0]->[0]x", "x[0]->[0]c2k0@boundary"]);
    assert_eq!(
        connections(&result.kernel),
        ["FromDevice@1[0]->[0]a", "a[0]->[0]k2c0@boundary", "b[0]->[0]q", "c2k0@boundary[0]->[0]b", "q[0]->[0]ToDevice@6"]
    );
    assert!(result.kernel.elements.iter().filter(|e| e.name.ends_with("@boundary")).all(|e| e.root));
    assert_eq!(result.boundaries.len(), 2);
    assert_eq!(result.boundaries[0].direction, Direction::KernelToContainer);
    assert_eq!(result.boundaries[0].connections[0].at, "t.click:1:34");
    let explain = result.explain();
    assert!(explain.contains("partition: 5 element(s) in the kernel, 1 in the container, 2 boundaries"), "{explain}");
    assert!(explain.contains("FromDevice@1 (FromDevice): pinned: class FromDevice runs only in the kernel"), "{explain}");
    assert!(explain.contains("a (Counter): placed by the minimum cut"), "{explain}");
    assert!(explain.contains("x (Counter): pinned: class Counter runs only in the container"), "{explain}");
    assert!(explain.contains("boundary kernel -> container 0: ToContainer(0) -> FromKernel(0), named k2c0@boundary"), "{explain}");
    assert!(explain.contains("replaces a [0] -> [0] x (t.click:1:34)"), "{explain}");
}

#[test]
fn a_container_neighbourhood_is_cut_where_it_costs_least() {
    // x and y are custom; the Tee between them goes with them: one crossing in, two out.
    let loaded = load(
        "FromDevice(eth0) -> x :: Counter -> t :: Tee(2); t[0] -> y :: Counter -> q :: Queue -> ToDevice(eth0); t[1] -> c :: Counter -> q2 :: Queue -> ToDevice(eth1);",
        &["x", "y"],
    );
    let result = split(&loaded).unwrap();
    let at = |name: &str| result.placements.iter().find(|p| p.element == name).unwrap().side;
    assert_eq!(at("t"), Side::Container);
    // c is free: taking it along or not costs one boundary either way, and the kernel wins.
    assert_eq!(at("c"), Side::Kernel);
    assert_eq!(result.boundaries.len(), 3);
    assert_eq!(result.boundaries(Direction::ContainerToKernel).count(), 2);
}

#[test]
fn senders_into_one_port_share_a_boundary() {
    let loaded = load(
        "FromDevice(eth0) -> s :: HashSwitch(0, 1); s[0] -> a :: Counter -> x :: Counter -> Discard; s[1] -> b :: Counter -> x;",
        &["x"],
    );
    let result = split(&loaded).unwrap();
    assert_eq!(result.boundaries.len(), 1, "{}", result.explain());
    let froms: Vec<&str> = result.boundaries[0].connections.iter().map(|c| c.from.as_str()).collect();
    assert_eq!(froms, ["a", "b"]);
    assert_eq!(connections(&result.kernel).iter().filter(|c| c.ends_with("k2c0@boundary")).count(), 2);
}

#[test]
fn pull_connections_do_not_cross() {
    // The Queue is pulled by ToDevice: x cannot be pulled from the kernel.
    let loaded = load("FromDevice(eth0) -> x :: Queue -> ToDevice(eth0);", &["x"]);
    let text = errors(&loaded, split(&loaded));
    assert!(text.contains("t.click:1:21: error: 'x' (Queue) must run in the container and 'ToDevice@3' (ToDevice) in the kernel"), "{text}");
    assert!(text.contains("'ToDevice@3' (ToDevice) is at t.click:1:35"), "{text}");
    // Free elements joined by pull go with the pinned one.
    let loaded = load("FromDevice(eth0) -> x :: Counter -> q :: Queue -> s :: Counter -> u :: Unqueue -> Discard;", &["u"]);
    let result = split(&loaded).unwrap();
    let reason = |name: &str| result.placements.iter().find(|p| p.element == name).unwrap().reason.clone();
    assert_eq!(reason("q"), Reason::Joined { to: "u".into() });
    assert_eq!(reason("s"), Reason::Joined { to: "u".into() });
    assert_eq!(result.boundaries.len(), 1);
}

#[test]
fn scheduling_directives_stay_with_the_tasks_they_name() {
    let text = "FromDevice(eth0) -> q :: Queue -> u :: Unqueue -> x :: Counter -> Discard; StaticThreadSched(u 1);";
    let result = split(&load(text, &["u"])).unwrap();
    let side = |name: &str| result.placements.iter().find(|p| p.element == name).unwrap().side;
    assert_eq!(side("StaticThreadSched@6"), Side::Container);
    let loaded = load("FromDevice(eth0) -> q :: Queue -> u :: Unqueue -> Discard; StaticThreadSched(u 1, FromDevice@1 0);", &["u"]);
    let text = errors(&loaded, split(&loaded));
    assert!(text.contains("'u' (Unqueue) must run in the container and 'FromDevice@1' (FromDevice) in the kernel"), "{text}");
}

#[test]
fn more_than_eight_boundaries_a_direction_is_refused() {
    // A Tee into n custom branches, each back to the kernel: n container-to-kernel boundaries.
    let branches = |n: usize| {
        let mut text = format!("FromDevice(eth0) -> t :: Tee({n});\n");
        for i in 0..n {
            text.push_str(&format!("t[{i}] -> c{i} :: Counter -> q{i} :: Queue -> ToDevice(eth{i});\n"));
        }
        let names: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
        load(&text, &names.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let loaded = branches(9);
    let refused = errors(&loaded, split(&loaded));
    assert!(refused.contains("the partition needs 9 container -> kernel boundaries, more than the 8 a tenant may have"), "{refused}");
    assert!(refused.contains("[0] q0 (t.click:2:23)"), "{refused}");
    let result = split(&branches(8)).unwrap();
    assert_eq!(result.boundaries(Direction::ContainerToKernel).count(), 8, "{}", result.explain());
    assert_eq!(result.boundaries(Direction::KernelToContainer).count(), 1, "{}", result.explain());
}

#[test]
fn the_container_part_prints_and_parses_back() {
    let loaded = load(
        "elementclass Pair { input -> a :: Counter -> b :: Counter -> output }\n\
         FromDevice(eth0) -> p :: Pair -> s :: Strip(14) -> x :: Counter -> t :: Tee(2); t[0] -> Queue -> ToDevice(eth0); t[1] -> Discard;",
        &["p/b", "x"],
    );
    let result = split(&loaded).unwrap();
    let text = result.container_click("container part of t.click").unwrap();
    let mut diagnostics = Diagnostics::default();
    let scope = crate::parser::parse(FileId(0), &text, &mut diagnostics);
    let again = crate::flatten::flatten(&scope, &mut diagnostics);
    assert!(!diagnostics.has_errors(), "{text}");
    assert_eq!(again.canonical(), result.container.as_ref().unwrap().canonical(), "{text}");
    assert!(classes(result.container.as_ref().unwrap()).contains(&"s :: Strip(14)".to_string()), "{}", result.explain());
}

#[test]
fn container_levels() {
    let loaded = load("FromDevice(eth0) -> a :: Chew(9000) -> b :: Chew(9000) -> q :: Queue -> ToDevice(eth0);", &[]);
    let run = |level| partition_tenant(&loaded.flat, &loaded.checked, &loaded.sources, level, 15_000);
    assert!(run(ContainerLevel::Custom).unwrap().container.is_none());
    assert!(run(ContainerLevel::Never).unwrap().container.is_none());
    let moved = run(ContainerLevel::Auto).unwrap();
    let container = moved.container.as_ref().unwrap();
    assert_eq!(classes(container), ["a :: Chew(9000)", "b :: Chew(9000)", "k2c0@boundary :: FromKernel(0)", "c2k0@boundary :: ToKernel(0)"]);
    let reason = |name: &str| moved.placements.iter().find(|p| p.element == name).unwrap().reason.clone();
    assert_eq!(reason("a"), Reason::Task { task: "FromDevice@1".into(), cost: 800 + 9020 * 2 + 150, budget: 15_000 });
    // The Queue is pulled by ToDevice, so the task's move leaves it in the kernel.
    assert_eq!(reason("q"), Reason::Joined { to: "ToDevice@5".into() });
    assert!(moved.explain().contains("pinned: task FromDevice@1 costs 18990 cycles per packet, over the budget of 15000"), "{}", moved.explain());
    // Under budget, auto changes nothing.
    assert!(partition_tenant(&loaded.flat, &loaded.checked, &loaded.sources, ContainerLevel::Auto, 100_000).unwrap().container.is_none());
    let custom = load(CHAIN, &["x"]);
    let result = partition_tenant(&custom.flat, &custom.checked, &custom.sources, ContainerLevel::Never, 15_000);
    let text = errors(&custom, result);
    assert!(text.contains("t.click:1:37: error: 'x' (Counter) runs only at the container level, and this tenant has no container engine"), "{text}");
}

#[test]
fn the_level_key_of_the_system_config() {
    let base = "[[tenant]]\nname = \"red\"\ncgroup = \"vdp/red\"\ncpu_share = 50\n";
    let config = crate::system::SystemConfig::parse(base).unwrap();
    assert_eq!(config.container_level("red"), ContainerLevel::Custom);
    let config = crate::system::SystemConfig::parse(&format!("{base}container_level = \"auto\"\n")).unwrap();
    assert_eq!(config.container_level("red"), ContainerLevel::Auto);
    let problem = crate::system::SystemConfig::parse(&format!("{base}container_level = \"sometimes\"\n")).unwrap_err();
    assert!(problem[0].contains("unknown variant `sometimes`"), "{problem:?}");
}

// Random graphs: the partition's boundaries are the brute-force minimum over every assignment
// of the free elements, pinned elements stay, the kernel part is the largest among the optimal
// assignments, and every connection survives (as itself, or through exactly one boundary).

#[derive(Clone, Debug)]
struct Random {
    pins: Vec<u8>,
    /// `(from, from_port, to, to_port, push)`
    connections: Vec<(usize, u16, usize, u16, bool)>,
}

fn random_graph() -> impl Strategy<Value = Random> {
    (2usize..8).prop_flat_map(|n| {
        (
            prop::collection::vec(prop_oneof![4 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)], n),
            prop::collection::vec((0..n, 0u16..2, 0..n, 0u16..2, prop::bool::weighted(0.85)), 0..12),
        )
            .prop_map(|(pins, connections)| Random {
                pins,
                connections: connections.into_iter().filter(|(from, _, to, _, _)| from != to).collect(),
            })
    })
}

fn build_random(random: &Random) -> (FlatGraph, CheckedGraph) {
    let counter = catalog::class_by_name("Counter").unwrap();
    let mut flat = FlatGraph::default();
    let mut checked = CheckedGraph { elements: Vec::new(), connections: Vec::new() };
    let mut output_modes = vec![vec![Processing::Push; 2]; random.pins.len()];
    for &(from, port, _, _, push) in &random.connections {
        if !push {
            output_modes[from][usize::from(port)] = Processing::Pull;
        }
    }
    for (index, pin) in random.pins.iter().enumerate() {
        let level = [Level::Any, Level::Kernel, Level::Container][usize::from(*pin)];
        let name = format!("e{index}");
        flat.elements.push(FlatElement { name: name.clone(), class: "Counter".into(), args: vec![], span: None, class_span: None, root: false, damage: Default::default() });
        checked.elements.push(CheckedElement {
            name,
            class: at_level(counter, level),
            args: vec![],
            repeated: vec![],
            inputs: 2,
            outputs: 2,
            input_modes: vec![Processing::Push; 2],
            output_modes: output_modes[index].clone(),
            span: None,
            root: false,
        });
    }
    for &(from, from_port, to, to_port, _) in &random.connections {
        flat.connections.push(FlatConnection { from, from_port, to, to_port, span: None });
    }
    checked.connections = flat.connections.clone();
    (flat, checked)
}

/// `(boundaries, kernel elements)` of an assignment, or `None` if a pin or a pull is broken.
fn evaluate(random: &Random, modes: &[Vec<Processing>], container: &[bool]) -> Option<(usize, usize)> {
    for (index, pin) in random.pins.iter().enumerate() {
        if (*pin == 1 && container[index]) || (*pin == 2 && !container[index]) {
            return None;
        }
    }
    let mut ports = std::collections::HashSet::new();
    for &(from, from_port, to, to_port, _) in &random.connections {
        if container[from] != container[to] {
            if modes[from][usize::from(from_port)] != Processing::Push {
                return None;
            }
            ports.insert((to, to_port));
        }
    }
    Some((ports.len(), container.iter().filter(|c| !**c).count()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn the_cut_is_minimal_and_keeps_every_path(random in random_graph()) {
        let (flat, checked) = build_random(&random);
        let modes: Vec<Vec<Processing>> = checked.elements.iter().map(|e| e.output_modes.clone()).collect();
        let n = random.pins.len();
        let mut best: Option<(usize, usize)> = None;
        for mask in 0u32..(1 << n) {
            let container: Vec<bool> = (0..n).map(|i| mask & (1 << i) != 0).collect();
            if let Some((boundaries, kernel)) = evaluate(&random, &modes, &container) {
                best = Some(match best {
                    Some((b, k)) if (b, std::cmp::Reverse(k)) <= (boundaries, std::cmp::Reverse(kernel)) => (b, k),
                    _ => (boundaries, kernel),
                });
            }
        }
        let result = partition(&flat, &checked, &Sources::new(), &[]);
        let Some((fewest, largest_kernel)) = best else {
            prop_assert!(result.is_err(), "no assignment keeps the pins and pulls, but the partition succeeded");
            return Ok(());
        };
        let result = match result {
            Ok(result) => result,
            Err(found) => {
                // Only the per-direction limit may refuse a feasible graph.
                prop_assert!(found.items.iter().all(|d| d.message.contains("a tenant may have")), "{:?}", found.items);
                return Ok(());
            }
        };
        let container: Vec<bool> = result.placements.iter().map(|p| p.side == Side::Container).collect();
        prop_assert_eq!(evaluate(&random, &modes, &container), Some((fewest, largest_kernel)));
        prop_assert_eq!(result.boundaries.len(), fewest);
        for (index, pin) in random.pins.iter().enumerate() {
            prop_assert!(*pin == 0 || container[index] == (*pin == 2));
        }
        let empty = FlatGraph::default();
        let part = |side: bool| if side { result.container.as_ref().unwrap_or(&empty) } else { &result.kernel };
        let has = |graph: &FlatGraph, from: &str, from_port: u16, to: &str, to_port: u16| {
            graph.connections.iter().any(|c| graph.elements[c.from].name == from && c.from_port == from_port && graph.elements[c.to].name == to && c.to_port == to_port)
        };
        for &(from, from_port, to, to_port, _) in &random.connections {
            let (from_name, to_name) = (format!("e{from}"), format!("e{to}"));
            if container[from] == container[to] {
                prop_assert!(has(part(container[from]), &from_name, from_port, &to_name, to_port));
                continue;
            }
            let carrying: Vec<&Boundary> = result
                .boundaries
                .iter()
                .filter(|b| b.connections.iter().any(|c| c.from == from_name && c.from_port == from_port && c.to == to_name && c.to_port == to_port))
                .collect();
            prop_assert_eq!(carrying.len(), 1);
            let boundary = carrying[0];
            prop_assert_eq!(boundary.direction == Direction::KernelToContainer, !container[from]);
            prop_assert!(has(part(container[from]), &from_name, from_port, &boundary.element, 0));
            prop_assert!(has(part(container[to]), &boundary.element, 0, &to_name, to_port));
            let (send, receive) = boundary.direction.classes();
            let class_of = |graph: &FlatGraph| graph.elements[graph.find(&boundary.element).unwrap()].class.clone();
            prop_assert_eq!(class_of(part(container[from])), send);
            prop_assert_eq!(class_of(part(container[to])), receive);
        }
        // Each side holds its elements and one half of every boundary, nothing else.
        let boundary_count = result.boundaries.len();
        prop_assert_eq!(result.kernel.elements.len() + part(true).elements.len(), n + 2 * boundary_count);
    }
}
