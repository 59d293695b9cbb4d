//! Synthesis of a generated design with Yosys (docs/fpga.md, "Synthesis and area"): a small
//! design synthesises with no latches and no errors and has an area; the same design with a
//! latch put into its top level is refused. Needs yosys (scripts/deps.sh).

mod fpga;
use fpga::*;
use std::time::Duration;
use vdp_fpga::synth;

const SMALL: &str = "FromDevice(eth0) -> c :: Counter -> Strip(14) -> Unstrip(14) -> Queue(2) -> ToDevice(eth1);\nFromDevice(eth1) -> d :: Discard;\n";

#[test]
fn a_small_design_synthesises_and_a_latch_is_refused() {
    let dir = scratch("synth");
    let design = generate(&dir, SMALL, 2);
    let report = synth::run(&design, Duration::from_secs(300)).expect("the design synthesises");
    assert!(report.total.luts > 0 && report.total.flip_flops > 0, "no area: {:?}", report.total);
    assert!(report.total.block_rams >= 6.0, "five shells and a queue, in block RAM: {:?}", report.total);
    let counter = report.elements.iter().find(|e| e.name == "c").expect("the counter has an area");
    assert!(counter.area.flip_flops >= 64, "a 64-bit count: {:?}", counter.area);
    let sum = report.elements.iter().fold(synth::Area::default(), |mut a, e| {
        a += e.area;
        a
    });
    assert!(sum.luts <= report.total.luts && sum.flip_flops <= report.total.flip_flops, "the elements exceed the total");
    assert_eq!(report.tenants["tenant"], sum, "one tenant: its area is its elements'");
    let text = std::fs::read_to_string(design.join("area.txt")).unwrap();
    assert!(text.contains("RAMB36E1"), "the buffers are block RAM:\n{text}");

    // A latch in the top level: an incompletely assigned combinational register.
    let top = design.join("hdl/vdp_top.v");
    let verilog = std::fs::read_to_string(&top).unwrap();
    let with_latch = verilog.replacen("endmodule", "    reg test_latch;\n    always @* if (h_valid) test_latch = h_wdata[0];\nendmodule", 1);
    assert_ne!(verilog, with_latch);
    std::fs::write(&top, with_latch).unwrap();
    let error = synth::run(&design, Duration::from_secs(300)).expect_err("a latch must fail synthesis").to_string();
    assert!(error.contains("dlatch"), "the error names the latch check: {error}");
    let _ = std::fs::remove_dir_all(&dir);
}
