//! Class declarations that cross process boundaries.
//!
//! A tenant's container engine holds custom classes (`vdp_engine::custom`) whose code the
//! coordinator never runs. To check a configuration that uses them, the coordinator needs only
//! their declarations: the engine prints them (`--describe`) as JSON, `vdpctl install` in the
//! container passes them on, and [`catalog_from_json`] turns them into a [`Catalog`] the checker
//! uses like the library's. The text comes from the tenant, so decoding is strict: unknown fields
//! are refused, every string and count is bounded, the processing code and every default are
//! parsed, and every name an argument rule refers to must be an integer argument of the class.
//!
//! The checker works with `&'static ElementClass`, so a decoded catalog is leaked. Identical
//! lists of declarations are interned (decoded and leaked once, then shared), and the bytes all
//! interned catalogs hold are capped at [`MAX_INTERNED_BYTES`]: once the cap is reached, only
//! lists already seen are accepted, so no tenant can grow the process's memory without bound
//! by sending ever new declarations.

use crate::values;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use vdp_core::catalog::{
    self, ArgKind, ArgMode, ArgSpec, Catalog, ElementClass, HandlerSpec, OutputRule, PacketFlow, PortRange, RepeatedArgs,
    Resource, TaskRule, CUSTOM_CLASS_BASE, MAX_CUSTOM_CLASSES, MAX_PORTS, UNBOUNDED,
};
use vdp_core::element::ValueFormat;

/// Longest class name.
pub const MAX_NAME: usize = 64;
/// Longest summary.
pub const MAX_SUMMARY: usize = 200;
/// Longest argument keyword, handler name or repeated-argument noun.
pub const MAX_WORD: usize = 32;
/// Longest default value text.
pub const MAX_DEFAULT: usize = 256;
/// Longest processing code (`h`, `l`, `a` per port and side).
pub const MAX_PROCESSING: usize = 32;
/// Most arguments of one class.
pub const MAX_ARGS: usize = 32;
/// Most read (and, separately, write) handlers of one class.
pub const MAX_HANDLERS: usize = 64;
/// Largest cost estimate a class may declare, in cycles.
pub const MAX_COST_CYCLES: u32 = 1_000_000_000;
/// Longest `--describe` text accepted.
pub const MAX_JSON: usize = 1 << 20;
/// Most bytes all interned catalogs of a process may hold.
pub const MAX_INTERNED_BYTES: usize = 16 << 20;

/// Why a declaration was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclError(pub String);

impl fmt::Display for DeclError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeclError {}

/// What `--describe` prints: the engine's custom classes, in id order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Describe {
    pub classes: Vec<ClassDecl>,
}

/// A class's declaration: an [`ElementClass`] without its id (the place in the list gives it)
/// and without its code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassDecl {
    pub name: String,
    pub summary: String,
    pub inputs: PortsDecl,
    pub outputs: PortsDecl,
    pub output_rule: OutputRuleDecl,
    pub processing: String,
    pub args: Vec<ArgDecl>,
    pub repeated: Option<RepeatedDecl>,
    pub read_handlers: Vec<HandlerDecl>,
    pub write_handlers: Vec<HandlerDecl>,
    pub task: TaskDecl,
    pub flow: FlowDecl,
    pub cost_cycles: u32,
    pub cost_per_entry: u32,
    pub cost_argument: Option<String>,
    pub resource: ResourceDecl,
}

/// Port count bounds; `max` absent means unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortsDecl {
    pub min: u16,
    pub max: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum OutputRuleDecl {
    ByUse,
    OnePerRepeatedArgument,
    IntArgument(String),
    CoversRoutes,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgDecl {
    pub keyword: String,
    pub kind: KindDecl,
    pub keyword_only: bool,
    pub required: bool,
    pub default: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatedDecl {
    pub kind: KindDecl,
    pub min: u16,
    pub noun: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandlerDecl {
    pub name: String,
    pub format: FormatDecl,
}

/// [`ArgKind`], spelled for JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum KindDecl {
    Int { min: i64, max: i64 },
    Bool,
    Ipv4Addr,
    Ipv4Prefix,
    EtherAddr,
    ClassifierPattern,
    IpClassifierExpr,
    Bandwidth,
    Time,
    String,
    DeviceName,
    ElementRef,
    Route,
    ThreadAssignment,
    TicketShare,
    PrefixList,
    AddrList,
    IpProtocol,
    ArpEntry,
    NamedAddresses,
    IcmpErrorType,
    IcmpCode,
    Probability,
    StorageList,
}

/// [`ValueFormat`], spelled for JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormatDecl {
    Action,
    Integer,
    Boolean,
    Bytes,
    Lines,
    Bandwidth,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskDecl {
    Never,
    Always,
    WhenInputPull,
    WhenOutputPush,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowDecl {
    OneOutput,
    EveryOutput,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ResourceDecl {
    None,
    QueueCapacity(String),
    TableEntries,
}

impl From<ArgKind> for KindDecl {
    fn from(kind: ArgKind) -> KindDecl {
        match kind {
            ArgKind::Int { min, max } => KindDecl::Int { min, max },
            ArgKind::Bool => KindDecl::Bool,
            ArgKind::Ipv4Addr => KindDecl::Ipv4Addr,
            ArgKind::Ipv4Prefix => KindDecl::Ipv4Prefix,
            ArgKind::EtherAddr => KindDecl::EtherAddr,
            ArgKind::ClassifierPattern => KindDecl::ClassifierPattern,
            ArgKind::IpClassifierExpr => KindDecl::IpClassifierExpr,
            ArgKind::Bandwidth => KindDecl::Bandwidth,
            ArgKind::Time => KindDecl::Time,
            ArgKind::String => KindDecl::String,
            ArgKind::DeviceName => KindDecl::DeviceName,
            ArgKind::ElementRef => KindDecl::ElementRef,
            ArgKind::Route => KindDecl::Route,
            ArgKind::ThreadAssignment => KindDecl::ThreadAssignment,
            ArgKind::TicketShare => KindDecl::TicketShare,
            ArgKind::PrefixList => KindDecl::PrefixList,
            ArgKind::AddrList => KindDecl::AddrList,
            ArgKind::IpProtocol => KindDecl::IpProtocol,
            ArgKind::ArpEntry => KindDecl::ArpEntry,
            ArgKind::NamedAddresses => KindDecl::NamedAddresses,
            ArgKind::IcmpErrorType => KindDecl::IcmpErrorType,
            ArgKind::IcmpCode => KindDecl::IcmpCode,
            ArgKind::Probability => KindDecl::Probability,
            ArgKind::StorageList => KindDecl::StorageList,
        }
    }
}

impl From<KindDecl> for ArgKind {
    fn from(kind: KindDecl) -> ArgKind {
        match kind {
            KindDecl::Int { min, max } => ArgKind::Int { min, max },
            KindDecl::Bool => ArgKind::Bool,
            KindDecl::Ipv4Addr => ArgKind::Ipv4Addr,
            KindDecl::Ipv4Prefix => ArgKind::Ipv4Prefix,
            KindDecl::EtherAddr => ArgKind::EtherAddr,
            KindDecl::ClassifierPattern => ArgKind::ClassifierPattern,
            KindDecl::IpClassifierExpr => ArgKind::IpClassifierExpr,
            KindDecl::Bandwidth => ArgKind::Bandwidth,
            KindDecl::Time => ArgKind::Time,
            KindDecl::String => ArgKind::String,
            KindDecl::DeviceName => ArgKind::DeviceName,
            KindDecl::ElementRef => ArgKind::ElementRef,
            KindDecl::Route => ArgKind::Route,
            KindDecl::ThreadAssignment => ArgKind::ThreadAssignment,
            KindDecl::TicketShare => ArgKind::TicketShare,
            KindDecl::PrefixList => ArgKind::PrefixList,
            KindDecl::AddrList => ArgKind::AddrList,
            KindDecl::IpProtocol => ArgKind::IpProtocol,
            KindDecl::ArpEntry => ArgKind::ArpEntry,
            KindDecl::NamedAddresses => ArgKind::NamedAddresses,
            KindDecl::IcmpErrorType => ArgKind::IcmpErrorType,
            KindDecl::IcmpCode => ArgKind::IcmpCode,
            KindDecl::Probability => ArgKind::Probability,
            KindDecl::StorageList => ArgKind::StorageList,
        }
    }
}

impl From<ValueFormat> for FormatDecl {
    fn from(format: ValueFormat) -> FormatDecl {
        match format {
            ValueFormat::Action => FormatDecl::Action,
            ValueFormat::Integer => FormatDecl::Integer,
            ValueFormat::Boolean => FormatDecl::Boolean,
            ValueFormat::Bytes => FormatDecl::Bytes,
            ValueFormat::Lines => FormatDecl::Lines,
            ValueFormat::Bandwidth => FormatDecl::Bandwidth,
        }
    }
}

impl From<FormatDecl> for ValueFormat {
    fn from(format: FormatDecl) -> ValueFormat {
        match format {
            FormatDecl::Action => ValueFormat::Action,
            FormatDecl::Integer => ValueFormat::Integer,
            FormatDecl::Boolean => ValueFormat::Boolean,
            FormatDecl::Bytes => ValueFormat::Bytes,
            FormatDecl::Lines => ValueFormat::Lines,
            FormatDecl::Bandwidth => ValueFormat::Bandwidth,
        }
    }
}

fn ports_decl(range: PortRange) -> PortsDecl {
    PortsDecl { min: range.min, max: (range.max != UNBOUNDED).then_some(range.max) }
}

fn handler_decls(specs: &[HandlerSpec]) -> Vec<HandlerDecl> {
    specs.iter().map(|spec| HandlerDecl { name: spec.name.to_string(), format: spec.format.into() }).collect()
}

impl ClassDecl {
    /// The declaration of `class` (its id and audience are not part of it).
    pub fn from_class(class: &ElementClass) -> ClassDecl {
        ClassDecl {
            name: class.name.to_string(),
            summary: class.summary.to_string(),
            inputs: ports_decl(class.inputs),
            outputs: ports_decl(class.outputs),
            output_rule: match class.output_rule {
                OutputRule::ByUse => OutputRuleDecl::ByUse,
                OutputRule::OnePerRepeatedArgument => OutputRuleDecl::OnePerRepeatedArgument,
                OutputRule::IntArgument(name) => OutputRuleDecl::IntArgument(name.to_string()),
                OutputRule::CoversRoutes => OutputRuleDecl::CoversRoutes,
            },
            processing: class.processing.to_string(),
            args: class
                .args
                .iter()
                .map(|spec| ArgDecl {
                    keyword: spec.keyword.to_string(),
                    kind: spec.kind.into(),
                    keyword_only: spec.mode == ArgMode::KeywordOnly,
                    required: spec.required,
                    default: spec.default.map(str::to_string),
                })
                .collect(),
            repeated: class.repeated.map(|r| RepeatedDecl { kind: r.kind.into(), min: r.min, noun: r.noun.to_string() }),
            read_handlers: handler_decls(class.read_handlers),
            write_handlers: handler_decls(class.write_handlers),
            task: match class.task {
                TaskRule::Never => TaskDecl::Never,
                TaskRule::Always => TaskDecl::Always,
                TaskRule::WhenInputPull => TaskDecl::WhenInputPull,
                TaskRule::WhenOutputPush => TaskDecl::WhenOutputPush,
            },
            flow: match class.flow {
                PacketFlow::OneOutput => FlowDecl::OneOutput,
                PacketFlow::EveryOutput => FlowDecl::EveryOutput,
            },
            cost_cycles: class.cost_cycles,
            cost_per_entry: class.cost_per_entry,
            cost_argument: class.cost_argument.map(str::to_string),
            resource: match class.resource {
                Resource::None => ResourceDecl::None,
                Resource::QueueCapacity(name) => ResourceDecl::QueueCapacity(name.to_string()),
                Resource::TableEntries => ResourceDecl::TableEntries,
            },
        }
    }

    /// Checks the declaration completely, without allocating anything that outlives the call.
    pub fn validate(&self) -> Result<(), DeclError> {
        let fail = |message: String| Err(DeclError(format!("custom class '{}': {message}", truncated(&self.name))));
        if let Err(problem) = check_word(&self.name, MAX_NAME, WordKind::ClassName) {
            return fail(format!("bad class name: {problem}"));
        }
        if catalog::class_by_name(&self.name).is_some() {
            return fail("has the name of a library class".into());
        }
        if self.summary.chars().count() > MAX_SUMMARY || self.summary.chars().any(char::is_control) {
            return fail(format!("the summary must be at most {MAX_SUMMARY} characters, without control characters"));
        }
        for (side, ports) in [("inputs", self.inputs), ("outputs", self.outputs)] {
            let max = ports.max.unwrap_or(MAX_PORTS);
            if ports.min > MAX_PORTS || max > MAX_PORTS || ports.min > max {
                return fail(format!("{side}: min must be at most max, and both at most {MAX_PORTS}"));
            }
        }
        if let Err(problem) = check_processing(&self.processing) {
            return fail(format!("bad processing code '{}': {problem}", truncated(&self.processing)));
        }
        if self.args.len() > MAX_ARGS {
            return fail(format!("more than {MAX_ARGS} arguments"));
        }
        for (index, arg) in self.args.iter().enumerate() {
            if let Err(problem) = check_word(&arg.keyword, MAX_WORD, WordKind::Keyword) {
                return fail(format!("argument {index}: bad keyword: {problem}"));
            }
            if self.args.get(..index).is_some_and(|earlier| earlier.iter().any(|a| a.keyword == arg.keyword)) {
                return fail(format!("argument '{}' is declared twice", arg.keyword));
            }
            if let Err(problem) = check_kind(arg.kind) {
                return fail(format!("argument '{}': {problem}", arg.keyword));
            }
            if arg.required && arg.default.is_some() {
                return fail(format!("argument '{}' is required and has a default", arg.keyword));
            }
            if let Some(default) = &arg.default {
                if default.len() > MAX_DEFAULT {
                    return fail(format!("argument '{}': the default is longer than {MAX_DEFAULT} bytes", arg.keyword));
                }
                if let Err(problem) = values::parse_value(arg.kind.into(), default) {
                    return fail(format!("argument '{}': bad default '{}': {problem}", arg.keyword, truncated(default)));
                }
                // A code's name means something only next to a type; a default must stand alone.
                if arg.kind == KindDecl::IcmpCode && vdp_core::click_value::parse_int_in(default, 0, 255).is_err() {
                    return fail(format!("argument '{}': bad default '{}': an ICMP code default must be a number", arg.keyword, truncated(default)));
                }
            }
        }
        if let Some(repeated) = &self.repeated {
            if let Err(problem) = check_kind(repeated.kind) {
                return fail(format!("repeated arguments: {problem}"));
            }
            if let Err(problem) = check_word(&repeated.noun, MAX_WORD, WordKind::Noun) {
                return fail(format!("repeated arguments: bad noun: {problem}"));
            }
        }
        for (side, handlers) in [("read", &self.read_handlers), ("write", &self.write_handlers)] {
            if handlers.len() > MAX_HANDLERS {
                return fail(format!("more than {MAX_HANDLERS} {side} handlers"));
            }
            for (index, handler) in handlers.iter().enumerate() {
                if let Err(problem) = check_word(&handler.name, MAX_WORD, WordKind::Handler) {
                    return fail(format!("{side} handler {index}: bad name: {problem}"));
                }
                if handlers.get(..index).is_some_and(|earlier| earlier.iter().any(|h| h.name == handler.name)) {
                    return fail(format!("{side} handler '{}' is declared twice", handler.name));
                }
            }
        }
        let int_arg = |name: &str| self.args.iter().any(|a| a.keyword == name && matches!(a.kind, KindDecl::Int { .. }));
        match &self.output_rule {
            OutputRuleDecl::IntArgument(name) if !int_arg(name) => {
                return fail(format!("the output rule names '{}', which is not an integer argument", truncated(name)));
            }
            OutputRuleDecl::OnePerRepeatedArgument if self.repeated.is_none() => {
                return fail("the output rule one_per_repeated_argument needs repeated arguments".into());
            }
            OutputRuleDecl::CoversRoutes if !self.repeated.as_ref().is_some_and(|r| r.kind == KindDecl::Route) => {
                return fail("the output rule covers_routes needs repeated route arguments".into());
            }
            _ => {}
        }
        match &self.resource {
            ResourceDecl::QueueCapacity(name) if !int_arg(name) => {
                return fail(format!("the resource names '{}', which is not an integer argument", truncated(name)));
            }
            ResourceDecl::TableEntries if self.repeated.is_none() => {
                return fail("the resource table_entries needs repeated arguments".into());
            }
            _ => {}
        }
        if let Some(name) = &self.cost_argument {
            if !int_arg(name) {
                return fail(format!("the cost argument '{}' is not an integer argument", truncated(name)));
            }
        }
        if self.cost_cycles > MAX_COST_CYCLES || self.cost_per_entry > MAX_COST_CYCLES {
            return fail(format!("costs must be at most {MAX_COST_CYCLES} cycles"));
        }
        Ok(())
    }

    /// Bytes [`ClassDecl::leak`] keeps, for the interning cap.
    fn footprint(&self) -> usize {
        let handlers = self.read_handlers.iter().chain(&self.write_handlers);
        std::mem::size_of::<ElementClass>()
            + self.name.len()
            + self.summary.len()
            + self.processing.len()
            + self.args.iter().map(|a| std::mem::size_of::<ArgSpec>() + a.keyword.len() + a.default.as_ref().map_or(0, String::len)).sum::<usize>()
            + self.repeated.as_ref().map_or(0, |r| r.noun.len())
            + handlers.map(|h| std::mem::size_of::<HandlerSpec>() + h.name.len()).sum::<usize>()
            + self.cost_argument.as_ref().map_or(0, String::len)
            + match &self.output_rule {
                OutputRuleDecl::IntArgument(name) => name.len(),
                _ => 0,
            }
            + match &self.resource {
                ResourceDecl::QueueCapacity(name) => name.len(),
                _ => 0,
            }
    }

    /// The class, with `id`, its strings and tables leaked. Only for validated declarations,
    /// and only through the interner, which bounds what is leaked.
    fn leak(&self, id: u16) -> ElementClass {
        fn leak_str(text: &str) -> &'static str {
            Box::leak(text.to_string().into_boxed_str())
        }
        fn leak_handlers(handlers: &[HandlerDecl]) -> &'static [HandlerSpec] {
            let specs: Vec<HandlerSpec> = handlers.iter().map(|h| HandlerSpec { name: leak_str(&h.name), format: h.format.into() }).collect();
            Box::leak(specs.into_boxed_slice())
        }
        let ports = |p: PortsDecl| PortRange { min: p.min, max: p.max.unwrap_or(UNBOUNDED) };
        let args: Vec<ArgSpec> = self
            .args
            .iter()
            .map(|a| ArgSpec {
                keyword: leak_str(&a.keyword),
                kind: a.kind.into(),
                mode: if a.keyword_only { ArgMode::KeywordOnly } else { ArgMode::Positional },
                required: a.required,
                default: a.default.as_deref().map(leak_str),
            })
            .collect();
        ElementClass {
            id,
            inputs: ports(self.inputs),
            outputs: ports(self.outputs),
            output_rule: match &self.output_rule {
                OutputRuleDecl::ByUse => OutputRule::ByUse,
                OutputRuleDecl::OnePerRepeatedArgument => OutputRule::OnePerRepeatedArgument,
                OutputRuleDecl::IntArgument(name) => OutputRule::IntArgument(leak_str(name)),
                OutputRuleDecl::CoversRoutes => OutputRule::CoversRoutes,
            },
            processing: leak_str(&self.processing),
            args: Box::leak(args.into_boxed_slice()),
            repeated: self.repeated.as_ref().map(|r| RepeatedArgs { kind: r.kind.into(), min: r.min, noun: leak_str(&r.noun) }),
            read_handlers: leak_handlers(&self.read_handlers),
            write_handlers: leak_handlers(&self.write_handlers),
            task: match self.task {
                TaskDecl::Never => TaskRule::Never,
                TaskDecl::Always => TaskRule::Always,
                TaskDecl::WhenInputPull => TaskRule::WhenInputPull,
                TaskDecl::WhenOutputPush => TaskRule::WhenOutputPush,
            },
            flow: match self.flow {
                FlowDecl::OneOutput => PacketFlow::OneOutput,
                FlowDecl::EveryOutput => PacketFlow::EveryOutput,
            },
            cost_cycles: self.cost_cycles,
            cost_per_entry: self.cost_per_entry,
            cost_argument: self.cost_argument.as_deref().map(leak_str),
            resource: match &self.resource {
                ResourceDecl::None => Resource::None,
                ResourceDecl::QueueCapacity(name) => Resource::QueueCapacity(leak_str(name)),
                ResourceDecl::TableEntries => Resource::TableEntries,
            },
            // A tenant's class never runs in the kernel.
            level: catalog::Level::Container,
            // Everything else (the audience is always the tenant's) as for a library class.
            ..catalog::base(leak_str(&self.name), leak_str(&self.summary))
        }
    }
}

/// At most 64 characters of a tenant's string, for messages.
fn truncated(text: &str) -> String {
    text.chars().take(64).collect()
}

enum WordKind {
    ClassName,
    Keyword,
    Handler,
    Noun,
}

fn check_word(word: &str, max: usize, kind: WordKind) -> Result<(), String> {
    if word.is_empty() || word.len() > max {
        return Err(format!("must be 1 to {max} bytes"));
    }
    let first = word.chars().next().unwrap_or(' ');
    let (ok, rule) = match kind {
        WordKind::ClassName => (
            first.is_ascii_alphabetic() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "a letter, then letters, digits or '_'",
        ),
        WordKind::Keyword => (
            first.is_ascii_uppercase() && word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
            "an upper-case letter, then upper-case letters, digits or '_'",
        ),
        WordKind::Handler => (
            first.is_ascii_alphabetic() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "a letter, then letters, digits or '_'",
        ),
        WordKind::Noun => (word.chars().all(|c| c.is_ascii_lowercase() || c == ' '), "lower-case letters and spaces"),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("'{}' is not {rule}", truncated(word)))
    }
}

/// A Click processing code: `h`, `l` or `a` per port, inputs and outputs separated by `/`.
fn check_processing(code: &str) -> Result<(), String> {
    if code.is_empty() || code.len() > MAX_PROCESSING {
        return Err(format!("must be 1 to {MAX_PROCESSING} bytes"));
    }
    let sides: Vec<&str> = code.split('/').collect();
    if sides.len() > 2 {
        return Err("more than one '/'".into());
    }
    if sides.iter().any(|side| side.is_empty() || !side.bytes().all(|b| matches!(b, b'h' | b'l' | b'a'))) {
        return Err("each side must be one or more of 'h' (push), 'l' (pull), 'a' (agnostic)".into());
    }
    Ok(())
}

fn check_kind(kind: KindDecl) -> Result<(), String> {
    match kind {
        KindDecl::Int { min, max } if min > max => Err(format!("integer bounds {min}..{max} are empty")),
        // The scheduling directives' kinds place tasks; only the library's directives may.
        KindDecl::ThreadAssignment | KindDecl::TicketShare => Err("thread assignments and ticket shares are for the scheduling directives only".into()),
        // Address names are the front end's; no element is built from them.
        KindDecl::NamedAddresses => Err("named addresses are for AddressInfo only".into()),
        // The graph links only library elements to the queues they watch.
        KindDecl::StorageList => Err("storage lists are for the library's queue watchers (RED) only".into()),
        _ => Ok(()),
    }
}

struct Interned {
    catalogs: HashMap<Vec<ClassDecl>, Catalog>,
    bytes: usize,
}

static INTERNED: Mutex<Option<Interned>> = Mutex::new(None);

/// The catalog of the library plus `decls`, which get ids from [`CUSTOM_CLASS_BASE`] in order.
/// Every declaration is validated; names must differ from the library's and from each other.
/// Identical lists give the same catalog, decoded once (see the module doc for the cap).
pub fn catalog_from_decls(decls: &[ClassDecl]) -> Result<Catalog, DeclError> {
    if decls.len() > MAX_CUSTOM_CLASSES {
        return Err(DeclError(format!("{} custom classes; at most {MAX_CUSTOM_CLASSES} are allowed", decls.len())));
    }
    for (index, decl) in decls.iter().enumerate() {
        decl.validate()?;
        if decls.get(..index).is_some_and(|earlier| earlier.iter().any(|d| d.name == decl.name)) {
            return Err(DeclError(format!("custom class '{}' is declared twice", decl.name)));
        }
    }
    let mut guard = INTERNED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let interned = guard.get_or_insert_with(|| Interned { catalogs: HashMap::new(), bytes: 0 });
    if let Some(catalog) = interned.catalogs.get(decls) {
        return Ok(*catalog);
    }
    let bytes: usize = decls.iter().map(ClassDecl::footprint).sum();
    if interned.bytes.saturating_add(bytes) > MAX_INTERNED_BYTES {
        return Err(DeclError(format!(
            "this process already holds {} bytes of custom class declarations, the most it keeps ({MAX_INTERNED_BYTES}); new declarations are refused",
            interned.bytes
        )));
    }
    let classes: Vec<ElementClass> = decls
        .iter()
        .enumerate()
        // Lossless: at most MAX_CUSTOM_CLASSES (checked above) above the base.
        .map(|(index, decl)| decl.leak(CUSTOM_CLASS_BASE + index as u16))
        .collect();
    let catalog = Catalog::new(Box::leak(classes.into_boxed_slice())).map_err(|e| DeclError(e.to_string()))?;
    interned.bytes += bytes;
    interned.catalogs.insert(decls.to_vec(), catalog);
    Ok(catalog)
}

/// The catalog of a `--describe` text (see [`Describe`]).
pub fn catalog_from_json(text: &str) -> Result<Catalog, DeclError> {
    if text.len() > MAX_JSON {
        return Err(DeclError(format!("the class declarations are longer than {MAX_JSON} bytes")));
    }
    let describe: Describe = serde_json::from_str(text).map_err(|e| DeclError(format!("bad class declarations: {e}")))?;
    catalog_from_decls(&describe.classes)
}

/// The `--describe` text of `classes`, in their order.
pub fn describe_classes<'a>(classes: impl IntoIterator<Item = &'a ElementClass>) -> String {
    let describe = Describe { classes: classes.into_iter().map(ClassDecl::from_class).collect() };
    // Serialising plain data with string keys cannot fail.
    serde_json::to_string_pretty(&describe).unwrap_or_default()
}


#[cfg(test)]
mod tests {
    use super::*;

    /// A declaration with every kind of field used, that is valid.
    fn sample() -> ClassDecl {
        ClassDecl {
            name: "Sampler".into(),
            summary: "Passes one packet in N".into(),
            inputs: PortsDecl { min: 1, max: Some(1) },
            outputs: PortsDecl { min: 1, max: Some(2) },
            output_rule: OutputRuleDecl::ByUse,
            processing: "h/h".into(),
            args: vec![ArgDecl { keyword: "N".into(), kind: KindDecl::Int { min: 1, max: 1000 }, keyword_only: false, required: false, default: Some("10".into()) }],
            repeated: None,
            read_handlers: vec![HandlerDecl { name: "count".into(), format: FormatDecl::Integer }],
            write_handlers: vec![HandlerDecl { name: "reset".into(), format: FormatDecl::Action }],
            task: TaskDecl::Never,
            flow: FlowDecl::OneOutput,
            cost_cycles: 300,
            cost_per_entry: 0,
            cost_argument: Some("N".into()),
            resource: ResourceDecl::None,
        }
    }

    fn refused(decl: ClassDecl) -> String {
        catalog_from_decls(&[decl]).expect_err("refused").0
    }

    #[test]
    fn a_declaration_becomes_a_class_with_the_next_custom_id() {
        let catalog = catalog_from_decls(&[sample()]).expect("valid");
        let class = catalog.class_by_name("Sampler").expect("present");
        assert_eq!(class.id, CUSTOM_CLASS_BASE);
        assert_eq!(catalog.class_by_id(CUSTOM_CLASS_BASE).map(|c| c.name), Some("Sampler"));
        assert_eq!(class.outputs, PortRange::between(1, 2));
        assert_eq!(class.arg("N").and_then(|a| a.default), Some("10"));
        assert!(class.has_handler("count", false) && class.has_handler("reset", true));
        assert_eq!(class.audience, catalog::Audience::Tenant);
        assert_eq!(ClassDecl::from_class(class), sample(), "a class and its declaration convert both ways");
        assert!(Catalog::LIBRARY.class_by_id(CUSTOM_CLASS_BASE).is_none(), "the library has no custom class");
        assert_eq!(catalog.classes().count(), catalog::CLASSES.len() + 1);
    }

    #[test]
    fn identical_declarations_are_interned_once() {
        let first = catalog_from_decls(&[sample()]).expect("valid");
        let second = catalog_from_json(&describe_classes(first.custom())).expect("valid");
        assert!(std::ptr::eq(first.custom().as_ptr(), second.custom().as_ptr()));
    }

    #[test]
    fn every_library_class_round_trips() {
        for class in catalog::all_classes() {
            let decl = ClassDecl::from_class(class);
            let json = serde_json::to_string(&decl).expect("serialises");
            let back: ClassDecl = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, decl, "{}", class.name);
        }
    }

    #[test]
    fn bad_declarations_are_refused_with_a_reason() {
        let mut d = sample();
        d.name = "Counter".into();
        assert!(refused(d).contains("has the name of a library class"));
        let mut d = sample();
        d.name = "bad name".into();
        assert!(refused(d).contains("bad class name"));
        let mut d = sample();
        d.name = "A".repeat(MAX_NAME + 1);
        assert!(refused(d).contains("must be 1 to 64 bytes"));
        let mut d = sample();
        d.processing = "h/x".into();
        assert!(refused(d).contains("bad processing code 'h/x'"));
        let mut d = sample();
        d.processing = "h/h/h".into();
        assert!(refused(d).contains("more than one '/'"));
        let mut d = sample();
        d.outputs = PortsDecl { min: 3, max: Some(2) };
        assert!(refused(d).contains("outputs: min must be at most max"));
        let mut d = sample();
        d.inputs = PortsDecl { min: 0, max: Some(MAX_PORTS + 1) };
        assert!(refused(d).contains("inputs"));
        let mut d = sample();
        d.args[0].default = Some("0".into());
        assert!(refused(d).contains("bad default '0'"));
        let mut d = sample();
        d.args[0].kind = KindDecl::Int { min: 5, max: 1 };
        d.args[0].default = None;
        assert!(refused(d).contains("are empty"));
        let mut d = sample();
        d.args.push(d.args[0].clone());
        assert!(refused(d).contains("argument 'N' is declared twice"));
        let mut d = sample();
        d.args[0].keyword = "n".into();
        d.cost_argument = None;
        assert!(refused(d).contains("bad keyword"));
        let mut d = sample();
        d.args[0].kind = KindDecl::ThreadAssignment;
        d.args[0].default = None;
        d.cost_argument = None;
        assert!(refused(d).contains("scheduling directives"));
        let mut d = sample();
        d.cost_argument = Some("M".into());
        assert!(refused(d).contains("cost argument 'M' is not an integer argument"));
        let mut d = sample();
        d.output_rule = OutputRuleDecl::IntArgument("X".into());
        assert!(refused(d).contains("the output rule names 'X'"));
        let mut d = sample();
        d.output_rule = OutputRuleDecl::CoversRoutes;
        assert!(refused(d).contains("covers_routes"));
        let mut d = sample();
        d.resource = ResourceDecl::TableEntries;
        assert!(refused(d).contains("table_entries"));
        let mut d = sample();
        d.read_handlers.push(d.read_handlers[0].clone());
        assert!(refused(d).contains("read handler 'count' is declared twice"));
        let mut d = sample();
        d.write_handlers = (0..=MAX_HANDLERS).map(|i| HandlerDecl { name: format!("h{i}"), format: FormatDecl::Action }).collect();
        assert!(refused(d).contains("more than 64 write handlers"));
        let mut d = sample();
        d.summary = "line\nbreak".into();
        assert!(refused(d).contains("summary"));
        let mut d = sample();
        d.cost_cycles = MAX_COST_CYCLES + 1;
        assert!(refused(d).contains("costs"));
        let error = catalog_from_decls(&[sample(), sample()]).expect_err("twice").0;
        assert!(error.contains("'Sampler' is declared twice"), "{error}");
        let many = vec![sample(); MAX_CUSTOM_CLASSES + 1];
        assert!(catalog_from_decls(&many).expect_err("too many").0.contains("at most 256"));
    }

    #[test]
    fn the_json_is_strict() {
        let good = describe_classes(catalog_from_decls(&[sample()]).expect("valid").custom());
        assert!(catalog_from_json(&good).is_ok());
        let extra = good.replacen("\"name\"", "\"colour\": \"red\", \"name\"", 1);
        assert!(catalog_from_json(&extra).expect_err("unknown field").0.contains("unknown field `colour`"));
        let top = good.replacen('{', "{\"version\": 2, ", 1);
        assert!(catalog_from_json(&top).expect_err("unknown field").0.contains("unknown field `version`"));
        let missing = good.replacen("\"cost_per_entry\": 0,", "", 1);
        assert!(catalog_from_json(&missing).expect_err("missing field").0.contains("missing field `cost_per_entry`"));
        let kind = good.replacen("\"int\"", "\"float\"", 1);
        assert!(catalog_from_json(&kind).is_err());
        let long = format!("{}{}", good, " ".repeat(MAX_JSON));
        assert!(catalog_from_json(&long).expect_err("too long").0.contains("longer than"));
    }
}
