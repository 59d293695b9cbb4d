//! Catalog-driven checks: the tenant's first line of isolation.
//!
//! Every rule reports through [`Diagnostics`] and checking goes on, so one run lists every
//! problem. An element whose class is unknown is left out of the port and push/pull rules, so one
//! typo does not bury the real errors under consequences of itself; so is whatever an earlier
//! error left unknown ([`Damage`]: a placeholder for a declaration that failed, connections or a
//! configuration lost in text that did not parse), and an argument that does not parse does not
//! also bring errors about the ports it decides. A rule that fires the same way at one place for
//! each instance of a compound is reported once.

use crate::args::keyword_of;
use crate::flatten::{FlatArg, FlatConnection, FlatGraph};
use crate::parser::Damage;
use crate::source::{Diagnostic, Diagnostics, Span};
use crate::values::{parse_value, ArgValue};
use vdp_core::click_value as cv;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use vdp_core::catalog::{self, ArgKind, ArgMode, Audience, Catalog, ElementClass, OutputRule, Processing, Resource, TaskRule, UNBOUNDED};

/// Resource bounds from the system config.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_elements: usize,
    pub max_queue_capacity: i64,
    pub max_table_entries: usize,
    pub max_threads: u32,
    /// Cycles a task may spend per packet before the analysis splits it.
    pub task_budget_cycles: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_elements: 1000, max_queue_capacity: 10_000, max_table_entries: 100_000, max_threads: 4, task_budget_cycles: 15_000 }
    }
}

/// What a configuration is checked against.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    pub limits: Limits,
    /// Devices the tenant was given; `None` accepts any device name.
    pub devices: Option<Vec<String>>,
    /// The tenant's host device (`host_device` in the system config), through which ToHost
    /// and FromHost reach the host. Checked when `devices` is given and the graph is a
    /// tenant's (not the coordinator's merged one).
    pub host_device: Option<String>,
    /// The merged graph may hold classes only the coordinator places.
    pub coordinator: bool,
    /// The classes the configuration may use: the library, and the custom classes of the
    /// tenant's container engine if it has one.
    pub catalog: Catalog,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckedElement {
    pub name: String,
    #[serde(serialize_with = "ser_class")]
    pub class: &'static ElementClass,
    /// One entry per schema argument, defaults filled in; `None` for absent optional arguments.
    pub args: Vec<Option<ArgValue>>,
    pub repeated: Vec<ArgValue>,
    pub inputs: u16,
    pub outputs: u16,
    #[serde(serialize_with = "ser_modes")]
    pub input_modes: Vec<Processing>,
    #[serde(serialize_with = "ser_modes")]
    pub output_modes: Vec<Processing>,
    #[serde(skip)]
    pub span: Option<Span>,
    /// Owned by the root context (see [`crate::flatten::FlatElement::root`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub root: bool,
}

fn ser_class<S: serde::Serializer>(class: &&'static ElementClass, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(class.name)
}

#[allow(clippy::ptr_arg)]
fn ser_modes<S: serde::Serializer>(modes: &Vec<Processing>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(modes.iter().map(|m| match m {
        Processing::Push => "push",
        Processing::Pull => "pull",
        Processing::Agnostic => "agnostic",
    }))
}

impl CheckedElement {
    pub fn arg(&self, keyword: &str) -> Option<&ArgValue> {
        self.class.arg_index(keyword).and_then(|i| self.args.get(i)).and_then(Option::as_ref)
    }

    pub fn int_arg(&self, keyword: &str) -> Option<i64> {
        match self.arg(keyword) {
            Some(ArgValue::Int(value)) => Some(*value),
            _ => None,
        }
    }

    /// The device a FromDevice or ToDevice names (its device-name argument).
    pub fn device(&self) -> Option<&str> {
        let slot = self.class.args.iter().position(|a| a.kind == ArgKind::DeviceName)?;
        match self.args.get(slot)? {
            Some(ArgValue::Name(device)) => Some(device),
            _ => None,
        }
    }

    /// Whether the element is a schedulable task, given its resolved processing.
    pub fn is_task(&self) -> bool {
        match self.class.task {
            TaskRule::Never => false,
            TaskRule::Always => true,
            TaskRule::WhenInputPull => self.input_modes.first() == Some(&Processing::Pull),
            TaskRule::WhenOutputPush => self.output_modes.first() == Some(&Processing::Push),
        }
    }

    /// Estimated cycles per packet.
    pub fn cost(&self) -> u64 {
        let class = self.class;
        let extra = class.cost_argument.and_then(|name| self.int_arg(name)).unwrap_or(0).max(0) as u64;
        u64::from(class.cost_cycles) + u64::from(class.cost_per_entry) * self.repeated.len() as u64 + extra
    }
}

/// A configuration that passed (or was checked by) every rule, with typed arguments, port
/// counts and resolved push/pull processing.
#[derive(Clone, Debug, Serialize)]
pub struct CheckedGraph {
    pub elements: Vec<CheckedElement>,
    pub connections: Vec<FlatConnection>,
}

impl CheckedGraph {
    pub fn find(&self, name: &str) -> Option<usize> {
        self.elements.iter().position(|e| e.name == name)
    }
}

/// Finds an element named in another element's configuration, the way Click does: relative to
/// the referring element's compound, then each enclosing one.
pub fn resolve_reference(names: &HashMap<&str, usize>, from: &str, target: &str) -> Option<usize> {
    let mut prefix = from;
    loop {
        prefix = match prefix.rfind('/') {
            Some(at) => &prefix[..at],
            None => "",
        };
        let candidate = if prefix.is_empty() { target.to_string() } else { format!("{prefix}/{target}") };
        if let Some(index) = names.get(candidate.as_str()) {
            return Some(*index);
        }
        if prefix.is_empty() {
            return None;
        }
    }
}

/// Edit distance, for suggesting class names.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// Supported classes closest to an unknown name, best first.
pub fn suggest_classes(name: &str) -> Vec<&'static str> {
    suggest_classes_in(Catalog::LIBRARY, name)
}

/// [`suggest_classes`] among the classes of `catalog`.
pub fn suggest_classes_in(catalog: Catalog, name: &str) -> Vec<&'static str> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(usize, &'static str)> = catalog
        .classes()
        .map(|class| {
            let class_lower = class.name.to_lowercase();
            let related = class_lower.contains(&lower) || lower.contains(&class_lower);
            let score = if related { 1 } else { distance(name, class.name) };
            (score, class.name)
        })
        .filter(|(score, class)| *score <= (class.len().max(name.len()) / 2).max(2))
        .collect();
    if scored.is_empty() {
        // Names sharing a word part (TapDevice and FromDevice both end in "Device").
        scored = catalog
            .classes()
            .filter(|class| {
                let class_lower = class.name.to_lowercase();
                ["device", "queue", "classifier", "lookup", "source", "switch", "ip", "ether", "sched"]
                    .iter()
                    .any(|part| lower.contains(part) && class_lower.contains(part))
            })
            .map(|class| (3, class.name))
            .collect();
    }
    scored.sort();
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

/// Where one argument of an element goes, by Click's rules: a keyword argument to its slot, a
/// positional one to the next positional slot not yet given, the rest to the repeated
/// arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement<'t> {
    /// Schema slot `slot`, with the value's text (after the keyword, if there is one);
    /// `duplicate` when an earlier argument gave the slot already.
    Slot { slot: usize, value: &'t str, duplicate: bool },
    /// A repeated argument of `kind`.
    Repeated { value: &'t str, kind: ArgKind },
    /// A keyword the class does not have.
    UnknownKeyword(&'t str),
    /// A positional argument past the class's last.
    TooMany,
}

/// Places each of `args` for `class` (one [`Placement`] per argument, in order). The checker
/// parses arguments by it, and the AddressInfo resolver finds each argument's kind by it.
pub fn place_arguments<'t>(class: &ElementClass, args: &'t [FlatArg]) -> Vec<Placement<'t>> {
    let mut given = vec![false; class.args.len()];
    let mut next_positional = 0usize;
    let mut out = Vec::with_capacity(args.len());
    for arg in args {
        let keyword = keyword_of(&arg.text).filter(|(word, _)| class.arg(word).is_some() || class.repeated.is_none());
        let slot = match keyword {
            Some((word, rest)) => match class.arg_index(word) {
                Some(slot) => Some((slot, rest)),
                None => {
                    out.push(Placement::UnknownKeyword(word));
                    continue;
                }
            },
            None => {
                while class.args.get(next_positional).is_some_and(|a| a.mode == ArgMode::Positional && given[next_positional]) {
                    next_positional += 1;
                }
                match class.args.get(next_positional) {
                    Some(spec) if spec.mode == ArgMode::Positional => {
                        next_positional += 1;
                        Some((next_positional - 1, arg.text.as_str()))
                    }
                    _ => None,
                }
            }
        };
        out.push(match (slot, class.repeated) {
            (Some((slot, value)), _) => {
                let duplicate = given[slot];
                given[slot] = true;
                Placement::Slot { slot, value, duplicate }
            }
            (None, Some(repeat)) => Placement::Repeated { value: arg.text.as_str(), kind: repeat.kind },
            (None, None) => Placement::TooMany,
        });
    }
    out
}

struct Checker<'a> {
    flat: &'a FlatGraph,
    options: &'a CheckOptions,
    diagnostics: &'a mut Diagnostics,
    classes: Vec<Option<&'static ElementClass>>,
    /// Per element: an argument did not parse (reported), so what it decides is unknown.
    bad_arguments: Vec<bool>,
}

/// Checks a flattened configuration. The result is meaningful only if no error was reported.
pub fn check(flat: &FlatGraph, options: &CheckOptions, diagnostics: &mut Diagnostics) -> CheckedGraph {
    let first_new = diagnostics.items.len();
    let mut checker = Checker { flat, options, diagnostics, classes: Vec::new(), bad_arguments: vec![false; flat.elements.len()] };
    checker.resolve_classes();
    checker.check_reserved_names();
    let mut elements = checker.check_arguments();
    checker.check_references(&mut elements);
    checker.check_ports(&mut elements);
    checker.resolve_processing(&mut elements);
    checker.check_cycles(&elements);
    checker.check_storage_lists(&mut elements);
    checker.check_argument_relations(&elements);
    checker.check_devices(&elements);
    checker.check_host_devices(&elements);
    checker.check_limits(&elements);
    checker.check_schedule_targets(&elements);
    once_per_place(diagnostics, first_new);
    CheckedGraph { elements, connections: flat.connections.clone() }
}

/// A port found unconnected: `text` says which (`output 1 of 'x' (Tee)`), `note` why the
/// class has it (` (one per pattern)`).
struct Unconnected {
    element: usize,
    output: bool,
    text: String,
    note: String,
}

/// A message with every quoted part left out (`'in1/c'`, `'eth1'`): what one rule says at one
/// place of a compound class, whatever the instance's names and parameters.
fn instance_free(message: &str) -> String {
    message.split('\'').step_by(2).collect::<Vec<_>>().join("''")
}

/// Keeps one of the diagnostics from `first` on that say the same at the same place: a rule
/// broken inside a compound class fires once per instance, all at the class's text.
pub fn once_per_place(diagnostics: &mut Diagnostics, first: usize) {
    let mut seen: HashMap<(Span, String), usize> = HashMap::new();
    let mut repeats: HashMap<usize, usize> = HashMap::new();
    let mut kept = Vec::new();
    for (index, diagnostic) in diagnostics.items.drain(..).enumerate() {
        if index >= first {
            if let Some(span) = diagnostic.span {
                let key = (span, instance_free(&diagnostic.message));
                if let Some(&at) = seen.get(&key) {
                    *repeats.entry(at).or_default() += 1;
                    continue;
                }
                seen.insert(key, kept.len());
            }
        }
        kept.push(diagnostic);
    }
    for (at, count) in repeats {
        let noun = if count == 1 { "instance" } else { "instances" };
        kept[at].notes.push(format!("the same holds in {count} other {noun} of the compound"));
    }
    diagnostics.items = kept;
}

fn port_word(n: u16, singular: &str) -> String {
    format!("{n} {singular}{}", if n == 1 { "" } else { "s" })
}

fn range_text(min: u16, max: u16) -> String {
    if max == UNBOUNDED {
        format!("at least {min}")
    } else if min == max {
        format!("exactly {min}")
    } else {
        format!("{min} to {max}")
    }
}

/// Whether elements of `class` are Storage elements (Queues), which RED watches.
pub fn is_storage(class: &ElementClass) -> bool {
    matches!(class.resource, Resource::QueueCapacity(_))
}

/// The classes that reach the host through the tenant's host device.
pub const HOST_CLASSES: [&str; 2] = ["ToHost", "FromHost"];

/// Whether `name` is one the coordinator gives the elements it adds on the root's behalf: a
/// component with `@` followed by anything but digits (`tx@shaper`, `c@split_queue`). Click's
/// anonymous elements are `Class@N`, digits only, and stay the tenant's.
pub fn is_reserved_name(name: &str) -> bool {
    name.split('/').any(|component| {
        component.split_once('@').is_some_and(|(_, rest)| rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()))
    })
}

impl Checker<'_> {
    /// A tenant may not name an element the way the coordinator names the ones it adds for the
    /// root: such a name could collide with, or pass for, a root-owned element.
    fn check_reserved_names(&mut self) {
        if self.options.coordinator {
            return;
        }
        for element in &self.flat.elements {
            // Elements the coordinator added (task splits) carry the flag; text never sets it.
            if !element.root && element.damage < Damage::Declaration && is_reserved_name(&element.name) {
                self.diagnostics.push(
                    Diagnostic::error(element.span, format!("element name '{}' is reserved for the coordinator", element.name))
                        .note("names with '@' followed by a word (like 'tx@shaper') belong to elements the coordinator adds on the root's behalf; rename the element"),
                );
            }
        }
    }

    fn resolve_classes(&mut self) {
        for element in &self.flat.elements {
            // Nothing is known about a failed declaration, not even its class.
            if element.damage == Damage::Declaration {
                self.classes.push(None);
                continue;
            }
            let class = self.options.catalog.class_by_name(&element.class);
            match class {
                None if crate::unsupported::lookup(&element.class).is_some() => {
                    let left_out = crate::unsupported::lookup(&element.class).expect("just found");
                    self.diagnostics.push(
                        Diagnostic::error(
                            element.class_span,
                            format!("element class '{}' is a Click class vdp does not support (element '{}'): {}", element.class, element.name, left_out.reason.summary()),
                        )
                        .note(format!("{}: {}", left_out.class, left_out.detail))
                        .note("docs/click-frontend.md lists the Click classes vdp leaves out and why"),
                    );
                }
                None => {
                    let suggestions = suggest_classes_in(self.options.catalog, &element.class);
                    let mut diagnostic = Diagnostic::error(
                        element.class_span,
                        format!("unknown element class '{}' (element '{}')", element.class, element.name),
                    );
                    diagnostic = if suggestions.is_empty() {
                        diagnostic.note("run 'vdpctl classes' for the supported classes")
                    } else {
                        diagnostic.note(format!("did you mean {}?", suggestions.join(", ")))
                    };
                    self.diagnostics.push(diagnostic);
                }
                Some(class) if class.audience == Audience::CoordinatorOnly && !self.options.coordinator => {
                    self.diagnostics.error(element.class_span, format!("class '{}' is reserved for the coordinator", class.name));
                }
                Some(_) => {}
            }
            self.classes.push(class);
        }
    }

    fn check_arguments(&mut self) -> Vec<CheckedElement> {
        let mut out = Vec::with_capacity(self.flat.elements.len());
        for (index, element) in self.flat.elements.iter().enumerate() {
            // An unknown class was reported already; Idle stands in so the element keeps its
            // place, and every later rule skips it.
            let class = self.classes[index].unwrap_or(&catalog::CLASSES[8]);
            let mut args: Vec<Option<ArgValue>> = vec![None; class.args.len()];
            let mut given: Vec<Option<Option<Span>>> = vec![None; class.args.len()];
            let mut repeated = Vec::new();
            let reported_before = self.diagnostics.items.len();
            // An unknown configuration is not checked: what it holds is not known.
            if self.classes[index].is_some() && element.damage < Damage::Configuration {
                for (arg, placement) in element.args.iter().zip(place_arguments(class, &element.args)) {
                    match placement {
                        Placement::UnknownKeyword(word) => {
                            let known: Vec<&str> = class.args.iter().map(|a| a.keyword).collect();
                            let note = if known.is_empty() {
                                format!("{} takes no arguments", class.name)
                            } else {
                                format!("{} takes {}", class.name, known.join(", "))
                            };
                            self.diagnostics.push(
                                Diagnostic::error(arg.span, format!("{} has no keyword argument '{word}'", class.name)).note(note),
                            );
                        }
                        Placement::Slot { slot, duplicate: true, .. } => {
                            let keyword = class.args[slot].keyword;
                            self.diagnostics.push(
                                Diagnostic::error(arg.span, format!("{} argument {keyword} is given twice", class.name))
                                    .label(given[slot].flatten(), format!("{keyword} is first given here")),
                            );
                        }
                        Placement::Slot { slot, value: text, duplicate: false } => {
                            let spec = &class.args[slot];
                            given[slot] = Some(arg.span);
                            match parse_value(spec.kind, text) {
                                Ok(value) => args[slot] = Some(value),
                                Err(message) => self.diagnostics.error(
                                    arg.span,
                                    format!("bad {} argument {} '{}': {message}", class.name, spec.keyword, text),
                                ),
                            }
                        }
                        Placement::Repeated { value: text, kind } => match parse_value(kind, text) {
                            Ok(value) => repeated.push(value),
                            Err(message) => {
                                let noun = class.repeated.map_or("argument", |r| r.noun);
                                self.diagnostics.error(arg.span, format!("bad {} {} '{}': {message}", class.name, noun, text));
                                repeated.push(ArgValue::Program(vec![]));
                            }
                        },
                        Placement::TooMany => {
                            let positional = class.args.iter().filter(|a| a.mode == ArgMode::Positional).count();
                            let takes = match positional {
                                0 if class.args.is_empty() => "no arguments".to_string(),
                                0 => "only keyword arguments".to_string(),
                                1 => "1 positional argument".to_string(),
                                n => format!("{n} positional arguments"),
                            };
                            self.diagnostics.error(arg.span, format!("too many arguments: {} takes {takes}", class.name));
                        }
                    }
                }
                // An argument that did not parse may hold the ones after it (a missing comma):
                // what seems missing then is not reported too.
                let argument_failed = self.diagnostics.items.len() > reported_before;
                for (slot, spec) in class.args.iter().enumerate() {
                    if given[slot].is_some() {
                        continue;
                    }
                    if spec.required && !argument_failed {
                        self.diagnostics.error(
                            element.span,
                            format!("{} '{}' is missing its required argument {}", class.name, element.name, spec.keyword),
                        );
                    } else if let Some(default) = spec.default {
                        args[slot] = Some(parse_value(spec.kind, default).expect("catalog defaults parse"));
                    }
                }
                self.resolve_icmp_codes(class, &mut args, &given);
                if let Some(repeat) = class.repeated {
                    if repeated.len() < usize::from(repeat.min) {
                        self.diagnostics.error(
                            element.span,
                            format!("{} '{}' needs at least {}", class.name, element.name, port_word(repeat.min, repeat.noun)),
                        );
                    }
                    // ARPResponder's table has a fixed bound, counted in prefixes.
                    let prefixes: usize = repeated.iter().map(|v| if let ArgValue::ArpEntry(list, _) = v { list.len() } else { 0 }).sum();
                    if repeat.kind == ArgKind::ArpEntry && prefixes > vdp_core::library::MAX_RESPONDER_ENTRIES {
                        self.diagnostics.error(
                            element.span,
                            format!("{} '{}' has {prefixes} prefixes; it holds at most {}", class.name, element.name, vdp_core::library::MAX_RESPONDER_ENTRIES),
                        );
                    }
                }
            }
            self.bad_arguments[index] = self.diagnostics.items.len() > reported_before;
            out.push(CheckedElement {
                name: element.name.clone(),
                class,
                args,
                repeated,
                inputs: 0,
                outputs: 0,
                input_modes: vec![],
                output_modes: vec![],
                span: element.span,
                root: element.root,
            });
        }
        out
    }

    /// An ICMP code given by name takes its number from the element's ICMP type argument: the
    /// same name means different codes of different types (`toshost` is 12 of `unreachable`, 3
    /// of `redirect`).
    fn resolve_icmp_codes(&mut self, class: &'static ElementClass, args: &mut [Option<ArgValue>], given: &[Option<Option<Span>>]) {
        let icmp_type = class.args.iter().position(|a| a.kind == ArgKind::IcmpErrorType).and_then(|slot| match args.get(slot) {
            Some(Some(ArgValue::Int(t))) => u8::try_from(*t).ok(),
            _ => None,
        });
        let type_given = class.args.iter().any(|a| a.kind == ArgKind::IcmpErrorType);
        for (slot, spec) in class.args.iter().enumerate() {
            if spec.kind != ArgKind::IcmpCode {
                continue;
            }
            let Some(Some(ArgValue::Name(name))) = args.get(slot) else { continue };
            let span = given.get(slot).copied().flatten().flatten();
            let resolved = icmp_type.map(|t| (t, cv::parse_icmp_code(t, name)));
            match resolved {
                Some((_, Ok(code))) => args[slot] = Some(ArgValue::Int(i64::from(code))),
                Some((t, Err(_))) => {
                    let type_name = cv::ICMP_ERROR_TYPES.iter().find(|(_, n)| *n == t).map_or("", |(name, _)| *name);
                    let codes: Vec<String> = cv::icmp_codes(t).iter().map(|(name, code)| format!("{name} ({code})")).collect();
                    let note = if codes.is_empty() { format!("{type_name} has no named codes") } else { format!("the codes of {type_name} are {}", codes.join(", ")) };
                    self.diagnostics.push(
                        Diagnostic::error(span, format!("bad {} argument {} '{name}': not a code of ICMP type {t} ({type_name})", class.name, spec.keyword)).note(note),
                    );
                    args[slot] = None;
                }
                // The type did not parse (already reported), or the class has no type argument.
                None => {
                    if !type_given {
                        self.diagnostics.error(span, format!("bad {} argument {} '{name}': a code name needs an ICMP type argument", class.name, spec.keyword));
                    }
                    args[slot] = None;
                }
            }
        }
    }

    /// Element references in arguments must name elements of the same configuration.
    fn check_references(&mut self, elements: &mut [CheckedElement]) {
        let names: HashMap<&str, usize> = self.flat.elements.iter().enumerate().map(|(i, e)| (e.name.as_str(), i)).collect();
        for (index, element) in elements.iter_mut().enumerate() {
            let from = element.name.clone();
            let span = self.flat.elements[index].span;
            let values = element.args.iter_mut().flatten().chain(element.repeated.iter_mut());
            let referred = values.flat_map(|value| -> Box<dyn Iterator<Item = &mut String>> {
                match value {
                    ArgValue::ElementNumber(name, _) => Box::new(std::iter::once(name)),
                    ArgValue::Names(names) => Box::new(names.iter_mut()),
                    _ => Box::new(std::iter::empty()),
                }
            });
            for name in referred {
                match resolve_reference(&names, &from, name) {
                    Some(target) => *name = self.flat.elements[target].name.clone(),
                    None => self.diagnostics.error(span, format!("'{from}' refers to '{name}', which is not an element of this configuration")),
                }
            }
        }
    }

    fn check_ports(&mut self, elements: &mut [CheckedElement]) {
        let mut unconnected: Vec<Unconnected> = Vec::new();
        let count = elements.len();
        let mut used_outputs: Vec<Vec<u16>> = vec![Vec::new(); count];
        let mut used_inputs: Vec<Vec<u16>> = vec![Vec::new(); count];
        for connection in &self.flat.connections {
            used_outputs[connection.from].push(connection.from_port);
            used_inputs[connection.to].push(connection.to_port);
        }
        for (index, element) in elements.iter_mut().enumerate() {
            // An unknown class or configuration decides nothing: the ports are the ones used.
            if self.classes[index].is_none() || self.flat.elements[index].damage >= Damage::Configuration {
                let max_port = |ports: &[u16]| ports.iter().max().map_or(0, |p| p + 1);
                element.inputs = max_port(&used_inputs[index]);
                element.outputs = max_port(&used_outputs[index]);
                continue;
            }
            let class = element.class;
            let highest = |ports: &[u16]| ports.iter().max().map(|p| p + 1).unwrap_or(0);
            let used_in = highest(&used_inputs[index]);
            let used_out = highest(&used_outputs[index]);
            // Ports used beyond the class maximum are reported per connection below.
            let inputs = used_in.max(class.inputs.min).min(class.inputs.max);
            let (outputs, why) = match class.output_rule {
                OutputRule::ByUse => (used_out.max(class.outputs.min).min(class.outputs.max), String::new()),
                OutputRule::OnePerRepeatedArgument => {
                    let noun = class.repeated.map_or("argument", |r| r.noun);
                    (element.repeated.len() as u16, format!(" (one per {noun})"))
                }
                OutputRule::IntArgument(name) => match element.int_arg(name) {
                    Some(n) => (n as u16, format!(" ({name} is {n})")),
                    None => (used_out.max(class.outputs.min).min(class.outputs.max), String::new()),
                },
                OutputRule::CoversRoutes => {
                    let highest_route = element
                        .repeated
                        .iter()
                        .filter_map(|v| match v {
                            ArgValue::Route(route) => Some(route.port + 1),
                            _ => None,
                        })
                        .max()
                        .unwrap_or(0);
                    (used_out.max(highest_route).max(class.outputs.min), " (routes name them)".to_string())
                }
            };
            element.inputs = inputs;
            element.outputs = outputs;
            let name = &element.name;
            let unknown_outputs = self.outputs_unknown(index, class);
            let connections_lost = self.flat.elements[index].damage >= Damage::Connections;
            for (side, count, range, used, note) in
                [("input", inputs, class.inputs, &used_inputs[index], String::new()), ("output", outputs, class.outputs, &used_outputs[index], why)]
            {
                if side == "output" && unknown_outputs {
                    continue;
                }
                if !range.contains(count) && !(side == "output" && class.output_rule == OutputRule::OnePerRepeatedArgument) {
                    self.diagnostics.error(
                        element.span,
                        format!("'{name}' ({}) would have {}, but the class allows {}", class.name, port_word(count, side), range_text(range.min, range.max)),
                    );
                    continue;
                }
                if connections_lost {
                    continue;
                }
                for port in 0..count {
                    if !used.contains(&port) {
                        unconnected.push(Unconnected { element: index, output: side == "output", text: format!("{side} {port} of '{name}' ({})", class.name), note: note.clone() });
                    }
                }
            }
        }
        self.report_unconnected(unconnected);
        for connection in &self.flat.connections {
            for (side, index, port) in [("output", connection.from, connection.from_port), ("input", connection.to, connection.to_port)] {
                if self.classes[index].is_none() || self.flat.elements[index].damage >= Damage::Configuration {
                    continue;
                }
                if side == "output" && self.classes[index].is_some_and(|class| self.outputs_unknown(index, class)) {
                    continue;
                }
                let element = &elements[index];
                let count = if side == "output" { element.outputs } else { element.inputs };
                if port >= count {
                    let has = if count == 0 { format!("has no {side}s") } else { format!("has {}", port_word(count, side)) };
                    self.diagnostics.push(
                        Diagnostic::error(connection.span, format!("{side} port {port} is out of range: '{}' ({}) {has}", element.name, element.class.name))
                            .label(self.flat.elements[index].span, format!("'{}' is declared here", element.name)),
                    );
                }
            }
        }
    }

    /// Where element `index`'s text ends: its name, class or last argument, whichever is last.
    fn text_end(&self, index: usize) -> Option<Span> {
        let element = &self.flat.elements[index];
        element.span.into_iter().chain(element.class_span).chain(element.args.iter().filter_map(|a| a.span)).max_by_key(|s| s.end)
    }

    /// Reports unconnected ports. An unconnected output written right before an unconnected
    /// input (no element or connection between them) is one mistake, a missing '->', and one
    /// error naming both.
    fn report_unconnected(&mut self, found: Vec<Unconnected>) {
        let mut starts: Vec<(Span, usize)> = self.flat.elements.iter().enumerate().filter_map(|(i, e)| e.span.map(|s| (s, i))).collect();
        starts.sort_by_key(|(s, _)| (s.file.0, s.start));
        let connections: Vec<Span> = self.flat.connections.iter().filter_map(|c| c.span).collect();
        let mut paired = vec![false; found.len()];
        for (a, output) in found.iter().enumerate().filter(|(_, f)| f.output) {
            let Some(end) = self.text_end(output.element) else { continue };
            // The next element written after this one, if nothing connects in between; of the
            // instances of a compound (which share their text), the one of the same instance.
            let Some(&(next_span, _)) = starts.iter().find(|(s, _)| s.file == end.file && s.start >= end.end) else { continue };
            let instance = |name: &str| name.rsplit_once('/').map_or("", |(prefix, _)| prefix).to_string();
            let own = instance(&self.flat.elements[output.element].name);
            let Some(&(_, next)) = starts.iter().find(|(s, i)| *s == next_span && instance(&self.flat.elements[*i].name) == own) else { continue };
            if connections.iter().any(|c| c.file == end.file && c.start >= end.end && c.start < next_span.start) {
                continue;
            }
            let Some(b) = found.iter().enumerate().position(|(b, f)| !f.output && f.element == next && !paired[b]) else { continue };
            paired[a] = true;
            paired[b] = true;
            self.diagnostics.push(
                Diagnostic::error(
                    self.flat.elements[output.element].span,
                    format!("{} is not connected{}, nor is {}{}, written right after it", output.text, output.note, found[b].text, found[b].note),
                )
                .label(self.flat.elements[next].span, format!("{} is here", found[b].text))
                .note("a '->' between them may be missing"),
            );
        }
        for (index, finding) in found.iter().enumerate() {
            if !paired[index] {
                self.diagnostics.error(self.flat.elements[finding.element].span, format!("{} is not connected{}", finding.text, finding.note));
            }
        }
    }

    /// Whether the element's output count rests on an argument that did not parse.
    fn outputs_unknown(&self, index: usize, class: &ElementClass) -> bool {
        self.bad_arguments[index] && class.output_rule != OutputRule::ByUse
    }

    /// Resolves agnostic ports and reports push/pull conflicts, following Click's rules.
    fn resolve_processing(&mut self, elements: &mut [CheckedElement]) {
        let mut first_node = Vec::with_capacity(elements.len());
        let mut total = 0usize;
        for element in elements.iter() {
            first_node.push(total);
            total += usize::from(element.inputs) + usize::from(element.outputs);
        }
        let node = |element: usize, output: bool, port: u16| -> usize {
            first_node[element] + if output { usize::from(elements[element].inputs) } else { 0 } + usize::from(port)
        };
        let mut parent: Vec<usize> = (0..total).collect();
        let mut mode: Vec<Option<Processing>> = vec![None; total];
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        // Click's default flow joins every agnostic port of an element: they take one mode.
        for (index, element) in elements.iter().enumerate() {
            let mut agnostic_root = None;
            for (output, count) in [(false, element.inputs), (true, element.outputs)] {
                for port in 0..count {
                    let n = node(index, output, port);
                    let declared = catalog::port_processing(element.class.processing, output, port);
                    if self.classes[index].is_none() {
                        continue;
                    }
                    match declared {
                        Processing::Agnostic => match agnostic_root {
                            None => agnostic_root = Some(n),
                            Some(root) => parent[n] = root,
                        },
                        fixed => mode[n] = Some(fixed),
                    }
                }
            }
        }
        let mut reported = std::collections::HashSet::new();
        for connection in &self.flat.connections {
            let (from, to) = (connection.from, connection.to);
            if self.classes[from].is_none() || self.classes[to].is_none() {
                continue;
            }
            if connection.from_port >= elements[from].outputs || connection.to_port >= elements[to].inputs {
                continue;
            }
            let a = find(&mut parent, node(from, true, connection.from_port));
            let b = find(&mut parent, node(to, false, connection.to_port));
            if a == b {
                continue;
            }
            match (mode[a], mode[b]) {
                (Some(x), Some(y)) if x != y => {
                    if !reported.insert((from, to)) {
                        continue;
                    }
                    let describe = |index: usize, output: bool, port: u16, m: Processing| {
                        let element = &elements[index];
                        let declared = catalog::port_processing(element.class.processing, output, port);
                        let word = if m == Processing::Push { "push" } else { "pull" };
                        let side = if output { "output" } else { "input" };
                        if declared == Processing::Agnostic {
                            format!("agnostic {side} {port} of '{}' ({}), which is {word} here", element.name, element.class.name)
                        } else {
                            format!("{word} {side} {port} of '{}' ({})", element.name, element.class.name)
                        }
                    };
                    let message = format!(
                        "push/pull conflict: {} is connected to {}",
                        describe(from, true, connection.from_port, x),
                        describe(to, false, connection.to_port, y)
                    );
                    let hint = if x == Processing::Push {
                        "put a Queue between them to turn push into pull"
                    } else {
                        "put an Unqueue between them to turn pull into push"
                    };
                    let declared = |index: usize| format!("'{}' ({}) is declared here", elements[index].name, elements[index].class.name);
                    let mut diagnostic = Diagnostic::error(connection.span, message).label(self.flat.elements[from].span, declared(from));
                    if to != from {
                        diagnostic = diagnostic.label(self.flat.elements[to].span, declared(to));
                    }
                    self.diagnostics.push(diagnostic.note(hint));
                }
                (x, y) => {
                    parent[b] = a;
                    mode[a] = x.or(y);
                }
            }
        }
        let mut resolved = Vec::with_capacity(elements.len());
        for (index, element) in elements.iter().enumerate() {
            let mut modes = |output: bool, count: u16| -> Vec<Processing> {
                (0..count)
                    .map(|port| {
                        let root = find(&mut parent, node(index, output, port));
                        mode[root].unwrap_or(Processing::Push)
                    })
                    .collect()
            };
            resolved.push((modes(false, element.inputs), modes(true, element.outputs)));
        }
        for (element, (input_modes, output_modes)) in elements.iter_mut().zip(resolved) {
            element.input_modes = input_modes;
            element.output_modes = output_modes;
        }
        // A push output feeds exactly one input, and a pull input draws from exactly one output.
        let mut output_uses: HashMap<(usize, u16), Vec<&FlatConnection>> = HashMap::new();
        let mut input_uses: HashMap<(usize, u16), Vec<&FlatConnection>> = HashMap::new();
        for connection in &self.flat.connections {
            output_uses.entry((connection.from, connection.from_port)).or_default().push(connection);
            input_uses.entry((connection.to, connection.to_port)).or_default().push(connection);
        }
        let mut outputs: Vec<_> = output_uses.into_iter().filter(|(_, uses)| uses.len() > 1).collect();
        outputs.sort_by_key(|(key, _)| *key);
        for ((index, port), uses) in outputs {
            if elements[index].output_modes.get(usize::from(port)) == Some(&Processing::Push) && self.classes[index].is_some() {
                self.diagnostics.push(
                    Diagnostic::error(uses[1].span, format!("push output {port} of '{}' is connected {} times", elements[index].name, uses.len()))
                        .label(uses[0].span, "first connected here")
                        .note("a push output hands each packet to one input; use a Tee to copy packets"),
                );
            }
        }
        let mut inputs: Vec<_> = input_uses.into_iter().filter(|(_, uses)| uses.len() > 1).collect();
        inputs.sort_by_key(|(key, _)| *key);
        for ((index, port), uses) in inputs {
            if elements[index].input_modes.get(usize::from(port)) == Some(&Processing::Pull) && self.classes[index].is_some() {
                self.diagnostics.push(
                    Diagnostic::error(uses[1].span, format!("pull input {port} of '{}' is connected {} times", elements[index].name, uses.len()))
                        .label(uses[0].span, "first connected here")
                        .note("a pull input asks one output for packets; merge the sources with a Queue first"),
                );
            }
        }
    }

    /// Cycles made only of push (or only of pull) connections would recurse forever.
    fn check_cycles(&mut self, elements: &[CheckedElement]) {
        let mut edges = Vec::new();
        let mut spans = Vec::new();
        for connection in &self.flat.connections {
            let Some(&mode) = elements[connection.from].output_modes.get(usize::from(connection.from_port)) else { continue };
            if self.classes[connection.from].is_some() && self.classes[connection.to].is_some() {
                edges.push(CycleEdge { from: connection.from, to: connection.to, mode });
                spans.push(connection.span);
            }
        }
        for cycle in find_cycles(elements.len(), &edges) {
            let path: Vec<&str> = cycle.path.iter().map(|e| elements[*e].name.as_str()).collect();
            let word = if cycle.mode == Processing::Push { "push" } else { "pull" };
            self.diagnostics.push(
                Diagnostic::error(spans[cycle.edge], format!("{word}-only cycle: {}", path.join(" -> ")))
                    .note("a packet would be handed around this loop by nested calls without end; break it with a Queue"),
            );
        }
    }

    fn check_devices(&mut self, elements: &[CheckedElement]) {
        // Device names belong to tenants: in a merged graph `red/in` and `blue/in` may both read
        // their own `eth1`.
        let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
        for (index, element) in elements.iter().enumerate() {
            if self.classes[index].is_none() {
                continue;
            }
            let owner = if self.options.coordinator { element.name.split('/').next().unwrap_or("") } else { "" };
            let Some(device) = element.device() else { continue };
            if let Some(allowed) = &self.options.devices {
                if !allowed.iter().any(|d| d == device) {
                    let note = if allowed.is_empty() {
                        "this tenant has no devices".to_string()
                    } else {
                        format!("this tenant's devices are {}", allowed.join(", "))
                    };
                    self.diagnostics.push(
                        Diagnostic::error(self.flat.elements[index].args.first().and_then(|a| a.span).or(element.span), format!("device '{device}' is not assigned to this tenant"))
                            .note(note),
                    );
                }
            }
            // Every element that takes a device's received packets (FromDevice, PollDevice,
            // FromHost: no inputs) drains the same queue, so one of them may use a device.
            let role = if element.class.inputs.max == 0 { "receive" } else { element.class.name };
            if let Some(first) = seen.insert((owner, role, device), index) {
                let message = if elements[first].class.name == element.class.name {
                    format!("'{}' and '{}' are both {} elements for device '{device}'", elements[first].name, element.name, element.class.name)
                } else {
                    format!("'{}' ({}) and '{}' ({}) both receive from device '{device}'", elements[first].name, elements[first].class.name, element.name, element.class.name)
                };
                self.diagnostics.error(element.span, message);
            }
        }
    }

    fn check_limits(&mut self, elements: &[CheckedElement]) {
        let limits = &self.options.limits;
        if elements.len() > limits.max_elements {
            self.diagnostics.push(
                Diagnostic::error(elements.get(limits.max_elements).and_then(|e| e.span), format!("the configuration has {} elements; the limit is {}", elements.len(), limits.max_elements))
                    .note("limits.max_elements in the system config"),
            );
        }
        for (index, element) in elements.iter().enumerate() {
            if self.classes[index].is_none() {
                continue;
            }
            match element.class.resource {
                Resource::QueueCapacity(name) => {
                    if let Some(capacity) = element.int_arg(name) {
                        if capacity > limits.max_queue_capacity {
                            self.diagnostics.push(
                                Diagnostic::error(element.span, format!("'{}' asks for {capacity} packets of queue; the limit is {}", element.name, limits.max_queue_capacity))
                                    .note("limits.max_queue_capacity in the system config"),
                            );
                        }
                    }
                }
                Resource::TableEntries => {
                    if element.repeated.len() > limits.max_table_entries {
                        self.diagnostics.push(
                            Diagnostic::error(element.span, format!("'{}' has {} table entries; the limit is {}", element.name, element.repeated.len(), limits.max_table_entries))
                                .note("limits.max_table_entries in the system config"),
                        );
                    }
                }
                Resource::None => {}
            }
        }
    }

    /// Storage lists (RED's QUEUES): each name must be a Storage element (a Queue). Without
    /// one, the Storage elements nearest the element fill it in, as Click's flow-based router
    /// context finds them: downstream of output 0 when it pushes, upstream of input 0 when it
    /// pulls, not looking past a Storage element.
    fn check_storage_lists(&mut self, elements: &mut [CheckedElement]) {
        for index in 0..elements.len() {
            if self.classes[index].is_none() {
                continue;
            }
            let class = elements[index].class;
            let Some(slot) = class.args.iter().position(|spec| spec.kind == ArgKind::StorageList) else { continue };
            let keyword = class.args[slot].keyword;
            match &elements[index].args[slot] {
                Some(ArgValue::Names(names)) => {
                    for name in names {
                        let Some(target) = elements.iter().position(|e| &e.name == name) else { continue };
                        if !is_storage(elements[target].class) {
                            self.diagnostics.push(
                                Diagnostic::error(self.arg_span_by_slot(index, class, keyword), format!("'{}' {keyword} names '{name}', which is not a Storage element", elements[index].name))
                                    .note(format!("{} watches Queues and SimpleQueues", class.name)),
                            );
                        }
                    }
                }
                _ => {
                    let downstream = elements[index].output_modes.first() != Some(&Processing::Pull);
                    let found = self.nearby_storage(elements, index, downstream);
                    if found.is_empty() {
                        let (side, way) = if downstream { ("output 0 pushes", "downstream") } else { ("output 0 pulls", "upstream") };
                        self.diagnostics.push(
                            Diagnostic::error(self.flat.elements[index].span, format!("{} '{}' has no nearby Queues", class.name, elements[index].name))
                                .note(format!("its {side}, so it watches the nearest Queues {way}; connect one, or name them with {keyword}")),
                        );
                    } else {
                        let names = found.into_iter().map(|target| elements[target].name.clone()).collect();
                        elements[index].args[slot] = Some(ArgValue::Names(names));
                    }
                }
            }
        }
    }

    /// The Storage elements nearest `start` (see [`Checker::check_storage_lists`]), in element
    /// order.
    fn nearby_storage(&self, elements: &[CheckedElement], start: usize, downstream: bool) -> Vec<usize> {
        let connections = &self.flat.connections;
        let mut visited = vec![false; elements.len()];
        visited[start] = true;
        let mut stack: Vec<usize> = connections
            .iter()
            .filter_map(|c| match downstream {
                true if c.from == start && c.from_port == 0 => Some(c.to),
                false if c.to == start && c.to_port == 0 => Some(c.from),
                _ => None,
            })
            .collect();
        let mut found = Vec::new();
        while let Some(element) = stack.pop() {
            if std::mem::replace(&mut visited[element], true) {
                continue;
            }
            if self.classes[element].is_some() && is_storage(elements[element].class) {
                found.push(element);
                continue;
            }
            for c in connections {
                match downstream {
                    true if c.from == element => stack.push(c.to),
                    false if c.to == element => stack.push(c.from),
                    _ => {}
                }
            }
        }
        found.sort_unstable();
        found
    }

    /// Rules between one element's arguments that their kinds cannot say.
    fn check_argument_relations(&mut self, elements: &[CheckedElement]) {
        for (index, element) in elements.iter().enumerate() {
            if self.classes[index].is_none() {
                continue;
            }
            let problem = match element.class.name {
                "RED" => match (element.int_arg("MIN_THRESH"), element.int_arg("MAX_THRESH")) {
                    (Some(min), Some(max)) if min > max => Some(("MIN_THRESH", format!("MIN_THRESH {min} must not be above MAX_THRESH {max}"))),
                    _ => None,
                },
                "Align" => match (element.int_arg("MODULUS"), element.int_arg("OFFSET")) {
                    (Some(modulus), _) if ![2, 4, 8].contains(&modulus) => Some(("MODULUS", format!("MODULUS must be 2, 4 or 8, not {modulus}"))),
                    (Some(modulus), Some(offset)) if offset >= modulus => Some(("OFFSET", format!("OFFSET {offset} must be smaller than MODULUS {modulus}"))),
                    _ => None,
                },
                _ => None,
            };
            if let Some((keyword, message)) = problem {
                let span = self.arg_span_by_slot(index, element.class, keyword);
                self.diagnostics.error(span, format!("{} '{}': {message}", element.class.name, element.name));
            }
        }
    }

    /// The span of the argument that filled `keyword`'s slot: given as `KEYWORD value`, or as
    /// the positional argument in its place; the element's span when neither is found.
    fn arg_span_by_slot(&self, index: usize, class: &ElementClass, keyword: &str) -> Option<Span> {
        let args = &self.flat.elements[index].args;
        if let Some(arg) = args.iter().find(|arg| keyword_of(&arg.text).is_some_and(|(word, _)| word == keyword)) {
            return arg.span;
        }
        let position = class.args.iter().filter(|spec| spec.mode == ArgMode::Positional).position(|spec| spec.keyword == keyword);
        let positional = args.iter().filter(|arg| keyword_of(&arg.text).is_none_or(|(word, _)| class.arg(word).is_none()));
        position.and_then(|p| positional.clone().nth(p)).and_then(|arg| arg.span).or(self.flat.elements[index].span)
    }

    /// ToHost and FromHost reach the host through the tenant's host device: a tenant whose
    /// system config names none may not use them, and a DEVNAME must name that device.
    fn check_host_devices(&mut self, elements: &[CheckedElement]) {
        if self.options.coordinator || self.options.devices.is_none() {
            return;
        }
        for (index, element) in elements.iter().enumerate() {
            if self.classes[index].is_none() || !HOST_CLASSES.contains(&element.class.name) {
                continue;
            }
            let class = element.class.name;
            match (&self.options.host_device, element.device()) {
                (None, _) => {
                    let devices = self.options.devices.as_deref().unwrap_or(&[]);
                    let example = devices.first().map_or("DEVICE", String::as_str);
                    self.diagnostics.push(
                        Diagnostic::error(element.span, format!("{class} '{}' needs the tenant's host device, and the system config names none", element.name))
                            .note(format!("add host_device = \"{example}\" to this tenant's [[tenant]] section of the system config, naming the device {class} should use")),
                    );
                }
                (Some(host), Some(device)) if device != host => {
                    self.diagnostics.push(
                        Diagnostic::error(self.arg_span_by_slot(index, element.class, "DEVNAME"), format!("{class} '{}' names device '{device}', but this tenant's host device is '{host}'", element.name))
                            .note("ToHost and FromHost reach the host only through the host device (host_device in the system config)"),
                    );
                }
                _ => {}
            }
        }
    }

    fn check_schedule_targets(&mut self, elements: &[CheckedElement]) {
        for (index, element) in elements.iter().enumerate() {
            for value in &element.repeated {
                let ArgValue::ElementNumber(target, number) = value else { continue };
                let Some(target_index) = elements.iter().position(|e| e.name == *target) else { continue };
                // Whether an element not known (its class or configuration) is a task is unknown.
                let known = self.classes[target_index].is_some() && self.flat.elements[target_index].damage < Damage::Configuration;
                if known && !elements[target_index].is_task() {
                    self.diagnostics.error(self.flat.elements[index].span, format!("'{}' schedules '{target}', which is not a task", element.name));
                }
                if element.class.name == "StaticThreadSched" && *number >= self.options.limits.max_threads {
                    self.diagnostics.error(
                        self.flat.elements[index].span,
                        format!("'{}' pins '{target}' to thread {number}; threads are numbered 0 to {}", element.name, self.options.limits.max_threads.saturating_sub(1)),
                    );
                }
            }
        }
    }
}

/// One connection for [`find_cycles`]: from one element to another, with the resolved mode of
/// the output it leaves.
#[derive(Clone, Copy, Debug)]
pub struct CycleEdge {
    pub from: usize,
    pub to: usize,
    pub mode: Processing,
}

/// A push-only or pull-only cycle: the elements along it (the first repeated at the end) and
/// the edge that closed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundCycle {
    pub mode: Processing,
    pub path: Vec<usize>,
    pub edge: usize,
}

/// Every cycle made only of push (or only of pull) edges among `count` elements, one per back
/// edge of an iterative depth-first search. The checker runs it on configurations; the fuzzer
/// runs it on mutated compiled graphs.
pub fn find_cycles(count: usize, edges: &[CycleEdge]) -> Vec<FoundCycle> {
    let mut found = Vec::new();
    for wanted in [Processing::Push, Processing::Pull] {
        let mut next: Vec<Vec<(usize, usize)>> = vec![Vec::new(); count];
        for (index, edge) in edges.iter().enumerate() {
            if edge.mode == wanted && edge.from < count && edge.to < count {
                next[edge.from].push((edge.to, index));
            }
        }
        // Iterative DFS with colours; each back edge closes a cycle.
        let mut colour = vec![0u8; count];
        for start in 0..count {
            if colour[start] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            colour[start] = 1;
            while let Some(&mut (element, ref mut at)) = stack.last_mut() {
                if let Some(&(target, edge)) = next[element].get(*at) {
                    *at += 1;
                    match colour[target] {
                        0 => {
                            colour[target] = 1;
                            stack.push((target, 0));
                        }
                        1 => {
                            let from = stack.iter().position(|(e, _)| *e == target).unwrap_or(0);
                            let mut path: Vec<usize> = stack[from..].iter().map(|(e, _)| *e).collect();
                            path.push(target);
                            found.push(FoundCycle { mode: wanted, path, edge });
                        }
                        _ => {}
                    }
                } else {
                    colour[element] = 2;
                    stack.pop();
                }
            }
        }
    }
    found
}
