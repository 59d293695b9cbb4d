//! Prints a flat graph as Click text that parses back to the same graph, or as JSON.

use crate::flatten::FlatGraph;
use std::fmt::Write as _;

/// Words that start statements and so cannot be element names in printed text.
const RESERVED: &[&str] = &["elementclass", "require", "define", "input", "output"];

/// Whether `name` prints as a single word the parser reads back as the same name.
pub fn is_printable_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !name.is_empty()
        && !RESERVED.contains(&name)
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'@' | b'.' | b'/'))
        && !name.contains("//")
        && !name.contains("/*")
        && !name.starts_with('/')
        && !name.ends_with('/')
        && !bytes.iter().all(|b| b.is_ascii_digit())
}

/// Click text: every element declared by name, then every connection.
pub fn to_click(graph: &FlatGraph, header: &str) -> String {
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "// {line}");
    }
    for element in &graph.elements {
        if element.args.is_empty() {
            let _ = writeln!(out, "{} :: {};", element.name, element.class);
        } else {
            let _ = writeln!(out, "{} :: {}({});", element.name, element.class, element.config());
        }
    }
    if !graph.connections.is_empty() {
        out.push('\n');
    }
    for connection in &graph.connections {
        let _ = writeln!(
            out,
            "{} [{}] -> [{}] {};",
            graph.elements[connection.from].name, connection.from_port, connection.to_port, graph.elements[connection.to].name
        );
    }
    out
}

/// JSON: elements with their arguments, and connections by element name.
pub fn to_json(graph: &FlatGraph) -> serde_json::Value {
    serde_json::json!({
        "elements": graph.elements.iter().map(|e| serde_json::json!({
            "name": e.name,
            "class": e.class,
            "args": e.args.iter().map(|a| a.text.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "connections": graph.connections.iter().map(|c| serde_json::json!({
            "from": graph.elements[c.from].name,
            "from_port": c.from_port,
            "to": graph.elements[c.to].name,
            "to_port": c.to_port,
        })).collect::<Vec<_>>(),
    })
}
