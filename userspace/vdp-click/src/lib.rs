//! The Click front end of vdp: reads tenant configurations in the Click language, checks them
//! against the element catalog, merges them into one graph and compiles it for the kernel.

pub mod args;
pub mod check;
pub mod flatten;
pub mod lexer;
pub mod parser;
pub mod print;
pub mod source;
pub mod values;

use check::{CheckOptions, CheckedGraph};
use flatten::FlatGraph;
use source::{Diagnostics, FileId, Sources};

/// A file read, parsed and flattened.
pub struct Loaded {
    pub file: FileId,
    pub flat: FlatGraph,
}

/// Parses and flattens one configuration text; errors go to `diagnostics`.
pub fn load(sources: &mut Sources, name: &str, text: &str, diagnostics: &mut Diagnostics) -> Loaded {
    let file = sources.add(name, text);
    let scope = parser::parse(file, text, diagnostics);
    let flat = flatten::flatten(&scope, diagnostics);
    Loaded { file, flat }
}

/// Parses, flattens and checks one configuration text.
pub fn check_text(sources: &mut Sources, name: &str, text: &str, options: &CheckOptions, diagnostics: &mut Diagnostics) -> (FlatGraph, CheckedGraph) {
    let loaded = load(sources, name, text, diagnostics);
    let checked = check::check(&loaded.flat, options, diagnostics);
    (loaded.flat, checked)
}
