//! The family's YAML spec (`docs/netlink/vdp.yaml`, in the kernel's genetlink form) as typed
//! values, read with `serde_yaml`. `build.rs` generates the attribute enums from it, and the
//! fuzzer builds its requests from it, so both read the protocol from the one file through this
//! one model. Only the keys vdp's spec uses are modelled; the rest (`doc`, `flags`, ...) are
//! ignored.

use serde::Deserialize;
use std::collections::HashMap;

/// The spec as compiled into this crate.
pub const SOURCE: &str = include_str!("../../../docs/netlink/vdp.yaml");

#[derive(Debug, Deserialize)]
pub struct Spec {
    pub name: String,
    #[serde(default)]
    pub definitions: Vec<Definition>,
    #[serde(rename = "attribute-sets")]
    pub attribute_sets: Vec<AttrSet>,
    pub operations: Operations,
}

#[derive(Debug, Deserialize)]
pub struct Definition {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub value: Option<u64>,
    #[serde(default)]
    pub entries: Vec<String>,
    #[serde(rename = "value-start", default)]
    pub value_start: u64,
    pub doc: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AttrSet {
    pub name: String,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Deserialize)]
pub struct Attribute {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Explicit number; otherwise one more than the previous attribute's (see [`AttrSet::numbered`]).
    pub value: Option<u16>,
    pub doc: Option<String>,
    #[serde(default)]
    pub checks: Checks,
    #[serde(rename = "byte-order")]
    pub byte_order: Option<String>,
    #[serde(rename = "display-hint")]
    pub display_hint: Option<String>,
    #[serde(rename = "enum")]
    pub enumeration: Option<String>,
    #[serde(rename = "nested-attributes")]
    pub nested: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Checks {
    pub min: Option<Bound>,
    pub max: Option<Bound>,
    #[serde(rename = "max-len")]
    pub max_len: Option<Bound>,
    #[serde(rename = "exact-len")]
    pub exact_len: Option<Bound>,
}

/// A check's bound: a number, or the name of a `const` definition.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Bound {
    Number(u64),
    Name(String),
}

#[derive(Debug, Deserialize)]
pub struct Operations {
    pub list: Vec<Operation>,
}

#[derive(Debug, Deserialize)]
pub struct Operation {
    pub name: String,
    /// Explicit number; otherwise one more than the previous operation's.
    pub value: Option<u8>,
    #[serde(rename = "do")]
    pub do_: Option<Form>,
    pub dump: Option<Form>,
}

/// The `do` or `dump` form of an operation.
#[derive(Debug, Deserialize)]
pub struct Form {
    pub request: Option<Attrs>,
    pub reply: Option<Attrs>,
}

#[derive(Debug, Deserialize)]
pub struct Attrs {
    pub attributes: Vec<String>,
}

impl Spec {
    /// Reads a spec.
    pub fn parse(text: &str) -> Result<Spec, serde_yaml::Error> {
        serde_yaml::from_str(text)
    }

    /// The spec compiled into this crate. It is checked when the crate is built (`build.rs`
    /// reads the same file), so reading it again cannot fail in a built crate.
    pub fn compiled() -> Spec {
        Spec::parse(SOURCE).unwrap_or_else(|e| panic!("docs/netlink/vdp.yaml: {e}"))
    }

    /// The `const` definitions by name.
    pub fn consts(&self) -> HashMap<&str, u64> {
        self.definitions
            .iter()
            .filter(|d| d.kind == "const")
            .filter_map(|d| Some((d.name.as_str(), d.value?)))
            .collect()
    }

    /// A bound's value, looking names up among the `const` definitions.
    pub fn bound(&self, bound: &Option<Bound>) -> Result<Option<u64>, String> {
        match bound {
            None => Ok(None),
            Some(Bound::Number(n)) => Ok(Some(*n)),
            Some(Bound::Name(name)) => self
                .consts()
                .get(name.as_str())
                .copied()
                .map(Some)
                .ok_or_else(|| format!("`{name}` is not a const definition")),
        }
    }

    pub fn set(&self, name: &str) -> Option<&AttrSet> {
        self.attribute_sets.iter().find(|s| s.name == name)
    }

    /// Every operation with its number, counting as YNL does (one more than the previous one,
    /// from 1, unless given).
    pub fn numbered_ops(&self) -> Vec<(u8, &Operation)> {
        let mut value = 0u8;
        self.operations
            .list
            .iter()
            .map(|op| {
                value = op.value.unwrap_or(value.wrapping_add(1));
                (value, op)
            })
            .collect()
    }
}

impl AttrSet {
    /// Every attribute with its number, counting as YNL does.
    pub fn numbered(&self) -> Vec<(u16, &Attribute)> {
        let mut value = 0u16;
        self.attributes
            .iter()
            .map(|a| {
                value = a.value.unwrap_or(value.wrapping_add(1));
                (value, a)
            })
            .collect()
    }
}

impl Operation {
    /// The request attributes of the `do` form, or of the `dump` form for a dump-only operation.
    pub fn request(&self) -> &[String] {
        self.do_
            .as_ref()
            .or(self.dump.as_ref())
            .and_then(|f| f.request.as_ref())
            .map_or(&[], |r| r.attributes.as_slice())
    }

    /// A dump-only operation.
    pub fn is_dump(&self) -> bool {
        self.do_.is_none() && self.dump.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_spec_reads_with_its_aliases() {
        let spec = Spec::compiled();
        assert_eq!(spec.name, "vdp");
        let ops = spec.numbered_ops();
        let get = |name: &str| ops.iter().find(|(_, o)| o.name == name).expect(name);
        assert_eq!(get("get-info").0, vdp_core::uapi::cmd::GET_INFO);
        assert_eq!(get("vdev-get").0, vdp_core::uapi::cmd::VDEV_GET);
        // sched-get's reply is `*tenant`, an alias of tenant-new's.
        let reply = get("sched-get").1.do_.as_ref().and_then(|f| f.reply.as_ref()).expect("reply");
        assert!(reply.attributes.iter().any(|a| a == "thread-pid"));
        assert!(get("stats").1.is_dump());
        assert_eq!(get("graph-install").1.request(), ["tenant-id", "graph"]);
        let vdp = spec.set("vdp").expect("vdp set");
        let graph = vdp.numbered().into_iter().find(|(_, a)| a.name == "graph").expect("graph");
        assert_eq!(graph.0, vdp_core::uapi::attr::GRAPH);
        assert_eq!(spec.bound(&graph.1.checks.max_len), Ok(Some(vdp_core::uapi::GRAPH_MAX_BYTES as u64)));
        assert!(spec.bound(&Some(Bound::Name("no-such".into()))).is_err());
    }

    #[test]
    fn a_broken_spec_is_an_error() {
        assert!(Spec::parse("name: vdp\nattribute-sets: 3\n").is_err());
    }
}
