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
        // A handler that takes a parameter is given with it after a space (`rt.lookup 10.0.0.1`),
        // and the parameter may hold dots of its own.
        let (named, parameter) = match target.split_once(char::is_whitespace) {
            Some((named, parameter)) => (named, Some(parameter.trim())),
            None => (target.as_str(), None),
        };
        let (element, handler) = match split_target(named) {
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
        if !class.has_handler(handler, false) {
            let has = match class.read_handlers {
                [] => "it has no read handlers".to_string(),
                handlers => format!("its read handlers are {}", handlers.iter().map(|h| h.name).collect::<Vec<_>>().join(", ")),
            };
            problems.push(format!("--read {target}: {element} ({}) has no read handler '{handler}'; {has}", class.name));
            continue;
        }
        let handler = match parameter {
            Some(parameter) => format!("{handler} {parameter}"),
            None => handler.to_string(),
        };
        found.push(Read { target: target.clone(), element: full, handler });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::prepare::single_tenant_system;

    fn prepared() -> Prepared {
        let class = |name| vdp_core::catalog::class_by_name(name).unwrap();
        Prepared {
            blob: Vec::new(),
            tenant: "red".into(),
            devices: Vec::new(),
            system: single_tenant_system("red", &[], None).unwrap(),
            elements: vec![("red/c".into(), class("Counter")), ("red/in/q".into(), class("Queue")), ("red/s".into(), class("Strip"))],
            warnings: Vec::new(),
        }
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn targets_name_the_tenants_elements_in_the_merged_graph() {
        let reads = targets(&strings(&["c.count", "in/q.length", "c.rate"]), &prepared()).unwrap();
        let found: Vec<(&str, &str, &str)> = reads.iter().map(|r| (r.target.as_str(), r.element.as_str(), r.handler.as_str())).collect();
        assert_eq!(found, [("c.count", "red/c", "count"), ("in/q.length", "red/in/q", "length"), ("c.rate", "red/c", "rate")]);
    }

    #[test]
    fn a_parameter_follows_the_handler_and_may_hold_dots() {
        let mut prepared = prepared();
        prepared.elements.push(("red/rt".into(), vdp_core::catalog::class_by_name("RadixIPLookup").unwrap()));
        let reads = targets(&strings(&["rt.lookup 10.1.0.1", "rt.table"]), &prepared).unwrap();
        let found: Vec<(&str, &str, &str)> = reads.iter().map(|r| (r.target.as_str(), r.element.as_str(), r.handler.as_str())).collect();
        assert_eq!(found, [("rt.lookup 10.1.0.1", "red/rt", "lookup 10.1.0.1"), ("rt.table", "red/rt", "table")]);
        let error = targets(&strings(&["rt.nosuch 10.1.0.1"]), &prepared).unwrap_err().to_string();
        assert!(error.starts_with("--read rt.nosuch 10.1.0.1: rt (RadixIPLookup) has no read handler 'nosuch'"), "{error}");
    }

    #[test]
    fn every_unknown_element_or_handler_is_named() {
        let error = targets(&strings(&["c.count", "x.count", "c.bogus", "s.count", "nodot"]), &prepared()).unwrap_err().to_string();
        let lines: Vec<&str> = error.lines().collect();
        assert_eq!(lines.len(), 4, "{error}");
        assert_eq!(lines[0], "--read x.count: the configuration has no element 'x'");
        assert!(lines[1].starts_with("--read c.bogus: c (Counter) has no read handler 'bogus'; its read handlers are count"), "{}", lines[1]);
        assert_eq!(lines[2], "--read s.count: s (Strip) has no read handler 'count'; it has no read handlers");
        assert_eq!(lines[3], "--read `nodot` is not ELEMENT.HANDLER");
    }

    #[test]
    fn values_print_on_one_line_or_indented_below() {
        assert_eq!(format("c.count", "42\n"), "c.count: 42\n");
        assert_eq!(format("c.count", "42"), "c.count: 42\n");
        assert_eq!(format("rt.table", "10.0.0.0/8\t-\t1\n10.1.0.0/16\t-\t2\n"), "rt.table:\n  10.0.0.0/8\t-\t1\n  10.1.0.0/16\t-\t2\n");
        assert_eq!(format("q.empty", ""), "q.empty:\n");
    }
}
