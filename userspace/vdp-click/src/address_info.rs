//! AddressInfo: names for addresses, resolved when a configuration is checked.
//!
//! `AddressInfo(NAME ADDRESS [ADDRESS...], ...)` gives NAME an IPv4 address, an IPv4 prefix
//! and an Ethernet address (any of them); the configuration's other elements may then write
//! NAME wherever one of those is expected, as in Click. Which one NAME stands for depends on the
//! argument: an IPv4 address argument takes its address, an Ethernet one its Ethernet address,
//! a prefix argument its address as a /32 when it has one and its prefix otherwise (Click's
//! preference), and an ARPResponder entry both an address and an Ethernet address. Suffixes
//! choose: `NAME:ip` (or `:ip4`), `NAME:ipnet` (`:net`, `:ip4net`), `NAME:eth` (`:ether`,
//! `:ethernet`), `NAME:bcast` (the prefix's broadcast address) and `NAME:gw` (the prefix's
//! network address with the lowest bit set); `NAME/LEN` is NAME's address with that length.
//! `ARPQuerier(NAME)`, a lone NAME where an IP address and then an Ethernet address are
//! expected, stands for both.
//!
//! Names are scoped as Click scopes them: one declared in a compound applies within that
//! compound (and compounds inside it), and the innermost declaration wins. A name declared
//! again adds to (or replaces) the kinds of address it has. In a flattened graph the scope is
//! the declaring element's name up to its last `/`.
//!
//! [`resolve`] runs on the flattened graph before the checker: it removes every AddressInfo
//! element, then rewrites every argument that names an address with the address itself, so the
//! checker, the partitioner, the merge and the compiler only ever see literal addresses. The
//! kernel therefore never sees AddressInfo (its catalog entry is a declaration only), and a
//! merged graph holds no names, so one tenant's names can never reach another's elements:
//! each tenant's file is resolved on its own before the merge. A name that is not declared in
//! scope, or that has no address of the kind the argument needs, is an error at the argument's
//! `file:line:col`; the argument then gets a stand-in address so the checker does not report it
//! again.

use crate::check::{place_arguments, Placement};
use crate::flatten::{FlatArg, FlatGraph};
use crate::partition::position;
use crate::source::{Diagnostic, Diagnostics, Sources, Span};
use std::collections::HashMap;
use vdp_core::catalog::{ArgKind, ArgMode, Catalog, ElementClass};
use vdp_core::click_value::{self as cv, Ipv4Prefix};

/// The addresses one name stands for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Addresses {
    pub ip: Option<[u8; 4]>,
    pub prefix: Option<Ipv4Prefix>,
    pub ether: Option<[u8; 6]>,
}

impl Addresses {
    /// What the name has, for notes.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(ip) = self.ip {
            parts.push(format!("IPv4 address {}", ip_text(ip)));
        }
        if let Some(prefix) = self.prefix {
            parts.push(format!("IPv4 prefix {}", prefix_text(prefix)));
        }
        if let Some(ether) = self.ether {
            parts.push(format!("Ethernet address {}", ether_text(ether)));
        }
        parts.join(", ")
    }

    /// Adds `other`'s kinds, replacing those both have (a later declaration wins).
    fn merge(&mut self, other: Addresses) {
        self.ip = other.ip.or(self.ip);
        self.prefix = other.prefix.or(self.prefix);
        self.ether = other.ether.or(self.ether);
    }
}

fn ip_text(ip: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])
}

fn prefix_text(prefix: Ipv4Prefix) -> String {
    format!("{}/{}", ip_text(prefix.addr), prefix.len)
}

fn ether_text(ether: [u8; 6]) -> String {
    ether.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// Whether `word` may be an address name: a letter or `_`, then letters, digits, `_`, `-` and
/// `.`, and not itself an Ethernet address.
pub fn is_name(word: &str) -> bool {
    let mut bytes = word.bytes();
    matches!(bytes.next(), Some(b'A'..=b'Z' | b'a'..=b'z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && cv::parse_ether(word).is_err()
}

/// Parses one AddressInfo entry, `NAME ADDRESS [ADDRESS...]`. Within an entry a later address
/// of a kind replaces an earlier one, except that a prefix written with host bits (which also
/// gives an address) fills only the kinds not given yet, as in Click.
pub fn parse_entry(text: &str) -> Result<(String, Addresses), String> {
    let mut words = text.split_whitespace();
    let name = words.next().ok_or("expected NAME ADDRESS [ADDRESS...]")?;
    if !is_name(name) {
        return Err(format!(
            "'{name}' cannot be an address name: a name starts with a letter or '_' and holds letters, digits, '_', '-' and '.'"
        ));
    }
    let mut addresses = Addresses::default();
    let mut any = false;
    for word in words {
        any = true;
        if let Ok(ether) = cv::parse_ether(word) {
            addresses.ether = Some(ether);
        } else if let Ok(ip) = cv::parse_ipv4(word) {
            addresses.ip = Some(ip);
        } else if let (true, Ok(prefix)) = (word.contains('/'), cv::parse_prefix(word)) {
            if u32::from_be_bytes(prefix.addr) & !prefix.mask() != 0 {
                addresses.prefix = addresses.prefix.or(Some(prefix));
                addresses.ip = addresses.ip.or(Some(prefix.addr));
            } else {
                addresses.prefix = Some(prefix);
            }
        } else {
            return Err(format!("'{word}' is not an IPv4 address, an IPv4 prefix or an Ethernet address"));
        }
    }
    if !any {
        return Err(format!("'{name}' is given no address: expected NAME ADDRESS [ADDRESS...]"));
    }
    Ok((name.to_string(), addresses))
}

/// What an argument word must become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Ip,
    Prefix,
    Ether,
}

impl Want {
    fn noun(self) -> &'static str {
        match self {
            Want::Ip => "IPv4 address",
            Want::Prefix => "IPv4 address or prefix",
            Want::Ether => "Ethernet address",
        }
    }

    fn is_literal(self, word: &str) -> bool {
        match self {
            Want::Ip => cv::parse_ipv4(word).is_ok(),
            Want::Prefix => cv::parse_prefix(word).is_ok(),
            Want::Ether => cv::parse_ether(word).is_ok(),
        }
    }

    /// Text of the right kind that stands in for a word that failed, so that the checker
    /// does not report the argument a second time.
    fn stand_in(self) -> &'static str {
        match self {
            Want::Ip => "0.0.0.0",
            Want::Prefix => "0.0.0.0/32",
            Want::Ether => "00:00:00:00:00:00",
        }
    }
}

/// One name's declaration.
struct Definition {
    addresses: Addresses,
    /// The (last) entry that declared it.
    span: Option<Span>,
}

/// Why a word naming an address could not be resolved.
enum Problem<'w> {
    Unknown(&'w str),
    BadSuffix(&'w str, &'w str),
    Lacks { name: &'w str, suffix: Option<&'w str>, definition: &'w Definition },
}

/// Every name the AddressInfo elements of one graph declare, by scope.
#[derive(Default)]
struct Names {
    /// Scope (the declaring element's name up to and with its last `/`; "" at the top) to
    /// names.
    scopes: HashMap<String, HashMap<String, Definition>>,
}

/// The scope an element's name is in: up to and with its last `/`.
fn scope_of(name: &str) -> &str {
    name.rfind('/').map_or("", |at| &name[..=at])
}

impl Names {
    fn define(&mut self, scope: &str, name: String, addresses: Addresses, span: Option<Span>) {
        let names = self.scopes.entry(scope.to_string()).or_default();
        match names.get_mut(&name) {
            Some(definition) => {
                definition.addresses.merge(addresses);
                definition.span = span;
            }
            None => {
                names.insert(name, Definition { addresses, span });
            }
        }
    }

    /// `name` as `element` sees it: its own compound's declaration, then each enclosing one's.
    fn lookup(&self, element: &str, name: &str) -> Option<&Definition> {
        let mut scope = scope_of(element);
        loop {
            if let Some(definition) = self.scopes.get(scope).and_then(|names| names.get(name)) {
                return Some(definition);
            }
            if scope.is_empty() {
                return None;
            }
            scope = scope_of(&scope[..scope.len() - 1]);
        }
    }

    /// The literal text `word` stands for, when it names an address; `None` when it is a
    /// literal of the kind already, or not a name at all (the checker judges it then).
    fn resolve_word<'w>(&'w self, element: &str, word: &'w str, want: Want) -> Result<Option<String>, Problem<'w>> {
        if want.is_literal(word) {
            return Ok(None);
        }
        // NAME/LEN: the name's address with that length.
        if want == Want::Prefix {
            if let Some((base, len)) = word.rsplit_once('/') {
                return Ok(self.resolve_word(element, base, Want::Ip)?.map(|ip| format!("{ip}/{len}")));
            }
        }
        let (name, suffix) = match word.split_once(':') {
            Some((name, suffix)) if !suffix.contains(':') => (name, Some(suffix)),
            Some(_) => return Ok(None),
            None => (word, None),
        };
        if !is_name(name) {
            return Ok(None);
        }
        let definition = self.lookup(element, name).ok_or(Problem::Unknown(name))?;
        let found = &definition.addresses;
        let lacks = || Problem::Lacks { name, suffix, definition };
        let lower = suffix.map(str::to_ascii_lowercase);
        let address = |kind: Option<&str>| -> Result<Option<[u8; 4]>, Problem<'w>> {
            Ok(match kind {
                None | Some("ip" | "ip4") => found.ip,
                Some("bcast") => found.prefix.map(|p| (p.network() | !p.mask()).to_be_bytes()),
                Some("gw") => found.prefix.map(|p| (p.network() | 1).to_be_bytes()),
                Some(_) => return Err(Problem::BadSuffix(name, suffix.unwrap_or(""))),
            })
        };
        let text = match (want, lower.as_deref()) {
            (Want::Ip, kind) => address(kind)?.map(ip_text),
            (Want::Prefix, Some("net" | "ipnet" | "ip4net")) => found.prefix.map(prefix_text),
            // A bare name prefers the address, as a /32, to the prefix.
            (Want::Prefix, None) => found.ip.map(|ip| format!("{}/32", ip_text(ip))).or(found.prefix.map(prefix_text)),
            (Want::Prefix, kind) => address(kind)?.map(|ip| format!("{}/32", ip_text(ip))),
            (Want::Ether, None | Some("eth" | "ether" | "ethernet")) => found.ether.map(ether_text),
            (Want::Ether, Some(_)) => return Err(Problem::BadSuffix(name, suffix.unwrap_or(""))),
        };
        text.map(Some).ok_or_else(lacks)
    }
}

/// What an argument of `kind` expects of its words, if it takes addresses.
enum Shape {
    /// The whole value is one address.
    One(Want),
    /// Every word is one.
    EachWord(Want),
    /// A route: the prefix, and the gateway when there is one.
    Route,
    /// An ARPResponder entry.
    ArpEntry,
}

fn shape(kind: ArgKind) -> Option<Shape> {
    Some(match kind {
        ArgKind::Ipv4Addr => Shape::One(Want::Ip),
        ArgKind::Ipv4Prefix => Shape::One(Want::Prefix),
        ArgKind::EtherAddr => Shape::One(Want::Ether),
        ArgKind::AddrList => Shape::EachWord(Want::Ip),
        ArgKind::PrefixList => Shape::EachWord(Want::Prefix),
        ArgKind::Route => Shape::Route,
        ArgKind::ArpEntry => Shape::ArpEntry,
        _ => return None,
    })
}

/// Resolves the AddressInfo names of a flattened graph (see the module doc): removes the
/// AddressInfo elements, reports their bad entries and any connection to one, and rewrites
/// every argument naming an address.
pub fn resolve(flat: &mut FlatGraph, catalog: Catalog, sources: &Sources, diagnostics: &mut Diagnostics) {
    let is_declaration = |class: &str| catalog.class_by_name(class).is_some_and(ElementClass::resolved_by_front_end);
    let mut names = Names::default();
    for element in flat.elements.iter().filter(|e| is_declaration(&e.class)) {
        let scope = scope_of(&element.name);
        for arg in &element.args {
            if arg.text.trim().is_empty() {
                // Click allows empty entries.
                continue;
            }
            match parse_entry(&arg.text) {
                Ok((name, addresses)) => names.define(scope, name, addresses, arg.span),
                Err(message) => diagnostics.error(arg.span, format!("bad AddressInfo entry '{}': {message}", arg.text)),
            }
        }
    }
    remove_declarations(flat, &is_declaration, diagnostics);
    let mut resolver = Resolver { names: &names, sources, diagnostics };
    for element in &mut flat.elements {
        let Some(class) = catalog.class_by_name(&element.class) else { continue };
        resolver.element(class, &element.name, &mut element.args);
    }
}

/// Drops the AddressInfo elements, renumbering the connections; a connection to one is
/// reported and dropped.
fn remove_declarations(flat: &mut FlatGraph, is_declaration: &dyn Fn(&str) -> bool, diagnostics: &mut Diagnostics) {
    let mut new_index = Vec::with_capacity(flat.elements.len());
    let mut kept = 0usize;
    for element in &flat.elements {
        if is_declaration(&element.class) {
            new_index.push(None);
        } else {
            new_index.push(Some(kept));
            kept += 1;
        }
    }
    let mut connections = Vec::with_capacity(flat.connections.len());
    for connection in flat.connections.drain(..) {
        match (new_index[connection.from], new_index[connection.to]) {
            (Some(from), Some(to)) => connections.push(crate::flatten::FlatConnection { from, to, ..connection }),
            (from, _) => {
                let element = if from.is_none() { connection.from } else { connection.to };
                diagnostics.push(
                    Diagnostic::error(connection.span, format!("'{}' is an AddressInfo, which has no ports", flat.elements[element].name))
                        .note("AddressInfo only names addresses; nothing connects to it"),
                );
            }
        }
    }
    flat.connections = connections;
    flat.elements.retain(|element| !is_declaration(&element.class));
}

struct Resolver<'a> {
    names: &'a Names,
    sources: &'a Sources,
    diagnostics: &'a mut Diagnostics,
}

impl Resolver<'_> {
    fn element(&mut self, class: &'static ElementClass, element: &str, args: &mut Vec<FlatArg>) {
        self.expand_ip_and_ether(class, element, args);
        let placements: Vec<(usize, ArgKind, &'static str, usize)> = place_arguments(class, args)
            .iter()
            .enumerate()
            .filter_map(|(index, placement)| match *placement {
                Placement::Slot { slot, value, duplicate: false } => Some((index, class.args[slot].kind, class.args[slot].keyword, value.len())),
                Placement::Repeated { value, kind } => Some((index, kind, "", value.len())),
                _ => None,
            })
            .collect();
        for (index, kind, keyword, value_len) in placements {
            let Some(shape) = shape(kind) else { continue };
            let arg = &mut args[index];
            // The value is the end of the argument's text; what precedes it is its keyword.
            let split = arg.text.len() - value_len;
            let value = arg.text[split..].to_string();
            let what = if keyword.is_empty() {
                format!("{} {}", class.name, class.repeated.map_or("argument", |r| r.noun))
            } else {
                format!("{} argument {keyword}", class.name)
            };
            if let Some(resolved) = self.value(element, &value, &shape, &what, arg.span) {
                arg.text = format!("{}{resolved}", &arg.text[..split]);
            }
        }
    }

    /// `ARPQuerier(NAME)`: a lone positional NAME for an IP argument followed by a positional
    /// Ethernet one that nothing else gives stands for both, as in Click.
    fn expand_ip_and_ether(&mut self, class: &ElementClass, element: &str, args: &mut Vec<FlatArg>) {
        let placements = place_arguments(class, args);
        let positional: Vec<usize> = placements
            .iter()
            .enumerate()
            .filter(|(index, _)| crate::args::keyword_of(&args[*index].text).is_none_or(|(word, _)| class.arg(word).is_none()))
            .map(|(index, _)| index)
            .collect();
        let [only] = positional[..] else { return };
        let Placement::Slot { slot, value, duplicate: false } = placements[only] else { return };
        let (Some(this), Some(next)) = (class.args.get(slot), class.args.get(slot + 1)) else { return };
        let next_given = placements.iter().any(|p| matches!(p, Placement::Slot { slot: s, .. } if *s == slot + 1));
        if !matches!(this.kind, ArgKind::Ipv4Addr | ArgKind::Ipv4Prefix)
            || next.kind != ArgKind::EtherAddr
            || next.mode != ArgMode::Positional
            || next_given
            || !is_name(value)
        {
            return;
        }
        if self.names.lookup(element, value).is_some_and(|d| d.addresses.ether.is_some()) {
            let copy = FlatArg { text: value.to_string(), span: args[only].span };
            args.insert(only + 1, copy);
        }
    }

    /// The rewritten value, when any of its words named an address (errors reported).
    fn value(&mut self, element: &str, value: &str, shape: &Shape, what: &str, span: Option<Span>) -> Option<String> {
        let words: Vec<&str> = value.split_whitespace().collect();
        let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let mut changed = false;
        match shape {
            Shape::One(want) => {
                if let [word] = words[..] {
                    changed |= self.word(element, word, *want, what, span, &mut out[0]);
                }
            }
            Shape::EachWord(want) => {
                for (word, slot) in words.iter().zip(out.iter_mut()) {
                    changed |= self.word(element, word, *want, what, span, slot);
                }
            }
            Shape::Route => {
                if let Some(first) = out.first_mut() {
                    changed |= self.word(element, words[0], Want::Prefix, what, span, first);
                }
                if words.len() == 3 {
                    changed |= self.word(element, words[1], Want::Ip, what, span, &mut out[1]);
                }
            }
            Shape::ArpEntry => changed |= self.arp_entry(element, &words, what, span, &mut out),
        }
        changed.then(|| out.join(" "))
    }

    /// Resolves one word into `slot`; returns whether it changed.
    fn word(&mut self, element: &str, word: &str, want: Want, what: &str, span: Option<Span>, slot: &mut String) -> bool {
        match self.names.resolve_word(element, word, want) {
            Ok(Some(text)) => {
                *slot = text;
                true
            }
            Ok(None) => false,
            Err(problem) => {
                self.report(problem, want, what, word, span);
                *slot = want.stand_in().to_string();
                true
            }
        }
    }

    /// An ARPResponder entry: each name gives its address (or prefix), or its Ethernet address
    /// when it has neither; when no word gives an Ethernet address, the first name that has one
    /// gives it too (`ARPResponder(NAME)`).
    fn arp_entry(&mut self, element: &str, words: &[&str], what: &str, span: Option<Span>, out: &mut Vec<String>) -> bool {
        let mut changed = false;
        let mut has_ether = words.iter().any(|w| cv::parse_ether(w).is_ok());
        let mut extra_ether = None;
        for (word, slot) in words.iter().zip(out.iter_mut()) {
            if Want::Prefix.is_literal(word) || Want::Ether.is_literal(word) {
                continue;
            }
            let base = word.split_once(':').map_or(*word, |(name, _)| name);
            let Some(definition) = self.names.lookup(element, base).filter(|_| is_name(base)) else {
                changed |= self.word(element, word, Want::Prefix, what, span, slot);
                continue;
            };
            let found = definition.addresses;
            let suffix = word.split_once(':').map(|(_, s)| s.to_ascii_lowercase());
            let wants_ether = matches!(suffix.as_deref(), Some("eth" | "ether" | "ethernet"))
                || (suffix.is_none() && found.ip.is_none() && found.prefix.is_none());
            if wants_ether {
                changed |= self.word(element, word, Want::Ether, what, span, slot);
                has_ether = true;
            } else {
                changed |= self.word(element, word, Want::Prefix, what, span, slot);
                if suffix.is_none() && extra_ether.is_none() {
                    extra_ether = found.ether;
                }
            }
        }
        if let (false, Some(ether)) = (has_ether, extra_ether) {
            out.push(ether_text(ether));
            changed = true;
        }
        changed
    }

    fn report(&mut self, problem: Problem<'_>, want: Want, what: &str, word: &str, span: Option<Span>) {
        let diagnostic = match problem {
            Problem::Unknown(name) => Diagnostic::error(
                span,
                format!("bad {what} '{word}': '{name}' is not an {} and no AddressInfo in scope names it", want.noun()),
            )
            .note("AddressInfo(NAME ADDRESS [ADDRESS...], ...) gives names to addresses, within the compound it is declared in"),
            Problem::BadSuffix(name, suffix) => Diagnostic::error(span, format!("bad {what} '{word}': ':{suffix}' gives no {} of '{name}'", want.noun()))
                .note("an IPv4 address is NAME:ip, NAME:bcast or NAME:gw; a prefix NAME:ipnet; an Ethernet address NAME:eth"),
            Problem::Lacks { name, suffix, definition } => {
                let needed = match (want, suffix.map(str::to_ascii_lowercase).as_deref()) {
                    (_, Some("bcast" | "gw" | "net" | "ipnet" | "ip4net")) => "IPv4 prefix",
                    (Want::Prefix, None) => "IPv4 address or prefix",
                    (Want::Ether, _) => "Ethernet address",
                    _ => "IPv4 address",
                };
                Diagnostic::error(span, format!("bad {what} '{word}': '{name}' names no {needed}"))
                    .label(definition.span, format!("'{name}' is declared here"))
                    .note(format!(
                    "'{name}' is declared at {} with: {}",
                    position(self.sources, definition.span),
                    definition.addresses.describe()
                ))
            }
        };
        self.diagnostics.push(diagnostic);
    }
}
