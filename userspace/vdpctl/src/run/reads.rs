//! `--read ELEMENT.HANDLER`: checked against the graph before the run, printed after it.

use super::prepare::Prepared;
use crate::graph::split_target;
use anyhow::{bail, Result};

/// A handler to read after the run.
#[derive(Debug, PartialEq, Eq)]
pub struct Read {
    /// As given: `c.count`.
    pub target: String,
    /// In the merged graph: `TENANT/c`.
    pub element: String,
    pub handler: String,
}

/// Checks each target names an element of the tenant's configuration and one of its class's
/// read handlers; every bad target is listed.
pub fn targets(reads: &[String], prepared: &Prepared) -> Result<Vec<Read>> {
    let mut problems = Vec::new();
    let mut found = Vec::new();
    for target in reads {
        let (element, handler) = match split_target(target) {
            Ok(parts) => parts,
            Err(e) => {
                problems.push(format!("--read {e}"));
                continue;
            }
        };
        let full = format!("{}/{element}", prepared.tenant);
        let Some((_, class)) = prepared.elements.iter().find(|(name, _)| *name == full) else {
            problems.push(format!("--read {target}: the configuration has no element '{element}'"));
            continue;
        };
        if !class.read_handlers.contains(&handler) {
            let has = match class.read_handlers {
                [] => "it has no read handlers".to_string(),
                handlers => format!("its read handlers are {}", handlers.join(", ")),
            };
            problems.push(format!("--read {target}: {element} ({}) has no read handler '{handler}'; {has}", class.name));
            continue;
        }
        found.push(Read { target: target.clone(), element: full, handler: handler.to_string() });
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(found)
}

/// `TARGET: VALUE`; a value of several lines goes below the target, each line indented.
pub fn format(target: &str, value: &str) -> String {
    let value = value.strip_suffix('\n').unwrap_or(value);
    if value.is_empty() {
        return format!("{target}:\n");
    }
    if !value.contains('\n') {
        return format!("{target}: {value}\n");
    }
    let mut text = format!("{target}:\n");
    for line in value.lines() {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    text
}
