//! EtherEncap: pushes 14 bytes and writes DST, SRC and ETHERTYPE into them, constants of the
//! module.

use super::strip::push_front;
use super::{int_arg, Ctx, FpgaClass, Module, Shell};
use vdp_click::values::ArgValue;

pub const CLASS: FpgaClass = FpgaClass { class: "EtherEncap", elaborate, registers: |_| 0, handlers: &[] };

fn ether(ctx: &Ctx, keyword: &str) -> Result<[u8; 6], String> {
    match ctx.element.arg(keyword) {
        Some(ArgValue::Ether(address)) => Ok(*address),
        _ => Err(format!("{}: argument {keyword} is missing", ctx.element.name)),
    }
}

fn elaborate(ctx: &Ctx) -> Result<Module, String> {
    let ethertype = int_arg(ctx, "ETHERTYPE")? as u16;
    let mut header = Vec::with_capacity(14);
    header.extend_from_slice(&ether(ctx, "DST")?);
    header.extend_from_slice(&ether(ctx, "SRC")?);
    header.extend_from_slice(&ethertype.to_be_bytes());
    // The window is written little end first: byte i at bits 8i+7..8i.
    let literal: String = header.iter().rev().map(|b| format!("{b:02x}")).collect();
    let mut decide = push_front(14);
    decide.push_str(&format!("d_wpos = n_hoff;\nd_wout = 112'h{literal};\nd_wmask = 14'h3fff;\n"));
    Ok(Shell { window: 14, writes: 14, wstart: "c_hoff".into(), decide, state: String::new(), declarations: String::new(), reads: Some(vec![]), outputs: 1 }.module())
}
