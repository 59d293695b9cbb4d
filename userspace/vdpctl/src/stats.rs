//! `vdpctl stats` and `vdpctl monitor`: the STATS dump and the `events` multicast group.

use crate::attrs::{ElementAttr, VdpAttr};
use crate::netlink::{NlError, VdpMessage, VdpSocket};
use crate::output::Output;
use anyhow::{bail, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
use vdp_core::uapi::{cmd, MCGRP_EVENTS};

#[derive(Args)]
pub struct StatsArgs {
    /// Only this tenant: its id or its name (through the coordinator: the root context only).
    #[arg(long, value_parser = crate::tenant_ref::parse_tenant_ref)]
    tenant: Option<crate::tenant_ref::TenantRef>,
    /// Ask the coordinator at this socket instead of the module.
    #[arg(long)]
    socket: Option<std::path::PathBuf>,
}

#[derive(Args)]
pub struct MonitorArgs {
    /// Exit after this many events.
    #[arg(long)]
    count: Option<u64>,
    /// Give up (exit 4) when the events have not all arrived after this many seconds.
    #[arg(long)]
    timeout: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TenantStats {
    pub id: u32,
    pub name: String,
    /// Thread 0's PID.
    pub thread_pid: u32,
    /// Every thread's PID, thread 0 first.
    pub thread_pids: Vec<u32>,
    pub tasks_per_yield: u32,
    /// Passes sized by time instead of by `tasks_per_yield`.
    pub tasks_per_yield_auto: bool,
    /// The THREADS knob.
    pub threads: u32,
    /// The CPUs the tenant's threads are pinned to; `None` for any CPU.
    #[serde(default)]
    pub cpus: Option<Vec<u32>>,
    pub wakeups: u64,
    pub task_runs: u64,
    /// The cgroup's CPU limit and how the tenant's threads were held to it.
    pub cpu: CpuStats,
    /// The tenant's aggregate transmit cap over all its devices (rate 0: none).
    #[serde(default)]
    pub tx_cap: TxCap,
    /// Each device's own transmit cap and what it sent and dropped over the caps (filled by
    /// [`device_tx`]; empty in the bare STATS dump).
    #[serde(default)]
    pub devices: Vec<DeviceTx>,
    /// The devices could not be read: `VDEV_GET` needs CAP_NET_ADMIN, which `STATS` does not,
    /// so an unprivileged reader sees the tenant's aggregate cap but not its devices.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub devices_need_privilege: bool,
    /// Absent when the tenant has no graph installed.
    pub graph: Option<GraphStats>,
}

pub use crate::device::TxCap;

/// One of the tenant's devices: its own cap and its transmit counters.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceTx {
    pub name: String,
    pub cap: TxCap,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// Frames dropped because the device's own cap was spent.
    pub tx_over_cap: u64,
    /// Frames dropped because the tenant's aggregate cap was spent.
    pub tx_over_tenant_cap: u64,
}

/// The devices of tenant `id` as [`DeviceTx`], from `VDEV_GET`.
pub fn device_tx(socket: &mut VdpSocket, id: u32) -> Result<Vec<DeviceTx>> {
    let devices = crate::device::tenant_devices(socket, id)?;
    Ok(devices
        .into_iter()
        .map(|d| {
            let counter = |name: &str| d.counters.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v);
            DeviceTx {
                name: d.name.clone().unwrap_or_default(),
                cap: TxCap { rate: d.tx_rate.unwrap_or(0), burst: d.tx_burst.unwrap_or(0) },
                tx_packets: counter("tx_packets"),
                tx_bytes: counter("tx_bytes"),
                tx_over_cap: counter("tx_over_cap"),
                tx_over_tenant_cap: counter("tx_over_tenant_cap"),
            }
        })
        .collect())
}

/// Whether the module refused a request because the caller lacks CAP_NET_ADMIN.
fn refused_for_privilege(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<NlError>(), Some(NlError::Kernel { errno, .. }) if *errno == libc::EPERM)
}

/// The lines `stats` prints for a tenant's caps: the aggregate, then each device.
pub fn tx_lines(tenant: &TenantStats) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "  tx cap (all devices): {}", tenant.tx_cap.text());
    if tenant.devices_need_privilege {
        let _ = writeln!(out, "    devices: their caps and counters need CAP_NET_ADMIN (vdpctl vdev show)");
    }
    for d in &tenant.devices {
        let _ = writeln!(
            out,
            "    {}: cap {}; sent {} packets, {} bytes; over_cap {}, over_tenant_cap {}",
            d.name,
            d.cap.text(),
            d.tx_packets,
            d.tx_bytes,
            d.tx_over_cap,
            d.tx_over_tenant_cap
        );
    }
    out
}

/// A tenant's `cpu.max` as the module holds its threads to it, and `cpu.stat`-like counters.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CpuStats {
    /// Quota per period in µs; `None` when the cgroup has no limit.
    pub quota_us: Option<u64>,
    pub period_us: u64,
    pub runtime_ns: u64,
    pub periods: u64,
    pub throttled_periods: u64,
    pub throttled_ns: u64,
}

impl CpuStats {
    /// `cpu max 20000/100000 us, ran 612 ms, throttled 2380 ms in 29 of 30 periods`.
    pub fn line(&self) -> String {
        let limit = match self.quota_us {
            Some(quota) => format!("{quota}/{} us", self.period_us),
            None => format!("max/{} us", self.period_us),
        };
        format!(
            "cpu max {limit}, ran {} ms, throttled {} ms in {} of {} periods",
            self.runtime_ns / 1_000_000,
            self.throttled_ns / 1_000_000,
            self.throttled_periods,
            self.periods
        )
    }
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct GraphStats {
    pub element_count: u32,
    pub task_count: u32,
    /// Pushes dropped and pulls refused at the kernel's call-depth bound.
    pub depth_drops: u64,
    pub elements: Vec<ElementStats>,
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ElementStats {
    pub name: String,
    pub class: String,
    /// The root context owns it (the coordinator added it): the tenant may read, not write.
    pub root: bool,
    /// Packets that entered the element (pushed into an input, or returned to its pull).
    #[serde(default)]
    pub packets_in: u64,
    /// Packets it passed on (pushed out of an output, or returned to a pull on one).
    #[serde(default)]
    pub packets_out: u64,
    /// Packets it discarded, and pushes of its that could not be delivered.
    #[serde(default)]
    pub drops: u64,
    /// For an element that holds packets (Queue): what it holds now and can hold.
    #[serde(default)]
    pub queue: Option<QueueStats>,
}

#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct QueueStats {
    pub length: u64,
    pub capacity: u64,
}

/// The `-s` table of a tenant's elements: name, class, in, out, drops, queue (`length/capacity`,
/// `-` for an element that holds no packets), indented under the tenant's lines.
pub fn element_table(elements: &[ElementStats]) -> String {
    use std::fmt::Write as _;
    let queue = |e: &ElementStats| e.queue.map_or("-".to_string(), |q| format!("{}/{}", q.length, q.capacity));
    let name_width = elements.iter().map(|e| e.name.len()).chain([4]).max().unwrap_or(4);
    let class_width = elements.iter().map(|e| e.class.len()).chain([5]).max().unwrap_or(5);
    let number = |f: fn(&ElementStats) -> u64, title: usize| elements.iter().map(|e| f(e).to_string().len()).chain([title]).max().unwrap_or(title);
    let (in_w, out_w, drops_w) = (number(|e| e.packets_in, 2), number(|e| e.packets_out, 3), number(|e| e.drops, 5));
    let mut out = String::new();
    let _ = writeln!(out, "    {:name_width$}  {:class_width$}  {:>in_w$}  {:>out_w$}  {:>drops_w$}  queue", "name", "class", "in", "out", "drops");
    for e in elements {
        let _ = writeln!(
            out,
            "    {:name_width$}  {:class_width$}  {:>in_w$}  {:>out_w$}  {:>drops_w$}  {}{}",
            e.name,
            e.class,
            e.packets_in,
            e.packets_out,
            e.drops,
            queue(e),
            root_mark(e.root)
        );
    }
    out
}

/// How `show` and `stats` mark an element the root context owns.
pub fn root_mark(root: bool) -> &'static str {
    if root {
        "  [root: read-only for the tenant]"
    } else {
        ""
    }
}

/// One element's `ELEMENT_STATS` nest.
fn decode_element(nest: &[ElementAttr]) -> ElementStats {
    let mut element = ElementStats::default();
    for a in nest {
        match a {
            ElementAttr::Name(n) => element.name = n.clone(),
            ElementAttr::Class(c) => element.class = c.clone(),
            ElementAttr::Root => element.root = true,
            ElementAttr::PacketsIn(n) => element.packets_in = *n,
            ElementAttr::PacketsOut(n) => element.packets_out = *n,
            ElementAttr::Drops(n) => element.drops = *n,
            ElementAttr::QueueLength(n) => element.queue.get_or_insert_with(QueueStats::default).length = *n,
            ElementAttr::QueueCapacity(n) => element.queue.get_or_insert_with(QueueStats::default).capacity = *n,
            ElementAttr::Unknown(_) => {}
        }
    }
    element
}

/// Folds the dump's messages into tenants; a tenant whose elements did not fit one message
/// continues in the next one with the same id.
pub fn decode_stats(messages: &[VdpMessage]) -> Result<Vec<TenantStats>> {
    let mut tenants: Vec<TenantStats> = Vec::new();
    for message in messages {
        let mut tenant = TenantStats::default();
        let mut elements = Vec::new();
        let (mut element_count, mut task_count, mut depth_drops) = (None, None, 0);
        for a in &message.attrs {
            match a {
                VdpAttr::TenantId(n) => tenant.id = *n,
                VdpAttr::TenantName(n) => tenant.name = n.clone(),
                VdpAttr::ThreadPid(pid) => {
                    if tenant.thread_pids.is_empty() {
                        tenant.thread_pid = *pid;
                    }
                    tenant.thread_pids.push(*pid);
                }
                VdpAttr::TasksPerYield(n) => tenant.tasks_per_yield = *n,
                VdpAttr::Threads(n) => tenant.threads = *n,
                VdpAttr::TasksPerYieldAuto(n) => tenant.tasks_per_yield_auto = *n != 0,
                VdpAttr::CpuMask(bytes) => tenant.cpus = Some(crate::cpu_list::of_mask(bytes)?),
                VdpAttr::Wakeups(n) => tenant.wakeups = *n,
                VdpAttr::TaskRuns(n) => tenant.task_runs = *n,
                VdpAttr::CpuQuotaUs(n) => tenant.cpu.quota_us = Some(*n),
                VdpAttr::CpuPeriodUs(n) => tenant.cpu.period_us = *n,
                VdpAttr::CpuRuntimeNs(n) => tenant.cpu.runtime_ns = *n,
                VdpAttr::CpuPeriods(n) => tenant.cpu.periods = *n,
                VdpAttr::CpuThrottledPeriods(n) => tenant.cpu.throttled_periods = *n,
                VdpAttr::CpuThrottledNs(n) => tenant.cpu.throttled_ns = *n,
                VdpAttr::ElementCount(n) => element_count = Some(*n),
                VdpAttr::TaskCount(n) => task_count = Some(*n),
                VdpAttr::DepthDrops(n) => depth_drops = *n,
                VdpAttr::TxRate(n) => tenant.tx_cap.rate = *n,
                VdpAttr::TxBurst(n) => tenant.tx_cap.burst = *n,
                VdpAttr::ElementStats(nest) => elements.push(decode_element(nest)),
                _ => {}
            }
        }
        if tenant.id == 0 {
            bail!("a STATS message without a tenant id");
        }
        if let (Some(element_count), Some(task_count)) = (element_count, task_count) {
            tenant.graph = Some(GraphStats { element_count, task_count, depth_drops, elements: Vec::new() });
        }
        match tenants.last_mut() {
            Some(last) if last.id == tenant.id => {
                if let Some(graph) = last.graph.as_mut() {
                    graph.elements.extend(elements);
                }
            }
            _ => {
                if let Some(graph) = tenant.graph.as_mut() {
                    graph.elements = elements;
                }
                tenants.push(tenant);
            }
        }
    }
    Ok(tenants)
}

/// Where `vdpctl stats` and `vdpctl top` read the counters.
pub enum StatsSource {
    /// The module, over its generic netlink family.
    Module(VdpSocket),
    /// The coordinator's `stats` request (the caller's own tenant only).
    Coordinator,
}

/// The module where it can be reached and no coordinator socket was asked for (`socket`, or
/// `VDP_SOCKET`), else the coordinator. Inside a container the family is invisible (root
/// namespace only) and the coordinator answers for the caller's own tenant instead.
pub fn stats_source(socket: Option<&std::path::Path>) -> Result<StatsSource> {
    if socket.is_some() || std::env::var_os("VDP_SOCKET").is_some_and(|v| !v.is_empty()) {
        return Ok(StatsSource::Coordinator);
    }
    match VdpSocket::connect() {
        Ok(socket) => Ok(StatsSource::Module(socket)),
        Err(crate::netlink::NlError::FamilyNotFound)
            if std::path::Path::new(crate::coord::protocol::DEFAULT_SOCKET).exists() =>
        {
            Ok(StatsSource::Coordinator)
        }
        Err(e) => Err(e.into()),
    }
}

pub fn run_stats(args: &StatsArgs, out: &Output) -> Result<ExitCode> {
    let mut socket = match stats_source(args.socket.as_deref())? {
        StatsSource::Module(socket) => socket,
        StatsSource::Coordinator => {
            return crate::coord::client::run_stats(args.socket.as_deref(), args.tenant.as_ref(), out);
        }
    };
    let filter = match &args.tenant {
        Some(tenant) => vec![VdpAttr::TenantId(crate::tenant_ref::resolve(&mut socket, tenant)?)],
        None => Vec::new(),
    };
    let mut tenants = decode_stats(&socket.dump(cmd::STATS, filter)?)?;
    for tenant in &mut tenants {
        match device_tx(&mut socket, tenant.id) {
            Ok(devices) => tenant.devices = devices,
            Err(e) if refused_for_privilege(&e) => tenant.devices_need_privilege = true,
            Err(e) => return Err(e),
        }
    }
    if out.json {
        out.print_json(&tenants)?;
        return Ok(ExitCode::SUCCESS);
    }
    if tenants.is_empty() {
        println!("no tenants");
    }
    for t in &tenants {
        println!(
            "tenant {} {}: thread {}, tasks_per_yield {}, threads {}, wakeups {}, task runs {}{}",
            t.id,
            t.name,
            t.thread_pid,
            crate::tenant::yield_text(t.tasks_per_yield, t.tasks_per_yield_auto),
            t.threads,
            t.wakeups,
            t.task_runs,
            crate::tenant::more_threads(&t.thread_pids)
        );
        println!("  {}", t.cpu.line());
        print!("{}", tx_lines(t));
        match &t.graph {
            None => println!("  no graph"),
            Some(g) => {
                println!("  graph: {} elements, {} tasks, depth drops {}", g.element_count, g.task_count, g.depth_drops);
                if out.stats {
                    print!("{}", element_table(&g.elements));
                    continue;
                }
                let width = g.elements.iter().map(|e| e.name.len()).max().unwrap_or(0);
                for e in &g.elements {
                    println!("    {:width$}  {}{}", e.name, e.class, root_mark(e.root));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One notification from the `events` group.
#[derive(Debug, Serialize, PartialEq)]
pub struct Event {
    pub event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

pub fn decode_event(message: &VdpMessage) -> Result<Event> {
    let event = match message.cmd {
        cmd::TENANT_NEW_NTF => "tenant-new",
        cmd::TENANT_DEL_NTF => "tenant-del",
        cmd::GRAPH_INSTALL_NTF => "graph-install",
        cmd::GRAPH_REMOVE_NTF => "graph-remove",
        cmd::TABLE_CHANGE_NTF => "table-change",
        other => bail!("unknown notification command {other}"),
    };
    let mut e = Event {
        event,
        tenant: None,
        name: None,
        thread_pid: None,
        element_count: None,
        task_count: None,
        element: None,
        handler: None,
        value: None,
    };
    for a in &message.attrs {
        match a {
            VdpAttr::TenantId(n) => e.tenant = Some(*n),
            VdpAttr::TenantName(n) => e.name = Some(n.clone()),
            // Thread 0's, the first of the tenant's.
            VdpAttr::ThreadPid(pid) => e.thread_pid = e.thread_pid.or(Some(*pid)),
            VdpAttr::ElementCount(n) => e.element_count = Some(*n),
            VdpAttr::TaskCount(n) => e.task_count = Some(*n),
            VdpAttr::Element(n) => e.element = Some(n.clone()),
            VdpAttr::Handler(n) => e.handler = Some(n.clone()),
            VdpAttr::Value(v) => e.value = Some(String::from_utf8_lossy(v).into_owned()),
            _ => {}
        }
    }
    Ok(e)
}

/// The one-line text form: the event's name, then its fields as key=value.
pub fn event_line(e: &Event) -> String {
    let mut line = e.event.to_string();
    let mut field = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            line.push_str(&format!(" {key}={v}"));
        }
    };
    field("tenant", e.tenant.map(|v| v.to_string()));
    field("name", e.name.clone());
    field("pid", e.thread_pid.map(|v| v.to_string()));
    field("elements", e.element_count.map(|v| v.to_string()));
    field("tasks", e.task_count.map(|v| v.to_string()));
    field("element", e.element.clone());
    field("handler", e.handler.clone());
    field("value", e.value.as_ref().map(|v| format!("{v:?}")));
    line
}

pub fn run_monitor(args: &MonitorArgs, out: &Output) -> Result<ExitCode> {
    let mut socket = VdpSocket::connect()?;
    socket.join(MCGRP_EVENTS)?;
    if let Some(seconds) = args.timeout {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(seconds));
            eprintln!("vdpctl: monitor: timed out after {seconds} s");
            std::process::exit(4);
        });
    }
    // Scripts wait for this line before they cause the events they expect.
    eprintln!("vdpctl: monitoring {MCGRP_EVENTS}");
    let mut seen = 0u64;
    let stdout = std::io::stdout();
    while args.count.is_none_or(|n| seen < n) {
        for message in socket.next_events()? {
            let event = decode_event(&message)?;
            let text = if out.json { out.json_text(&event)? } else { event_line(&event) };
            let mut stdout = stdout.lock();
            writeln!(stdout, "{text}")?;
            stdout.flush()?;
            seen += 1;
            if args.count.is_some_and(|n| seen >= n) {
                break;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(id: u32) -> Vec<VdpAttr> {
        vec![
            VdpAttr::TenantId(id),
            VdpAttr::TenantName(String::from("red")),
            VdpAttr::ThreadPid(42),
            VdpAttr::TasksPerYield(128),
            VdpAttr::Wakeups(7),
            VdpAttr::TaskRuns(900),
            VdpAttr::ElementCount(2),
            VdpAttr::TaskCount(1),
        ]
    }

    fn element(name: &str, class: &str) -> VdpAttr {
        VdpAttr::ElementStats(vec![ElementAttr::Name(name.into()), ElementAttr::Class(class.into())])
    }

    #[test]
    fn a_tenant_split_over_two_messages_is_joined() {
        let mut first = header(1);
        first.push(element("red/src", "InfiniteSource"));
        let mut second = header(1);
        second.push(element("red/c", "Counter"));
        let third = vec![VdpAttr::TenantId(2), VdpAttr::TenantName(String::from("blue"))];
        let messages: Vec<VdpMessage> = [first, second, third]
            .into_iter()
            .map(|attrs| VdpMessage { cmd: cmd::STATS, attrs })
            .collect();
        let tenants = decode_stats(&messages).expect("decode");
        assert_eq!(tenants.len(), 2);
        let graph = tenants[0].graph.as_ref().expect("graph");
        assert_eq!(tenants[0].wakeups, 7);
        assert_eq!(tenants[0].task_runs, 900);
        assert_eq!(graph.elements.len(), 2);
        assert_eq!(graph.elements[1], ElementStats { name: "red/c".into(), class: "Counter".into(), ..Default::default() });
        assert_eq!(tenants[1].name, "blue");
        assert!(tenants[1].graph.is_none());
    }

    #[test]
    fn element_counters_are_decoded_and_tabled() {
        let mut message = header(1);
        message.push(VdpAttr::ElementStats(vec![
                ElementAttr::Name(String::from("red/q")),
                ElementAttr::Class(String::from("Queue")),
                ElementAttr::PacketsIn(1000),
                ElementAttr::PacketsOut(990),
                ElementAttr::Drops(3),
                ElementAttr::QueueLength(7),
                ElementAttr::QueueCapacity(64),
        ]));
        message.push(VdpAttr::ElementStats(vec![
                ElementAttr::Name(String::from("red/shaper")),
                ElementAttr::Class(String::from("BandwidthShaper")),
                ElementAttr::Root,
                ElementAttr::PacketsIn(u64::MAX),
                ElementAttr::PacketsOut(5),
                ElementAttr::Drops(0),
        ]));
        let tenants = decode_stats(&[VdpMessage { cmd: cmd::STATS, attrs: message }]).expect("decode");
        let elements = &tenants[0].graph.as_ref().expect("graph").elements;
        let queue = ElementStats {
            name: "red/q".into(),
            class: "Queue".into(),
            root: false,
            packets_in: 1000,
            packets_out: 990,
            drops: 3,
            queue: Some(QueueStats { length: 7, capacity: 64 }),
        };
        assert_eq!(elements[0], queue);
        assert_eq!((elements[1].packets_in, elements[1].queue, elements[1].root), (u64::MAX, None, true));
        let json = serde_json::to_value(elements).expect("json");
        assert_eq!(json[0]["queue"], serde_json::json!({"length": 7, "capacity": 64}));
        assert_eq!(json[1]["packets_in"], serde_json::json!(u64::MAX));
        // What the coordinator forwards reads back the same.
        let back: Vec<ElementStats> = serde_json::from_value(json).expect("back");
        assert_eq!(&back, elements);
        let table = element_table(elements);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        let words = |line: &str| line.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words(lines[0]), ["name", "class", "in", "out", "drops", "queue"]);
        assert_eq!(words(lines[1]), ["red/q", "Queue", "1000", "990", "3", "7/64"]);
        assert_eq!(words(lines[2])[..6], ["red/shaper", "BandwidthShaper", "18446744073709551615", "5", "0", "-"]);
        assert!(lines[2].contains("[root"), "{table}");
    }

    #[test]
    fn table_change_events_print_their_write() {
        let message = VdpMessage {
            cmd: cmd::TABLE_CHANGE_NTF,
            attrs: vec![
                VdpAttr::TenantId(1),
                VdpAttr::Element(String::from("red/rt")),
                VdpAttr::Handler(String::from("add")),
                VdpAttr::Value(b"10.0.0.0/8 1".to_vec()),
            ],
        };
        let event = decode_event(&message).expect("decode");
        assert_eq!(
            event_line(&event),
            "table-change tenant=1 element=red/rt handler=add value=\"10.0.0.0/8 1\""
        );
    }

    #[test]
    fn unknown_notifications_are_errors() {
        let message = VdpMessage { cmd: cmd::STATS, attrs: vec![] };
        assert!(decode_event(&message).is_err());
    }
}
