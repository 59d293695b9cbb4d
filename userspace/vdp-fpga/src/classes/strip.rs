//! Strip and Unstrip. The stream keeps the bytes a Strip takes off (the data start `hoff`
//! moves on), so an Unstrip gives back the very bytes stripped, as the software's headroom
//! does; an Unstrip beyond them puts zeros in front, as the software's zeroed headroom does.

use super::{int_arg, Ctx, FpgaClass, Module, Shell};

pub const STRIP: FpgaClass = FpgaClass { class: "Strip", elaborate: elaborate_strip, registers: |_| 0, handlers: &[] };
pub const UNSTRIP: FpgaClass = FpgaClass { class: "Unstrip", elaborate: elaborate_unstrip, registers: |_| 0, handlers: &[] };

fn elaborate_strip(ctx: &Ctx) -> Result<Module, String> {
    let n = int_arg(ctx, "LENGTH")?;
    // Like Click, a packet shorter than LENGTH loses all its bytes.
    let decide = format!("n_hoff = m_hoff + ((m_dlen < 16'd{n}) ? m_dlen : 16'd{n});");
    Ok(Shell { window: 1, writes: 0, wstart: "c_hoff".into(), decide, state: String::new(), declarations: String::new(), reads: Some(vec![]), outputs: 1 }.module())
}

/// Statements that push `n` bytes in front of the data, as `PacketBuf::push` does.
pub fn push_front(n: i64) -> String {
    format!(
        "if (m_hoff >= 16'd{n}) begin\n    n_hoff = m_hoff - 16'd{n};\nend else begin\n    d_ins = 16'd{n} - m_hoff;\n    n_hoff = 16'd0;\n    n_net = m_net + d_ins;\nend\n"
    )
}

fn elaborate_unstrip(ctx: &Ctx) -> Result<Module, String> {
    let n = int_arg(ctx, "LENGTH")?;
    Ok(Shell { window: 1, writes: 0, wstart: "c_hoff".into(), decide: push_front(n), state: String::new(), declarations: String::new(), reads: Some(vec![]), outputs: 1 }.module())
}
