//! `vdpctl tenant …` and `vdpctl sched …`: tenant lifecycle and scheduling, talking to the module
//! directly (root only; tenants themselves go through the coordinator).

use crate::netlink::{string_attr, string_value, u32_attr, u32_value, VdpMessage, VdpSocket};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use netlink_packet_core::{Nla, NLA_TYPE_MASK};
use serde::Serialize;
use std::process::ExitCode;
use vdp_core::uapi::{self, attr, cmd};

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and start its kernel thread.
    Add {
        /// Tenant name: a lower-case letter then up to 10 of [a-z0-9_].
        name: String,
        /// Tenant id (at least 1).
        #[arg(long)]
        id: u32,
        #[command(flatten)]
        output: Output,
    },
    /// Delete a tenant and stop its threads.
    Del {
        #[arg(long)]
        id: u32,
    },
    /// Show one tenant.
    Show {
        #[arg(long)]
        id: u32,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Subcommand)]
pub enum SchedCommand {
    /// Set how many tasks the tenant's threads run before they yield, and over how many threads
    /// its unpinned tasks are spread.
    #[command(group(clap::ArgGroup::new("knob").required(true).multiple(true).args(["tasks_per_yield", "threads"])))]
    Set {
        #[arg(long)]
        tenant: u32,
        /// A number from 1 to 4096, or `auto` (the default): passes sized by time.
        #[arg(long, value_parser = parse_tasks_per_yield)]
        tasks_per_yield: Option<TasksPerYield>,
        /// Threads for tasks no StaticThreadSched pins (round-robin in task order).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=uapi::TENANT_THREADS_MAX as i64))]
        threads: Option<u32>,
        #[command(flatten)]
        output: Output,
    },
    /// Show a tenant's scheduling parameters.
    Get {
        #[arg(long)]
        tenant: u32,
        #[command(flatten)]
        output: Output,
    },
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

#[derive(Args)]
pub struct Output {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
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
}

fn decode_tenant(reply: &VdpMessage) -> Result<TenantInfo> {
    let (mut id, mut name, mut tasks, mut threads) = (None, None, None, None);
    let mut auto = false;
    let mut pids = Vec::new();
    for a in &reply.attrs {
        match a.kind() & NLA_TYPE_MASK {
            attr::TENANT_ID => id = Some(u32_value(a)?),
            attr::TENANT_NAME => name = Some(string_value(a)?),
            attr::THREAD_PID => pids.push(u32_value(a)?),
            attr::TASKS_PER_YIELD => tasks = Some(u32_value(a)?),
            attr::THREADS => threads = Some(u32_value(a)?),
            attr::TASKS_PER_YIELD_AUTO => auto = u32_value(a)? != 0,
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
    })
}

fn print_tenant(info: &TenantInfo, output: &Output) -> Result<()> {
    if output.json {
        println!("{}", serde_json::to_string_pretty(info)?);
    } else {
        println!(
            "tenant {} ({}): thread pid {}, tasks per yield {}, threads {}{}",
            info.id,
            info.name,
            info.thread_pid,
            yield_text(info.tasks_per_yield, info.tasks_per_yield_auto),
            info.threads,
            more_threads(&info.thread_pids)
        );
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
    attrs: Vec<crate::netlink::Attr>,
) -> Result<TenantInfo> {
    let replies = socket.request(command, attrs)?;
    decode_tenant(replies.first().context("the kernel sent no reply")?)
}

pub fn run_tenant(command: &TenantCommand) -> Result<ExitCode> {
    if let TenantCommand::Add { name, .. } = command {
        if !uapi::valid_tenant_name(name.as_bytes()) {
            bail!(
                "tenant name `{name}` is not valid: use 1 to {} characters from [a-z0-9_-]",
                uapi::TENANT_NAME_MAX
            );
        }
    }
    let mut socket = VdpSocket::connect()?;
    match command {
        TenantCommand::Add { name, id, output } => {
            let attrs = vec![
                u32_attr(attr::TENANT_ID, *id),
                string_attr(attr::TENANT_NAME, name),
            ];
            print_tenant(&one_tenant(&mut socket, cmd::TENANT_NEW, attrs)?, output)?;
        }
        TenantCommand::Del { id } => {
            socket.request(cmd::TENANT_DEL, vec![u32_attr(attr::TENANT_ID, *id)])?;
            println!("tenant {id} deleted");
        }
        TenantCommand::Show { id, output } => {
            let attrs = vec![u32_attr(attr::TENANT_ID, *id)];
            print_tenant(&one_tenant(&mut socket, cmd::TENANT_GET, attrs)?, output)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_sched(command: &SchedCommand) -> Result<ExitCode> {
    let mut socket = VdpSocket::connect()?;
    let (info, output) = match command {
        SchedCommand::Set {
            tenant,
            tasks_per_yield,
            threads,
            output,
        } => {
            let mut attrs = vec![u32_attr(attr::TENANT_ID, *tenant)];
            match tasks_per_yield {
                Some(TasksPerYield::Fixed(tasks)) => attrs.push(u32_attr(attr::TASKS_PER_YIELD, *tasks)),
                Some(TasksPerYield::Auto) => attrs.push(u32_attr(attr::TASKS_PER_YIELD_AUTO, 1)),
                None => {}
            }
            if let Some(threads) = threads {
                attrs.push(u32_attr(attr::THREADS, *threads));
            }
            (one_tenant(&mut socket, cmd::SCHED_SET, attrs)?, output)
        }
        SchedCommand::Get { tenant, output } => (
            one_tenant(
                &mut socket,
                cmd::SCHED_GET,
                vec![u32_attr(attr::TENANT_ID, *tenant)],
            )?,
            output,
        ),
    };
    print_tenant(&info, output)?;
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
                u32_attr(attr::TENANT_ID, 7),
                string_attr(attr::TENANT_NAME, "red"),
                u32_attr(attr::THREAD_PID, 42),
                u32_attr(attr::THREAD_PID, 43),
                u32_attr(attr::TASKS_PER_YIELD, 128),
                u32_attr(attr::THREADS, 2),
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
                threads: 2
            }
        );
        assert_eq!(more_threads(&info.thread_pids), ", threads 0-1 pids 42 43");
        assert_eq!(more_threads(&[42]), "");
    }

    #[test]
    fn incomplete_tenant_reply_is_an_error() {
        let reply = VdpMessage {
            cmd: cmd::TENANT_GET,
            attrs: vec![u32_attr(attr::TENANT_ID, 7)],
        };
        assert!(decode_tenant(&reply)
            .unwrap_err()
            .to_string()
            .contains("TENANT_NAME"));
    }
}
