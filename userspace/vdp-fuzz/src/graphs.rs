//! Compiled graphs for the fuzzer: valid blobs built in-process by the project's own front end
//! (`vdp-click`) from small Click configurations, then mutated record by record. Mutations on the
//! checked graph (connections, modes, arguments, element lists, classes) are encoded by the
//! compiler itself, so the result is a well-formed blob that often passes the kernel's validator
//! and reaches the graph builder; mutations on the encoded blob (header, tenant, element,
//! connection and task records) then probe the validator's edges.

use crate::rng::Rng;
use vdp_click::check::CheckedGraph;
use vdp_click::flatten::FlatConnection;
use vdp_click::source::{Diagnostics, Sources};
use vdp_click::system::SystemConfig;
use vdp_click::values::ArgValue;
use vdp_click::{compile, TenantSource};
use vdp_core::catalog::{self, ArgKind, Processing};
use vdp_core::compiled_graph as format;

/// The system config the blobs are compiled against (tenants red and blue, each with devices
/// eth1 and eth2 over phys0); the fuzz scenario applies the same file.
pub const SYSTEM: &str = include_str!("../../../qemu-tests/configs/gre-system.toml");

/// A configuration of the fuzzer's own for the classes the scenario configurations leave out.
const MIX: &str = r#"
src :: InfiniteSource(LENGTH 60, LIMIT 300, BURST 4);
src -> t :: Tee(2);
t[0] -> Paint(1) -> ps :: PaintSwitch;
ps[0] -> Discard;
ps[1] -> sq :: SimpleQueue(50) -> ru :: RatedUnqueue(1000) -> Strip(14) -> Unstrip(14) -> len :: CheckLength(80);
len[0] -> ok :: Counter -> Discard;
len[1] -> Discard;
t[1] -> idle :: Idle;
Idle -> Discard;
AddressInfo(me 10.3.0.1/24 02:00:00:00:c3:01);
arpsrc :: InfiniteSource(\<020000000000 020000000001 0800 45000014 00000000 40110000 0a030001 0a040009>, 300, 4);
arpsrc -> Strip(14) -> GetIPAddress(16) -> aq :: ARPQuerier(me, CAPACITY 16, ENTRY_CAPACITY 8);
aq -> ar :: ARPResponder(me, 10.4.0.0/16 02:00:00:00:c4:01);
ar[0] -> Queue(20) -> Unqueue -> [1] aq;
ar[1] -> Discard;
"#;

/// Configurations compiled for each tenant: (name, text).
pub const CONFIGS: &[(&str, &str)] = &[
    ("gre-router", include_str!("../../../qemu-tests/configs/gre-router.click")),
    ("ip-router", include_str!("../../../qemu-tests/configs/ip-router.click")),
    ("elements-misc", include_str!("../../../qemu-tests/configs/elements-misc.click")),
    ("two-threads", include_str!("../../../qemu-tests/configs/two-threads.click")),
    ("stride", include_str!("../../../qemu-tests/configs/stride.click")),
    ("queue-unqueue", include_str!("../../../qemu-tests/configs/queue-unqueue.click")),
    ("demo-blue", include_str!("../../../qemu-tests/configs/demo-blue.click")),
    ("coord-blue", include_str!("../../../qemu-tests/configs/coord-blue.click")),
    ("coord-eth1", include_str!("../../../qemu-tests/configs/coord-eth1.click")),
    ("hotswap-held", include_str!("../../../qemu-tests/configs/hotswap-held.click")),
    ("mix", MIX),
];

/// One compiled configuration of one tenant.
#[derive(Clone)]
pub struct Base {
    pub label: String,
    pub checked: CheckedGraph,
    pub blob: Vec<u8>,
}

pub fn system() -> SystemConfig {
    SystemConfig::parse(SYSTEM).unwrap_or_else(|e| panic!("the fuzzer's system config: {e:?}"))
}

/// Compiles `text` for `tenant` the way `vdpctl compile` does.
pub fn compile_config(system: &SystemConfig, tenant: &str, name: &str, text: &str) -> Result<(CheckedGraph, Vec<u8>), String> {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let input = TenantSource { tenant: tenant.to_string(), file_name: name.to_string(), text: text.to_string(), catalog: vdp_core::catalog::Catalog::LIBRARY };
    let merged = vdp_click::merge_tenants(&mut sources, system, &[input], &mut diagnostics).ok_or_else(|| sources.render_all(&diagnostics))?;
    let blob = compile::compile(&merged.checked, system).map_err(|e| e.to_string())?;
    Ok((merged.checked, blob))
}

/// Every configuration compiled for every tenant of the system config.
pub fn bases(system: &SystemConfig) -> Result<Vec<Base>, String> {
    let mut out = Vec::new();
    for tenant in &system.tenant {
        for (name, text) in CONFIGS {
            let (mut checked, _) = compile_config(system, &tenant.name, name, text).map_err(|e| format!("{name} for {}: {e}", tenant.name))?;
            cap_sources(&mut checked);
            let blob = compile::compile(&checked, system).map_err(|e| format!("{name} for {}: {e}", tenant.name))?;
            out.push(Base { label: format!("{}:{name}", tenant.name), checked, blob });
        }
    }
    Ok(out)
}

/// Most packets a base graph's source sends. Each install starts a source's LIMIT afresh, and
/// under TCG thousands of packets per install would leave the fuzzer little CPU; mutations may
/// still raise a LIMIT (or make it unlimited) until the next install replaces the graph.
const SOURCE_LIMIT: i64 = 100;

fn cap_sources(graph: &mut CheckedGraph) {
    for element in &mut graph.elements {
        if let Some(i) = element.class.arg_index("LIMIT") {
            if let Some(ArgValue::Int(limit)) = element.args.get_mut(i).and_then(Option::as_mut) {
                if *limit < 0 || *limit > SOURCE_LIMIT {
                    *limit = SOURCE_LIMIT;
                }
            }
        }
    }
}

/// What a mutated blob is, for the report.
pub struct Mutated {
    pub blob: Vec<u8>,
    /// Names of the mutations applied, in order.
    pub steps: Vec<&'static str>,
}

fn pick_int(rng: &mut Rng, min: i64, max: i64) -> i64 {
    match rng.below(10) {
        0 => min,
        1 => max,
        2 => min.saturating_sub(1),
        3 => max.saturating_add(1),
        4 => *rng.choose(&[0, -1, i64::MIN, i64::MAX, 1 << 32, 65536]),
        _ => {
            let span = (max as i128 - min as i128 + 1).min(1 << 20) as u64;
            min.saturating_add(rng.below(span.max(1)) as i64)
        }
    }
}

/// Changes one argument value, within its kind (the compiler can encode only matching kinds).
fn mutate_value(rng: &mut Rng, kind: ArgKind, value: &mut ArgValue, names: &[String]) {
    match (kind, value) {
        (ArgKind::Int { min, max }, ArgValue::Int(v)) => *v = pick_int(rng, min, max),
        (ArgKind::IpProtocol | ArgKind::IcmpErrorType | ArgKind::IcmpCode, ArgValue::Int(v)) => *v = rng.below(256) as i64,
        (ArgKind::Bool, ArgValue::Bool(b)) => *b = !*b,
        (ArgKind::Ipv4Addr, ArgValue::Ipv4(a)) => rng.fill(a),
        (_, ArgValue::Prefix(p)) => p.len = rng.below(34) as u8,
        (_, ArgValue::Ether(e)) => rng.fill(e),
        (_, ArgValue::Quantity(q)) => {
            let r = rng.next();
            *q = *rng.choose(&[0, 1, 1000, u64::MAX, r]);
        }
        (_, ArgValue::Bytes(b)) => match rng.below(3) {
            0 => b.clear(),
            1 => b.truncate(rng.below(b.len() as u64 + 1) as usize),
            _ => b.extend(std::iter::repeat_n(rng.next() as u8, rng.below(2000) as usize)),
        },
        (ArgKind::DeviceName, ArgValue::Name(n)) => *n = rng.choose(&["eth1", "eth2", "eth3", "lo", "phys0", "x"]).to_string(),
        (ArgKind::ElementRef, ArgValue::Name(n)) => {
            if let Some(name) = rng.maybe_choose(names) {
                *n = name.clone();
            }
        }
        (_, ArgValue::Route(r)) => match rng.below(3) {
            0 => r.port = rng.below(6) as u16,
            1 => r.prefix.len = rng.below(34) as u8,
            _ => r.gateway = if r.gateway.is_some() { None } else { Some([10, 0, 0, 1]) },
        },
        (_, ArgValue::ElementNumber(name, number)) => {
            if rng.coin() {
                *number = *rng.choose(&[0, 1, 2, 3, 7, 8, 9, 255, 256, 1024, 65536, 65537, u32::MAX]);
            } else if let Some(other) = rng.maybe_choose(names) {
                *name = other.clone();
            }
        }
        (_, ArgValue::Prefixes(list)) => {
            if rng.coin() {
                list.clear();
            } else {
                list.push(vdp_core::click_value::Ipv4Prefix { addr: [10, 0, 0, 0], len: rng.below(34) as u8 });
            }
        }
        (_, ArgValue::Addresses(list)) => list.push([rng.next() as u8, 0, 0, 1]),
        // Past one (65536) only a hand-made blob can go; the kernel must refuse it.
        (_, ArgValue::Probability(p)) => *p = *rng.choose(&[0, 1, 65535, 65536, 65537, u32::MAX]),
        // A RED made to watch any element, a Storage one or not, or nothing.
        (_, ArgValue::Names(list)) => match rng.below(3) {
            0 => list.clear(),
            _ => {
                if let Some(name) = rng.maybe_choose(names) {
                    list.push(name.clone());
                }
            }
        },
        (_, ArgValue::Program(insns)) => {
            if insns.len() > 1 && rng.coin() {
                insns.pop();
            } else if let Some(first) = insns.first().copied() {
                insns.push(first);
            }
        }
        _ => {}
    }
}

fn flip(mode: &mut Processing) {
    *mode = if *mode == Processing::Push { Processing::Pull } else { Processing::Push };
}

/// Classes whose argument schemas (and repeated arguments) have the same kinds as `class`: an
/// element can change to one of them and still be encoded.
fn same_schema(class: &'static catalog::ElementClass) -> Vec<&'static catalog::ElementClass> {
    catalog::all_classes()
        .filter(|other| {
            other.id != class.id
                && other.args.len() == class.args.len()
                && other.args.iter().zip(class.args).all(|(a, b)| a.kind == b.kind)
                && other.repeated.map(|r| r.kind) == class.repeated.map(|r| r.kind)
        })
        .collect()
}

/// One mutation of the checked graph. Returns its name.
fn mutate_graph(rng: &mut Rng, g: &mut CheckedGraph) -> &'static str {
    let n = g.elements.len();
    if n == 0 {
        return "none";
    }
    let names: Vec<String> = g.elements.iter().map(|e| e.name.clone()).collect();
    let conns = g.connections.len();
    match rng.below(17) {
        0 | 1 if conns > 0 => {
            // One end of a connection moves to a random element's port (sometimes one past its
            // last).
            let c = rng.below(conns as u64) as usize;
            let element = rng.below(n as u64) as usize;
            let downstream = rng.coin();
            let ports = if downstream { g.elements[element].inputs } else { g.elements[element].outputs };
            let beyond = u64::from(rng.below(4) == 0);
            let port = rng.below(u64::from(ports.max(1)) + beyond) as u16;
            let c = &mut g.connections[c];
            if downstream {
                (c.to, c.to_port) = (element, port);
                "retarget-to"
            } else {
                (c.from, c.from_port) = (element, port);
                "retarget-from"
            }
        }
        2 if conns > 1 => {
            let (a, b) = (rng.below(conns as u64) as usize, rng.below(conns as u64) as usize);
            if rng.coin() {
                let t = g.connections[a].to_port;
                g.connections[a].to_port = g.connections[b].to_port;
                g.connections[b].to_port = t;
            } else {
                let t = g.connections[a].from_port;
                g.connections[a].from_port = g.connections[b].from_port;
                g.connections[b].from_port = t;
            }
            "swap-ports"
        }
        3 if conns > 0 => {
            let c = g.connections[rng.below(conns as u64) as usize].clone();
            g.connections.push(c);
            "duplicate-connection"
        }
        4 if conns > 0 => {
            g.connections.remove(rng.below(conns as u64) as usize);
            "drop-connection"
        }
        5 => {
            let e = &mut g.elements[rng.below(n as u64) as usize];
            let ports = e.input_modes.len() + e.output_modes.len();
            if ports == 0 {
                return "flip-mode-none";
            }
            let p = rng.below(ports as u64) as usize;
            if p < e.input_modes.len() {
                flip(&mut e.input_modes[p]);
            } else {
                flip(&mut e.output_modes[p - e.input_modes.len()]);
            }
            "flip-mode"
        }
        6 => {
            // Flip every port of an element: an agnostic element changing sides stays consistent.
            let e = &mut g.elements[rng.below(n as u64) as usize];
            e.input_modes.iter_mut().chain(e.output_modes.iter_mut()).for_each(flip);
            "flip-element-modes"
        }
        7 | 8 => {
            let e = &mut g.elements[rng.below(n as u64) as usize];
            let class = e.class;
            let present: Vec<usize> = (0..e.args.len()).filter(|i| e.args[*i].is_some()).collect();
            if let Some(&i) = rng.maybe_choose(&present) {
                if let Some(v) = e.args[i].as_mut() {
                    mutate_value(rng, class.args[i].kind, v, &names);
                }
                "argument-value"
            } else if let (Some(repeat), false) = (class.repeated, e.repeated.is_empty()) {
                let i = rng.below(e.repeated.len() as u64) as usize;
                mutate_value(rng, repeat.kind, &mut e.repeated[i], &names);
                "repeated-value"
            } else {
                "argument-none"
            }
        }
        9 => {
            let e = &mut g.elements[rng.below(n as u64) as usize];
            if e.repeated.is_empty() {
                return "repeated-none";
            }
            if rng.coin() {
                e.repeated.remove(rng.below(e.repeated.len() as u64) as usize);
                "drop-repeated"
            } else {
                let v = e.repeated[rng.below(e.repeated.len() as u64) as usize].clone();
                e.repeated.push(v);
                "duplicate-repeated"
            }
        }
        10 => {
            // An optional argument dropped (its default applies) or a required one (refused).
            let e = &mut g.elements[rng.below(n as u64) as usize];
            if e.args.is_empty() {
                return "absent-none";
            }
            let i = rng.below(e.args.len() as u64) as usize;
            if e.class.args[i].required && rng.below(4) != 0 {
                return "absent-none";
            }
            // The compiler refuses a missing required value itself; write it as absent later.
            e.args[i] = None;
            "argument-absent"
        }
        11 => {
            let e = &mut g.elements[rng.below(n as u64) as usize];
            if rng.coin() {
                e.outputs = e.outputs.saturating_add(1);
                e.output_modes.push(e.output_modes.last().copied().unwrap_or(Processing::Push));
                "add-output"
            } else if e.outputs > 0 {
                e.outputs -= 1;
                e.output_modes.pop();
                "drop-output"
            } else {
                "drop-output-none"
            }
        }
        12 => {
            let i = rng.below(n as u64) as usize;
            let candidates = same_schema(g.elements[i].class);
            match rng.maybe_choose(&candidates) {
                Some(class) => {
                    g.elements[i].class = class;
                    "change-class"
                }
                None => "change-class-none",
            }
        }
        13 => {
            // Splice a one-in-one-out element out of its chain: a smaller graph that still holds.
            let i = rng.below(n as u64) as usize;
            let ins: Vec<usize> = (0..conns).filter(|c| g.connections[*c].to == i).collect();
            let outs: Vec<usize> = (0..conns).filter(|c| g.connections[*c].from == i).collect();
            if g.elements[i].inputs != 1 || g.elements[i].outputs != 1 || ins.len() != 1 || outs.len() != 1 {
                return "splice-out-none";
            }
            let (to, to_port) = (g.connections[outs[0]].to, g.connections[outs[0]].to_port);
            g.connections[ins[0]].to = to;
            g.connections[ins[0]].to_port = to_port;
            g.connections.remove(outs[0]);
            g.elements.remove(i);
            for c in &mut g.connections {
                if c.from > i {
                    c.from -= 1;
                }
                if c.to > i {
                    c.to -= 1;
                }
            }
            "splice-out"
        }
        14 if conns > 0 => {
            // Splice a copy of a one-in-one-out element into a connection.
            let c = rng.below(conns as u64) as usize;
            let single: Vec<usize> = (0..n).filter(|i| g.elements[*i].inputs == 1 && g.elements[*i].outputs == 1).collect();
            let Some(&model) = rng.maybe_choose(&single) else { return "splice-in-none" };
            let mut copy = g.elements[model].clone();
            let mode = g.elements[g.connections[c].from].output_modes.get(usize::from(g.connections[c].from_port)).copied().unwrap_or(Processing::Push);
            copy.input_modes = vec![mode];
            copy.output_modes = vec![mode];
            copy.name = format!("{}~{}", copy.name, rng.below(1 << 20));
            g.elements.push(copy);
            let new = g.elements.len() - 1;
            let old = g.connections[c].clone();
            g.connections[c].to = new;
            g.connections[c].to_port = 0;
            g.connections.push(FlatConnection { from: new, from_port: 0, to: old.to, to_port: old.to_port, span: None });
            "splice-in"
        }
        15 => {
            // An element with the same name as another.
            let (a, b) = (rng.below(n as u64) as usize, rng.below(n as u64) as usize);
            let name = g.elements[b].name.clone();
            g.elements[a].name = if rng.coin() { name } else { format!("{name}/{}", rng.below(100)) };
            "rename"
        }
        16 => {
            // A connection into an input that others feed too moves to another element: the
            // old input stays connected, so the graph often still holds, with a new shape (and
            // now and then a push or pull cycle, when the new target is upstream).
            let shared: Vec<usize> = (0..conns)
                .filter(|&c| {
                    let (to, port) = (g.connections[c].to, g.connections[c].to_port);
                    g.connections.iter().filter(|o| o.to == to && o.to_port == port).count() > 1
                })
                .collect();
            let Some(&c) = rng.maybe_choose(&shared) else { return "move-merge-none" };
            let element = rng.below(n as u64) as usize;
            let inputs = g.elements[element].inputs;
            if inputs == 0 {
                return "move-merge-none";
            }
            g.connections[c].to = element;
            g.connections[c].to_port = rng.below(u64::from(inputs)) as u16;
            "move-merge"
        }
        _ => "none",
    }
}

fn get_u32(blob: &[u8], at: usize) -> u32 {
    blob.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn put_u32(blob: &mut [u8], at: usize, v: u32) {
    if let Some(b) = blob.get_mut(at..at + 4) {
        b.copy_from_slice(&v.to_le_bytes());
    }
}

fn put_u16(blob: &mut [u8], at: usize, v: u16) {
    if let Some(b) = blob.get_mut(at..at + 2) {
        b.copy_from_slice(&v.to_le_bytes());
    }
}

fn fix_length(blob: &mut [u8]) {
    let len = blob.len() as u32;
    put_u32(blob, 8, len);
}

const TASK_BYTES: usize = 12;
const CONNECTION_BYTES: usize = 12;

/// Offsets of each element record's fields in a blob that validates: (record start, modes,
/// args). The accessors give slices into the blob; their positions are the offsets.
fn element_offsets(blob: &[u8]) -> Vec<(usize, usize, usize)> {
    let Ok(graph) = compile::validate(blob) else { return Vec::new() };
    let base = blob.as_ptr() as usize;
    graph
        .elements()
        .map(|e| {
            let name = e.name.as_ptr() as usize - base;
            (name - 10, e.modes.as_ptr() as usize - base, e.args.as_ptr() as usize - base)
        })
        .collect()
}

/// One mutation of the encoded blob. Returns its name.
fn mutate_blob(rng: &mut Rng, blob: &mut Vec<u8>) -> &'static str {
    if blob.len() < format::HEADER_BYTES {
        return "none";
    }
    // The record arms below need the header's counts to describe the blob's tail; after an
    // earlier header mutation they may not, and then those arms have nothing to work on.
    let (mut tasks, mut conns) = (get_u32(blob, 28) as usize, get_u32(blob, 24) as usize);
    let records = tasks.checked_add(conns).and_then(|n| n.checked_mul(TASK_BYTES)).and_then(|n| n.checked_add(format::HEADER_BYTES));
    if records.is_none_or(|n| n > blob.len()) {
        (tasks, conns) = (0, 0);
    }
    let tasks_at = blob.len() - tasks * TASK_BYTES;
    let conns_at = tasks_at - conns * CONNECTION_BYTES;
    match rng.below(14) {
        0 => {
            let field = *rng.choose(&[4usize, 6, 8, 12, 16, 20, 24, 28]);
            if field < 8 {
                let v = *rng.choose(&[0u16, 2, catalog::CLASS_COUNT, catalog::CLASS_COUNT + 1, u16::MAX]);
                put_u16(blob, field, v);
            } else {
                let old = get_u32(blob, field);
                let v = *rng.choose(&[old.wrapping_add(1), old.wrapping_sub(1), 0, u32::MAX, old.wrapping_mul(2)]);
                put_u32(blob, field, v);
            }
            "header-field"
        }
        1 if tasks > 0 => {
            let t = tasks_at + rng.below(tasks as u64) as usize * TASK_BYTES;
            let r = rng.next() as u32;
            let thread = *rng.choose(&[0u32, 1, 2, 3, 7, 8, 9, 254, 255, 256, format::UNPINNED, r]);
            put_u32(blob, t + 8, thread);
            "task-thread"
        }
        2 if tasks > 0 => {
            let t = tasks_at + rng.below(tasks as u64) as usize * TASK_BYTES;
            let elements = get_u32(blob, 16);
            let r = rng.below(u64::from(elements.max(1))) as u32;
            let v = *rng.choose(&[0, elements.saturating_sub(1), elements, r]);
            put_u32(blob, t, v);
            "task-element"
        }
        3 if tasks > 0 => {
            let t = tasks_at + rng.below(tasks as u64) as usize * TASK_BYTES;
            let record = blob[t..t + TASK_BYTES].to_vec();
            blob.extend(record);
            put_u32(blob, 28, (tasks + 1) as u32);
            fix_length(blob);
            "duplicate-task"
        }
        4 if tasks > 0 => {
            let t = tasks_at + rng.below(tasks as u64) as usize * TASK_BYTES;
            blob.drain(t..t + TASK_BYTES);
            put_u32(blob, 28, (tasks - 1) as u32);
            fix_length(blob);
            "drop-task"
        }
        5 if conns > 0 => {
            let c = conns_at + rng.below(conns as u64) as usize * CONNECTION_BYTES;
            let elements = get_u32(blob, 16).max(1);
            match rng.below(4) {
                0 => put_u32(blob, c, rng.below(u64::from(elements) + 1) as u32),
                1 => put_u16(blob, c + 4, rng.below(4) as u16),
                2 => put_u32(blob, c + 6, rng.below(u64::from(elements) + 1) as u32),
                _ => put_u16(blob, c + 10, rng.below(4) as u16),
            }
            "connection-field"
        }
        6 if conns > 0 => {
            // A connection record duplicated in place (the count follows).
            let c = conns_at + rng.below(conns as u64) as usize * CONNECTION_BYTES;
            let record = blob[c..c + CONNECTION_BYTES].to_vec();
            blob.splice(c..c, record);
            put_u32(blob, 24, (conns + 1) as u32);
            fix_length(blob);
            "duplicate-connection-record"
        }
        7..=9 => {
            let offsets = element_offsets(blob);
            let Some(&(start, modes, args)) = rng.maybe_choose(&offsets) else { return "element-none" };
            match rng.below(5) {
                0 => {
                    let class = get_u32(blob, start) as u16;
                    let r = rng.below(40) as u16;
                    let v = *rng.choose(&[class.wrapping_add(1), class.wrapping_sub(1), catalog::CLASS_COUNT - 1, catalog::CLASS_COUNT, r]);
                    put_u16(blob, start, v);
                    "element-class"
                }
                1 => {
                    let tenants = get_u32(blob, 12) as u16;
                    put_u16(blob, start + 2, *rng.choose(&[0, 1, tenants, format::SHARED_TENANT, 0xfffe]));
                    "element-tenant"
                }
                2 if modes < args => {
                    let at = modes + rng.below((args - modes) as u64) as usize;
                    blob[at] = *rng.choose(&[0, 1, 2, 0xff]);
                    "element-mode"
                }
                3 if args < blob.len() => {
                    blob[args] = *rng.choose(&[0, 1, 2]);
                    "element-presence"
                }
                _ => {
                    let at = (args + rng.below(24) as usize).min(blob.len() - 1);
                    blob[at] = rng.next() as u8;
                    "element-byte"
                }
            }
        }
        10 => {
            // The first tenant record's CPU share, or its name's length.
            let Some(&[lo, hi]) = blob.get(32..34).and_then(|b| <&[u8; 2]>::try_from(b).ok()) else { return "tenant-none" };
            let name_len = usize::from(u16::from_le_bytes([lo, hi]));
            let cgroup_at = 34 + name_len;
            let cgroup_len = blob.get(cgroup_at..cgroup_at + 2).map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])));
            if rng.coin() {
                put_u32(blob, cgroup_at + 2 + cgroup_len, *rng.choose(&[0, 1, 100, 101, u32::MAX]));
                "tenant-share"
            } else {
                put_u16(blob, 32, *rng.choose(&[0, 33, (name_len as u16).wrapping_add(1), u16::MAX]));
                "tenant-name-length"
            }
        }
        11 => {
            let at = rng.below(blob.len() as u64) as usize;
            blob[at] ^= 1 << rng.below(8);
            "bit-flip"
        }
        12 => {
            let keep = rng.below(blob.len() as u64) as usize;
            blob.truncate(keep);
            if rng.coin() {
                fix_length(blob);
            }
            "truncate"
        }
        _ => {
            let extra = rng.below(16) as usize + 1;
            blob.extend(std::iter::repeat_n(0, extra));
            if rng.coin() {
                fix_length(blob);
            }
            "trailing-bytes"
        }
    }
}

/// A mutated blob from `base`: a few graph mutations (encoded by the compiler), then, sometimes,
/// a blob mutation.
pub fn mutate(rng: &mut Rng, system: &SystemConfig, base: &Base) -> Mutated {
    let mut steps = Vec::new();
    let mut blob = None;
    if rng.below(5) != 0 {
        let mut graph = base.checked.clone();
        for _ in 0..=rng.below(3) {
            steps.push(mutate_graph(rng, &mut graph));
        }
        // Required arguments made absent cannot be encoded by the compiler; put them back.
        for (e, original) in graph.elements.iter_mut().zip(&base.checked.elements) {
            if e.class.id == original.class.id {
                for (i, spec) in e.class.args.iter().enumerate() {
                    if spec.required && e.args[i].is_none() {
                        e.args[i] = original.args[i].clone();
                    }
                }
            }
        }
        // The compiler asserts that every task names an element; a graph it cannot encode is
        // the front end's business, not the kernel's.
        let encoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compile::compile(&graph, system)));
        match encoded {
            Ok(Ok(b)) => blob = Some(b),
            _ => steps.push("compile-refused"),
        }
    }
    let mut blob = blob.unwrap_or_else(|| base.blob.clone());
    if steps.is_empty() || rng.below(3) == 0 {
        for _ in 0..=rng.below(2) {
            steps.push(mutate_blob(rng, &mut blob));
        }
    }
    Mutated { blob, steps }
}

/// Element names and class of a blob that validates.
pub fn elements_of(blob: &[u8]) -> Vec<(String, &'static catalog::ElementClass)> {
    compile::validate(blob).map(|g| g.elements().map(|e| (e.name.to_string(), e.class)).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_base_compiles_and_validates() {
        let system = system();
        let bases = bases(&system).expect("bases");
        assert_eq!(bases.len(), CONFIGS.len() * system.tenant.len());
        for base in &bases {
            compile::validate(&base.blob).unwrap_or_else(|e| panic!("{}: {e:?}", base.label));
        }
        // The bases cover most of the tenant library.
        let mut classes: Vec<u16> = bases.iter().flat_map(|b| elements_of(&b.blob)).map(|(_, c)| c.id).collect();
        classes.sort();
        classes.dedup();
        eprintln!("{} classes covered", classes.len());
        assert!(classes.len() >= 33, "{} classes covered", classes.len());
    }

    #[test]
    fn a_connection_retargeted_upstream_makes_a_cycle_the_validator_refuses() {
        let system = system();
        let text = "a :: InfiniteSource(LIMIT 1); a -> t :: Tee(2); t[0] -> c :: Counter -> Discard; t[1] -> d :: Counter -> x :: Discard;";
        let (mut graph, blob) = compile_config(&system, "red", "t", text).unwrap();
        compile::validate(&blob).expect("the configuration as written is valid");
        // d's output goes back into the Tee instead of to x, and x goes.
        let (t, d, x) = (graph.find("red/t").unwrap(), graph.find("red/d").unwrap(), graph.find("red/x").unwrap());
        assert_eq!(x, graph.elements.len() - 1);
        let edge = graph.connections.iter_mut().find(|c| c.from == d).unwrap();
        edge.to = t;
        edge.to_port = 0;
        graph.elements.pop();
        let blob = compile::compile(&graph, &system).unwrap();
        // The shared validator, the kernel's, refuses the cycle: the fuzzer sends such blobs
        // and fails the run if the kernel accepts one.
        assert!(compile::validate(&blob).is_err(), "the validator accepted a push cycle");
    }

    #[test]
    fn blob_mutations_never_panic_on_mutated_blobs() {
        let system = system();
        let bases = bases(&system).unwrap();
        let mut rng = Rng::new(11);
        for i in 0..3000 {
            let mut blob = bases[i % bases.len()].blob.clone();
            for _ in 0..30 {
                mutate_blob(&mut rng, &mut blob);
                if blob.len() < format::HEADER_BYTES {
                    break;
                }
            }
        }
    }

    #[test]
    fn mutations_are_deterministic_and_often_valid() {
        let system = system();
        let bases = bases(&system).unwrap();
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..400).map(|i| mutate(&mut rng, &system, &bases[i % bases.len()]).blob).collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        let valid = a.iter().filter(|b| compile::validate(b).is_ok()).count();
        assert!(valid > 40, "only {valid} of 400 mutated blobs validate");
        assert!(valid < 360, "{valid} of 400 mutated blobs validate: the mutations do little");
        eprintln!("{valid} of 400 mutated blobs validate");
        // Some mutations close push or pull cycles, which the validator (the kernel's) refuses:
        // the fuzzer sends those blobs too.
        let mut rng = Rng::new(3);
        let cycles = (0..3000)
            .filter(|i| {
                let blob = mutate(&mut rng, &system, &bases[i % bases.len()]).blob;
                matches!(compile::validate(&blob), Err(format::FormatError::PushCycle { .. } | format::FormatError::PullCycle { .. }))
            })
            .count();
        eprintln!("{cycles} of 3000 mutated blobs have a cycle the validator refuses");
        assert!(cycles > 0);
    }
}
