//! CheckIPHeader: the checks of `ip_actions::check_ip` on the header OFFSET bytes into the
//! data (version, header length, total length within the packet, the checksum unless
//! CHECKSUM false, and the source rules with BADSRC and INTERFACES folded in as constants).
//! A bad packet is counted (`drops`) and goes to output 1, or is dropped without one; a good
//! one is cut to its total length and gets the network mark and destination annotation.

use super::{b, counter64, hex32, int_arg, Ctx, FpgaClass, Module, Shell};
use std::fmt::Write as _;
use vdp_click::values::ArgValue;
use vdp_core::click_value::prefix_mask;

pub const CLASS: FpgaClass = FpgaClass { class: "CheckIPHeader", elaborate, registers: |_| 2, handlers: &[super::count("drops", 0)] };

fn elaborate(ctx: &Ctx) -> Result<Module, String> {
    let offset = int_arg(ctx, "OFFSET")?;
    let checksum = !matches!(ctx.element.arg("CHECKSUM"), Some(ArgValue::Bool(false)));
    let outputs = ctx.outputs();
    let mut source_rules = String::from("(ip_src == 32'hffffffff) || (ip_src[31:28] == 4'he)");
    if let Some(ArgValue::Addresses(list)) = ctx.element.arg("BADSRC") {
        for address in list {
            let _ = write!(source_rules, " || (ip_src == {})", hex32(u32::from_be_bytes(*address)));
        }
    }
    if let Some(ArgValue::Prefixes(list)) = ctx.element.arg("INTERFACES") {
        for prefix in list.iter().filter(|p| p.len < 31) {
            let mask = prefix_mask(prefix.len);
            let broadcast = (u32::from_be_bytes(prefix.addr) & mask) | !mask;
            let _ = write!(source_rules, " || (ip_src == {})", hex32(broadcast));
        }
    }
    let reject = if outputs > 1 { "d_port = 16'd1;" } else { "d_drop = 1'b1;" };
    let mut sum = String::new();
    for k in 0..30 {
        let _ = writeln!(sum, "    if (16'd{} < ip_hl) ip_sum = ip_sum + {{5'd0, {}, {}}};", 2 * k, b(2 * k), b(2 * k + 1));
    }
    let decide = format!(
        "ip_base = m_hoff + 16'd{offset};
ip_avail = (d_len > ip_base) ? d_len - ip_base : 16'd0;
ip_hl = {{10'd0, d_win[3:0], 2'b00}};
ip_tl = {{{b2}, {b3}}};
ip_src = {{{b12}, {b13}, {b14}, {b15}}};
ip_sum = 21'd0;
{sum}ip_sum = {{5'd0, ip_sum[15:0]}} + {{16'd0, ip_sum[20:16]}};
ip_sum = {{5'd0, ip_sum[15:0]}} + {{16'd0, ip_sum[20:16]}};
ip_bad = 1'b0;
if (ip_avail < 16'd20) ip_bad = 1'b1;
else if (d_win[7:4] != 4'd4) ip_bad = 1'b1;
else if (ip_hl < 16'd20 || ip_avail < ip_hl) ip_bad = 1'b1;
else if (ip_tl < ip_hl || ip_tl > ip_avail) ip_bad = 1'b1;
else if ({checksum} && ip_sum[15:0] != 16'hffff) ip_bad = 1'b1;
else if ({source_rules}) ip_bad = 1'b1;
if (ip_bad) begin
    {reject}
end else begin
    d_keep = ip_base + ip_tl;
    n_net = ip_base;
    n_netv = 1'b1;
    n_dstv = 1'b1;
    n_dst = {{{b16}, {b17}, {b18}, {b19}}};
end
",
        b2 = b(2),
        b3 = b(3),
        b12 = b(12),
        b13 = b(13),
        b14 = b(14),
        b15 = b(15),
        b16 = b(16),
        b17 = b(17),
        b18 = b(18),
        b19 = b(19),
        checksum = if checksum { "1'b1" } else { "1'b0" },
    );
    let mut reads = Vec::new();
    let state = counter64("drops", 0, "d_fire && ip_bad", "1'b0", &mut reads);
    let declarations = "    reg [15:0] ip_base, ip_avail, ip_hl, ip_tl;\n    reg [31:0] ip_src;\n    reg [20:0] ip_sum;\n    reg ip_bad;\n";
    Ok(Shell { window: 60, writes: 0, wstart: format!("c_hoff + 16'd{offset}"), decide, declarations: declarations.to_string(), state, reads: Some(reads), outputs }.module())
}
