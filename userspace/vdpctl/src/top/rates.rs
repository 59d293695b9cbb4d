//! `vdpctl top`'s arithmetic: two successive samples of the STATS counters in, per-second rates
//! out. Pure: the samples carry their own times, so tests give any.
//!
//! A rate exists only for counters seen in both samples that did not go backwards. A tenant or
//! an element first seen in the later sample is `new`; one whose counters went backwards, or a
//! tenant whose thread 0 changed (deleted and added again under its id), is `restarted`; their
//! rates are `None` (null in JSON, `-` on screen) for that interval and resume with the next.

use super::sample::Sample;
use crate::stats::{CpuStats, ElementStats, GraphStats, QueueStats, TenantStats};
use serde::Serialize;
use vdp_core::catalog::class_by_name;

/// How a tenant's, graph's or element's counters relate to the earlier sample's.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Continuity {
    /// Seen in both samples, no counter went backwards: the rates are the counters' growth.
    Steady,
    /// Not in the earlier sample (or there is none yet).
    New,
    /// A counter went backwards, or the tenant was added again: its counting started afresh.
    Restarted,
}

/// The rates of one interval, for every tenant of the later sample.
#[derive(Debug, Serialize, PartialEq)]
pub struct Interval {
    /// Seconds between the two samples; 0 for the first sample, which has nothing before it.
    pub seconds: f64,
    pub tenants: Vec<TenantRates>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct TenantRates {
    pub id: u32,
    pub name: String,
    /// Of the tenant itself (its CPU counters and thread 0).
    pub state: Continuity,
    pub cpu: CpuRates,
    /// `None` when the tenant has no graph installed in the later sample.
    pub graph: Option<GraphRates>,
}

/// The tenant's CPU time against its cgroup's `cpu.max`, every share a fraction of one CPU
/// (1.0 is one CPU's whole time; several threads can together exceed it).
#[derive(Debug, Serialize, PartialEq)]
pub struct CpuRates {
    /// quota / period of the later sample; `None` when the cgroup has no limit.
    pub cap: Option<f64>,
    /// Δ runtime ns / Δ wall ns: the time the tenant's threads ran.
    pub share: Option<f64>,
    /// share / cap: 1.0 is the whole cap used.
    pub of_cap: Option<f64>,
    /// Δ periods / Δ seconds: limited periods in which the threads ran.
    pub periods_per_s: Option<f64>,
    /// Δ throttled periods / Δ seconds: of those, periods in which a thread was stopped.
    pub throttled_periods_per_s: Option<f64>,
    /// Δ throttled ns / Δ wall ns: time stopped, summed over the threads.
    pub throttled_share: Option<f64>,
}

/// A graph's packets as a whole, and each element's.
#[derive(Debug, Serialize, PartialEq)]
pub struct GraphRates {
    /// `steady` only when every element and the depth drops are.
    pub state: Continuity,
    /// Packets the sources put into the graph: Δ packets out of the elements whose class has no
    /// input, per second.
    pub packets_in_per_s: Option<f64>,
    /// Packets that left through the sinks: Δ (packets in − drops) of the elements whose class
    /// has no output, per second.
    pub packets_out_per_s: Option<f64>,
    /// Δ (every element's drops + the depth drops), per second.
    pub drops_per_s: Option<f64>,
    pub elements: Vec<ElementRates>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ElementRates {
    pub name: String,
    pub class: String,
    pub root: bool,
    pub state: Continuity,
    pub packets_in_per_s: Option<f64>,
    pub packets_out_per_s: Option<f64>,
    pub drops_per_s: Option<f64>,
    /// What a Queue holds at the later sample (not a rate).
    pub queue: Option<QueueStats>,
}

/// The rates between `earlier` (none for the first sample) and `later`.
pub fn between(earlier: Option<&Sample>, later: &Sample) -> Interval {
    let seconds = earlier.map_or(0.0, |e| later.at.saturating_duration_since(e.at).as_secs_f64());
    // Two samples at one instant (a clock that did not move) give no rate rather than infinity.
    let earlier = earlier.filter(|_| seconds > 0.0);
    let tenants = later
        .tenants
        .iter()
        .map(|t| tenant_rates(earlier.and_then(|e| e.tenants.iter().find(|p| p.id == t.id)), t, seconds))
        .collect();
    Interval { seconds, tenants }
}

/// `now - then` per second, or `None` when the counter went backwards.
fn per_second(then: u64, now: u64, seconds: f64) -> Option<f64> {
    now.checked_sub(then).map(|d| d as f64 / seconds)
}

fn tenant_rates(earlier: Option<&TenantStats>, later: &TenantStats, seconds: f64) -> TenantRates {
    let state = match earlier {
        None => Continuity::New,
        Some(e) if e.thread_pid != later.thread_pid || e.name != later.name || cpu_went_back(&e.cpu, &later.cpu) => Continuity::Restarted,
        Some(_) => Continuity::Steady,
    };
    // A tenant added again has a graph of its own too: nothing of the old one carries over.
    let earlier = earlier.filter(|_| state == Continuity::Steady);
    TenantRates {
        id: later.id,
        name: later.name.clone(),
        state,
        cpu: cpu_rates(earlier.map(|e| &e.cpu), &later.cpu, seconds),
        graph: later.graph.as_ref().map(|g| graph_rates(earlier.and_then(|e| e.graph.as_ref()), g, seconds)),
    }
}

fn cpu_went_back(earlier: &CpuStats, later: &CpuStats) -> bool {
    later.runtime_ns < earlier.runtime_ns
        || later.periods < earlier.periods
        || later.throttled_periods < earlier.throttled_periods
        || later.throttled_ns < earlier.throttled_ns
}

fn cpu_rates(earlier: Option<&CpuStats>, later: &CpuStats, seconds: f64) -> CpuRates {
    let cap = match later.quota_us {
        Some(quota) if later.period_us > 0 => Some(quota as f64 / later.period_us as f64),
        _ => None,
    };
    let rate = |f: fn(&CpuStats) -> u64| earlier.and_then(|e| per_second(f(e), f(later), seconds));
    // ns per second of wall time is the share of one CPU once divided by 1e9.
    let share = rate(|c| c.runtime_ns).map(|ns| ns / 1e9);
    CpuRates {
        cap,
        share,
        of_cap: share.zip(cap).filter(|(_, cap)| *cap > 0.0).map(|(share, cap)| share / cap),
        periods_per_s: rate(|c| c.periods),
        throttled_periods_per_s: rate(|c| c.throttled_periods),
        throttled_share: rate(|c| c.throttled_ns).map(|ns| ns / 1e9),
    }
}

/// Where an element's class stands in the graph, from the element catalog.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    /// No input: what it passes on entered the graph at it (FromDevice, InfiniteSource).
    Source,
    /// No output: what it takes in and does not drop left the graph at it (ToDevice).
    Sink,
    Inner,
}

fn role(class: &str) -> Role {
    match class_by_name(class) {
        Some(c) if c.inputs.max == 0 => Role::Source,
        Some(c) if c.outputs.max == 0 => Role::Sink,
        _ => Role::Inner,
    }
}

fn element_rates(earlier: Option<&ElementStats>, later: &ElementStats, seconds: f64) -> ElementRates {
    let went_back = |e: &ElementStats| later.packets_in < e.packets_in || later.packets_out < e.packets_out || later.drops < e.drops;
    let state = match earlier {
        None => Continuity::New,
        Some(e) if went_back(e) => Continuity::Restarted,
        Some(_) => Continuity::Steady,
    };
    let earlier = earlier.filter(|_| state == Continuity::Steady);
    let rate = |f: fn(&ElementStats) -> u64| earlier.and_then(|e| per_second(f(e), f(later), seconds));
    ElementRates {
        name: later.name.clone(),
        class: later.class.clone(),
        root: later.root,
        state,
        packets_in_per_s: rate(|e| e.packets_in),
        packets_out_per_s: rate(|e| e.packets_out),
        drops_per_s: rate(|e| e.drops),
        queue: later.queue,
    }
}

fn graph_rates(earlier: Option<&GraphStats>, later: &GraphStats, seconds: f64) -> GraphRates {
    // An element is the same one when its name and class are: an install that keeps both keeps
    // its state, and so its counters.
    let find = |e: &ElementStats| earlier.and_then(|g| g.elements.iter().find(|p| p.name == e.name && p.class == e.class));
    let elements: Vec<ElementRates> = later.elements.iter().map(|e| element_rates(find(e), e, seconds)).collect();
    let state = match earlier {
        None => Continuity::New,
        Some(g) if later.depth_drops < g.depth_drops || elements.iter().any(|e| e.state == Continuity::Restarted) => Continuity::Restarted,
        // An element added by an install that kept the others: the sums would miss its part.
        Some(_) if elements.iter().any(|e| e.state == Continuity::New) => Continuity::New,
        Some(_) => Continuity::Steady,
    };
    let (mut packets_in, mut packets_out, mut drops) = (0u64, 0u64, later.depth_drops);
    let (mut packets_in_then, mut packets_out_then, mut drops_then) = (0u64, 0u64, earlier.map_or(0, |g| g.depth_drops));
    for e in &later.elements {
        let then = find(e);
        drops = drops.saturating_add(e.drops);
        drops_then = drops_then.saturating_add(then.map_or(0, |t| t.drops));
        match role(&e.class) {
            Role::Source => {
                packets_in = packets_in.saturating_add(e.packets_out);
                packets_in_then = packets_in_then.saturating_add(then.map_or(0, |t| t.packets_out));
            }
            Role::Sink => {
                packets_out = packets_out.saturating_add(e.packets_in.saturating_sub(e.drops));
                packets_out_then = packets_out_then.saturating_add(then.map_or(0, |t| t.packets_in.saturating_sub(t.drops)));
            }
            Role::Inner => {}
        }
    }
    let rate = |then: u64, now: u64| Some(()).filter(|_| state == Continuity::Steady).and_then(|_| per_second(then, now, seconds));
    GraphRates {
        state,
        packets_in_per_s: rate(packets_in_then, packets_in),
        packets_out_per_s: rate(packets_out_then, packets_out),
        drops_per_s: rate(drops_then, drops),
        elements,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    pub(crate) fn element(name: &str, class: &str, packets_in: u64, packets_out: u64, drops: u64) -> ElementStats {
        ElementStats { name: name.into(), class: class.into(), root: false, packets_in, packets_out, drops, queue: None }
    }

    /// Tenant `id` named `name` with thread 0 `pid`, `runtime_ms` of CPU time and a graph of
    /// InfiniteSource -> Counter -> Queue -> Discard after `packets` packets, a tenth of them dropped
    /// at the queue.
    pub(crate) fn tenant(id: u32, name: &str, pid: u32, runtime_ms: u64, packets: u64) -> TenantStats {
        let queued = packets - packets / 10;
        TenantStats {
            id,
            name: name.into(),
            thread_pid: pid,
            thread_pids: vec![pid],
            cpu: CpuStats {
                quota_us: Some(20_000),
                period_us: 100_000,
                runtime_ns: runtime_ms * 1_000_000,
                periods: runtime_ms / 20,
                throttled_periods: runtime_ms / 20,
                throttled_ns: runtime_ms * 4_000_000,
            },
            graph: Some(GraphStats {
                element_count: 4,
                task_count: 2,
                depth_drops: 0,
                elements: vec![
                    element("src", "InfiniteSource", 0, packets, 0),
                    element("c", "Counter", packets, packets, 0),
                    ElementStats { queue: Some(QueueStats { length: 5, capacity: 100 }), ..element("q", "Queue", packets, queued, packets / 10) },
                    element("d", "Discard", queued, 0, queued),
                ],
            }),
            ..TenantStats::default()
        }
    }

    pub(crate) fn sample(at: Instant, tenants: Vec<TenantStats>) -> Sample {
        Sample { at, tenants }
    }

    #[test]
    fn steady_counters_give_their_growth_per_second() {
        let t0 = Instant::now();
        let a = sample(t0, vec![tenant(1, "red", 40, 1000, 10_000)]);
        let b = sample(t0 + Duration::from_millis(2000), vec![tenant(1, "red", 40, 1400, 30_000)]);
        let interval = between(Some(&a), &b);
        assert_eq!(interval.seconds, 2.0);
        let red = &interval.tenants[0];
        assert_eq!(red.state, Continuity::Steady);
        // 400 ms of CPU in 2 s: a fifth of a CPU, the whole 20% cap.
        assert_eq!(red.cpu.cap, Some(0.2));
        assert!((red.cpu.share.unwrap() - 0.2).abs() < 1e-12, "{:?}", red.cpu);
        assert!((red.cpu.of_cap.unwrap() - 1.0).abs() < 1e-9, "{:?}", red.cpu);
        assert_eq!(red.cpu.periods_per_s, Some(10.0));
        assert_eq!(red.cpu.throttled_periods_per_s, Some(10.0));
        assert!((red.cpu.throttled_share.unwrap() - 0.8).abs() < 1e-12, "{:?}", red.cpu);
        let graph = red.graph.as_ref().unwrap();
        assert_eq!(graph.state, Continuity::Steady);
        // 20000 packets in 2 s from the source; the queue dropped a tenth; Discard drops the rest,
        // so nothing left through a sink undropped.
        assert_eq!(graph.packets_in_per_s, Some(10_000.0));
        assert_eq!(graph.packets_out_per_s, Some(0.0));
        assert_eq!(graph.drops_per_s, Some(10_000.0));
        let q = &graph.elements[2];
        assert_eq!((q.packets_in_per_s, q.packets_out_per_s, q.drops_per_s), (Some(10_000.0), Some(9_000.0), Some(1_000.0)));
        assert_eq!(q.queue, Some(QueueStats { length: 5, capacity: 100 }));
    }

    #[test]
    fn the_first_sample_and_new_tenants_have_no_rates() {
        let t0 = Instant::now();
        let first = between(None, &sample(t0, vec![tenant(1, "red", 40, 1000, 10)]));
        assert_eq!(first.seconds, 0.0);
        let red = &first.tenants[0];
        assert_eq!((red.state, red.cpu.share, red.cpu.cap), (Continuity::New, None, Some(0.2)));
        let graph = red.graph.as_ref().unwrap();
        assert_eq!((graph.state, graph.packets_in_per_s), (Continuity::New, None));
        assert!(graph.elements.iter().all(|e| e.state == Continuity::New && e.packets_in_per_s.is_none()));
        // Blue appears; red leaves: only what the later sample holds is reported.
        let a = sample(t0, vec![tenant(1, "red", 40, 1000, 10)]);
        let b = sample(t0 + Duration::from_secs(1), vec![tenant(2, "blue", 41, 5, 10)]);
        let interval = between(Some(&a), &b);
        assert_eq!(interval.tenants.len(), 1);
        assert_eq!((interval.tenants[0].name.as_str(), interval.tenants[0].state), ("blue", Continuity::New));
        assert_eq!(interval.tenants[0].cpu.share, None);
    }

    #[test]
    fn a_tenant_added_again_restarts_even_with_larger_counters() {
        let t0 = Instant::now();
        let a = sample(t0, vec![tenant(1, "red", 40, 1000, 10)]);
        // A new thread 0: deleted and added again, its counters bigger only by chance.
        let b = sample(t0 + Duration::from_secs(1), vec![tenant(1, "red", 77, 5000, 50)]);
        let red = &between(Some(&a), &b).tenants[0];
        assert_eq!(red.state, Continuity::Restarted);
        assert_eq!((red.cpu.share, red.cpu.throttled_periods_per_s), (None, None));
        let graph = red.graph.as_ref().unwrap();
        assert_eq!((graph.state, graph.packets_in_per_s, graph.drops_per_s), (Continuity::New, None, None));
        // The same thread but CPU counters that went backwards.
        let c = sample(t0 + Duration::from_secs(2), vec![tenant(1, "red", 77, 10, 60)]);
        let red = &between(Some(&b), &c).tenants[0];
        assert_eq!((red.state, red.cpu.share), (Continuity::Restarted, None));
    }

    #[test]
    fn a_reinstalled_graph_restarts_without_negative_or_huge_rates() {
        let t0 = Instant::now();
        let a = sample(t0, vec![tenant(1, "red", 40, 1000, 1_000_000)]);
        // The graph was installed afresh: its counters start again from zero; the CPU went on.
        let b = sample(t0 + Duration::from_secs(1), vec![tenant(1, "red", 40, 1200, 500)]);
        let red = &between(Some(&a), &b).tenants[0];
        assert_eq!(red.state, Continuity::Steady);
        assert!((red.cpu.share.unwrap() - 0.2).abs() < 1e-12);
        let graph = red.graph.as_ref().unwrap();
        assert_eq!(graph.state, Continuity::Restarted);
        assert_eq!((graph.packets_in_per_s, graph.packets_out_per_s, graph.drops_per_s), (None, None, None));
        for e in &graph.elements {
            assert_eq!(e.state, Continuity::Restarted, "{}", e.name);
            assert_eq!((e.packets_in_per_s, e.packets_out_per_s, e.drops_per_s), (None, None, None));
        }
        // The next interval counts again from the restarted values.
        let c = sample(t0 + Duration::from_secs(2), vec![tenant(1, "red", 40, 1400, 1500)]);
        let graph = between(Some(&b), &c).tenants.remove(0).graph.unwrap();
        assert_eq!((graph.state, graph.packets_in_per_s), (Continuity::Steady, Some(1000.0)));
    }

    #[test]
    fn an_element_added_by_an_install_is_new_and_holds_the_sums_back() {
        let t0 = Instant::now();
        let a = sample(t0, vec![tenant(1, "red", 40, 1000, 100)]);
        let mut later = tenant(1, "red", 40, 1100, 200);
        let graph = later.graph.as_mut().unwrap();
        graph.elements.push(element("extra", "Counter", 3, 3, 0));
        // An element that kept its name but changed class is another element.
        graph.elements[1].class = "Null".into();
        let b = sample(t0 + Duration::from_secs(1), vec![later]);
        let graph = between(Some(&a), &b).tenants.remove(0).graph.unwrap();
        assert_eq!(graph.state, Continuity::New);
        assert_eq!(graph.packets_in_per_s, None);
        assert_eq!(graph.elements[0].packets_out_per_s, Some(100.0));
        assert_eq!((graph.elements[1].state, graph.elements[1].packets_in_per_s), (Continuity::New, None));
        assert_eq!((graph.elements[4].state, graph.elements[4].packets_in_per_s), (Continuity::New, None));
    }

    #[test]
    fn uncapped_tenants_and_sinks_that_send() {
        let t0 = Instant::now();
        let mk = |packets: u64, runtime_ms: u64| {
            let mut t = tenant(3, "blue", 50, runtime_ms, 0);
            t.cpu.quota_us = None;
            t.graph.as_mut().unwrap().elements = vec![element("in", "FromDevice", 0, packets, 0), element("out", "ToDevice", packets, 0, packets / 100)];
            t
        };
        let a = sample(t0, vec![mk(1000, 100)]);
        let b = sample(t0 + Duration::from_millis(500), vec![mk(2000, 600)]);
        let blue = &between(Some(&a), &b).tenants[0];
        assert_eq!((blue.cpu.cap, blue.cpu.of_cap), (None, None));
        assert!((blue.cpu.share.unwrap() - 1.0).abs() < 1e-12);
        let graph = blue.graph.as_ref().unwrap();
        assert_eq!(graph.packets_in_per_s, Some(2000.0));
        // ToDevice took 1000 more and dropped 10 more of them: 990 sent in half a second.
        assert_eq!(graph.packets_out_per_s, Some(1980.0));
        assert_eq!(graph.drops_per_s, Some(20.0));
    }

    #[test]
    fn samples_at_one_instant_or_out_of_order_give_no_rates() {
        let t0 = Instant::now();
        let a = sample(t0 + Duration::from_secs(1), vec![tenant(1, "red", 40, 1000, 10)]);
        let b = sample(t0, vec![tenant(1, "red", 40, 2000, 20)]);
        let interval = between(Some(&a), &b);
        assert_eq!(interval.seconds, 0.0);
        assert_eq!(interval.tenants[0].cpu.share, None);
        assert_eq!(interval.tenants[0].state, Continuity::New);
    }
}
