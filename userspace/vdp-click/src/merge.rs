//! Merges checked tenant graphs into the one graph the kernel runs.
//!
//! Every tenant element is renamed `TENANT/name`. A tenant's `FromDevice(dev)` and
//! `ToDevice(dev)` stay as they are: the kernel binds them to that tenant's virtual device `dev`
//! (a GRE tunnel it was given with `VDEV_NEW`), and does the demultiplexing, decapsulation and
//! encapsulation itself, so no tenant element ever touches a shared one. PollDevice, ToHost and
//! FromHost are bound the same way; a ToHost without DEVNAME gets the tenant's host device
//! (`host_device`). A tenant's `bandwidth_cap` and `aggregate_bandwidth_cap` add nothing to its
//! graph: the module holds its devices to them on the transmit path, where the tenant's graph
//! cannot reach (`kmod/core/tx_cap.rs`).

use crate::flatten::{FlatArg, FlatConnection, FlatElement, FlatGraph};
use crate::system::SystemConfig;

/// A tenant's graph, already checked, ready to merge.
pub struct TenantGraph<'a> {
    pub tenant: &'a str,
    pub graph: &'a FlatGraph,
}

struct Builder {
    graph: FlatGraph,
}

impl Builder {
    /// Adds a tenant's element (the merge adds none on the root's behalf).
    fn add(&mut self, name: String, class: &str, args: &[String]) -> usize {
        self.graph.elements.push(FlatElement {
            name,
            class: class.to_string(),
            args: args.iter().map(|text| FlatArg { text: text.clone(), span: None }).collect(),
            span: None,
            class_span: None,
            root: false,
            damage: Default::default(),
        });
        self.graph.elements.len() - 1
    }

    fn connect(&mut self, from: usize, from_port: u16, to: usize, to_port: u16) {
        self.graph.connections.push(FlatConnection { from, from_port, to, to_port, span: None });
    }

}

fn device_of(element: &FlatElement) -> Option<String> {
    let first = element.args.first()?;
    let text = crate::args::keyword_of(&first.text).map_or(first.text.as_str(), |(_, rest)| rest);
    crate::args::unquote(text).ok().and_then(|bytes| String::from_utf8(bytes).ok())
}

/// The Ethernet address of a tenant device that the system config gives none: locally
/// administered, "vdp" in the middle bytes, then the tenant's and the device's positions.
pub fn derived_mac(tenant: usize, device: usize) -> String {
    format!("02:76:64:70:{:02x}:{:02x}", tenant & 0xff, device & 0xff)
}

/// Merges tenants (each already checked against its devices) into one graph.
pub fn merge(system: &SystemConfig, tenants: &[TenantGraph]) -> Result<FlatGraph, Vec<String>> {
    let mut problems = Vec::new();
    let mut builder = Builder { graph: FlatGraph::default() };
    for (tenant_index, tenant_graph) in tenants.iter().enumerate() {
        let Some(tenant) = system.tenant(tenant_graph.tenant) else {
            problems.push(format!("tenant '{}' is not in the system config", tenant_graph.tenant));
            continue;
        };
        if tenants[..tenant_index].iter().any(|t| t.tenant == tenant.name) {
            problems.push(format!("tenant '{}' is given twice", tenant.name));
            continue;
        }
        let prefix = format!("{}/", tenant.name);
        // Where each original element is in the merged graph.
        let mut index_map = Vec::with_capacity(tenant_graph.graph.elements.len());
        for element in &tenant_graph.graph.elements {
            let name = format!("{prefix}{}", element.name);
            let mut args: Vec<String> = element.args.iter().map(|a| a.text.clone()).collect();
            let device = match element.class.as_str() {
                "FromDevice" | "ToDevice" | "PollDevice" | "FromHost" => device_of(element),
                // DEVNAME, ToHost's only argument, is the host device when absent.
                "ToHost" if args.is_empty() => match &tenant.host_device {
                    Some(host) => {
                        args.push(host.clone());
                        Some(host.clone())
                    }
                    None => {
                        problems.push(format!("tenant '{}' uses ToHost, and the system config names no host_device for it", tenant.name));
                        None
                    }
                },
                "ToHost" => device_of(element),
                _ => None,
            };
            if let Some(device_name) = &device {
                if !tenant.device.iter().any(|d| &d.name == device_name) {
                    problems.push(format!("tenant '{}' uses device '{device_name}', which the system config does not give it", tenant.name));
                }
            }
            index_map.push(builder.add(name, &element.class, &args));
        }
        for connection in &tenant_graph.graph.connections {
            let (from, to) = (index_map[connection.from], index_map[connection.to]);
            builder.connect(from, connection.from_port, to, connection.to_port);
        }
    }
    if problems.is_empty() {
        Ok(builder.graph)
    } else {
        Err(problems)
    }
}
