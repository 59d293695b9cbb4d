//! PaintSwitch: the packet leaves by the output its paint names; a paint with no such output
//! drops it.

use super::{Ctx, FpgaClass, Module, Shell};

pub const CLASS: FpgaClass = FpgaClass { class: "PaintSwitch", elaborate, registers: |_| 0, handlers: &[] };

fn elaborate(ctx: &Ctx) -> Result<Module, String> {
    let outputs = ctx.outputs();
    let decide = format!("d_port = {{8'd0, m_paint}};\nif ({{8'd0, m_paint}} >= 16'd{outputs}) d_drop = 1'b1;");
    Ok(Shell { window: 1, writes: 0, wstart: "c_hoff".into(), decide, state: String::new(), declarations: String::new(), reads: Some(vec![]), outputs }.module())
}
