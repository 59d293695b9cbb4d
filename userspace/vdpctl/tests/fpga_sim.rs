//! The FPGA level in simulation against the software engine: an IPv4 router over the FPGA
//! subset, run by `vdpctl run` and by the Verilator simulation of `vdpctl fpga`'s design over
//! the same captures; outputs must be the same bytes in the same order and the counters read
//! through the address map the software handlers' values. Needs verilator (scripts/deps.sh).

mod fpga;
use fpga::*;

/// Every class of the subset; `make bench-fpga` synthesises it too.
const ROUTER: &str = include_str!("fpga/router.click");

#[test]
fn ipv4_router_agrees_with_software() {
    let dir = scratch("router");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let in0: Vec<Vec<u8>> = (0..240).map(|_| frame(&mut rng)).collect();
    let in1: Vec<Vec<u8>> = (0..160).map(|_| frame(&mut rng)).collect();
    let reads = ["c0.count", "c0.byte_count", "c1.count", "c1.byte_count", "c2.count", "chk.drops", "d.count", "d2.count", "d3.count", "q1.drops", "q1.capacity", "rt.table", "rt.lookup 192.168.1.77"];
    let compared = compare(&dir, ROUTER, 4, &[(0, in0), (1, in1)], &[0, 1, 2, 3], &reads);
    assert!(compared > 80, "only {compared} frames came out");
    let _ = std::fs::remove_dir_all(&dir);
}
