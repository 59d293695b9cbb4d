//! DecIPTTL: decrements the TTL of the IPv4 header at the network offset (the data's start
//! when none is marked) with the incremental checksum update of RFC 1624; a TTL of 0 or 1 goes
//! to output 1 (dropped without one), a header shorter than 20 bytes is dropped.

use super::{b, Ctx, FpgaClass, Module, Shell};

pub const CLASS: FpgaClass = FpgaClass { class: "DecIPTTL", elaborate, registers: |_| 0, handlers: &[] };

fn elaborate(ctx: &Ctx) -> Result<Module, String> {
    let outputs = ctx.outputs();
    let expired = if outputs > 1 { "d_port = 16'd1;" } else { "d_drop = 1'b1;" };
    let decide = format!(
        "ttl_sum = 18'd0;
ttl_csum = 16'd0;
ttl_hl = {{10'd0, d_win[3:0], 2'b00}};
ttl_avail = (m_dlen > m_noff) ? m_dlen - m_noff : 16'd0;
if (ttl_hl < 16'd20 || ttl_avail < 16'd20) begin
    d_drop = 1'b1;
end else if ({ttl} <= 8'd1) begin
    {expired}
end else begin
    ttl_sum = {{2'd0, ~{{{c0}, {c1}}}}} + {{2'd0, ~{{{ttl}, {proto}}}}} + {{2'd0, {ttl} - 8'd1, {proto}}};
    ttl_sum = {{2'd0, ttl_sum[15:0]}} + {{16'd0, ttl_sum[17:16]}};
    ttl_sum = {{2'd0, ttl_sum[15:0]}} + {{16'd0, ttl_sum[17:16]}};
    ttl_csum = ~ttl_sum[15:0];
    d_wpos = m_hoff + m_noff;
    d_wout = {{{csum_lo}, {csum_hi}, 8'd0, {ttl_new}, 64'd0}};
    d_wmask = 12'b1101_0000_0000;
end
",
        ttl = b(8),
        proto = b(9),
        c0 = b(10),
        c1 = b(11),
        csum_lo = "ttl_csum[7:0]",
        csum_hi = "ttl_csum[15:8]",
        ttl_new = format!("({} - 8'd1)", b(8)),
    );
    let state = "    reg [15:0] ttl_hl, ttl_avail;\n    reg [17:0] ttl_sum;\n    reg [15:0] ttl_csum;\n".to_string();
    Ok(Shell { window: 12, writes: 12, wstart: "c_hoff + c_noff".into(), decide, declarations: state, state: String::new(), reads: Some(vec![]), outputs }.module())
}
