//! Encodes a merged, checked graph in the compiled format the kernel installs
//! (`docs/compiled-graph.md`); the portable `vdp_core::compiled_graph` validates it.

use crate::check::CheckedGraph;
use crate::system::SystemConfig;
use crate::values::ArgValue;
use vdp_core::catalog::{self, ArgKind, Processing};
use vdp_core::click_value as cv;
use vdp_core::compiled_graph::{self as format, FormatError};

#[derive(Debug)]
pub enum CompileError {
    TooLarge(&'static str),
    MissingValue { element: String, argument: &'static str },
    UnknownReference { element: String, target: String },
    /// An AddressInfo the front end did not resolve away (a graph that skipped `check_text`).
    Unresolved { element: String },
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileError::TooLarge(what) => write!(f, "the graph has too many {what} for the compiled format"),
            CompileError::MissingValue { element, argument } => write!(f, "'{element}': argument {argument} has no value"),
            CompileError::UnknownReference { element, target } => write!(f, "'{element}' refers to unknown element '{target}'"),
            CompileError::Unresolved { element } => write!(f, "'{element}' is an AddressInfo, which the front end resolves and removes before compiling"),
        }
    }
}

impl std::error::Error for CompileError {}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend(v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend(v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend(v.to_le_bytes());
    }
    fn short_text(&mut self, text: &str) {
        self.u16(text.len() as u16);
        self.0.extend(text.as_bytes());
    }
    fn prefix(&mut self, prefix: &cv::Ipv4Prefix) {
        self.0.extend(prefix.addr);
        self.u8(prefix.len);
    }
}

fn count(n: usize, what: &'static str, limit: u32) -> Result<u32, CompileError> {
    u32::try_from(n).ok().filter(|n| *n <= limit).ok_or(CompileError::TooLarge(what))
}

fn write_value(w: &mut Writer, graph: &CheckedGraph, element: &str, kind: ArgKind, value: &ArgValue) -> Result<(), CompileError> {
    let find = |target: &str| {
        graph.find(target).map(|i| i as u32).ok_or_else(|| CompileError::UnknownReference { element: element.to_string(), target: target.to_string() })
    };
    match (kind, value) {
        (ArgKind::Int { .. }, ArgValue::Int(v)) => w.0.extend(v.to_le_bytes()),
        (ArgKind::IpProtocol | ArgKind::IcmpErrorType | ArgKind::IcmpCode, ArgValue::Int(v)) => w.u8(*v as u8),
        (ArgKind::Bool, ArgValue::Bool(v)) => w.u8(u8::from(*v)),
        (ArgKind::Ipv4Addr, ArgValue::Ipv4(a)) => w.0.extend(a),
        (ArgKind::Ipv4Prefix, ArgValue::Prefix(p)) => w.prefix(p),
        (ArgKind::EtherAddr, ArgValue::Ether(e)) => w.0.extend(e),
        (ArgKind::ClassifierPattern | ArgKind::IpClassifierExpr, ArgValue::Program(insns)) => {
            w.u32(insns.len() as u32);
            for insn in insns {
                w.0.extend(insn.encode());
            }
        }
        (ArgKind::Bandwidth | ArgKind::Time, ArgValue::Quantity(q)) => w.u64(*q),
        (ArgKind::String, ArgValue::Bytes(bytes)) => {
            if bytes.len() > format::MAX_STRING_BYTES {
                return Err(CompileError::TooLarge("string bytes"));
            }
            w.u32(bytes.len() as u32);
            w.0.extend(bytes);
        }
        (ArgKind::DeviceName, ArgValue::Name(name)) => w.short_text(name),
        (ArgKind::ElementRef, ArgValue::Name(name)) => w.u32(find(name)?),
        (ArgKind::Route, ArgValue::Route(route)) => {
            w.prefix(&route.prefix);
            w.u8(u8::from(route.gateway.is_some()));
            w.0.extend(route.gateway.unwrap_or([0; 4]));
            w.u16(route.port);
        }
        (ArgKind::ThreadAssignment | ArgKind::TicketShare, ArgValue::ElementNumber(name, number)) => {
            w.u32(find(name)?);
            w.u32(*number);
        }
        (ArgKind::PrefixList, ArgValue::Prefixes(list)) => {
            w.u16(count(list.len(), "list entries", format::MAX_LIST_ENTRIES as u32)? as u16);
            for prefix in list {
                w.prefix(prefix);
            }
        }
        (ArgKind::AddrList, ArgValue::Addresses(list)) => {
            w.u16(count(list.len(), "list entries", format::MAX_LIST_ENTRIES as u32)? as u16);
            for addr in list {
                w.0.extend(addr);
            }
        }
        (ArgKind::ArpEntry, ArgValue::ArpEntry(prefixes, ether)) => {
            if prefixes.is_empty() {
                return Err(CompileError::MissingValue { element: element.to_string(), argument: "IP/MASK" });
            }
            w.u16(count(prefixes.len(), "list entries", format::MAX_LIST_ENTRIES as u32)? as u16);
            for prefix in prefixes {
                w.prefix(prefix);
            }
            w.0.extend(ether);
        }
        (ArgKind::Probability, ArgValue::Probability(p)) => w.u32(*p),
        (ArgKind::StorageList, ArgValue::Names(names)) => {
            w.u16(count(names.len(), "list entries", format::MAX_LIST_ENTRIES as u32)? as u16);
            for name in names {
                w.u32(find(name)?);
            }
        }
        _ => unreachable!("the checker produced {value:?} for {kind:?}"),
    }
    Ok(())
}

/// Tenant index of an element: its name's first component, if that is a tenant.
fn tenant_of(system: &SystemConfig, name: &str) -> u16 {
    let first = name.split('/').next().unwrap_or("");
    system.tenant.iter().position(|t| t.name == first).map_or(format::SHARED_TENANT, |i| i as u16)
}

/// Encodes `graph`, which must have passed every check.
pub fn compile(graph: &CheckedGraph, system: &SystemConfig) -> Result<Vec<u8>, CompileError> {
    let tasks = crate::tasks::find_tasks(graph);
    let mut w = Writer(Vec::new());
    w.0.extend(format::MAGIC);
    w.u16(format::FORMAT_VERSION);
    w.u16(catalog::CLASS_COUNT);
    w.u32(0); // total length, patched below
    w.u32(count(system.tenant.len(), "tenants", format::MAX_TENANTS)?);
    w.u32(count(graph.elements.len(), "elements", format::MAX_ELEMENTS)?);
    let ports: usize = graph.elements.iter().map(|e| usize::from(e.inputs) + usize::from(e.outputs)).sum();
    w.u32(count(ports, "ports", format::MAX_PORTS_TOTAL)?);
    w.u32(count(graph.connections.len(), "connections", format::MAX_CONNECTIONS)?);
    w.u32(count(tasks.len(), "tasks", format::MAX_ELEMENTS)?);
    for tenant in &system.tenant {
        w.short_text(&tenant.name);
        w.short_text(&tenant.cgroup);
        w.u32(tenant.cpu_share);
        w.u64(tenant.bandwidth_cap.as_deref().and_then(|cap| cv::parse_bandwidth(cap).ok()).unwrap_or(0));
    }
    for element in &graph.elements {
        let class = element.class;
        if class.resolved_by_front_end() {
            return Err(CompileError::Unresolved { element: element.name.clone() });
        }
        w.u16(class.id);
        let tenant = tenant_of(system, &element.name);
        w.u16(tenant);
        w.u8(if element.root || tenant == format::SHARED_TENANT { format::OWNER_ROOT } else { format::OWNER_TENANT });
        w.u16(element.inputs);
        w.u16(element.outputs);
        if element.name.len() > format::MAX_NAME_BYTES {
            return Err(CompileError::TooLarge("bytes in an element name"));
        }
        w.short_text(&element.name);
        for mode in element.input_modes.iter().chain(&element.output_modes) {
            w.u8(u8::from(*mode == Processing::Pull));
        }
        for (spec, value) in class.args.iter().zip(&element.args) {
            match value {
                Some(value) => {
                    w.u8(1);
                    write_value(&mut w, graph, &element.name, spec.kind, value)?;
                }
                None if spec.required => return Err(CompileError::MissingValue { element: element.name.clone(), argument: spec.keyword }),
                None => w.u8(0),
            }
        }
        w.u32(count(element.repeated.len(), "repeated arguments", format::MAX_REPEATED)?);
        if let Some(repeat) = class.repeated {
            for value in &element.repeated {
                write_value(&mut w, graph, &element.name, repeat.kind, value)?;
            }
        }
    }
    for connection in &graph.connections {
        w.u32(connection.from as u32);
        w.u16(connection.from_port);
        w.u32(connection.to as u32);
        w.u16(connection.to_port);
    }
    let pins = crate::tasks::thread_pins(graph);
    for task in &tasks {
        let index = graph.find(&task.name).expect("tasks name elements of the graph");
        w.u32(index as u32);
        w.u32(u32::try_from(task.cost).unwrap_or(u32::MAX));
        w.u32(pins.iter().find(|(name, _)| *name == task.name).map_or(format::UNPINNED, |(_, t)| *t));
    }
    let total = u32::try_from(w.0.len()).map_err(|_| CompileError::TooLarge("bytes"))?;
    w.0[8..12].copy_from_slice(&total.to_le_bytes());
    Ok(w.0)
}

/// Validates a blob with scratch space allocated here, as the kernel does with its own.
pub fn validate(blob: &[u8]) -> Result<format::CompiledGraph<'_>, FormatError> {
    validate_explained(blob).map_err(|(error, _)| error)
}

/// Whether two blobs run the same graph ([`format::CompiledGraph::program`]): equal but for
/// their tenant tables, which hold every tenant of the system config they were compiled
/// against. A blob that does not validate is compared byte for byte.
pub fn same_program(a: &[u8], b: &[u8]) -> bool {
    match (validate(a), validate(b)) {
        (Ok(a), Ok(b)) => a.program() == b.program(),
        _ => a == b,
    }
}

/// [`validate`] against `catalog` (a container engine's, with its custom classes).
pub fn validate_in(catalog: catalog::Catalog, blob: &[u8]) -> Result<format::CompiledGraph<'_>, FormatError> {
    validate_explained_in(catalog, blob).map_err(|(error, _)| error)
}

/// [`validate`], with the error also in words (naming the element at fault where it can).
pub fn validate_explained(blob: &[u8]) -> Result<format::CompiledGraph<'_>, (FormatError, String)> {
    validate_explained_in(catalog::Catalog::LIBRARY, blob)
}

/// [`validate_explained`] against `catalog`.
pub fn validate_explained_in(catalog: catalog::Catalog, blob: &[u8]) -> Result<format::CompiledGraph<'_>, (FormatError, String)> {
    let sizes = format::scratch_sizes(blob).map_err(|e| (e, format!("{e:?}")))?;
    let mut element_scratch = vec![format::ElementScratch::default(); sizes.elements];
    let mut port_scratch = vec![0u16; sizes.ports];
    let mut edge_scratch = vec![0u32; sizes.edges];
    format::validate_with(catalog, blob, &mut element_scratch, &mut port_scratch, &mut edge_scratch).map_err(|error| {
        let text = format::Explained { error, blob, elements: &element_scratch }.to_string();
        (error, text)
    })
}

/// The push-only and pull-only cycles of a validated blob, found with the checker's own search
/// ([`crate::check::find_cycles`]): the kernel's validator does not look for them.
pub fn blob_cycles(graph: &format::CompiledGraph<'_>) -> Vec<crate::check::FoundCycle> {
    let outputs: Vec<(usize, &[u8])> = graph.elements().map(|e| (usize::from(e.inputs), e.modes)).collect();
    let edges: Vec<crate::check::CycleEdge> = graph
        .connections()
        .filter_map(|c| {
            let (inputs, modes) = outputs.get(c.from as usize)?;
            let mode = match modes.get(inputs + usize::from(c.from_port))? {
                1 => Processing::Pull,
                _ => Processing::Push,
            };
            Some(crate::check::CycleEdge { from: c.from as usize, to: c.to as usize, mode })
        })
        .collect();
    crate::check::find_cycles(outputs.len(), &edges)
}
