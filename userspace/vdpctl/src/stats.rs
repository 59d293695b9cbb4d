//! `vdpctl stats` and `vdpctl monitor`: the STATS dump and the `events` multicast group.

use crate::netlink::{attr_value, parse_attrs, string_value, u32_attr, u32_value, u64_value};
use crate::netlink::{VdpMessage, VdpSocket};
use crate::output::Output;
use anyhow::{bail, Result};
use clap::Args;
use netlink_packet_core::{Nla, NLA_TYPE_MASK};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
use vdp_core::uapi::{attr, cmd, element_attr, MCGRP_EVENTS};

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

#[derive(Debug, Default, Serialize, PartialEq)]
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
    pub wakeups: u64,
    pub task_runs: u64,
    /// The cgroup's CPU limit and how the tenant's threads were held to it.
    pub cpu: CpuStats,
    /// Absent when the tenant has no graph installed.
    pub graph: Option<GraphStats>,
}

/// A tenant's `cpu.max` as the module holds its threads to it, and `cpu.stat`-like counters.
#[derive(Debug, Default, Serialize, PartialEq)]
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

#[derive(Debug, Default, Serialize, PartialEq)]
pub struct GraphStats {
    pub element_count: u32,
    pub task_count: u32,
    /// Pushes dropped and pulls refused at the kernel's call-depth bound.
    pub depth_drops: u64,
    pub elements: Vec<ElementStats>,
}

#[derive(Debug, Default, Serialize, PartialEq)]
pub struct ElementStats {
    pub name: String,
    pub class: String,
    /// The root context owns it (the coordinator added it): the tenant may read, not write.
    pub root: bool,
}

/// How `show` and `stats` mark an element the root context owns.
pub fn root_mark(root: bool) -> &'static str {
    if root {
        "  [root: read-only for the tenant]"
    } else {
        ""
    }
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
            match a.kind() & NLA_TYPE_MASK {
                attr::TENANT_ID => tenant.id = u32_value(a)?,
                attr::TENANT_NAME => tenant.name = string_value(a)?,
                attr::THREAD_PID => {
                    let pid = u32_value(a)?;
                    if tenant.thread_pids.is_empty() {
                        tenant.thread_pid = pid;
                    }
                    tenant.thread_pids.push(pid);
                }
                attr::TASKS_PER_YIELD => tenant.tasks_per_yield = u32_value(a)?,
                attr::THREADS => tenant.threads = u32_value(a)?,
                attr::TASKS_PER_YIELD_AUTO => tenant.tasks_per_yield_auto = u32_value(a)? != 0,
                attr::WAKEUPS => tenant.wakeups = u64_value(a)?,
                attr::TASK_RUNS => tenant.task_runs = u64_value(a)?,
                attr::CPU_QUOTA_US => tenant.cpu.quota_us = Some(u64_value(a)?),
                attr::CPU_PERIOD_US => tenant.cpu.period_us = u64_value(a)?,
                attr::CPU_RUNTIME_NS => tenant.cpu.runtime_ns = u64_value(a)?,
                attr::CPU_PERIODS => tenant.cpu.periods = u64_value(a)?,
                attr::CPU_THROTTLED_PERIODS => tenant.cpu.throttled_periods = u64_value(a)?,
                attr::CPU_THROTTLED_NS => tenant.cpu.throttled_ns = u64_value(a)?,
                attr::ELEMENT_COUNT => element_count = Some(u32_value(a)?),
                attr::TASK_COUNT => task_count = Some(u32_value(a)?),
                attr::DEPTH_DROPS => depth_drops = u64_value(a)?,
                attr::ELEMENT_STATS => {
                    let mut element = ElementStats::default();
                    for inner in parse_attrs(&attr_value(a))? {
                        match inner.kind() & NLA_TYPE_MASK {
                            element_attr::NAME => element.name = string_value(&inner)?,
                            element_attr::CLASS => element.class = string_value(&inner)?,
                            element_attr::ROOT => element.root = true,
                            _ => {}
                        }
                    }
                    elements.push(element);
                }
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

pub fn run_stats(args: &StatsArgs, out: &Output) -> Result<ExitCode> {
    use crate::coord::{client, protocol};
    let via_coordinator = args.socket.is_some() || std::env::var_os("VDP_SOCKET").is_some_and(|v| !v.is_empty());
    if via_coordinator {
        return client::run_stats(args.socket.as_deref(), args.tenant.as_ref(), out);
    }
    let mut socket = match VdpSocket::connect() {
        Ok(socket) => socket,
        // Inside a container the family is invisible (root namespace only): the coordinator
        // answers for the caller's own tenant instead.
        Err(crate::netlink::NlError::FamilyNotFound) if std::path::Path::new(protocol::DEFAULT_SOCKET).exists() => {
            return client::run_stats(None, args.tenant.as_ref(), out);
        }
        Err(e) => return Err(e.into()),
    };
    let filter = match &args.tenant {
        Some(tenant) => vec![u32_attr(attr::TENANT_ID, crate::tenant_ref::resolve(&mut socket, tenant)?)],
        None => Vec::new(),
    };
    let tenants = decode_stats(&socket.dump(cmd::STATS, filter)?)?;
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
        match &t.graph {
            None => println!("  no graph"),
            Some(g) => {
                println!("  graph: {} elements, {} tasks, depth drops {}", g.element_count, g.task_count, g.depth_drops);
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
        match a.kind() & NLA_TYPE_MASK {
            attr::TENANT_ID => e.tenant = Some(u32_value(a)?),
            attr::TENANT_NAME => e.name = Some(string_value(a)?),
            // Thread 0's, the first of the tenant's.
            attr::THREAD_PID => e.thread_pid = e.thread_pid.or(Some(u32_value(a)?)),
            attr::ELEMENT_COUNT => e.element_count = Some(u32_value(a)?),
            attr::TASK_COUNT => e.task_count = Some(u32_value(a)?),
            attr::ELEMENT => e.element = Some(string_value(a)?),
            attr::HANDLER => e.handler = Some(string_value(a)?),
            attr::VALUE => e.value = Some(String::from_utf8_lossy(&attr_value(a)).into_owned()),
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
    use crate::netlink::{string_attr, Attr};
    use netlink_packet_core::Emitable;

    fn nest(kind: u16, inner: &[Attr]) -> Attr {
        let mut buf = vec![0u8; inner.buffer_len()];
        inner.emit(&mut buf);
        Attr::new(kind, buf)
    }

    fn header(id: u32) -> Vec<Attr> {
        vec![
            u32_attr(attr::TENANT_ID, id),
            string_attr(attr::TENANT_NAME, "red"),
            u32_attr(attr::THREAD_PID, 42),
            u32_attr(attr::TASKS_PER_YIELD, 128),
            Attr::new(attr::WAKEUPS, 7u64.to_ne_bytes().to_vec()),
            Attr::new(attr::TASK_RUNS, 900u64.to_ne_bytes().to_vec()),
            u32_attr(attr::ELEMENT_COUNT, 2),
            u32_attr(attr::TASK_COUNT, 1),
        ]
    }

    fn element(name: &str, class: &str) -> Attr {
        nest(
            attr::ELEMENT_STATS,
            &[string_attr(element_attr::NAME, name), string_attr(element_attr::CLASS, class)],
        )
    }

    #[test]
    fn a_tenant_split_over_two_messages_is_joined() {
        let mut first = header(1);
        first.push(element("red/src", "InfiniteSource"));
        let mut second = header(1);
        second.push(element("red/c", "Counter"));
        let third = vec![u32_attr(attr::TENANT_ID, 2), string_attr(attr::TENANT_NAME, "blue")];
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
        assert_eq!(graph.elements[1], ElementStats { name: "red/c".into(), class: "Counter".into(), root: false });
        assert_eq!(tenants[1].name, "blue");
        assert!(tenants[1].graph.is_none());
    }

    #[test]
    fn table_change_events_print_their_write() {
        let message = VdpMessage {
            cmd: cmd::TABLE_CHANGE_NTF,
            attrs: vec![
                u32_attr(attr::TENANT_ID, 1),
                string_attr(attr::ELEMENT, "red/rt"),
                string_attr(attr::HANDLER, "add"),
                Attr::new(attr::VALUE, b"10.0.0.0/8 1".to_vec()),
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
