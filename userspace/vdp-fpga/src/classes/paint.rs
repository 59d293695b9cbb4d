//! Paint: sets the paint annotation to COLOR, a register the `color` handler reads and writes.

use super::{int_arg, write_at, Ctx, FpgaClass, HandlerKind, HwHandler, Module, Shell};

pub const CLASS: FpgaClass = FpgaClass {
    class: "Paint",
    elaborate,
    registers: |_| 1,
    handlers: &[HwHandler { name: "color", read: true, write: true, kind: HandlerKind::Integer { min: 0, max: 255 }, offset: 0 }],
};

fn elaborate(ctx: &Ctx) -> Result<Module, String> {
    let color = int_arg(ctx, "COLOR")?;
    let state = format!(
        "    reg [7:0] color;\n    always @(posedge clk) begin\n        if (rst) color <= 8'd{color};\n        else if ({}) color <= hb_wdata[7:0];\n    end\n",
        write_at(0)
    );
    Ok(Shell { window: 1, writes: 0, wstart: "c_hoff".into(), decide: "n_paint = color;".into(), state: String::new(), declarations: state, reads: Some(vec![(0, "{24'd0, color}".into())]), outputs: 1 }
        .module())
}
