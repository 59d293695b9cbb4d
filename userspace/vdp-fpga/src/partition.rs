//! A tenant's FPGA partition on a board: which of its elements the board can run (a class
//! with an FPGA definition that takes the element's arguments, on a device the board has), the
//! split itself (`vdp_click::partition::fpga`: the prefix from the board's receiving devices
//! inwards, with the fewest streams to the host), and both parts checked again: the FPGA part
//! with `ToHost` at its cuts, elaborated into a design, and the software part with the host
//! links as devices, ready for the kernel/container partition.

use crate::board::Board;
use crate::classes::{self, Ctx};
use crate::design::{self, Design, Tenant};
use crate::host;
use vdp_click::check::{self, CheckOptions, CheckedGraph};
use vdp_click::flatten::FlatGraph;
use vdp_click::partition::fpga::{partition_fpga, Capability, FpgaPartition};
use vdp_click::source::{Diagnostics, Sources};

/// What the FPGA level can do with each element of `checked` on `board`.
pub fn capabilities(checked: &CheckedGraph, board: &Board) -> Vec<Capability> {
    checked
        .elements
        .iter()
        .map(|element| {
            if element.root {
                return Capability::Not("added by the coordinator".to_string());
            }
            let Some(def) = classes::by_name(element.class.name) else {
                return Capability::Not(format!("class {} has no FPGA definition", element.class.name));
            };
            let mut device = None;
            if let Some(name) = element.device() {
                let receives = element.class.name == "FromDevice";
                let found = match board.device(name) {
                    None => return Capability::Not(format!("device '{name}' is not on board '{}'", board.name)),
                    Some(found) if found.host => return Capability::Not(format!("'{name}' is a host link of board '{}'", board.name)),
                    Some(found) => found,
                };
                if (receives && found.ingress.is_none()) || (!receives && found.egress.is_none()) {
                    let side = if receives { "an ingress" } else { "an egress" };
                    return Capability::Not(format!("device '{name}' of board '{}' has no {side} port", board.name));
                }
                device = Some(found);
            }
            if let Err(message) = (def.elaborate)(&Ctx { element, board, device }) {
                return Capability::Not(format!("its FPGA form cannot take it: {message}"));
            }
            if element.class.name == "FromDevice" {
                Capability::Ingress
            } else {
                Capability::Capable
            }
        })
        .collect()
}

/// Which connections the partition may not cut: those whose packets may carry more than their
/// bytes. A host link carries a frame from its data start and nothing else, and the software
/// part receives it as a fresh packet; so a cut is only right where the packet is exactly its
/// bytes: no bytes stripped in front, no network-header mark, paint or destination annotation.
/// FromDevice's packets are plain; Strip, CheckIPHeader, Paint and the lookups make them not;
/// every other class of the subset keeps what it was given (an output is not plain if any input
/// feeding the element may not be).
pub fn uncuttable(checked: &CheckedGraph) -> Vec<bool> {
    let count = checked.elements.len();
    let marks = |class: &str| matches!(class, "Strip" | "CheckIPHeader" | "Paint" | "LinearIPLookup" | "RadixIPLookup" | "StaticIPLookup");
    let mut carries: Vec<bool> = checked.elements.iter().map(|e| marks(e.class.name)).collect();
    // A forward fixpoint: each pass can only set flags, so at most `count` passes change any.
    for _ in 0..=count {
        let mut changed = false;
        for connection in &checked.connections {
            if carries[connection.from] && !carries[connection.to] && checked.elements[connection.to].class.name != "FromDevice" {
                carries[connection.to] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    checked.connections.iter().map(|c| carries[c.from]).collect()
}

/// A tenant's graph split for a board, both parts checked.
pub struct Split {
    pub partition: FpgaPartition,
    /// The FPGA part's design, when anything is on the FPGA.
    pub design: Option<Design>,
    /// The software part and its check, when anything is in software.
    pub software: Option<(FlatGraph, CheckedGraph)>,
}

/// Splits tenant `tenant`'s graph (`flat`, checked with `options` as `checked`) for `board`.
/// Errors: more streams to the host than the board's host links, an FPGA part that does not fit
/// the board's address space or block RAM.
pub fn split(tenant: &str, flat: &FlatGraph, checked: &CheckedGraph, sources: &Sources, board: &Board, options: &CheckOptions) -> Result<Split, Diagnostics> {
    let hosts = board.hosts();
    let partition = partition_fpga(flat, checked, sources, &capabilities(checked, board), &uncuttable(checked), &board.name, &hosts)?;
    let mut diagnostics = Diagnostics::default();
    let design = partition.fpga.as_ref().and_then(|fpga| {
        let fpga_options = CheckOptions { limits: options.limits.clone(), devices: None, coordinator: true, catalog: host::catalog() };
        let graph = check::check(fpga, &fpga_options, &mut diagnostics);
        if diagnostics.has_errors() {
            return None;
        }
        design::elaborate(&[Tenant { name: tenant.to_string(), graph: &graph }], board, &mut diagnostics)
    });
    let software = partition.software.as_ref().map(|software| {
        let devices = options.devices.as_ref().map(|devices| devices.iter().cloned().chain(hosts.iter().cloned()).collect());
        let software_options = CheckOptions { devices, ..options.clone() };
        let graph = check::check(software, &software_options, &mut diagnostics);
        (software.clone(), graph)
    });
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    Ok(Split { partition, design, software })
}
