//! Feedback paths: the push-only cycles Click's IP router makes on purpose.
//!
//! Click's standard router sends each ICMP error straight back into the route table it came
//! from (`dt[1] -> ICMPError(...) -> rt`), so the graph has a push-only cycle, which vdp refuses
//! everywhere else: a packet handed round it by nested calls would need a kernel stack without
//! bound. The cycle is harmless in practice because the element on it makes a new packet that it
//! would itself refuse to answer (ICMPError never answers an ICMP error), but the call chain
//! still has no bound a checker can see.
//!
//! [`break_cycles`] runs on a flattened graph before the checker. For each output of an element
//! whose class [`feeds_back`](vdp_core::catalog::ElementClass::feeds_back) that leads back to the
//! element through push connections, it puts a `Queue` and an `Unqueue` on that connection: the
//! new packet waits in the queue and re-enters the graph from the tenant's task, on a fresh
//! stack. Each insertion is reported as a warning at the connection's `file:line:col`, and the
//! inserted elements are named after the element (`NAME/feedback_queue`, `NAME/feedback_unqueue`)
//! so `vdpctl check --explain` and `vdpctl show` list them.

use crate::flatten::{FlatArg, FlatConnection, FlatElement, FlatGraph};
use crate::source::{Diagnostic, Diagnostics};
use vdp_core::catalog::{Catalog, ElementClass};

/// Packets the inserted queue holds: ICMP errors are few, and one that finds the queue full is
/// a counted drop (`NAME/feedback_queue.drops`).
pub const FEEDBACK_QUEUE_CAPACITY: u32 = 64;

/// Whether an output of `class` may push (its processing code after the `/` is not `l`).
fn pushes(class: Option<&ElementClass>) -> bool {
    class.is_some_and(|class| class.processing.split('/').nth(1).is_none_or(|outputs| outputs.contains(['h', 'a'])))
}

/// Whether `target` reaches `back` through connections out of elements that may push.
fn reaches(flat: &FlatGraph, classes: &[Option<&ElementClass>], target: usize, back: usize) -> bool {
    let mut seen = vec![false; flat.elements.len()];
    let mut stack = vec![target];
    while let Some(element) = stack.pop() {
        if element == back {
            return true;
        }
        if std::mem::replace(&mut seen[element], true) || !pushes(classes[element]) {
            continue;
        }
        stack.extend(flat.connections.iter().filter(|c| c.from == element).map(|c| c.to));
    }
    false
}

/// Breaks each push-only cycle through a feeding-back element with a queue (see the module
/// documentation).
pub fn break_cycles(flat: &mut FlatGraph, catalog: Catalog, diagnostics: &mut Diagnostics) {
    let classes: Vec<Option<&ElementClass>> = flat.elements.iter().map(|e| catalog.class_by_name(&e.class)).collect();
    let mut cut = Vec::new();
    for (index, connection) in flat.connections.iter().enumerate() {
        if classes[connection.from].is_some_and(|class| class.feeds_back) && reaches(flat, &classes, connection.to, connection.from) {
            cut.push(index);
        }
    }
    for index in cut {
        let FlatConnection { from, from_port, to, to_port, span } = flat.connections[index].clone();
        let name = flat.elements[from].name.clone();
        let element = |suffix: &str, class: &str, args: Vec<FlatArg>| FlatElement {
            name: format!("{name}/{suffix}"),
            class: class.to_string(),
            args,
            span,
            class_span: span,
            root: false,
            damage: Default::default(),
        };
        let queue = flat.elements.len();
        flat.elements.push(element("feedback_queue", "Queue", vec![FlatArg { text: FEEDBACK_QUEUE_CAPACITY.to_string(), span }]));
        flat.elements.push(element("feedback_unqueue", "Unqueue", Vec::new()));
        flat.connections[index] = FlatConnection { from, from_port, to: queue, to_port: 0, span };
        flat.connections.push(FlatConnection { from: queue, from_port: 0, to: queue + 1, to_port: 0, span });
        flat.connections.push(FlatConnection { from: queue + 1, from_port: 0, to, to_port, span });
        diagnostics.push(
            Diagnostic::warning(span, format!("'{name}' feeds back into the graph it came from: a Queue and an Unqueue were put on its output {from_port}"))
                .note("its packets re-enter from the tenant's task instead of by a nested call, so the push-only cycle has an end"),
        );
    }
}
