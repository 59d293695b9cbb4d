//! Flattens parsed scopes into one graph of primitive elements: compounds are expanded into
//! `instance/inner` elements, `$variables` are substituted, and connections through compound
//! ports are joined end to end.

use crate::args::split_args;
use crate::parser::{CompoundClass, Scope, INPUT_PSEUDO, OUTPUT_PSEUDO};
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
}

/// Flattens a parsed file.
pub fn flatten(scope: &Scope, diagnostics: &mut Diagnostics) -> FlatGraph {
    let mut flattener = Flattener {
        graph: FlatGraph::default(),
        edges: Vec::new(),
        compound_count: 0,
        compound_names: Vec::new(),
        globals: &scope.defines,
        diagnostics,
    };
    flattener.instantiate(scope, &[scope], "", &HashMap::new(), None, 0);
    flattener.join_edges();
    flattener.check_unique_names();
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
    fn expand(&mut self, text: &str, bindings: &HashMap<String, String>, span: Option<Span>) -> String {
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
                    if let Some(value) = bindings.get(name) {
                        out.push_str(value);
                    } else if let Some(define) = self.globals.iter().find(|d| d.name == name) {
                        out.push_str(&define.value);
                    } else {
                        self.diagnostics.error(span, format!("undefined variable '${name}'"));
                        out.push_str(&text[at..end]);
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
        out
    }

    fn args_of(&mut self, config: &Option<(String, Span)>, bindings: &HashMap<String, String>) -> Vec<FlatArg> {
        let Some((text, span)) = config else { return vec![] };
        split_args(text)
            .into_iter()
            .map(|arg| {
                let arg_span = Span::new(span.file, span.start + arg.start, span.start + arg.end);
                FlatArg { text: self.expand(&arg.text, bindings, Some(arg_span)), span: Some(arg_span) }
            })
            .collect()
    }

    /// Expands one scope under `prefix`. `ports` are this instance's compound port nodes.
    fn instantiate(
        &mut self,
        scope: &Scope,
        chain: &[&Scope],
        prefix: &str,
        bindings: &HashMap<String, String>,
        ports: Option<(usize, usize)>,
        depth: usize,
    ) {
        let mut inputs_of = Vec::with_capacity(scope.elements.len());
        let mut outputs_of = Vec::with_capacity(scope.elements.len());
        for (index, decl) in scope.elements.iter().enumerate() {
            if scope.is_compound && (index == INPUT_PSEUDO || index == OUTPUT_PSEUDO) {
                let (input, output) = ports.expect("compound scopes are instantiated with ports");
                inputs_of.push(Node::CompoundOutput(output));
                outputs_of.push(Node::CompoundInput(input));
                continue;
            }
            let name = format!("{prefix}{}", decl.name);
            let args = self.args_of(&decl.config, bindings);
            match self.lookup_class(&decl.class, chain) {
                Some(class) if depth >= MAX_COMPOUND_DEPTH => {
                    self.diagnostics.push(
                        Diagnostic::error(decl.class_span, format!("compound '{}' nests too deeply", class.name))
                            .note("a compound class that contains itself never ends"),
                    );
                    inputs_of.push(Node::Real(usize::MAX));
                    outputs_of.push(Node::Real(usize::MAX));
                }
                Some(class) => {
                    let id = self.compound_count;
                    self.compound_count += 1;
                    self.compound_names.push(name.clone());
                    if args.len() != class.formals.len() {
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
                    let mut inner = bindings.clone();
                    for ((formal, _), arg) in class.formals.iter().zip(&args) {
                        inner.insert(formal.clone(), arg.text.clone());
                    }
                    let mut inner_chain = chain.to_vec();
                    inner_chain.push(&class.body);
                    self.instantiate(&class.body, &inner_chain, &format!("{name}/"), &inner, Some((id, id)), depth + 1);
                    inputs_of.push(Node::CompoundInput(id));
                    outputs_of.push(Node::CompoundOutput(id));
                }
                None => {
                    self.graph.elements.push(FlatElement {
                        name,
                        class: decl.class.clone(),
                        args,
                        span: Some(decl.span),
                        class_span: Some(decl.class_span),
                        root: false,
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
            if from == Node::Real(usize::MAX) || to == Node::Real(usize::MAX) {
                continue;
            }
            self.edges.push(Edge { from, from_port: connection.from_port, to, to_port: connection.to_port, span: connection.span });
        }
    }

    /// Replaces paths through compound ports by direct connections between real elements.
    fn join_edges(&mut self) {
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
                                if reported.insert((virtual_node, edge.to_port)) {
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
                self.diagnostics.push(Diagnostic::error(element.span, message).note(format!(
                    "the other is an element of class {}",
                    self.graph.elements[first].class
                )));
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
        assert_eq!(errors.len(), 8, "{errors:?}");
        let (_, errors) = flat("elementclass Loop { input -> Loop -> output }\nIdle -> Loop -> Discard;");
        assert!(errors.iter().any(|e| e.contains("nests too deeply")), "{errors:?}");
    }

    #[test]
    fn single_quotes_block_expansion() {
        let (graph, errors) = flat("define($X 1)\nInfiniteSource('$X', $X) -> Discard;");
        assert!(errors.is_empty());
        assert_eq!(graph.elements[0].config(), "'$X', 1");
    }
}
