//! EtherMirror: swaps the Ethernet source and destination; a packet shorter than an Ethernet
//! header is dropped.

use super::{b, Ctx, FpgaClass, Module, Shell};

pub const CLASS: FpgaClass = FpgaClass { class: "EtherMirror", elaborate, registers: |_| 0, handlers: &[] };

fn elaborate(_: &Ctx) -> Result<Module, String> {
    let swapped: Vec<String> = (0..12).rev().map(|i| b(if i < 6 { i + 6 } else { i - 6 })).collect();
    let decide = format!(
        "if (m_dlen < 16'd14) d_drop = 1'b1;\nd_wpos = m_hoff;\nd_wout = {{{}}};\nd_wmask = 12'hfff;\n",
        swapped.join(", ")
    );
    Ok(Shell { window: 12, writes: 12, wstart: "c_hoff".into(), decide, state: String::new(), declarations: String::new(), reads: Some(vec![]), outputs: 1 }.module())
}
