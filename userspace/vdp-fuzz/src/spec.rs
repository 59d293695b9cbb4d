//! What the fuzzer knows about the protocol, read from the family's YAML spec
//! (`docs/netlink/vdp.yaml`), the one description of the protocol, through vdp-netlink's typed
//! model of it: attribute numbers, types and checks, and each operation's number, request
//! attributes and whether it is a dump. Nothing here repeats a table; a unit test checks the
//! numbers read against `vdp_core::uapi`.

use std::collections::HashMap;
use vdp_netlink::spec::Spec as YamlSpec;

/// Netlink attribute types the spec uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrType {
    U8,
    U32,
    U64,
    String,
    Binary,
    Nest,
    Pad,
}

#[derive(Clone, Debug)]
pub struct AttrSpec {
    pub name: String,
    pub number: u16,
    pub kind: AttrType,
    pub min: Option<u64>,
    pub max: Option<u64>,
    pub max_len: Option<usize>,
    pub exact_len: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct OpSpec {
    pub name: String,
    pub number: u8,
    /// Request attributes of the `do` form (or of the `dump` form for a dump-only operation).
    pub request: Vec<u16>,
    pub dump: bool,
}

#[derive(Clone, Debug)]
pub struct Spec {
    /// The top-level attribute set (`vdp`).
    pub attrs: Vec<AttrSpec>,
    pub ops: Vec<OpSpec>,
}

impl Spec {
    pub fn attr(&self, number: u16) -> Option<&AttrSpec> {
        self.attrs.iter().find(|a| a.number == number)
    }
    #[cfg(test)]
    pub fn attr_named(&self, name: &str) -> Option<&AttrSpec> {
        self.attrs.iter().find(|a| a.name == name)
    }
    #[cfg(test)]
    pub fn op_named(&self, name: &str) -> Option<&OpSpec> {
        self.ops.iter().find(|o| o.name == name)
    }
    pub fn op(&self, number: u8) -> Option<&OpSpec> {
        self.ops.iter().find(|o| o.number == number)
    }
    pub fn max_attr(&self) -> u16 {
        self.attrs.iter().map(|a| a.number).max().unwrap_or(0)
    }
}

/// Reads the spec compiled into the fuzzer.
pub fn load() -> Spec {
    from_yaml(&YamlSpec::compiled())
}

fn from_yaml(yaml: &YamlSpec) -> Spec {
    // A bound naming no const cannot get past vdp-netlink's build, which reads the same file.
    let bound = |b| yaml.bound(b).ok().flatten();
    let attrs: Vec<AttrSpec> = yaml
        .set("vdp")
        .map(|set| set.numbered())
        .unwrap_or_default()
        .into_iter()
        .map(|(number, a)| AttrSpec {
            name: a.name.clone(),
            number,
            kind: match a.kind.as_str() {
                "u8" => AttrType::U8,
                "u32" => AttrType::U32,
                "u64" => AttrType::U64,
                "string" => AttrType::String,
                "nest" => AttrType::Nest,
                "pad" => AttrType::Pad,
                _ => AttrType::Binary,
            },
            min: bound(&a.checks.min),
            max: bound(&a.checks.max),
            max_len: bound(&a.checks.max_len).map(|v| v as usize),
            exact_len: bound(&a.checks.exact_len).map(|v| v as usize),
        })
        .collect();
    let by_name: HashMap<&str, u16> = attrs.iter().map(|a| (a.name.as_str(), a.number)).collect();
    let ops = yaml
        .numbered_ops()
        .into_iter()
        .map(|(number, op)| OpSpec {
            name: op.name.clone(),
            number,
            request: op.request().iter().filter_map(|n| by_name.get(n.as_str()).copied()).collect(),
            dump: op.is_dump(),
        })
        .collect();
    Spec { attrs, ops }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vdp_core::uapi::{self, attr, cmd};

    #[test]
    fn numbers_agree_with_uapi() {
        let spec = load();
        for (name, number) in [
            ("get-info", cmd::GET_INFO),
            ("tenant-new", cmd::TENANT_NEW),
            ("sched-set", cmd::SCHED_SET),
            ("graph-install", cmd::GRAPH_INSTALL),
            ("handler-write", cmd::HANDLER_WRITE),
            ("stats", cmd::STATS),
            ("table-change-ntf", cmd::TABLE_CHANGE_NTF),
            ("port-attach", cmd::PORT_ATTACH),
            ("vdev-get", cmd::VDEV_GET),
        ] {
            assert_eq!(spec.op_named(name).map(|o| o.number), Some(number), "{name}");
        }
        for (name, number) in [
            ("tenant-id", attr::TENANT_ID),
            ("graph", attr::GRAPH),
            ("value", attr::VALUE),
            ("peer-mac", attr::PEER_MAC),
            ("vdev", attr::VDEV),
            ("threads", attr::THREADS),
            ("tasks-per-yield-auto", attr::TASKS_PER_YIELD_AUTO),
        ] {
            assert_eq!(spec.attr_named(name).map(|a| a.number), Some(number), "{name}");
        }
        assert_eq!(spec.max_attr(), attr::MAX);
    }

    #[test]
    fn types_checks_and_requests_are_read() {
        let spec = load();
        let graph = spec.attr_named("graph").unwrap();
        assert_eq!(graph.kind, AttrType::Binary);
        assert_eq!(graph.max_len, Some(uapi::GRAPH_MAX_BYTES));
        let tpy = spec.attr_named("tasks-per-yield").unwrap();
        assert_eq!((tpy.kind, tpy.min, tpy.max), (AttrType::U32, Some(1), Some(u64::from(uapi::TASKS_PER_YIELD_MAX))));
        assert_eq!(spec.attr_named("mac").unwrap().exact_len, Some(6));
        let install = spec.op_named("graph-install").unwrap();
        assert_eq!(install.request, vec![attr::TENANT_ID, attr::GRAPH]);
        assert!(spec.op_named("stats").unwrap().dump);
        assert!(!install.dump);
        assert_eq!(spec.op_named("graph-remove-ntf").map(|o| o.number), Some(cmd::GRAPH_REMOVE_NTF));
        assert_eq!(spec.op_named("vdev-new").unwrap().request.len(), 13);
    }
}
