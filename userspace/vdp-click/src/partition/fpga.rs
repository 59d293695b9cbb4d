//! The FPGA partition (Keller's third level): a tenant's graph split into an FPGA part, a
//! prefix of the graph from the board's receiving devices inwards, and a software part (what
//! the kernel/container partition then splits as before).
//!
//! Which elements the FPGA can run is the caller's knowledge (`vdp-fpga`: its class table and
//! the board), given as one [`Capability`] per element. Packets cross one way only, from the
//! FPGA to the host, so the FPGA part is closed upstream: an element is on the FPGA only if
//! everything that sends to it is. Among such parts the one taken costs least, where a stream to
//! the host costs 1 and so does each element left in software that the FPGA could have run (a
//! minimum cut, as the container partition's), ties going to the largest FPGA part: the prefix
//! grows as far as it can unless a branch would take more streams than it has elements. Elements
//! joined by pull connections or a reference stay together, and so do the ends of a connection
//! whose packets carry state the host link does not (the caller says which).
//!
//! Each input port of the software part that receives from the FPGA is one boundary `k`:
//! `ToHostLink(HOST)` on the FPGA side, a stream to the board's `k`-th host link `HOST`, and
//! `FromDevice(HOST)` on the software side, the host link as a device. Both halves are named
//! `f2sK`. A board has as many boundaries as it declares host links.

use super::mincut::{self, Pin};
use super::{build, is_push, numbered, port_feeds, together, CutConnection, Direction, Halves, Side};
use crate::check::CheckedGraph;
use crate::flatten::FlatGraph;
use crate::source::{Diagnostic, Diagnostics, Sources};
use serde::Serialize;
use std::collections::VecDeque;
use std::fmt::Write as _;

/// The FPGA side's boundary class: a push input streamed to a host link of the board.
pub const TO_HOST: &str = "ToHostLink";

/// What the FPGA level can do with one element of a tenant's graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capability {
    /// A FromDevice whose device is on the board: its frames arrive on the FPGA.
    Ingress,
    /// It has an FPGA definition that takes its arguments; the cut places it.
    Capable,
    /// It cannot run on the FPGA, and why.
    Not(String),
}

/// Why an element is at its level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum FpgaReason {
    /// Its device's frames arrive on the board.
    Ingress,
    /// It cannot run on the FPGA.
    Software { why: String },
    /// Joined to an element that cannot, by pull connections, a reference or packet state a
    /// host link does not carry.
    Joined { to: String },
    /// An element in software sends to it, and nothing returns from software to the FPGA.
    After { from: String },
    /// Placed by the minimum cut.
    Cut,
}

/// Where one element of the tenant's graph runs.
#[derive(Clone, Debug, Serialize)]
pub struct FpgaPlacement {
    pub element: String,
    pub class: String,
    pub fpga: bool,
    #[serde(flatten)]
    pub reason: FpgaReason,
}

/// One stream from the FPGA to the host: the connections into one software input port.
#[derive(Clone, Debug, Serialize)]
pub struct HostBoundary {
    pub index: usize,
    /// The board's host link it uses.
    pub host: String,
    /// The name both halves carry (`f2s0`).
    pub element: String,
    pub connections: Vec<CutConnection>,
}

/// A tenant's graph split between the FPGA and software.
#[derive(Clone, Debug, Serialize)]
pub struct FpgaPartition {
    pub board: String,
    /// The FPGA part, with `ToHostLink` at the cuts; `None` when nothing goes there.
    pub fpga: Option<FlatGraph>,
    /// The software part, with `FromDevice(HOST)` at the cuts; `None` when all is on the FPGA.
    pub software: Option<FlatGraph>,
    pub boundaries: Vec<HostBoundary>,
    /// Every element of the tenant's graph, in its order.
    pub placements: Vec<FpgaPlacement>,
}

/// Splits `flat` (checked as `checked`) by `capability` (one per element) for a board named
/// `board` whose host links are `hosts`. `uncuttable` (one per connection) marks connections
/// whose packets carry state a host link does not (annotations, stripped bytes): their ends
/// stay together. Errors: more crossings than host links.
pub fn partition_fpga(
    flat: &FlatGraph,
    checked: &CheckedGraph,
    sources: &Sources,
    capability: &[Capability],
    uncuttable: &[bool],
    board: &str,
    hosts: &[String],
) -> Result<FpgaPartition, Diagnostics> {
    let count = flat.elements.len();
    if checked.elements.len() != count || capability.len() != count || uncuttable.len() != flat.connections.len() {
        let mut diagnostics = Diagnostics::default();
        diagnostics.error(None, "internal error: the checked graph is not the flat graph's");
        return Err(diagnostics);
    }
    let mut groups = together(flat, checked);
    for (connection, _) in flat.connections.iter().zip(uncuttable).filter(|(_, uncuttable)| **uncuttable) {
        groups.join(connection.from, connection.to);
    }
    let (group_of, group_count) = numbered(&mut groups, count);
    let mut reasons: Vec<Option<FpgaReason>> = vec![None; count];
    // A group with an element the FPGA cannot run stays in software whole.
    let mut software_group: Vec<Option<String>> = vec![None; group_count];
    for (index, capability) in capability.iter().enumerate() {
        if let Capability::Not(why) = capability {
            reasons[index] = Some(FpgaReason::Software { why: why.clone() });
            software_group[group_of[index]].get_or_insert_with(|| flat.elements[index].name.clone());
        }
    }
    for index in 0..count {
        if let (None, Some(to)) = (&reasons[index], &software_group[group_of[index]]) {
            reasons[index] = Some(FpgaReason::Joined { to: to.clone() });
        }
    }
    // What software sends to is in software too: the FPGA part is closed upstream.
    let mut queue: VecDeque<usize> = (0..group_count).filter(|g| software_group[*g].is_some()).collect();
    let mut forced: Vec<bool> = software_group.iter().map(Option::is_some).collect();
    while let Some(group) = queue.pop_front() {
        for connection in flat.connections.iter().filter(|c| group_of[c.from] == group) {
            let target = group_of[connection.to];
            if !forced[target] {
                forced[target] = true;
                queue.push_back(target);
                for index in 0..count {
                    if group_of[index] == target && reasons[index].is_none() {
                        reasons[index] = Some(FpgaReason::After { from: flat.elements[connection.from].name.clone() });
                    }
                }
            }
        }
    }
    let mut pins = vec![Pin::Free; group_count];
    for (group, pin) in pins.iter_mut().enumerate() {
        if forced[group] {
            *pin = Pin::Container;
        }
    }
    for index in 0..count {
        if capability[index] == Capability::Ingress && !forced[group_of[index]] {
            pins[group_of[index]] = Pin::Kernel;
            reasons[index] = Some(FpgaReason::Ingress);
        }
    }
    let feeds = port_feeds(flat, checked, &group_of);
    // Each element kept off the FPGA costs as much as one stream to the host.
    let mut weight = vec![0u64; pins.len()];
    for group in &group_of {
        weight[*group] += 1;
    }
    let in_software = if pins.contains(&Pin::Kernel) {
        mincut::min_cut_one_way(&pins, &feeds, &weight)
    } else {
        Some(vec![true; pins.len()])
    };
    let Some(in_software) = in_software else {
        let mut diagnostics = Diagnostics::default();
        diagnostics.error(None, "internal error: the FPGA part could not be closed upstream");
        return Err(diagnostics);
    };
    let on_fpga = |index: usize| !in_software[group_of[index]];
    let placements: Vec<FpgaPlacement> = (0..count)
        .map(|index| FpgaPlacement {
            element: flat.elements[index].name.clone(),
            class: flat.elements[index].class.clone(),
            fpga: on_fpga(index),
            reason: reasons[index].clone().unwrap_or(FpgaReason::Cut),
        })
        .collect();
    let board = board.to_string();
    if (0..count).all(|index| !on_fpga(index)) {
        return Ok(FpgaPartition { board, fpga: None, software: Some(flat.clone()), boundaries: Vec::new(), placements });
    }
    let host = |index: usize| hosts.get(index).cloned().unwrap_or_else(|| format!("host{index}"));
    let name = |_: Direction, index: usize| format!("f2s{index}");
    let classes = |_: Direction, index: usize| [(TO_HOST.to_string(), host(index)), ("FromDevice".to_string(), host(index))];
    let over = |_: Direction, used: usize, _: &[&super::Boundary]| {
        (used > hosts.len()).then(|| {
            Diagnostic::error(None, format!("the FPGA part needs {used} streams to the host; board '{board}' has {} host links", hosts.len()))
                .note("each input port in software that receives from the FPGA takes one host link ([[host]] in the board file)")
        })
    };
    let side_of = |index: usize| if on_fpga(index) { Side::Kernel } else { Side::Container };
    let halves = Halves { name: &name, classes: &classes, over: &over };
    let (fpga, software, boundaries) = build(flat, sources, &side_of, |c| is_push(checked, c), &halves)?;
    let boundaries = boundaries
        .into_iter()
        .map(|b| HostBoundary { index: usize::from(b.index), host: host(usize::from(b.index)), element: b.element, connections: b.connections })
        .collect();
    let software = (!software.elements.is_empty()).then_some(software);
    Ok(FpgaPartition { board, fpga: Some(fpga), software, boundaries, placements })
}

impl FpgaPartition {
    /// Whether anything runs on the FPGA.
    pub fn has_fpga(&self) -> bool {
        self.fpga.is_some()
    }

    /// The placement as text for `vdpctl check --explain`.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let on = |fpga: bool| self.placements.iter().filter(move |p| p.fpga == fpga);
        let _ = writeln!(
            out,
            "fpga partition on board '{}': {} element(s) on the FPGA, {} in software, {} stream(s) to the host",
            self.board,
            on(true).count(),
            on(false).count(),
            self.boundaries.len()
        );
        for (fpga, title) in [(true, "fpga"), (false, "software")] {
            let _ = writeln!(out, "  {title} level:");
            for placement in on(fpga) {
                let why = match &placement.reason {
                    FpgaReason::Ingress => "pinned: its device's frames arrive on the board".to_string(),
                    FpgaReason::Software { why } => format!("pinned: {why}"),
                    FpgaReason::Joined { to } => format!("joined to {to} by pull connections, a reference or packet state the host link does not carry"),
                    FpgaReason::After { from } => format!("after {from}, which runs in software"),
                    FpgaReason::Cut => "placed by the minimum cut".to_string(),
                };
                let _ = writeln!(out, "    {} ({}): {why}", placement.element, placement.class);
            }
        }
        for boundary in &self.boundaries {
            let _ = writeln!(
                out,
                "  boundary fpga -> host {}: {TO_HOST}({}) -> FromDevice({}), named {}",
                boundary.index, boundary.host, boundary.host, boundary.element
            );
            for cut in &boundary.connections {
                let _ = writeln!(out, "    replaces {} [{}] -> [{}] {} ({})", cut.from, cut.from_port, cut.to_port, cut.to, cut.at);
            }
        }
        out
    }
}

