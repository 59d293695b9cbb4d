//! Generates the vdp family's typed attributes from its YAML spec, `docs/netlink/vdp.yaml`, the
//! one description of the protocol: one Rust enum per attribute set, a variant per attribute
//! holding its decoded value, with `Nla` emission and a parser that applies the spec's checks.
//! The output, `$OUT_DIR/vdp_attrs.rs`, is included by `src/attrs.rs`, which holds the
//! hand-written helpers it calls.
//!
//! How a spec attribute becomes a Rust value:
//!
//! | spec                                      | Rust            | on the wire                  |
//! |-------------------------------------------|-----------------|------------------------------|
//! | `u8`, `u16`, `u32`, `u64`                 | the same        | host order, exact length     |
//! | `u8` with `enum: E`                       | generated `E`   | one byte, a listed value     |
//! | `u32`, big-endian, `display-hint: ipv4`   | `Ipv4Addr`      | 4 bytes, network order       |
//! | `binary`, `display-hint: ipv4`            | `Ipv4Addr`      | exactly 4 bytes              |
//! | `binary`, `display-hint: mac`             | `[u8; 6]`       | exactly 6 bytes              |
//! | `binary`                                  | `Vec<u8>`       | up to `max-len`              |
//! | `string`                                  | `String`        | UTF-8, NUL-terminated        |
//! | `flag`                                    | unit variant    | no value                     |
//! | `nest` of set S                           | `Vec<SAttr>`    | the nested set's attributes  |
//! | `pad`                                     | skipped         | alignment only               |
//!
//! Every attribute number the spec does not list parses as `Unknown`, so a newer module's
//! replies still decode; `min`, `max`, `max-len` and `exact-len` checks are applied on parse.

#[path = "src/spec.rs"]
#[allow(dead_code)] // the crate uses more of the model than the generator does
mod spec;

use spec::{AttrSet, Attribute, Bound, Definition, Spec};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The Rust shape of one attribute's value.
enum Shape {
    Int { bits: u32, min: Option<u64>, max: Option<u64> },
    Enum(String),
    Ipv4,
    Mac,
    Binary { max_len: Option<u64>, exact_len: Option<u64> },
    String { max_len: Option<u64> },
    Flag,
    Nest(String),
    Pad,
}

fn camel(name: &str) -> String {
    name.split(['-', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |c| c.to_ascii_uppercase().to_string() + chars.as_str())
        })
        .collect()
}

fn screaming(name: &str) -> String {
    name.replace('-', "_").to_ascii_uppercase()
}

fn doc_lines(out: &mut String, indent: &str, doc: Option<&str>) {
    if let Some(doc) = doc {
        for line in doc.split_whitespace().collect::<Vec<_>>().join(" ").split(". ") {
            let line = line.trim();
            if !line.is_empty() {
                let stop = if line.ends_with('.') { "" } else { "." };
                let _ = writeln!(out, "{indent}/// {line}{stop}");
            }
        }
    }
}

struct Generator<'a> {
    spec: &'a Spec,
    enums: HashMap<String, Vec<(String, u64)>>,
    out: String,
}

impl Generator<'_> {
    fn bound(&self, bound: &Option<Bound>, what: &str) -> Option<u64> {
        self.spec.bound(bound).unwrap_or_else(|e| panic!("vdp.yaml: {what}: {e}"))
    }

    fn shape(&self, set: &str, a: &Attribute) -> Shape {
        let what = format!("{set}.{}", a.name);
        let hint = a.display_hint.as_deref();
        let max_len = self.bound(&a.checks.max_len, &what);
        let exact_len = self.bound(&a.checks.exact_len, &what);
        match (a.kind.as_str(), hint) {
            ("u32", Some("ipv4")) => {
                assert_eq!(a.byte_order.as_deref(), Some("big-endian"), "{what}: an ipv4 u32 must be big-endian");
                Shape::Ipv4
            }
            ("binary", Some("ipv4")) => Shape::Ipv4,
            ("binary", Some("mac")) => {
                assert!(exact_len.is_none_or(|n| n == 6), "{what}: a MAC is 6 bytes");
                Shape::Mac
            }
            ("u8", _) if a.enumeration.is_some() => {
                let name = a.enumeration.clone().unwrap_or_default();
                assert!(self.enums.contains_key(&name), "{what}: enum `{name}` is not defined");
                Shape::Enum(name)
            }
            ("u8" | "u16" | "u32" | "u64", _) => {
                assert!(a.byte_order.is_none(), "{what}: byte order is only supported for ipv4 addresses");
                let bits = a.kind[1..].parse().unwrap_or(64);
                Shape::Int { bits, min: self.bound(&a.checks.min, &what), max: self.bound(&a.checks.max, &what) }
            }
            ("binary", _) => Shape::Binary { max_len, exact_len },
            ("string", _) => Shape::String { max_len },
            ("flag", _) => Shape::Flag,
            ("nest", _) => Shape::Nest(a.nested.clone().unwrap_or_else(|| panic!("{what}: a nest needs nested-attributes"))),
            ("pad", _) => Shape::Pad,
            (other, _) => panic!("{what}: attribute type `{other}` is not supported by vdp-netlink's generator"),
        }
    }

    fn rust_type(shape: &Shape) -> Option<String> {
        Some(match shape {
            Shape::Int { bits, .. } => format!("u{bits}"),
            Shape::Enum(name) => camel(name),
            Shape::Ipv4 => "std::net::Ipv4Addr".into(),
            Shape::Mac => "[u8; 6]".into(),
            Shape::Binary { .. } => "Vec<u8>".into(),
            Shape::String { .. } => "String".into(),
            Shape::Nest(set) => format!("Vec<{}Attr>", camel(set)),
            Shape::Flag | Shape::Pad => return None,
        })
    }

    fn enums(&mut self, definitions: &[Definition]) {
        for d in definitions.iter().filter(|d| d.kind == "enum") {
            let ty = camel(&d.name);
            let entries = &self.enums[&d.name];
            let out = &mut self.out;
            doc_lines(out, "", d.doc.as_deref());
            let _ = writeln!(out, "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\n#[repr(u8)]\npub enum {ty} {{");
            for (name, value) in entries {
                let _ = writeln!(out, "    {} = {value},", camel(name));
            }
            let _ = writeln!(out, "}}\n\nimpl {ty} {{");
            let _ = writeln!(out, "    /// The entry's name in the spec.\n    pub fn name(self) -> &'static str {{\n        match self {{");
            for (name, _) in entries {
                let _ = writeln!(out, "            {ty}::{} => {name:?},", camel(name));
            }
            let _ = writeln!(out, "        }}\n    }}\n\n    /// The entry with this value, if the spec lists one.\n    pub fn from_value(value: u8) -> Option<Self> {{\n        match value {{");
            for (name, value) in entries {
                let _ = writeln!(out, "            {value} => Some({ty}::{}),", camel(name));
            }
            let _ = writeln!(out, "            _ => None,\n        }}\n    }}\n}}\n");
        }
    }

    fn set(&mut self, set: &AttrSet) {
        let ty = format!("{}Attr", camel(&set.name));
        let attrs: Vec<(&Attribute, u16, Shape)> =
            set.numbered().into_iter().map(|(value, a)| (a, value, self.shape(&set.name, a))).collect();
        let carried: Vec<_> = attrs.iter().filter(|(_, _, s)| !matches!(s, Shape::Pad)).collect();
        let out = &mut self.out;
        let _ = writeln!(out, "/// An attribute of the `{}` set, with its decoded value.", set.name);
        let _ = writeln!(out, "#[derive(Debug, Clone, PartialEq, Eq)]\npub enum {ty} {{");
        for (a, value, shape) in &carried {
            doc_lines(out, "    ", a.doc.as_deref());
            let _ = writeln!(out, "    /// `{}` ({value}).", a.name);
            match Self::rust_type(shape) {
                Some(t) => {
                    let _ = writeln!(out, "    {}({t}),", camel(&a.name));
                }
                None => {
                    let _ = writeln!(out, "    {},", camel(&a.name));
                }
            }
        }
        let _ = writeln!(out, "    /// An attribute this build does not know, kept as it came.\n    Unknown(DefaultNla),\n}}\n");

        // Names and numbers.
        let _ = writeln!(out, "impl {ty} {{");
        let _ = writeln!(out, "    /// The attribute's name in the spec.");
        let _ = writeln!(out, "    pub fn name(&self) -> &'static str {{\n        match self {{");
        for (a, _, shape) in &carried {
            let pattern = if Self::rust_type(shape).is_some() { "(_)" } else { "" };
            let _ = writeln!(out, "            {ty}::{}{pattern} => {:?},", camel(&a.name), a.name);
        }
        let _ = writeln!(out, "            {ty}::Unknown(_) => \"unknown\",\n        }}\n    }}\n");

        // Parsing.
        let _ = writeln!(out, "    /// Decodes one attribute, applying the spec's checks; `None` for padding.");
        let _ = writeln!(out, "    pub fn parse(nla: &NlaBuffer<&[u8]>) -> Result<Option<Self>, DecodeError> {{");
        let _ = writeln!(out, "        let value = nla.value();\n        Ok(Some(match nla.kind() & NLA_TYPE_MASK {{");
        for (a, number, shape) in &attrs {
            let field = format!("Field {{ set: {:?}, name: {:?} }}", set.name, a.name);
            let variant = format!("{ty}::{}", camel(&a.name));
            let expr = match shape {
                Shape::Pad => {
                    let _ = writeln!(out, "            {number} => return Ok(None),");
                    continue;
                }
                Shape::Int { bits, min, max } => {
                    format!("{variant}({field}.u{bits}(value, {min:?}, {max:?})?)")
                }
                Shape::Enum(name) => {
                    let e = camel(name);
                    format!("{variant}({field}.enumerated(value, {e}::from_value)?)")
                }
                Shape::Ipv4 => format!("{variant}({field}.ipv4(value)?)"),
                Shape::Mac => format!("{variant}({field}.mac(value)?)"),
                Shape::Binary { max_len, exact_len } => {
                    format!("{variant}({field}.binary(value, {max_len:?}, {exact_len:?})?)")
                }
                Shape::String { max_len } => format!("{variant}({field}.string(value, {max_len:?})?)"),
                Shape::Flag => format!("{{ {field}.flag(value)?; {variant} }}"),
                Shape::Nest(inner) => format!("{variant}({field}.nest(value, {}Attr::parse_all)?)", camel(inner)),
            };
            let _ = writeln!(out, "            {number} => {expr},");
        }
        let _ = writeln!(out, "            _ => {ty}::Unknown(DefaultNla::parse(nla)?),\n        }}))\n    }}\n");
        let _ = writeln!(out, "    /// Decodes a run of attributes (a message body or a nest's value), padding dropped.");
        let _ = writeln!(out, "    pub fn parse_all(buf: &[u8]) -> Result<Vec<Self>, DecodeError> {{");
        let _ = writeln!(out, "        let mut attrs = Vec::new();\n        for nla in NlasIterator::new(buf) {{");
        let _ = writeln!(out, "            if let Some(attr) = Self::parse(&nla?)? {{\n                attrs.push(attr);\n            }}\n        }}\n        Ok(attrs)\n    }}\n}}\n");

        // Emission.
        let _ = writeln!(out, "impl Nla for {ty} {{\n    fn value_len(&self) -> usize {{\n        match self {{");
        for (a, _, shape) in &carried {
            let v = camel(&a.name);
            let arm = match shape {
                Shape::Int { bits, .. } => format!("{ty}::{v}(_) => {}", bits / 8),
                Shape::Enum(_) => format!("{ty}::{v}(_) => 1"),
                Shape::Ipv4 => format!("{ty}::{v}(_) => 4"),
                Shape::Mac => format!("{ty}::{v}(_) => 6"),
                Shape::Binary { .. } => format!("{ty}::{v}(bytes) => bytes.len()"),
                Shape::String { .. } => format!("{ty}::{v}(text) => text.len() + 1"),
                Shape::Flag => format!("{ty}::{v} => 0"),
                Shape::Nest(_) => format!("{ty}::{v}(attrs) => attrs.as_slice().buffer_len()"),
                Shape::Pad => unreachable!(),
            };
            let _ = writeln!(out, "            {arm},");
        }
        let _ = writeln!(out, "            {ty}::Unknown(nla) => nla.value_len(),\n        }}\n    }}\n");
        let _ = writeln!(out, "    fn kind(&self) -> u16 {{\n        match self {{");
        for (a, number, shape) in &carried {
            let pattern = if Self::rust_type(shape).is_some() { "(_)" } else { "" };
            let _ = writeln!(out, "            {ty}::{}{pattern} => {number},", camel(&a.name));
        }
        let _ = writeln!(out, "            {ty}::Unknown(nla) => nla.kind(),\n        }}\n    }}\n");
        let _ = writeln!(out, "    fn is_nested(&self) -> bool {{\n        match self {{");
        for (a, _, shape) in &carried {
            if matches!(shape, Shape::Nest(_)) {
                let _ = writeln!(out, "            {ty}::{}(_) => true,", camel(&a.name));
            }
        }
        let _ = writeln!(out, "            {ty}::Unknown(nla) => nla.is_nested(),\n            _ => false,\n        }}\n    }}\n");
        let _ = writeln!(out, "    fn emit_value(&self, buf: &mut [u8]) {{\n        match self {{");
        for (a, _, shape) in &carried {
            let v = camel(&a.name);
            let arm = match shape {
                Shape::Int { .. } => format!("{ty}::{v}(n) => buf.copy_from_slice(&n.to_ne_bytes())"),
                Shape::Enum(_) => format!("{ty}::{v}(e) => buf[0] = *e as u8"),
                Shape::Ipv4 => format!("{ty}::{v}(addr) => buf.copy_from_slice(&addr.octets())"),
                Shape::Mac => format!("{ty}::{v}(mac) => buf.copy_from_slice(mac)"),
                Shape::Binary { .. } => format!("{ty}::{v}(bytes) => buf.copy_from_slice(bytes)"),
                Shape::String { .. } => format!("{ty}::{v}(text) => emit_string(buf, text)"),
                Shape::Flag => format!("{ty}::{v} => {{}}"),
                Shape::Nest(_) => format!("{ty}::{v}(attrs) => attrs.as_slice().emit(buf)"),
                Shape::Pad => unreachable!(),
            };
            let _ = writeln!(out, "            {arm},");
        }
        let _ = writeln!(out, "            {ty}::Unknown(nla) => nla.emit_value(buf),\n        }}\n    }}\n}}\n");
    }

    /// A test that the numbers read from the spec are the ones the module is built with.
    fn agreement_test(&mut self, sets: &[AttrSet]) {
        let out = &mut self.out;
        let _ = writeln!(out, "#[cfg(test)]\n#[test]\nfn spec_numbers_match_the_module_uapi() {{");
        for set in sets {
            let module = if set.name == "vdp" { "attr".to_string() } else { format!("{}_attr", set.name.replace('-', "_")) };
            for (value, a) in set.numbered() {
                let _ = writeln!(
                    out,
                    "    assert_eq!(vdp_core::uapi::{module}::{}, {value}, \"{}.{}\");",
                    screaming(&a.name),
                    set.name,
                    a.name
                );
            }
        }
        let _ = writeln!(out, "}}");
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed={}", manifest.join("../../docs/netlink/vdp.yaml").display());
    println!("cargo:rerun-if-changed=src/spec.rs");
    let spec = Spec::parse(spec::SOURCE).unwrap_or_else(|e| panic!("docs/netlink/vdp.yaml: {e}"));

    let mut generator = Generator { spec: &spec, enums: HashMap::new(), out: String::new() };
    for d in &spec.definitions {
        match d.kind.as_str() {
            "const" => {}
            "enum" => {
                let entries = d.entries.iter().enumerate().map(|(i, e)| (e.clone(), d.value_start + i as u64)).collect();
                generator.enums.insert(d.name.clone(), entries);
            }
            other => panic!("vdp.yaml: definition type `{other}` is not supported by vdp-netlink's generator"),
        }
    }
    let _ = writeln!(generator.out, "// Generated by vdp-netlink's build.rs from docs/netlink/vdp.yaml; do not edit.\n");
    generator.enums(&spec.definitions);
    for set in &spec.attribute_sets {
        generator.set(set);
    }
    generator.agreement_test(&spec.attribute_sets);

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("vdp_attrs.rs");
    std::fs::write(&out, generator.out).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
