//! Merges checked tenant graphs into the one graph the kernel runs.
//!
//! Every tenant element is renamed `TENANT/name`. A tenant's `FromDevice(dev)` becomes the
//! decapsulation and a receive queue behind the shared GRE classifier of the physical device its
//! tunnel uses, drained by a task of the tenant's own; its `ToDevice(dev)` becomes shaping,
//! encapsulation and the shared transmit queue of that device.
//! The replacement keeps the original element's name, so the tenant's own connections need no
//! rewriting.

use crate::flatten::{FlatArg, FlatConnection, FlatElement, FlatGraph};
use crate::system::{Carries, SystemConfig, Tunnel, SHARED_PREFIX};
use std::collections::BTreeMap;
use vdp_core::click_value as cv;

/// Bytes of the outer headers a tunnel adds: Ethernet, IPv4 without options, GRE (+ key).
fn outer_header_bytes(tunnel: &Tunnel) -> u32 {
    14 + 20 + 4 + if tunnel.key.is_some() { 4 } else { 0 }
}

/// The Classifier pattern matching the tunnel's packets as they arrive on the physical device.
pub fn tunnel_pattern(tunnel: &Tunnel) -> String {
    let hex = |text: &str| cv::parse_ipv4(text).map(|a| a.iter().map(|b| format!("{b:02x}")).collect::<String>()).unwrap_or_default();
    let flags: u16 = if tunnel.key.is_some() { 0x2000 } else { 0 };
    let mut pattern = format!(
        "12/0800 14/45 23/2f 26/{} 30/{} 34/{flags:04x}{:04x}",
        hex(&tunnel.remote),
        hex(&tunnel.local),
        tunnel.carries.gre_protocol()
    );
    if let Some(key) = tunnel.key {
        pattern.push_str(&format!(" 38/{key:08x}"));
    }
    pattern
}

/// A tenant's graph, already checked, ready to merge.
pub struct TenantGraph<'a> {
    pub tenant: &'a str,
    pub graph: &'a FlatGraph,
}

struct Builder {
    graph: FlatGraph,
}

impl Builder {
    fn add(&mut self, name: String, class: &str, args: &[String]) -> usize {
        self.graph.elements.push(FlatElement {
            name,
            class: class.to_string(),
            args: args.iter().map(|text| FlatArg { text: text.clone(), span: None }).collect(),
            span: None,
            class_span: None,
        });
        self.graph.elements.len() - 1
    }

    fn connect(&mut self, from: usize, from_port: u16, to: usize, to_port: u16) {
        self.graph.connections.push(FlatConnection { from, from_port, to, to_port, span: None });
    }

    fn chain(&mut self, nodes: &[usize]) {
        for pair in nodes.windows(2) {
            self.connect(pair[0], 0, pair[1], 0);
        }
    }
}

fn device_of(element: &FlatElement) -> Option<String> {
    let first = element.args.first()?;
    let text = crate::args::keyword_of(&first.text).map_or(first.text.as_str(), |(_, rest)| rest);
    crate::args::unquote(text).ok().and_then(|bytes| String::from_utf8(bytes).ok())
}

fn keyword_value(element: &FlatElement, keyword: &str) -> Option<String> {
    element.args.iter().find_map(|a| crate::args::keyword_of(&a.text).filter(|(k, _)| *k == keyword).map(|(_, v)| v.to_string()))
}

fn derived_mac(tenant: usize, device: usize) -> String {
    // Locally administered unicast addresses, "vdp" in the middle bytes.
    format!("02:76:64:70:{:02x}:{:02x}", tenant & 0xff, device & 0xff)
}

/// Merges tenants (each already checked against its devices) into one graph.
pub fn merge(system: &SystemConfig, tenants: &[TenantGraph]) -> Result<FlatGraph, Vec<String>> {
    let mut problems = Vec::new();
    let mut builder = Builder { graph: FlatGraph::default() };
    // Per physical device: demux patterns with their targets, and transmit sources.
    let mut receivers: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    let mut transmitters: BTreeMap<String, Vec<usize>> = BTreeMap::new();
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
        let mut index_map = Vec::with_capacity(tenant_graph.graph.elements.len());
        for element in &tenant_graph.graph.elements {
            let name = format!("{prefix}{}", element.name);
            let device = match element.class.as_str() {
                "FromDevice" | "ToDevice" => device_of(element),
                _ => None,
            };
            let Some(device_name) = device else {
                let index = builder.add(name, &element.class, &element.args.iter().map(|a| a.text.clone()).collect::<Vec<_>>());
                index_map.push(index);
                continue;
            };
            let Some((device_index, device)) = tenant.device.iter().enumerate().find(|(_, d)| d.name == device_name) else {
                problems.push(format!("tenant '{}' uses device '{device_name}', which the system config does not give it", tenant.name));
                index_map.push(usize::MAX);
                continue;
            };
            let tunnel = system.tunnel(&device.tunnel).expect("validated system config");
            let physical = system.physical(&tunnel.physical).expect("validated system config");
            if element.class == "FromDevice" {
                // The shared receive task only demultiplexes and queues; everything after the
                // queue runs in the tenant's own Unqueue task, billed to the tenant.
                let decap = builder.add(format!("{name}@decap"), "Strip", &[outer_header_bytes(tunnel).to_string()]);
                let capacity = system.limits.max_queue_capacity.clamp(1, 1000).to_string();
                let queue = builder.add(format!("{name}@rxq"), "Queue", &[capacity]);
                let burst = keyword_value(element, "BURST").unwrap_or_else(|| "8".into());
                let entry = match tunnel.carries {
                    // Tenants read Ethernet frames from FromDevice, so IP tunnels get a header back.
                    Carries::Ip => {
                        let unqueue = builder.add(format!("{name}@rx"), "Unqueue", &[burst]);
                        let mac = device.mac.clone().unwrap_or_else(|| derived_mac(tenant_index, device_index));
                        let encap = builder.add(name, "EtherEncap", &["0x0800".into(), tunnel.next_hop_mac.clone(), mac]);
                        builder.chain(&[decap, queue, unqueue, encap]);
                        encap
                    }
                    Carries::Ethernet => {
                        let unqueue = builder.add(name, "Unqueue", &[burst]);
                        builder.chain(&[decap, queue, unqueue]);
                        unqueue
                    }
                };
                receivers.entry(physical.name.clone()).or_default().push((tunnel_pattern(tunnel), decap));
                index_map.push(entry);
            } else {
                let burst = keyword_value(element, "BURST").unwrap_or_else(|| "16".into());
                let mut nodes = Vec::new();
                let first = match &tenant.bandwidth_cap {
                    Some(cap) => {
                        let shaper = builder.add(name.clone(), "BandwidthShaper", &[cap.clone()]);
                        nodes.push(shaper);
                        builder.add(format!("{name}@tx"), "Unqueue", &[burst])
                    }
                    None => builder.add(name.clone(), "Unqueue", &[burst]),
                };
                nodes.push(first);
                if tunnel.carries == Carries::Ip {
                    nodes.push(builder.add(format!("{name}@strip"), "Strip", &["14".into()]));
                }
                let mut gre_args = vec![format!("0x{:04x}", tunnel.carries.gre_protocol())];
                if let Some(key) = tunnel.key {
                    gre_args.push(format!("KEY {key}"));
                }
                nodes.push(builder.add(format!("{name}@gre"), "GREEncap", &gre_args));
                nodes.push(builder.add(format!("{name}@ip"), "IPEncap", &["gre".into(), tunnel.local.clone(), tunnel.remote.clone()]));
                nodes.push(builder.add(format!("{name}@eth"), "EtherEncap", &["0x0800".into(), physical.mac.clone(), tunnel.next_hop_mac.clone()]));
                builder.chain(&nodes);
                transmitters.entry(physical.name.clone()).or_default().push(*nodes.last().expect("at least one node"));
                index_map.push(nodes[0]);
            }
        }
        for connection in &tenant_graph.graph.connections {
            let (from, to) = (index_map[connection.from], index_map[connection.to]);
            if from != usize::MAX && to != usize::MAX {
                builder.connect(from, connection.from_port, to, connection.to_port);
            }
        }
    }
    for (physical_name, targets) in receivers {
        let prefix = format!("{SHARED_PREFIX}/{physical_name}");
        let receive = builder.add(format!("{prefix}/rx"), "FromDevice", &[physical_name.clone()]);
        let mut patterns: Vec<String> = targets.iter().map(|(pattern, _)| pattern.clone()).collect();
        patterns.push("-".into());
        let demux = builder.add(format!("{prefix}/demux"), "Classifier", &patterns);
        builder.connect(receive, 0, demux, 0);
        for (port, (_, target)) in targets.iter().enumerate() {
            builder.connect(demux, port as u16, *target, 0);
        }
        let other = builder.add(format!("{prefix}/other"), "Discard", &[]);
        builder.connect(demux, targets.len() as u16, other, 0);
    }
    for (physical_name, sources) in transmitters {
        let prefix = format!("{SHARED_PREFIX}/{physical_name}");
        let capacity = system.physical(&physical_name).map_or(1000, |p| p.queue_capacity);
        let queue = builder.add(format!("{prefix}/queue"), "Queue", &[capacity.to_string()]);
        let transmit = builder.add(format!("{prefix}/tx"), "ToDevice", &[physical_name.clone()]);
        builder.connect(queue, 0, transmit, 0);
        for source in sources {
            builder.connect(source, 0, queue, 0);
        }
    }
    if problems.is_empty() {
        Ok(builder.graph)
    } else {
        Err(problems)
    }
}
