//! What the fuzzer knows about the protocol, read from the family's YAML spec
//! (`docs/netlink/vdp.yaml`), the one description of the protocol: attribute numbers, types and
//! checks, and each operation's number, request attributes and whether it is a dump. Nothing here
//! repeats a table; a unit test checks the numbers read against `vdp_core::uapi`.
//!
//! The reader understands the subset of YAML the spec is written in: block maps and lists by
//! indentation, `-` items alone on their line or with a scalar, `[a, b]` flow lists, folded
//! scalars (`>-`, skipped), anchors (dropped) and comments.

use std::collections::HashMap;

const SPEC: &str = include_str!("../../../docs/netlink/vdp.yaml");

#[derive(Debug, Clone)]
enum Node {
    Scalar(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn text(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }
    fn items(&self) -> &[Node] {
        match self {
            Node::List(items) => items,
            _ => &[],
        }
    }
    fn texts(&self) -> Vec<String> {
        self.items().iter().filter_map(|n| n.text().map(str::to_string)).collect()
    }
}

struct Line<'a> {
    indent: usize,
    text: &'a str,
}

fn lines(source: &str) -> Vec<Line<'_>> {
    source
        .lines()
        .filter_map(|raw| {
            let text = raw.trim_start();
            if text.is_empty() || text.starts_with('#') || text == "---" {
                return None;
            }
            Some(Line { indent: raw.len() - text.len(), text: text.trim_end() })
        })
        .collect()
}

fn scalar(text: &str) -> Node {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return Node::List(inner.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Node::Scalar(s.to_string())).collect());
    }
    Node::Scalar(text.trim_matches('"').to_string())
}

/// Parses the block that starts at `lines[*at]`, whose lines are indented by `indent`.
fn block(lines: &[Line<'_>], at: &mut usize, indent: usize) -> Node {
    let is_list = lines.get(*at).is_some_and(|l| l.text == "-" || l.text.starts_with("- "));
    if is_list {
        let mut items = Vec::new();
        while let Some(line) = lines.get(*at) {
            if line.indent != indent || !(line.text == "-" || line.text.starts_with("- ")) {
                break;
            }
            *at += 1;
            let rest = line.text[1..].trim();
            if rest.is_empty() {
                let child = lines.get(*at).map_or(indent + 1, |l| l.indent);
                items.push(if child > indent { block(lines, at, child) } else { Node::Scalar(String::new()) });
            } else {
                items.push(scalar(rest));
            }
        }
        return Node::List(items);
    }
    let mut entries = Vec::new();
    while let Some(line) = lines.get(*at) {
        if line.indent != indent {
            break;
        }
        *at += 1;
        let (key, value) = line.text.split_once(':').unwrap_or((line.text, ""));
        let value = value.trim();
        let node = if value.starts_with('>') || value.starts_with('|') {
            while lines.get(*at).is_some_and(|l| l.indent > indent) {
                *at += 1;
            }
            Node::Scalar(String::new())
        } else if value.is_empty() || value.starts_with('&') {
            match lines.get(*at) {
                Some(next) if next.indent > indent => block(lines, at, next.indent),
                _ => Node::Scalar(String::new()),
            }
        } else {
            scalar(value)
        };
        entries.push((key.trim().to_string(), node));
    }
    Node::Map(entries)
}

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

fn number(text: Option<&str>, consts: &HashMap<String, u64>) -> Option<u64> {
    let text = text?;
    text.parse().ok().or_else(|| consts.get(text).copied())
}

/// Reads the spec compiled into the fuzzer.
pub fn load() -> Spec {
    parse(SPEC)
}

pub fn parse(source: &str) -> Spec {
    let lines = lines(source);
    let mut at = 0;
    let root = block(&lines, &mut at, 0);
    let mut consts = HashMap::new();
    if let Some(defs) = root.get("definitions") {
        for def in defs.items() {
            if def.get("type").and_then(Node::text) == Some("const") {
                if let (Some(name), Some(value)) = (def.get("name").and_then(Node::text), def.get("value").and_then(Node::text).and_then(|v| v.parse().ok())) {
                    consts.insert(name.to_string(), value);
                }
            }
        }
    }
    let mut attrs = Vec::new();
    let set = root.get("attribute-sets").map(Node::items).unwrap_or(&[]).iter().find(|s| s.get("name").and_then(Node::text) == Some("vdp"));
    let mut value = 0u64;
    for a in set.and_then(|s| s.get("attributes")).map(Node::items).unwrap_or(&[]) {
        value = number(a.get("value").and_then(Node::text), &consts).unwrap_or(value + 1);
        let kind = match a.get("type").and_then(Node::text).unwrap_or("") {
            "u8" => AttrType::U8,
            "u32" => AttrType::U32,
            "u64" => AttrType::U64,
            "string" => AttrType::String,
            "nest" => AttrType::Nest,
            "pad" => AttrType::Pad,
            _ => AttrType::Binary,
        };
        let check = |key: &str| number(a.get("checks").and_then(|c| c.get(key)).and_then(Node::text), &consts);
        attrs.push(AttrSpec {
            name: a.get("name").and_then(Node::text).unwrap_or("").to_string(),
            number: value as u16,
            kind,
            min: check("min"),
            max: check("max"),
            max_len: check("max-len").map(|v| v as usize),
            exact_len: check("exact-len").map(|v| v as usize),
        });
    }
    let by_name: HashMap<String, u16> = attrs.iter().map(|a| (a.name.clone(), a.number)).collect();
    let mut ops = Vec::new();
    let mut value = 0u64;
    for op in root.get("operations").and_then(|o| o.get("list")).map(Node::items).unwrap_or(&[]) {
        value = number(op.get("value").and_then(Node::text), &consts).unwrap_or(value + 1);
        let request = |form: &str| op.get(form).and_then(|f| f.get("request")).and_then(|r| r.get("attributes")).map(Node::texts);
        let dump = op.get("do").is_none() && op.get("dump").is_some();
        let names = request("do").or_else(|| request("dump")).unwrap_or_default();
        ops.push(OpSpec {
            name: op.get("name").and_then(Node::text).unwrap_or("").to_string(),
            number: value as u8,
            request: names.iter().filter_map(|n| by_name.get(n).copied()).collect(),
            dump,
        });
    }
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
