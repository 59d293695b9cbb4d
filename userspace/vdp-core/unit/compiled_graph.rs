//! Unit tests of `kmod/core/compiled_graph.rs`, kept out of the kernel tree: they may panic, kernel code may not.

extern crate std;
use super::*;
use std::vec::Vec;

/// `Idle -> Discard`, written by hand from docs/compiled-graph.md.
fn idle_to_discard(idle_mode: u8, discard_mode: u8) -> Vec<u8> {
    let mut blob = Vec::new();
    blob.extend(MAGIC);
    blob.extend(FORMAT_VERSION.to_le_bytes());
    blob.extend(catalog::CLASS_COUNT.to_le_bytes());
    blob.extend(0u32.to_le_bytes()); // length, patched below
    for count in [0u32, 2, 2, 1, 0] {
        blob.extend(count.to_le_bytes());
    }
    for (class, inputs, outputs, name, mode) in [(8u16, 0u16, 1u16, "idle", idle_mode), (6, 1, 0, "sink", discard_mode)] {
        blob.extend(class.to_le_bytes());
        blob.extend(SHARED_TENANT.to_le_bytes());
        blob.push(OWNER_ROOT);
        for field in [inputs, outputs, name.len() as u16] {
            blob.extend(field.to_le_bytes());
        }
        blob.extend(name.as_bytes());
        blob.push(mode);
        blob.extend(0u32.to_le_bytes()); // no repeated arguments
    }
    blob.extend(0u32.to_le_bytes());
    blob.extend(0u16.to_le_bytes());
    blob.extend(1u32.to_le_bytes());
    blob.extend(0u16.to_le_bytes());
    let length = (blob.len() as u32).to_le_bytes();
    blob[8..12].copy_from_slice(&length);
    blob
}

fn check(blob: &[u8]) -> Result<(), FormatError> {
    let mut elements = [ElementScratch::default(); 4];
    let mut ports = [0u16; 4];
    let mut edges = [0u32; 4];
    validate(blob, &mut elements, &mut ports, &mut edges).map(|_| ())
}

#[test]
fn a_hand_written_blob_validates() {
    let blob = idle_to_discard(0, 0);
    assert_eq!(scratch_sizes(&blob), Ok(ScratchSizes { elements: 2, ports: 2, edges: 1 }));
    let mut elements = [ElementScratch::default(); 2];
    let mut ports = [0u16; 2];
    let mut edges = [0u32; 1];
    let graph = validate(&blob, &mut elements, &mut ports, &mut edges).unwrap();
    assert!(graph.elements().all(|e| e.owner == OWNER_ROOT));
    let names: Vec<&str> = graph.elements().map(|e| e.name).collect();
    assert_eq!(names, ["idle", "sink"]);
    assert_eq!(graph.connections().next(), Some(Connection { from: 0, from_port: 0, to: 1, to_port: 0 }));
    assert_eq!(graph.tasks().count(), 0);
}

#[test]
fn the_kernel_side_rules_hold() {
    assert_eq!(check(&idle_to_discard(0, 1)), Err(FormatError::ModeMismatch { connection: 0 }));
    // A pulling Discard is a task, and the blob lists none.
    assert_eq!(check(&idle_to_discard(1, 1)), Err(FormatError::TaskMismatch { element: 1 }));
    assert_eq!(check(&idle_to_discard(2, 0)), Err(FormatError::BadProcessing { element: 0, port: 0 }));
    let mut small = [ElementScratch::default(); 1];
    assert_eq!(validate(&idle_to_discard(0, 0), &mut small, &mut [0u16; 2], &mut [0u32; 1]).map(|_| ()), Err(FormatError::ScratchTooSmall));
    let mut elements = [ElementScratch::default(); 2];
    assert_eq!(validate(&idle_to_discard(0, 0), &mut elements, &mut [0u16; 2], &mut []).map(|_| ()), Err(FormatError::ScratchTooSmall));
    let blob = idle_to_discard(0, 0);
    for end in 0..blob.len() {
        assert!(check(&blob[..end]).is_err());
    }
}

#[test]
fn owner_bytes_are_checked() {
    // The owner byte of the first element (after magic..header, class and tenant).
    let at = HEADER_BYTES + 4;
    let mut blob = idle_to_discard(0, 0);
    assert_eq!(blob[at], OWNER_ROOT);
    blob[at] = 2;
    assert_eq!(check(&blob), Err(FormatError::BadOwner { element: 0 }));
    // A shared element cannot claim to be a tenant's.
    blob[at] = OWNER_TENANT;
    assert_eq!(check(&blob), Err(FormatError::BadOwner { element: 0 }));
}
