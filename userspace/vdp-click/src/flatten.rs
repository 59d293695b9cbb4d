//! Flattens parsed scopes into one graph of primitive elements: compounds are expanded into
//! `instance/inner` elements, `$variables` are substituted, and connections through compound
//! ports are joined end to end.

use crate::args::split_args;
use crate::parser::{CompoundClass, Damage, Scope, INPUT_PSEUDO, OUTPUT_PSEUDO};
use crate::source::{Diagnostic, Diagnostics, Span};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// One argument of a flattened element, variables already substituted.
#[derive(Clone, Debug, Serialize)]
pub struct FlatArg {
    pub text: String,
    #[serde(skip)]
    pub span: Option<Span>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FlatElement {
    pub name: String,
    pub class: String,
    pub args: Vec<FlatArg>,
    #[serde(skip)]
    pub span: Option<Span>,
    #[serde(skip)]
    pub class_span: Option<Span>,
    /// Added by the coordinator on the root's behalf (a bandwidth shaper, a split queue): the
    /// tenant may read its handlers and write none. Never set for what a tenant wrote.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub root: bool,
    /// What an error already reported leaves unknown about it ([`Damage`]); `None` for every
    /// element of a configuration without errors.
    #[serde(skip)]
    pub damage: Damage,
}

impl FlatElement {
    /// The configuration string, arguments joined the way Click prints them.
    pub fn config(&self) -> String {
        self.args.iter().map(|a| a.text.as_str()).collect::<Vec<_>>().join(", ")
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct FlatConnection {
    pub from: usize,
    pub from_port: u16,
    pub to: usize,
    pub to_port: u16,
    #[serde(skip)]
    pub span: Option<Span>,
}

/// A configuration reduced to primitive elements and the connections between them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FlatGraph {
    pub elements: Vec<FlatElement>,
    pub connections: Vec<FlatConnection>,
}

impl FlatGraph {
    pub fn find(&self, name: &str) -> Option<usize> {
        self.elements.iter().position(|e| e.name == name)
    }

    /// The graph with spans dropped and connections sorted: what "the same graph" means.
    pub fn canonical(&self) -> (Vec<(String, String, Vec<String>)>, Vec<(String, u16, String, u16)>) {
        let mut elements: Vec<_> = self
            .elements
            .iter()
            .map(|e| (e.name.clone(), e.class.clone(), e.args.iter().map(|a| a.text.clone()).collect()))
            .collect();
        elements.sort();
        let mut connections: Vec<_> = self
            .connections
            .iter()
            .map(|c| (self.elements[c.from].name.clone(), c.from_port, self.elements[c.to].name.clone(), c.to_port))
            .collect();
        connections.sort();
        connections.dedup();
        (elements, connections)
    }
}

/// Deepest nesting of compound instances; deeper means a class that contains itself.
const MAX_COMPOUND_DEPTH: usize = 32;

/// Most elements and connections a configuration may expand to: compounds of compounds can
/// multiply without bound, and the kernel takes 4096 elements at most.
pub const MAX_FLAT_ELEMENTS: usize = 65_536;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Node {
    Real(usize),
    /// A compound instance's input ports: outside connections arrive, inside ones leave.
    CompoundInput(usize),
    /// A compound instance's output ports: inside connections arrive, outside ones leave.
    CompoundOutput(usize),
}

struct Edge {
    from: Node,
    from_port: u16,
    to: Node,
    to_port: u16,
    span: Span,
}

struct Flattener<'a> {
    graph: FlatGraph,
    edges: Vec<Edge>,
    compound_count: usize,
    compound_names: Vec<String>,
    globals: &'a [crate::parser::Define],
    diagnostics: &'a mut Diagnostics,
    /// Compound instances whose port paths are unknown: connections to them, or inside their
    /// class, were in text that did not parse.
    damaged_instances: HashSet<usize>,
    /// The file's end was lost to an unterminated construct.
    truncated: bool,
    /// See [`Scope::defines_unknown`].
    defines_unknown: bool,
    /// Undefined variables reported, by place: each compound instance would repeat them.
    reported_variables: HashSet<(Span, String)>,
    /// The compound classes being expanded, outermost first: one met again contains itself.
    expanding: Vec<*const CompoundClass>,
    /// Where a compound was found to contain itself: each instance would repeat it.
    reported_cycles: HashSet<Span>,
    /// The expansion passed [`MAX_FLAT_ELEMENTS`] and stopped (reported).
    overflowed: bool,
}

/// A variable's value in a compound instance; `None` when it is unknown (its argument was
/// missing or unknown itself), which is not an error of its own.
type Bindings = HashMap<String, Option<String>>;

/// Flattens a parsed file.
pub fn flatten(scope: &Scope, diagnostics: &mut Diagnostics) -> FlatGraph {
    let mut flattener = Flattener {
        graph: FlatGraph::default(),
        edges: Vec::new(),
        compound_count: 0,
        compound_names: Vec::new(),
        globals: &scope.defines,
        diagnostics,
        damaged_instances: HashSet::new(),
        truncated: scope.truncated,
        defines_unknown: scope.defines_unknown,
        reported_variables: HashSet::new(),
        expanding: Vec::new(),
        reported_cycles: HashSet::new(),
        overflowed: false,
    };
    flattener.instantiate(scope, &[scope], "", &HashMap::new(), None, 0, Damage::None);
    flattener.join_edges();
    flattener.check_unique_names();
    if flattener.truncated || flattener.overflowed {
        // The lost (or unexpanded) text may have connected any of them.
        for element in &mut flattener.graph.elements {
            element.damage.worsen(Damage::Connections);
        }
    }
    flattener.graph
}

impl Flattener<'_> {
    fn lookup_class<'s>(&self, name: &str, chain: &[&'s Scope]) -> Option<&'s CompoundClass> {
        let mut name = name.to_string();
        for _ in 0..MAX_COMPOUND_DEPTH {
            let class = chain.iter().rev().find_map(|scope| scope.classes.iter().find(|c| c.name == name))?;
            match &class.synonym_of {
                Some((other, _)) => name = other.clone(),
                None => return Some(class),
            }
        }
        None
    }

    /// Substitutes `$name` outside single quotes, innermost binding first, then global defines.
    /// The flag says a variable's value is unknown (undefined, reported once per place; or
    /// unknown after an earlier error).
    fn expand(&mut self, text: &str, bindings: &Bindings, span: Option<Span>) -> (String, bool) {
        let mut unknown = false;
        let mut out = String::new();
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            match bytes[at] {
                b'\'' => {
                    let close = crate::lexer::quote_end(text, at).unwrap_or(bytes.len() - 1);
                    out.push_str(&text[at..=close]);
                    at = close + 1;
                }
                b'\\' if at + 1 < bytes.len() => {
                    let width = text[at + 1..].chars().next().map_or(1, char::len_utf8);
                    out.push_str(&text[at..at + 1 + width]);
                    at += 1 + width;
                }
                b'$' => {
                    let end = text[at + 1..]
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .map_or(text.len(), |n| at + 1 + n);
                    let name = &text[at + 1..end];
                    let value = match bindings.get(name) {
                        Some(value) => Some(value.as_deref()),
                        None => self.globals.iter().find(|d| d.name == name).map(|d| d.value.as_deref()),
                    };
                    match value {
                        Some(Some(value)) => out.push_str(value),
                        Some(None) => {
                            unknown = true;
                            out.push_str(&text[at..end]);
                        }
                        None => {
                            unknown = true;
                            let first = span.is_none_or(|span| self.reported_variables.insert((span, name.to_string())));
                            if first && !self.defines_unknown {
                                self.diagnostics.error(span, format!("undefined variable '${name}'"));
                            }
                            out.push_str(&text[at..end]);
                        }
                    }
                    at = end.max(at + 1);
                }
                _ => {
                    let width = text[at..].chars().next().map_or(1, char::len_utf8);
                    out.push_str(&text[at..at + width]);
                    at += width;
                }
            }
        }
        (out, unknown)
    }

    /// The arguments, each with whether its value is unknown.
    fn args_of(&mut self, config: &Option<(String, Span)>, bindings: &Bindings) -> Vec<(FlatArg, bool)> {
        let Some((text, span)) = config else { return vec![] };
        split_args(text)
            .into_iter()
            .map(|arg| {
                let arg_span = Span::new(span.file, span.start + arg.start, span.start + arg.end);
                let (text, unknown) = self.expand(&arg.text, bindings, Some(arg_span));
                (FlatArg { text, span: Some(arg_span) }, unknown)
            })
            .collect()
    }

    /// An element about which nothing is known (its declaration failed, its class is broken or
    /// nests without end): it keeps its place so that its connections stay, and no rule
    /// checks it.
    fn placeholder(&mut self, name: String, decl: &crate::parser::ElementDecl) -> usize {
        self.graph.elements.push(FlatElement {
            name,
            class: decl.class.clone(),
            args: vec![],
            span: Some(decl.span),
            class_span: Some(decl.class_span),
            root: false,
            damage: Damage::Declaration,
        });
        self.graph.elements.len() - 1
    }

    /// Expands one scope under `prefix`. `ports` are this instance's compound port nodes;
    /// `inherited` is the damage of the instance, which its elements share.
    #[allow(clippy::too_many_arguments)]
    fn instantiate(
        &mut self,
        scope: &Scope,
        chain: &[&Scope],
        prefix: &str,
        bindings: &Bindings,
        ports: Option<(usize, usize)>,
        depth: usize,
        inherited: Damage,
    ) {
        let mut inputs_of = Vec::with_capacity(scope.elements.len());
        let mut outputs_of = Vec::with_capacity(scope.elements.len());
        for (index, decl) in scope.elements.iter().enumerate() {
            if self.graph.elements.len() + self.edges.len() > MAX_FLAT_ELEMENTS && !self.overflowed {
                self.overflowed = true;
                self.diagnostics.push(
                    Diagnostic::error(decl.span, format!("the configuration expands to more than {MAX_FLAT_ELEMENTS} elements and connections"))
                        .note("compounds inside compounds multiply; the kernel takes at most 4096 elements"),
                );
            }
            if self.overflowed {
                return;
            }
            if scope.is_compound && (index == INPUT_PSEUDO || index == OUTPUT_PSEUDO) {
                let (input, output) = ports.expect("compound scopes are instantiated with ports");
                // A failed statement of the class named its ports.
                if decl.damage > Damage::None {
                    self.damaged_instances.insert(input);
                }
                inputs_of.push(Node::CompoundOutput(output));
                outputs_of.push(Node::CompoundInput(input));
                continue;
            }
            let name = format!("{prefix}{}", decl.name);
            if decl.damage == Damage::Declaration {
                let index = self.placeholder(name, decl);
                inputs_of.push(Node::Real(index));
                outputs_of.push(Node::Real(index));
                continue;
            }
            let args = self.args_of(&decl.config, bindings);
            match self.lookup_class(&decl.class, chain) {
                Some(class) if class.broken => {
                    let index = self.placeholder(name, decl);
                    inputs_of.push(Node::Real(index));
                    outputs_of.push(Node::Real(index));
                }
                Some(class) if self.expanding.contains(&(class as *const CompoundClass)) => {
                    if self.reported_cycles.insert(decl.class_span) {
                        self.diagnostics.push(
                            Diagnostic::error(decl.class_span, format!("compound '{}' contains itself", class.name))
                                .note("a compound class that contains itself never ends"),
                        );
                    }
                    let index = self.placeholder(name, decl);
                    inputs_of.push(Node::Real(index));
                    outputs_of.push(Node::Real(index));
                }
                Some(class) if depth >= MAX_COMPOUND_DEPTH => {
                    self.diagnostics.push(
                        Diagnostic::error(decl.class_span, format!("compound '{}' nests too deeply", class.name))
                            .note(format!("compounds nest at most {MAX_COMPOUND_DEPTH} deep")),
                    );
                    let index = self.placeholder(name, decl);
                    inputs_of.push(Node::Real(index));
                    outputs_of.push(Node::Real(index));
                }
                Some(class) => {
                    let id = self.compound_count;
                    self.compound_count += 1;
                    self.compound_names.push(name.clone());
                    // An instance whose configuration is unknown has unknown parameters, not a
                    // wrong number of them.
                    if args.len() != class.formals.len() && decl.damage < Damage::Configuration {
                        self.diagnostics.push(
                            Diagnostic::error(
                                decl.config.as_ref().map_or(decl.class_span, |c| c.1),
                                format!(
                                    "compound '{}' takes {} argument{}, but {} were given",
                                    class.name,
                                    class.formals.len(),
                                    if class.formals.len() == 1 { "" } else { "s" },
                                    args.len()
                                ),
                            )
                            .note(format!(
                                "parameters: {}",
                                class.formals.iter().map(|(f, _)| format!("${f}")).collect::<Vec<_>>().join(", ")
                            )),
                        );
                    }
                    // Given the wrong number of arguments, which is which is unknown.
                    let counted = args.len() == class.formals.len();
                    let mut inner = bindings.clone();
                    for (position, (formal, _)) in class.formals.iter().enumerate() {
                        let value = args.get(position).filter(|(_, unknown)| !unknown && counted).map(|(arg, _)| arg.text.clone());
                        inner.insert(formal.clone(), value);
                    }
                    let mut damage = inherited;
                    if decl.damage > Damage::None {
                        self.damaged_instances.insert(id);
                        damage.worsen(Damage::Connections);
                    }
                    let mut inner_chain = chain.to_vec();
                    inner_chain.push(&class.body);
                    self.expanding.push(class);
                    self.instantiate(&class.body, &inner_chain, &format!("{name}/"), &inner, Some((id, id)), depth + 1, damage);
                    self.expanding.pop();
                    inputs_of.push(Node::CompoundInput(id));
                    outputs_of.push(Node::CompoundOutput(id));
                }
                None => {
                    let mut damage = decl.damage.max(inherited);
                    if args.iter().any(|(_, unknown)| *unknown) {
                        damage.worsen(Damage::Configuration);
                    }
                    self.graph.elements.push(FlatElement {
                        name,
                        class: decl.class.clone(),
                        args: args.into_iter().map(|(arg, _)| arg).collect(),
                        span: Some(decl.span),
                        class_span: Some(decl.class_span),
                        root: false,
                        damage,
                    });
                    let index = self.graph.elements.len() - 1;
                    inputs_of.push(Node::Real(index));
                    outputs_of.push(Node::Real(index));
                }
            }
        }
        for connection in &scope.connections {
            let from = outputs_of[connection.from];
            let to = inputs_of[connection.to];
            self.edges.push(Edge { from, from_port: connection.from_port, to, to_port: connection.to_port, span: connection.span });
        }
    }

    /// The compound instance a port node belongs to.
    fn instance_of(node: Node) -> Option<usize> {
        match node {
            Node::Real(_) => None,
            Node::CompoundInput(id) | Node::CompoundOutput(id) => Some(id),
        }
    }

    /// Damage spreads along connections through compound ports: an instance whose port paths
    /// are unknown leaves the paths of whatever connects to it unknown too.
    fn spread_damage(&mut self) {
        // Instances joined by a connection between their ports, walked from the damaged ones.
        let mut joined: HashMap<usize, Vec<usize>> = HashMap::new();
        for edge in &self.edges {
            if let (Some(a), Some(b)) = (Self::instance_of(edge.from), Self::instance_of(edge.to)) {
                joined.entry(a).or_default().push(b);
                joined.entry(b).or_default().push(a);
            }
        }
        let mut pending: Vec<usize> = self.damaged_instances.iter().copied().collect();
        while let Some(id) = pending.pop() {
            for &next in joined.get(&id).map_or(&[][..], Vec::as_slice) {
                if self.damaged_instances.insert(next) {
                    pending.push(next);
                }
            }
        }
        for edge in &self.edges {
            for (node, other) in [(edge.from, edge.to), (edge.to, edge.from)] {
                if let (Node::Real(index), Some(id)) = (node, Self::instance_of(other)) {
                    if self.damaged_instances.contains(&id) {
                        self.graph.elements[index].damage.worsen(Damage::Connections);
                    }
                }
            }
        }
    }

    /// Replaces paths through compound ports by direct connections between real elements.
    fn join_edges(&mut self) {
        self.spread_damage();
        let mut leaving: HashMap<(Node, u16), Vec<usize>> = HashMap::new();
        for (index, edge) in self.edges.iter().enumerate() {
            leaving.entry((edge.from, edge.from_port)).or_default().push(index);
        }
        let mut reported = HashSet::new();
        for start in 0..self.edges.len() {
            let Node::Real(from) = self.edges[start].from else { continue };
            let from_port = self.edges[start].from_port;
            let mut pending = vec![(start, 0usize)];
            let mut visited = HashSet::new();
            while let Some((index, hops)) = pending.pop() {
                let edge = &self.edges[index];
                match edge.to {
                    Node::Real(to) => self.graph.connections.push(FlatConnection {
                        from,
                        from_port,
                        to,
                        to_port: edge.to_port,
                        span: Some(self.edges[start].span),
                    }),
                    virtual_node => {
                        if !visited.insert((virtual_node, edge.to_port)) || hops > 4 * MAX_COMPOUND_DEPTH {
                            continue;
                        }
                        match leaving.get(&(virtual_node, edge.to_port)) {
                            Some(next) => pending.extend(next.iter().map(|n| (*n, hops + 1))),
                            None => {
                                // The connection ends nowhere, so its first element's port is
                                // unconnected: a consequence of this error, or of an earlier one.
                                self.graph.elements[from].damage.worsen(Damage::Connections);
                                let known = !self.truncated && !self.overflowed && Self::instance_of(virtual_node).is_some_and(|id| !self.damaged_instances.contains(&id));
                                if known && reported.insert((virtual_node, edge.to_port)) {
                                    let message = match virtual_node {
                                        Node::CompoundInput(id) => format!(
                                            "'{}' input {} leads nowhere: the compound never uses its input [{}]",
                                            self.compound_names[id], edge.to_port, edge.to_port
                                        ),
                                        Node::CompoundOutput(id) => {
                                            format!("output {} of '{}' is not connected", edge.to_port, self.compound_names[id])
                                        }
                                        Node::Real(_) => unreachable!("handled above"),
                                    };
                                    self.diagnostics.error(edge.span, message);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn check_unique_names(&mut self) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, element) in self.graph.elements.iter().enumerate() {
            if let Some(first) = seen.insert(&element.name, index) {
                let message = format!("two elements are named '{}' after flattening", element.name);
                let other = &self.graph.elements[first];
                self.diagnostics.push(
                    Diagnostic::error(element.span, message)
                        .label(other.span, "the other one")
                        .note(format!("the other is an element of class {}", other.class)),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn flat(text: &str) -> (FlatGraph, Vec<String>) {
        let mut diagnostics = Diagnostics::default();
        let scope = crate::parser::parse(FileId(0), text, &mut diagnostics);
        let graph = flatten(&scope, &mut diagnostics);
        (graph, diagnostics.items.into_iter().filter(|d| d.is_error()).map(|d| d.message).collect())
    }

    fn connections(graph: &FlatGraph) -> Vec<String> {
        graph.canonical().1.into_iter().map(|(a, p, b, q)| format!("{a}[{p}]->[{q}]{b}")).collect()
    }

    #[test]
    fn expands_compounds_with_parameters() {
        let (graph, errors) = flat(
            "define($SIZE 20)\n\
             elementclass Guard { $len | input -> c :: CheckLength($len) -> output; c[1] -> Discard }\n\
             elementclass Pair { input -> a :: Guard($SIZE) -> b :: Guard(100) -> output }\n\
             src :: InfiniteSource -> p :: Pair -> Discard;",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<_> = graph.elements.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["src", "p/a/c", "p/a/Discard@2", "p/b/c", "p/b/Discard@2", "Discard@3"]);
        assert_eq!(graph.elements[1].config(), "20");
        assert_eq!(graph.elements[3].config(), "100");
        assert_eq!(
            connections(&graph),
            ["p/a/c[0]->[0]p/b/c", "p/a/c[1]->[0]p/a/Discard@2", "p/b/c[0]->[0]Discard@3", "p/b/c[1]->[0]p/b/Discard@2", "src[0]->[0]p/a/c"]
        );
    }

    #[test]
    fn passthrough_compound_and_errors() {
        let (graph, errors) = flat("elementclass Wire { input -> output }\nIdle -> Wire -> Discard;");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(connections(&graph), ["Idle@1[0]->[0]Discard@3"]);
        let (_, errors) = flat("elementclass W { $a | input -> Strip($b) -> output }\nIdle -> W -> [1]W2 :: W(1,2); Idle -> W(3);");
        // The undefined variable is reported once, not once per instance.
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert_eq!(errors.iter().filter(|e| e.contains("undefined variable '$b'")).count(), 1, "{errors:?}");
        let (_, errors) = flat("elementclass Loop { input -> Loop -> output }\nIdle -> Loop -> Discard;");
        assert_eq!(errors, ["compound 'Loop' contains itself"]);
        // Through another class too, and however often: each place once, found at once.
        let (_, errors) = flat("elementclass A { input -> B -> B -> output }\nelementclass B { input -> a :: A -> b :: A -> output }\nIdle -> A -> Discard;");
        assert_eq!(errors, ["compound 'A' contains itself", "compound 'A' contains itself"]);
        // Compounds that multiply without containing themselves stop at the bound, with one error.
        let mut text = String::from("elementclass C0 { input -> Counter -> output }\n");
        for level in 1..24 {
            text.push_str(&format!("elementclass C{level} {{ input -> C{p} -> C{p} -> output }}\n", p = level - 1));
        }
        text.push_str("Idle -> C23 -> Discard;");
        let (graph, errors) = flat(&text);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("expands to more than"), "{errors:?}");
        assert!(graph.elements.len() <= MAX_FLAT_ELEMENTS + 1);
    }

    #[test]
    fn single_quotes_block_expansion() {
        let (graph, errors) = flat("define($X 1)\nInfiniteSource('$X', $X) -> Discard;");
        assert!(errors.is_empty());
        assert_eq!(graph.elements[0].config(), "'$X', 1");
    }
}
