use proptest::prelude::*;
use vdp_core::cpu_set::{CpuSet, CpuSetError};
use vdp_core::uapi::{CPU_MASK_MAX_BYTES, CPU_SET_MAX};

#[test]
fn bad_masks_are_refused_with_the_reason() {
    assert_eq!(CpuSet::from_mask(&[1; 7]), Err(CpuSetError::Length(7)));
    assert_eq!(CpuSet::from_mask(&[0; 16]), Err(CpuSetError::Empty));
    assert_eq!(CpuSet::from_mask(&vec![1; CPU_MASK_MAX_BYTES + 8]), Err(CpuSetError::TooLong(CPU_MASK_MAX_BYTES + 8)));
    assert_eq!(CpuSet::of([3, CPU_SET_MAX]), Err(CpuSetError::TooHigh(CPU_SET_MAX)));
    assert_eq!(CpuSet::of([]), Err(CpuSetError::Empty));
    assert!(CpuSetError::TooHigh(2000).to_string().contains("up to 1023"));
}

#[test]
fn a_mask_is_little_endian_words_and_no_longer_than_its_last_cpu() {
    let set = CpuSet::of([0, 65]).unwrap();
    let mut out = [0u8; CPU_MASK_MAX_BYTES];
    assert_eq!(set.write_mask(&mut out), 16);
    assert_eq!(out[..16], [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(set.write_mask(&mut [0u8; 8]), 0);
    assert_eq!(set.first_not(|cpu| cpu < 64), Some(65));
    // Trailing zero words are accepted on the way in.
    assert_eq!(CpuSet::from_mask(&[4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap().iter().collect::<Vec<_>>(), [2]);
}

proptest! {
    #[test]
    fn sets_survive_the_wire(cpus in proptest::collection::btree_set(0u32..CPU_SET_MAX, 1..40)) {
        let set = CpuSet::of(cpus.iter().copied()).unwrap();
        let mut out = [0u8; CPU_MASK_MAX_BYTES];
        let len = set.write_mask(&mut out);
        prop_assert_eq!(len, set.mask_len());
        let back = CpuSet::from_mask(&out[..len]).unwrap();
        prop_assert_eq!(back, set);
        prop_assert_eq!(back.iter().collect::<Vec<_>>(), cpus.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        match CpuSet::from_mask(&bytes) {
            Ok(set) => prop_assert!(set.iter().all(|cpu| cpu < CPU_SET_MAX) && set.iter().next().is_some()),
            Err(_) => prop_assert!(bytes.len() % 8 != 0 || bytes.len() > CPU_MASK_MAX_BYTES || bytes.iter().all(|b| *b == 0)),
        }
    }
}
