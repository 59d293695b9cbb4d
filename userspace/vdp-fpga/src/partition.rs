//! A tenant's FPGA partition on a board: which of its elements the board can run (a class
//! with an FPGA definition that takes the element's arguments, on a device the board has), the
//! split itself (`vdp_click::partition::fpga`: the prefix from the board's receiving devices
//! inwards, with the fewest streams to the host), and both parts checked again: the FPGA part
//! with `ToHostLink` at its cuts, elaborated into a design, and the software part with the host
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
                    let side = if receives { "ingress" } else { "egress" };
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
        let fpga_options = CheckOptions { limits: options.limits.clone(), devices: None, host_device: None, coordinator: true, catalog: host::catalog() };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board;

    const BOARD: &str = "name = \"b\"\nhandler_address_bits = 12\n[[memory]]\nname = \"bram\"\nkind = \"block_ram\"\nbits = 50000000\n[[device]]\nname = \"eth0\"\ningress = 0\negress = 0\n[[device]]\nname = \"eth1\"\negress = 1\n[[host]]\nname = \"host0\"\negress = 4\n";

    /// The placement of `config` on the board (with `hosts` host links): (on the FPGA, in
    /// software), or the rendered error.
    fn place(config: &str, hosts: usize) -> Result<(Vec<String>, Vec<String>, Split), String> {
        let mut sources = Sources::new();
        let mut diagnostics = Diagnostics::default();
        let extra: String = (1..hosts).map(|k| format!("[[host]]\nname = \"host{k}\"\negress = {}\n", 4 + k)).collect();
        let text = format!("{}{extra}", if hosts == 0 { BOARD.split("[[host]]").next().unwrap_or(BOARD) } else { BOARD });
        let file = sources.add("board.toml", text.clone());
        let board = board::parse(file, &text, &mut diagnostics).ok_or_else(|| sources.render_all(&diagnostics))?;
        let options = CheckOptions::default();
        let (flat, checked) = vdp_click::check_text(&mut sources, "t.click", config, &options, &mut diagnostics);
        assert!(!diagnostics.has_errors(), "{}", sources.render_all(&diagnostics));
        let split = split("t", &flat, &checked, &sources, &board, &options).map_err(|d| sources.render_all(&d))?;
        let names = |fpga: bool| split.partition.placements.iter().filter(|p| p.fpga == fpga).map(|p| p.element.clone()).collect();
        Ok((names(true), names(false), split))
    }

    #[test]
    fn the_prefix_from_the_device_stops_at_a_class_without_an_fpga_definition() {
        let (fpga, software, split) = place("FromDevice(eth0) -> a :: Counter -> b :: Classifier(12/0800, -); b[0] -> t :: Tee -> Discard; b[1] -> d :: Discard; t[1] -> c :: Counter -> Discard;", 1).unwrap();
        assert_eq!(fpga, ["FromDevice@1", "a", "b", "d"]);
        assert_eq!(software, ["t", "Discard@5", "c", "Discard@8"]);
        assert_eq!(split.partition.boundaries.len(), 1);
        assert_eq!(split.partition.boundaries[0].host, "host0");
        assert!(split.design.is_some());
        let software = split.software.unwrap().0;
        assert!(software.elements.iter().any(|e| e.class == "FromDevice" && e.args[0].text == "host0"));
        assert!(split.partition.explain().contains("t (Tee): pinned: class Tee has no FPGA definition"));
    }

    #[test]
    fn devices_the_board_lacks_stay_in_software_and_so_does_what_they_feed() {
        let (fpga, software, _) = place("FromDevice(eth0) -> q :: Queue -> ToDevice(eth1); FromDevice(eth7) -> c :: Counter -> q2 :: Queue -> ToDevice(eth7);", 1).unwrap();
        assert_eq!(fpga, ["FromDevice@1", "q", "ToDevice@3"]);
        assert_eq!(software, ["FromDevice@4", "c", "q2", "ToDevice@7"]);
        // A device with no ingress port: its FromDevice is software too.
        let (fpga, _, split) = place("FromDevice(eth1) -> Discard;", 1).unwrap();
        assert!(fpga.is_empty() && split.design.is_none());
        assert!(split.partition.explain().contains("device 'eth1' of board 'b' has no ingress port"), "{}", split.partition.explain());
    }

    #[test]
    fn a_cut_never_falls_where_the_packet_carries_state() {
        // Strip's packets carry the bytes it took off: Strip stays with the Tee in software.
        let (fpga, software, _) = place("FromDevice(eth0) -> a :: Counter -> s :: Strip(14) -> t :: Tee -> Discard; t[1] -> Discard;", 1).unwrap();
        assert_eq!(fpga, ["FromDevice@1", "a"]);
        assert!(software.contains(&"s".to_string()));
    }

    #[test]
    fn more_streams_than_host_links_is_an_error() {
        let config = "FromDevice(eth0) -> b :: Classifier(12/0800, -); b[0] -> t :: Tee -> Discard; b[1] -> u :: Tee -> Discard;";
        // Two Tees behind two outputs, each worth one element: cutting before b takes one
        // stream and leaves b in software; cutting after it takes two. Ties go to the FPGA.
        let (fpga, _, split) = place(config, 2).unwrap();
        assert_eq!(fpga, ["FromDevice@1", "b"]);
        assert_eq!(split.partition.boundaries.len(), 2);
        let Err(error) = place(config, 0) else { panic!("no host links, yet a partition") };
        assert!(error.contains("the FPGA part needs 2 streams to the host; board 'b' has 0 host links"), "{error}");
    }
}
