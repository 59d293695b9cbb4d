//! Property tests: print-then-parse round trips, and no panics on odd input. Case counts stay
//! small so `cargo test` is quick; `fuzz.sh` runs the same checks for as long as asked.

mod common;

use proptest::prelude::*;
use vdp_core::compiled_graph::FormatError;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn printed_graphs_parse_back_the_same(graph in common::flat_graph()) {
        common::assert_round_trip(&graph);
    }

    #[test]
    fn front_end_never_panics(text in common::click_text()) {
        common::exercise(&text);
    }

    #[test]
    fn ip_expressions_compile_to_valid_programs(text in "[a-z0-9 .:/\\[\\]&|!()=<>-]{0,40}") {
        if let Ok(insns) = vdp_click::values::compile_ip_expression(&text) {
            let bytes: Vec<u8> = insns.iter().flat_map(|i| i.encode()).collect();
            prop_assert!(vdp_core::packet_program::validate(&bytes).is_ok());
        }
        if let Ok(insns) = vdp_click::values::compile_classifier_pattern(&text) {
            let bytes: Vec<u8> = insns.iter().flat_map(|i| i.encode()).collect();
            prop_assert!(vdp_core::packet_program::validate(&bytes).is_ok());
        }
    }

    #[test]
    fn corrupted_blobs_are_rejected_without_panicking(edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        let blob = common::mutate(&ROUTER_BLOB, &edits);
        let _ = vdp_click::compile::validate(&blob);
    }
}

static ROUTER_BLOB: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(common::router_blob);

#[test]
fn the_router_blob_validates_and_reads_back() {
    let compiled = vdp_click::compile::validate(&ROUTER_BLOB).expect("valid");
    let tenants: Vec<_> = compiled.tenants().map(|t| t.name).collect();
    assert_eq!(tenants, ["red", "blue"]);
    assert_eq!(compiled.tenants().next().unwrap().bandwidth_cap, 12_500_000);
    let names: Vec<_> = compiled.elements().map(|e| e.name).collect();
    assert!(names.contains(&"red/rt") && names.contains(&"blue/in1/rx"));
    let receive = compiled.elements().find(|e| e.name == "blue/in1/rx").unwrap();
    assert_eq!((receive.class.name, receive.tenant, receive.outputs), ("FromDevice", 1, 1));
    assert!(compiled.elements().all(|e| e.tenant != vdp_core::compiled_graph::SHARED_TENANT));
    // red has a bandwidth cap, which the module applies on transmit: every element is a
    // tenant's own, and none is a shaper.
    assert!(compiled.elements().all(|e| e.owner == vdp_core::compiled_graph::OWNER_TENANT && e.class.name != "BandwidthShaper"));
    // Per tenant: two FromDevice, two ToDevice.
    assert_eq!(compiled.tasks().count(), 8);
    assert!(compiled.tasks().all(|t| t.thread == vdp_core::compiled_graph::UNPINNED));
}

#[test]
fn every_single_byte_corruption_is_handled() {
    let blob = &*ROUTER_BLOB;
    for at in 0..blob.len() {
        let mut copy = blob.clone();
        copy[at] ^= 0xff;
        let _ = vdp_click::compile::validate(&copy);
        let _ = vdp_click::compile::validate(&blob[..at]);
    }
}

#[test]
fn specific_corruptions_name_their_cause() {
    let blob = &*ROUTER_BLOB;
    let with = |at: usize, bytes: &[u8]| {
        let mut copy = blob.clone();
        copy[at..at + bytes.len()].copy_from_slice(bytes);
        vdp_click::compile::validate(&copy).map(|_| ()).unwrap_err()
    };
    assert_eq!(with(0, b"XDPG"), FormatError::BadMagic);
    // Format 1 had no owner byte: a kernel that checks owners must not read it as format 2.
    assert_eq!(with(4, &1u16.to_le_bytes()), FormatError::UnsupportedVersion(1));
    assert_eq!(with(8, &1u32.to_le_bytes()), FormatError::LengthMismatch);
    assert!(matches!(with(6, &999u16.to_le_bytes()), FormatError::ClassTableMismatch { .. }));
    let mut longer = blob.clone();
    longer.push(0);
    let length = (longer.len() as u32).to_le_bytes();
    longer[8..12].copy_from_slice(&length);
    assert_eq!(vdp_click::compile::validate(&longer).map(|_| ()).unwrap_err(), FormatError::TrailingBytes);
}

#[test]
fn a_graph_with_an_unconnected_port_is_rejected_by_the_kernel_side() {
    // Drop the last connection of a valid blob: some port is left unused.
    let blob = &*ROUTER_BLOB;
    let compiled = vdp_click::compile::validate(blob).unwrap();
    let tasks = compiled.task_count() as usize;
    let connections_end = blob.len() - tasks * 12;
    let mut edited = blob[..connections_end - 12].to_vec();
    edited.extend_from_slice(&blob[connections_end..]);
    let count = (compiled.connection_count() - 1).to_le_bytes();
    edited[24..28].copy_from_slice(&count);
    let length = (edited.len() as u32).to_le_bytes();
    edited[8..12].copy_from_slice(&length);
    assert!(matches!(vdp_click::compile::validate(&edited).map(|_| ()).unwrap_err(), FormatError::PortUnused { .. }));
}
