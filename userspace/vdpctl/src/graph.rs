//! `vdpctl graph …` and `vdpctl handler …`: installing compiled graphs and calling element
//! handlers in the module directly (root only; tenants go through the coordinator).

use crate::attrs::VdpAttr;
use crate::netlink::VdpSocket;
use crate::output::Output;
use crate::tenant_ref::{parse_tenant_ref, resolve, TenantRef};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use vdp_core::uapi::{self, cmd};

#[derive(Subcommand)]
pub enum GraphCommand {
    /// Install a compiled graph (from `vdpctl compile`) for a tenant, replacing its current one.
    #[command(visible_alias = "install")]
    Set {
        /// The tenant: its id or its name.
        #[arg(long, value_parser = parse_tenant_ref)]
        tenant: TenantRef,
        /// The compiled graph file.
        file: PathBuf,
    },
    /// Remove a tenant's graph.
    #[command(visible_alias = "remove")]
    Del {
        /// The tenant: its id or its name.
        #[arg(long, value_parser = parse_tenant_ref)]
        tenant: TenantRef,
    },
    /// Install and remove a graph COUNT times over one socket, as a leak and lifetime test.
    Cycle {
        /// The tenant: its id or its name.
        #[arg(long, value_parser = parse_tenant_ref)]
        tenant: TenantRef,
        /// The compiled graph file.
        file: PathBuf,
        /// How many install/remove cycles.
        #[arg(long, default_value_t = 1000)]
        count: u32,
    },
    /// Show a tenant's installed graph, or save its compiled form with --output.
    #[command(visible_alias = "get")]
    Show {
        /// The tenant: its id or its name.
        #[arg(long, value_parser = parse_tenant_ref)]
        tenant: TenantRef,
        /// Write the installed compiled graph to this file too.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum HandlerCommand {
    /// Read ELEMENT.HANDLER, with a PARAMETER for handlers that take one (`rt.lookup 10.0.0.1`).
    Read {
        /// The tenant: its id or its name.
        #[arg(long, value_parser = parse_tenant_ref)]
        tenant: TenantRef,
        /// ELEMENT.HANDLER, the element named with its tenant's prefix (`red/c.count`).
        target: String,
        /// The handler's parameter, for handlers that take one.
        parameter: Option<String>,
    },
    /// Write ELEMENT.HANDLER, with an optional VALUE, or the lines of a file.
    Write {
        /// The tenant: its id or its name.
        #[arg(long, value_parser = parse_tenant_ref)]
        tenant: TenantRef,
        /// ELEMENT.HANDLER, the element named with its tenant's prefix (`red/rt.add`).
        target: String,
        /// The value to write (none for handlers that take none).
        #[arg(allow_hyphen_values = true, conflicts_with = "file")]
        value: Option<String>,
        /// Write the file's lines instead of VALUE, as few writes as fit the value limit, each
        /// ending at a line break (a route table's `add` takes one route per line).
        #[arg(long)]
        file: Option<PathBuf>,
        /// Act for the tenant (AS_TENANT), as the coordinator does for a tenant's own requests:
        /// the kernel then refuses elements the root context owns.
        #[arg(long)]
        as_tenant: bool,
    },
}

#[derive(Debug, Serialize, PartialEq, Default)]
pub struct GraphInfo {
    pub tenant: u32,
    pub elements: u32,
    pub tasks: u32,
    #[serde(skip)]
    pub blob: Vec<u8>,
}

pub fn decode_graph(attrs: &[VdpAttr]) -> GraphInfo {
    let mut info = GraphInfo::default();
    for a in attrs {
        match a {
            VdpAttr::TenantId(n) => info.tenant = *n,
            VdpAttr::ElementCount(n) => info.elements = *n,
            VdpAttr::TaskCount(n) => info.tasks = *n,
            VdpAttr::Graph(blob) => info.blob = blob.clone(),
            _ => {}
        }
    }
    info
}

fn print_graph(info: &GraphInfo, out: &Output) -> Result<()> {
    if out.json {
        out.print_json(info)?;
    } else {
        println!("tenant {}: {} elements, {} tasks", info.tenant, info.elements, info.tasks);
    }
    Ok(())
}

/// Splits `ELEMENT.HANDLER` at the last dot: element names may hold `/` and `@`, never `.`.
pub fn split_target(target: &str) -> Result<(&str, &str)> {
    match target.rsplit_once('.') {
        Some((element, handler)) if !element.is_empty() && !handler.is_empty() => Ok((element, handler)),
        _ => bail!("`{target}` is not ELEMENT.HANDLER"),
    }
}

/// Splits `text` into pieces of at most `limit` bytes, each ending at a line break.
pub fn line_chunks(text: &str, limit: usize) -> Result<Vec<&str>> {
    let mut chunks = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if rest.len() <= limit {
            chunks.push(rest);
            break;
        }
        let window = &rest[..rest.floor_char_boundary(limit)];
        let Some(end) = window.rfind('\n') else { bail!("a line is longer than {limit} bytes") };
        chunks.push(&rest[..=end]);
        rest = &rest[end + 1..];
    }
    Ok(chunks)
}

/// A compiled graph file, refused if one install could not carry it.
fn read_graph_file(file: &std::path::Path) -> Result<Vec<u8>> {
    let blob = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    if blob.len() > uapi::GRAPH_MAX_BYTES {
        bail!("{} is {} bytes; one install carries at most {}", file.display(), blob.len(), uapi::GRAPH_MAX_BYTES);
    }
    Ok(blob)
}

pub fn run_graph(command: &GraphCommand, out: &Output) -> Result<ExitCode> {
    if let GraphCommand::Cycle { .. } = command {
        out.text_only("graph cycle")?;
    }
    match command {
        GraphCommand::Set { tenant, file } => {
            let blob = read_graph_file(file)?;
            let mut socket = VdpSocket::connect()?;
            let tenant = resolve(&mut socket, tenant)?;
            let replies = socket.request(
                cmd::GRAPH_INSTALL,
                vec![VdpAttr::TenantId(tenant), VdpAttr::Graph(blob)],
            )?;
            let reply = replies.first().context("the kernel sent no reply")?;
            print_graph(&decode_graph(&reply.attrs), out)?;
        }
        GraphCommand::Cycle { tenant, file, count } => {
            let blob = read_graph_file(file)?;
            let mut socket = VdpSocket::connect()?;
            let tenant = resolve(&mut socket, tenant)?;
            let started = std::time::Instant::now();
            for cycle in 0..*count {
                socket
                    .request(cmd::GRAPH_INSTALL, vec![VdpAttr::TenantId(tenant), VdpAttr::Graph(blob.clone())])
                    .with_context(|| format!("install {cycle}"))?;
                socket
                    .request(cmd::GRAPH_REMOVE, vec![VdpAttr::TenantId(tenant)])
                    .with_context(|| format!("remove {cycle}"))?;
            }
            println!("{count} install/remove cycles in {:.2} s", started.elapsed().as_secs_f64());
        }
        GraphCommand::Del { tenant } => {
            let mut socket = VdpSocket::connect()?;
            let tenant = resolve(&mut socket, tenant)?;
            socket.request(cmd::GRAPH_REMOVE, vec![VdpAttr::TenantId(tenant)])?;
            out.confirm(format_args!("graph of tenant {tenant} removed"));
        }
        GraphCommand::Show { tenant, output } => {
            let mut socket = VdpSocket::connect()?;
            let tenant = resolve(&mut socket, tenant)?;
            let replies = socket.request(cmd::GRAPH_GET, vec![VdpAttr::TenantId(tenant)])?;
            let info = decode_graph(&replies.first().context("the kernel sent no reply")?.attrs);
            if let Some(path) = output {
                std::fs::write(path, &info.blob).with_context(|| format!("cannot write {}", path.display()))?;
            }
            print_graph(&info, out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_handler(command: &HandlerCommand, out: &Output) -> Result<ExitCode> {
    let mut socket = VdpSocket::connect()?;
    match command {
        HandlerCommand::Read { tenant, target, parameter } => {
            let (element, handler) = split_target(target)?;
            // A read handler's parameter travels after its name, as `NAME PARAMETER`.
            let handler = match parameter {
                Some(parameter) => format!("{handler} {parameter}"),
                None => handler.to_string(),
            };
            let handler = handler.as_str();
            let tenant = resolve(&mut socket, tenant)?;
            let replies = socket.request(
                cmd::HANDLER_READ,
                vec![
                    VdpAttr::TenantId(tenant),
                    VdpAttr::Element(String::from(element)),
                    VdpAttr::Handler(String::from(handler)),
                ],
            )?;
            let value = replies
                .first()
                .and_then(|r| {
                    r.attrs.iter().find_map(|a| match a {
                        VdpAttr::Value(value) => Some(value.clone()),
                        _ => None,
                    })
                })
                .context("the kernel's reply has no VALUE")?;
            let value = String::from_utf8_lossy(&value);
            if out.json {
                out.print_json(&serde_json::json!({ "value": value }))?;
            } else {
                println!("{value}");
            }
        }
        HandlerCommand::Write { tenant, target, value, file, as_tenant } => {
            let (element, handler) = split_target(target)?;
            let values = match file {
                Some(file) => {
                    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
                    line_chunks(&text, uapi::HANDLER_VALUE_MAX)?.into_iter().map(|chunk| Some(chunk.to_string())).collect()
                }
                None => vec![value.clone()],
            };
            let tenant = resolve(&mut socket, tenant)?;
            for value in values {
                let mut attrs = vec![
                    VdpAttr::TenantId(tenant),
                    VdpAttr::Element(String::from(element)),
                    VdpAttr::Handler(String::from(handler)),
                ];
                if let Some(value) = value {
                    attrs.push(VdpAttr::Value(value.into_bytes()));
                }
                if *as_tenant {
                    attrs.push(VdpAttr::AsTenant);
                }
                socket.request(cmd::HANDLER_WRITE, attrs)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_writes_split_at_line_breaks() {
        assert_eq!(line_chunks("a 1\nb 2\nc 3\n", 8).unwrap(), ["a 1\nb 2\n", "c 3\n"]);
        assert_eq!(line_chunks("a 1\nb 2", 100).unwrap(), ["a 1\nb 2"]);
        assert!(line_chunks("", 4).unwrap().is_empty());
        assert!(line_chunks("much too long\n", 4).is_err());
    }

    #[test]
    fn targets_split_at_the_last_dot() {
        assert_eq!(split_target("red/c.count").unwrap(), ("red/c", "count"));
        assert_eq!(split_target("Counter@3.reset").unwrap(), ("Counter@3", "reset"));
        assert!(split_target("count").is_err());
        assert!(split_target(".count").is_err());
        assert!(split_target("c.").is_err());
    }

    #[test]
    fn decodes_a_graph_reply() {
        let attrs = vec![
            VdpAttr::TenantId(3),
            VdpAttr::ElementCount(5),
            VdpAttr::TaskCount(2),
            VdpAttr::Graph(b"VDPG".to_vec()),
        ];
        let info = decode_graph(&attrs);
        assert_eq!((info.tenant, info.elements, info.tasks), (3, 5, 2));
        assert_eq!(info.blob, b"VDPG");
    }
}
