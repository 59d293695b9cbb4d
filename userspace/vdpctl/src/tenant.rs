//! `vdpctl tenant …` and `vdpctl sched …`: tenant lifecycle and scheduling, talking to the module
//! directly (root only; tenants themselves go through the coordinator).

use crate::attrs::VdpAttr;
use crate::netlink::{VdpMessage, VdpSocket};
use crate::output::Output;
use crate::stats::{decode_stats, CpuStats, TenantStats};
use crate::tenant_ref::{parse_tenant_ref, resolve, TenantRef};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::process::ExitCode;
use vdp_core::uapi::{self, cmd};

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and start its kernel thread.
    Add {
        /// Tenant name: a lower-case letter then up to 10 of [a-z0-9_].
        name: String,
        /// Tenant id (at least 1).
        #[arg(long)]
        id: u32,
    },
    /// Delete a tenant and stop its threads.
    Del {
        #[command(flatten)]
        tenant: OneTenant,
    },
    /// Show one tenant, or every tenant when none is named; -s adds its counters.
    #[command(visible_alias = "list")]
    Show {
        #[command(flatten)]
        tenant: MaybeTenant,
    },
}

/// The tenant a command acts on, as TENANT or as `--id TENANT`.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct OneTenant {
    /// The tenant: its id or its name.
    #[arg(value_name = "TENANT", value_parser = parse_tenant_ref)]
    tenant: Option<TenantRef>,
    /// The tenant, as --id (its id or its name), the same as TENANT.
    #[arg(long = "id", value_name = "TENANT", value_parser = parse_tenant_ref)]
    id: Option<TenantRef>,
}

impl OneTenant {
    pub(crate) fn get(&self) -> Result<&TenantRef> {
        self.tenant.as_ref().or(self.id.as_ref()).context("name the tenant")
    }
}

/// [`OneTenant`] for commands that act on every tenant when none is named.
#[derive(Args)]
#[group(multiple = false)]
pub struct MaybeTenant {
    /// The tenant: its id or its name [default: every tenant].
    #[arg(value_name = "TENANT", value_parser = parse_tenant_ref)]
    tenant: Option<TenantRef>,
    /// The tenant, as --id (its id or its name), the same as TENANT.
    #[arg(long = "id", value_name = "TENANT", value_parser = parse_tenant_ref)]
    id: Option<TenantRef>,
}

impl MaybeTenant {
    pub(crate) fn get(&self) -> Option<&TenantRef> {
        self.tenant.as_ref().or(self.id.as_ref())
    }
}

#[derive(Subcommand)]
pub enum SchedCommand {
    /// Set how many tasks the tenant's threads run before they yield, and over how many threads
    /// its unpinned tasks are spread.
    #[command(group(clap::ArgGroup::new("knob").required(true).multiple(true).args(["tasks_per_yield", "threads", "cpus"])))]
    Set {
        /// The tenant: its id or its name.
        #[arg(long, value_parser = parse_tenant_ref)]
        tenant: TenantRef,
        /// A number from 1 to 4096, or `auto` (the default): passes sized by time.
        #[arg(long, value_parser = parse_tasks_per_yield)]
        tasks_per_yield: Option<TasksPerYield>,
        /// Threads for tasks no StaticThreadSched pins (round-robin in task order).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=uapi::TENANT_THREADS_MAX as i64))]
        threads: Option<u32>,
        /// The CPUs every thread of the tenant runs on, as `0-1,3`, or `any`. Each must be
        /// online.
        #[arg(long, value_parser = parse_cpus)]
        cpus: Option<Cpus>,
    },
    /// Show a tenant's scheduling parameters.
    #[command(visible_alias = "get")]
    Show {
        /// The tenant: its id or its name.
        #[arg(long, value_parser = parse_tenant_ref)]
        tenant: TenantRef,
    },
}

/// `--cpus`: a CPU list or `any`.
#[derive(Clone, Debug, PartialEq)]
pub enum Cpus {
    Any,
    List(Vec<u32>),
}

fn parse_cpus(text: &str) -> std::result::Result<Cpus, String> {
    if text == "any" {
        return Ok(Cpus::Any);
    }
    crate::cpu_list::parse(text).map(Cpus::List).map_err(|e| format!("{e:#} (or `any`)"))
}

/// `--tasks-per-yield`: a fixed count or `auto`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TasksPerYield {
    Fixed(u32),
    Auto,
}

fn parse_tasks_per_yield(text: &str) -> Result<TasksPerYield, String> {
    if text == "auto" {
        return Ok(TasksPerYield::Auto);
    }
    match text.parse::<u32>() {
        Ok(n) if (1..=uapi::TASKS_PER_YIELD_MAX).contains(&n) => Ok(TasksPerYield::Fixed(n)),
        _ => Err(format!("want `auto` or a number from 1 to {}", uapi::TASKS_PER_YIELD_MAX)),
    }
}

/// How a tenant's passes are sized, for text output.
pub fn yield_text(tasks: u32, auto: bool) -> String {
    if auto {
        "auto".to_string()
    } else {
        tasks.to_string()
    }
}

/// A tenant as the module reports it.
#[derive(Debug, Serialize, PartialEq)]
pub struct TenantInfo {
    pub id: u32,
    pub name: String,
    /// Thread 0's PID.
    pub thread_pid: u32,
    /// Every thread's PID, thread 0 first (one `THREAD_PID` each).
    pub thread_pids: Vec<u32>,
    pub tasks_per_yield: u32,
    /// Passes sized by time instead of by `tasks_per_yield`.
    pub tasks_per_yield_auto: bool,
    /// The THREADS knob; the tenant may run more when its graph pins tasks higher.
    pub threads: u32,
    /// The CPUs its threads are pinned to; `None` for any CPU.
    pub cpus: Option<Vec<u32>>,
}

fn decode_tenant(reply: &VdpMessage) -> Result<TenantInfo> {
    let (mut id, mut name, mut tasks, mut threads, mut cpus) = (None, None, None, None, None);
    let mut auto = false;
    let mut pids = Vec::new();
    for a in &reply.attrs {
        match a {
            VdpAttr::TenantId(n) => id = Some(*n),
            VdpAttr::TenantName(n) => name = Some(n.clone()),
            VdpAttr::ThreadPid(pid) => pids.push(*pid),
            VdpAttr::TasksPerYield(n) => tasks = Some(*n),
            VdpAttr::Threads(n) => threads = Some(*n),
            VdpAttr::TasksPerYieldAuto(n) => auto = *n != 0,
            VdpAttr::CpuMask(bytes) => cpus = Some(crate::cpu_list::of_mask(bytes)?),
            _ => {}
        }
    }
    Ok(TenantInfo {
        id: id.context("tenant reply has no TENANT_ID")?,
        name: name.context("tenant reply has no TENANT_NAME")?,
        thread_pid: *pids.first().context("tenant reply has no THREAD_PID")?,
        thread_pids: pids,
        tasks_per_yield: tasks.context("tenant reply has no TASKS_PER_YIELD")?,
        tasks_per_yield_auto: auto,
        threads: threads.context("tenant reply has no THREADS")?,
        cpus,
    })
}

impl From<&TenantStats> for TenantInfo {
    fn from(t: &TenantStats) -> Self {
        TenantInfo {
            id: t.id,
            name: t.name.clone(),
            thread_pid: t.thread_pid,
            thread_pids: t.thread_pids.clone(),
            tasks_per_yield: t.tasks_per_yield,
            tasks_per_yield_auto: t.tasks_per_yield_auto,
            threads: t.threads,
            cpus: t.cpus.clone(),
        }
    }
}

/// What `tenant show -s` adds to a tenant: its counters from the STATS dump.
#[derive(Debug, Serialize, PartialEq)]
pub struct TenantCounters {
    pub wakeups: u64,
    pub task_runs: u64,
    pub cpu: CpuStats,
    /// Absent when the tenant has no graph installed.
    pub graph: Option<GraphCounters>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct GraphCounters {
    pub element_count: u32,
    pub task_count: u32,
    pub depth_drops: u64,
}

impl From<TenantStats> for TenantCounters {
    fn from(t: TenantStats) -> Self {
        TenantCounters {
            wakeups: t.wakeups,
            task_runs: t.task_runs,
            cpu: t.cpu,
            graph: t.graph.map(|g| GraphCounters { element_count: g.element_count, task_count: g.task_count, depth_drops: g.depth_drops }),
        }
    }
}

/// A tenant with its counters, as `tenant show -s` prints it.
#[derive(Debug, Serialize, PartialEq)]
pub struct TenantWithStats {
    #[serde(flatten)]
    pub tenant: TenantInfo,
    pub stats: TenantCounters,
}

impl From<TenantStats> for TenantWithStats {
    fn from(t: TenantStats) -> Self {
        TenantWithStats { tenant: TenantInfo::from(&t), stats: TenantCounters::from(t) }
    }
}

/// The one-line text form of a tenant.
fn tenant_line(info: &TenantInfo) -> String {
    format!(
        "tenant {} ({}): thread pid {}, tasks per yield {}, threads {}{}, cpus {}",
        info.id,
        info.name,
        info.thread_pid,
        yield_text(info.tasks_per_yield, info.tasks_per_yield_auto),
        info.threads,
        more_threads(&info.thread_pids),
        info.cpus.as_deref().map_or_else(|| "any".to_string(), crate::cpu_list::format)
    )
}

/// The lines `-s` adds under a tenant's line.
fn counter_lines(c: &TenantCounters) -> String {
    let graph = match &c.graph {
        Some(g) => format!("graph: {} elements, {} tasks, depth drops {}", g.element_count, g.task_count, g.depth_drops),
        None => "no graph".to_string(),
    };
    format!("  wakeups {}, task runs {}\n  {}\n  {graph}\n", c.wakeups, c.task_runs, c.cpu.line())
}

fn print_tenant(info: &TenantInfo, out: &Output) -> Result<()> {
    if out.json {
        out.print_json(info)
    } else {
        println!("{}", tenant_line(info));
        Ok(())
    }
}

fn print_with_stats(tenants: &[TenantWithStats], out: &Output) -> Result<()> {
    if out.json {
        return out.print_json(tenants);
    }
    for t in tenants {
        print!("{}\n{}", tenant_line(&t.tenant), counter_lines(&t.stats));
    }
    Ok(())
}

/// `, threads 0-N pids A B …` when a tenant runs more than one thread; empty otherwise.
pub fn more_threads(pids: &[u32]) -> String {
    if pids.len() < 2 {
        return String::new();
    }
    let list: Vec<String> = pids.iter().map(u32::to_string).collect();
    format!(", threads 0-{} pids {}", pids.len() - 1, list.join(" "))
}

fn one_tenant(
    socket: &mut VdpSocket,
    command: u8,
    attrs: Vec<VdpAttr>,
) -> Result<TenantInfo> {
    let replies = socket.request(command, attrs)?;
    decode_tenant(replies.first().context("the kernel sent no reply")?)
}

pub fn run_tenant(command: &TenantCommand, out: &Output) -> Result<ExitCode> {
    if let TenantCommand::Add { name, .. } = command {
        if !uapi::valid_tenant_name(name.as_bytes()) {
            bail!(
                "tenant name `{name}` is not valid: use a lower-case letter then up to {} of [a-z0-9_]",
                uapi::TENANT_NAME_MAX - 1
            );
        }
    }
    let mut socket = VdpSocket::connect()?;
    match command {
        TenantCommand::Add { name, id } => {
            let attrs = vec![
                VdpAttr::TenantId(*id),
                VdpAttr::TenantName(String::from(name)),
            ];
            print_tenant(&one_tenant(&mut socket, cmd::TENANT_NEW, attrs)?, out)?;
        }
        TenantCommand::Del { tenant } => {
            let id = resolve(&mut socket, tenant.get()?)?;
            socket.request(cmd::TENANT_DEL, vec![VdpAttr::TenantId(id)])?;
            out.confirm(format_args!("tenant {id} deleted"));
        }
        TenantCommand::Show { tenant } => show_tenants(&mut socket, tenant.get(), out)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `tenant show`: one tenant (TENANT_GET), or all of them (the STATS dump); with -s, their
/// counters (the STATS dump, of the one tenant or of all).
fn show_tenants(socket: &mut VdpSocket, tenant: Option<&TenantRef>, out: &Output) -> Result<()> {
    let id = tenant.map(|t| resolve(socket, t)).transpose()?;
    if out.stats {
        let filter = id.map(|id| vec![VdpAttr::TenantId(id)]).unwrap_or_default();
        let tenants: Vec<TenantWithStats> = decode_stats(&socket.dump(cmd::STATS, filter)?)?.into_iter().map(TenantWithStats::from).collect();
        return match (id, tenants.first()) {
            // One tenant named: one object, as without -s.
            (Some(_), Some(_)) if out.json => out.print_json(&tenants[0]),
            (Some(id), None) => bail!("the module has no tenant with id {id}"),
            _ => print_with_stats(&tenants, out),
        };
    }
    match id {
        Some(id) => print_tenant(&one_tenant(socket, cmd::TENANT_GET, vec![VdpAttr::TenantId(id)])?, out),
        None => {
            let tenants: Vec<TenantInfo> = decode_stats(&socket.dump(cmd::STATS, Vec::new())?)?.iter().map(TenantInfo::from).collect();
            if out.json {
                return out.print_json(&tenants);
            }
            if tenants.is_empty() {
                println!("no tenants");
            }
            for t in &tenants {
                println!("{}", tenant_line(t));
            }
            Ok(())
        }
    }
}

pub fn run_sched(command: &SchedCommand, out: &Output) -> Result<ExitCode> {
    let mut socket = VdpSocket::connect()?;
    let info = match command {
        SchedCommand::Set {
            tenant,
            tasks_per_yield,
            threads,
            cpus,
        } => {
            let mut attrs = vec![VdpAttr::TenantId(resolve(&mut socket, tenant)?)];
            match tasks_per_yield {
                Some(TasksPerYield::Fixed(tasks)) => attrs.push(VdpAttr::TasksPerYield(*tasks)),
                Some(TasksPerYield::Auto) => attrs.push(VdpAttr::TasksPerYieldAuto(1)),
                None => {}
            }
            if let Some(threads) = threads {
                attrs.push(VdpAttr::Threads(*threads));
            }
            match cpus {
                Some(Cpus::Any) => attrs.push(VdpAttr::CpuMask(Vec::new())),
                Some(Cpus::List(list)) => attrs.push(VdpAttr::CpuMask(crate::cpu_list::mask(Some(list))?)),
                None => {}
            }
            one_tenant(&mut socket, cmd::SCHED_SET, attrs)?
        }
        SchedCommand::Show { tenant } => {
            let id = resolve(&mut socket, tenant)?;
            one_tenant(&mut socket, cmd::SCHED_GET, vec![VdpAttr::TenantId(id)])?
        }
    };
    print_tenant(&info, out)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_tenant_reply() {
        let reply = VdpMessage {
            cmd: cmd::TENANT_GET,
            attrs: vec![
                VdpAttr::TenantId(7),
                VdpAttr::TenantName(String::from("red")),
                VdpAttr::ThreadPid(42),
                VdpAttr::ThreadPid(43),
                VdpAttr::TasksPerYield(128),
                VdpAttr::Threads(2),
                VdpAttr::CpuMask(vec![0b10, 0, 0, 0, 0, 0, 0, 0]),
            ],
        };
        let info = decode_tenant(&reply).expect("decode");
        assert_eq!(
            info,
            TenantInfo {
                id: 7,
                name: "red".into(),
                thread_pid: 42,
                thread_pids: vec![42, 43],
                tasks_per_yield: 128,
                tasks_per_yield_auto: false,
                threads: 2,
                cpus: Some(vec![1]),
            }
        );
        assert!(tenant_line(&info).ends_with(", cpus 1"), "{}", tenant_line(&info));
        assert!(tenant_line(&TenantInfo { cpus: None, ..info }).ends_with(", cpus any"));
        assert_eq!(more_threads(&[42, 43]), ", threads 0-1 pids 42 43");
        assert_eq!(more_threads(&[42]), "");
    }

    #[test]
    fn show_s_adds_the_counters() {
        let stats = TenantStats {
            id: 1,
            name: "red".into(),
            thread_pid: 42,
            thread_pids: vec![42],
            tasks_per_yield: 128,
            threads: 1,
            wakeups: 7,
            task_runs: 900,
            cpu: CpuStats { quota_us: None, period_us: 100_000, ..CpuStats::default() },
            graph: Some(crate::stats::GraphStats { element_count: 3, task_count: 1, depth_drops: 0, elements: Vec::new() }),
            ..TenantStats::default()
        };
        let shown = TenantWithStats::from(stats);
        assert_eq!(
            format!("{}\n{}", tenant_line(&shown.tenant), counter_lines(&shown.stats)),
            "tenant 1 (red): thread pid 42, tasks per yield 128, threads 1, cpus any\n  wakeups 7, task runs 900\n  \
             cpu max max/100000 us, ran 0 ms, throttled 0 ms in 0 of 0 periods\n  graph: 3 elements, 1 tasks, depth drops 0\n"
        );
        // The tenant's own fields as without -s, the counters in `stats`.
        let json = Output { json: true, ..Output::default() }.json_text(&shown).unwrap();
        assert!(json.starts_with(r#"{"id":1,"name":"red","thread_pid":42,"thread_pids":[42],"tasks_per_yield":128,"#), "{json}");
        assert!(json.contains(r#""stats":{"wakeups":7,"task_runs":900,"cpu":{"quota_us":null,"#), "{json}");
        assert!(json.ends_with(r#""graph":{"element_count":3,"task_count":1,"depth_drops":0}}}"#), "{json}");
    }

    #[test]
    fn incomplete_tenant_reply_is_an_error() {
        let reply = VdpMessage {
            cmd: cmd::TENANT_GET,
            attrs: vec![VdpAttr::TenantId(7)],
        };
        assert!(decode_tenant(&reply)
            .unwrap_err()
            .to_string()
            .contains("TENANT_NAME"));
    }
}
