//! The FPGA level in simulation against the software engine: an IPv4 router over the FPGA
//! subset, run by `vdpctl run` and by the Verilator simulation of `vdpctl fpga`'s design over
//! the same captures; outputs must be the same bytes in the same order and the counters read
//! through the address map the software handlers' values. Needs verilator (scripts/deps.sh).

mod fpga;
use fpga::*;

const ROUTER: &str = "c0 :: Counter;
FromDevice(eth0) -> c0 -> cl :: Classifier(12/0800, 12/86dd, -);
FromDevice(eth1) -> c0;
cl[0] -> Strip(14) -> chk :: CheckIPHeader(BADSRC 172.16.0.1, INTERFACES 192.168.1.1/24) -> rt :: LinearIPLookup(10.0.0.0/8 0, 192.168.1.0/24 10.0.0.9 1, 10.200.0.0/16 2);
cl[1] -> Paint(1) -> ps :: PaintSwitch;
cl[2] -> d :: Discard;
ps[0] -> d2 :: Discard;
ps[1] -> q3 :: Queue(200) -> ToDevice(eth2);
rt[0] -> ttl0 :: DecIPTTL -> EtherEncap(0x0800, 00:00:00:00:00:01, 00:00:00:00:00:02) -> c1 :: Counter -> q1 :: Queue(200) -> ToDevice(eth0);
rt[1] -> ttl1 :: DecIPTTL -> Unstrip(14) -> EtherMirror -> q2 :: Queue(200) -> ToDevice(eth1);
rt[2] -> Unstrip(14) -> q4 :: Queue(200) -> ToDevice(eth3);
ttl0[1] -> c2 :: Counter -> d3 :: Discard;
ttl1[1] -> d3;
";

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
