//! LinearIPLookup, StaticIPLookup and RadixIPLookup: longest-prefix match of the destination
//! annotation (or the header's destination) over a table of registers, all entries compared at
//! once. The table holds the configuration's routes at reset and has room for as many again
//! (at least 8 entries); the handlers read and write it through the address map, where
//! `vdpctl fpga` keeps the software's order, format and all-or-nothing batches
//! (`crate::map`).

use super::{b, Ctx, FpgaClass, HandlerKind, HwHandler, Module, Shell};
use std::fmt::Write as _;
use vdp_click::values::ArgValue;
use vdp_core::click_value::prefix_mask;

/// Registers of one table entry: flags (bit 0 valid, bit 1 has a gateway), network, prefix
/// length, gateway, output; the rest read 0.
pub const ENTRY_WORDS: u64 = 8;

const TABLE: HwHandler = HwHandler { name: "table", read: true, write: false, kind: HandlerKind::Routes, offset: 0 };
const LOOKUP: HwHandler = HwHandler { name: "lookup", read: true, write: false, kind: HandlerKind::Routes, offset: 0 };
const WRITES: [HwHandler; 4] = [
    HwHandler { name: "add", read: false, write: true, kind: HandlerKind::Routes, offset: 0 },
    HwHandler { name: "remove", read: false, write: true, kind: HandlerKind::Routes, offset: 0 },
    HwHandler { name: "set", read: false, write: true, kind: HandlerKind::Routes, offset: 0 },
    HwHandler { name: "flush", read: false, write: true, kind: HandlerKind::Routes, offset: 0 },
];

pub const CLASS: FpgaClass = FpgaClass { class: "LinearIPLookup", elaborate, registers, handlers: &[TABLE, LOOKUP, WRITES[0], WRITES[1], WRITES[2], WRITES[3]] };
pub const RADIX: FpgaClass = FpgaClass { class: "RadixIPLookup", elaborate, registers, handlers: &[TABLE, LOOKUP, WRITES[0], WRITES[1], WRITES[2], WRITES[3]] };
pub const STATIC: FpgaClass = FpgaClass { class: "StaticIPLookup", elaborate, registers, handlers: &[TABLE, LOOKUP] };

/// Routes of the configuration, in order.
fn routes(ctx: &Ctx) -> Vec<(u32, u8, Option<u32>, u16)> {
    ctx.element
        .repeated
        .iter()
        .filter_map(|value| match value {
            ArgValue::Route(route) => {
                Some((u32::from_be_bytes(route.prefix.addr) & prefix_mask(route.prefix.len), route.prefix.len, route.gateway.map(u32::from_be_bytes), route.port))
            }
            _ => None,
        })
        .collect()
}

/// Table entries of an element.
pub fn slots(ctx: &Ctx) -> u64 {
    (2 * routes(ctx).len() as u64).max(8).next_power_of_two()
}

fn registers(ctx: &Ctx) -> u64 {
    slots(ctx) * ENTRY_WORDS
}

fn elaborate(ctx: &Ctx) -> Result<Module, String> {
    let n = slots(ctx);
    let outputs = ctx.outputs();
    // The configuration's routes, a later one for the same prefix replacing an earlier one.
    let mut table: Vec<(u32, u8, Option<u32>, u16)> = Vec::new();
    for route in routes(ctx) {
        match table.iter_mut().find(|r| r.0 == route.0 && r.1 == route.1) {
            Some(slot) => *slot = route,
            None => table.push(route),
        }
    }
    let mut init = String::new();
    for (i, (network, len, gateway, port)) in table.iter().enumerate() {
        let _ = writeln!(
            init,
            "            e_valid[{i}] <= 1'b1; e_gwv[{i}] <= 1'b{}; e_addr[{i}] <= 32'h{network:08x}; e_len[{i}] <= 6'd{len}; e_gw[{i}] <= 32'h{:08x}; e_port[{i}] <= 16'd{port};",
            u8::from(gateway.is_some()),
            gateway.unwrap_or(0)
        );
    }
    let state = format!(
        "    reg        e_valid [0:{last}];
    reg        e_gwv [0:{last}];
    reg [31:0] e_addr [0:{last}];
    reg [5:0]  e_len [0:{last}];
    reg [31:0] e_gw [0:{last}];
    reg [15:0] e_port [0:{last}];
    integer t;
    always @(posedge clk) begin
        if (rst) begin
            for (t = 0; t < {n}; t = t + 1) begin
                e_valid[t] <= 1'b0; e_gwv[t] <= 1'b0; e_addr[t] <= 32'd0; e_len[t] <= 6'd0; e_gw[t] <= 32'd0; e_port[t] <= 16'd0;
            end
{init}        end else if (hb_sel && hb_wr && hb_addr < 16'd{words}) begin
            case (hb_addr[2:0])
                3'd0: begin e_valid[hb_addr[15:3]] <= hb_wdata[0]; e_gwv[hb_addr[15:3]] <= hb_wdata[1]; end
                3'd1: e_addr[hb_addr[15:3]] <= hb_wdata;
                3'd2: e_len[hb_addr[15:3]] <= hb_wdata[5:0];
                3'd3: e_gw[hb_addr[15:3]] <= hb_wdata;
                3'd4: e_port[hb_addr[15:3]] <= hb_wdata[15:0];
                default: ;
            endcase
        end
    end
    always @* begin
        hb_rdata = 32'd0;
        if (hb_addr < 16'd{words}) begin
            case (hb_addr[2:0])
                3'd0: hb_rdata = {{30'd0, e_gwv[hb_addr[15:3]], e_valid[hb_addr[15:3]]}};
                3'd1: hb_rdata = e_addr[hb_addr[15:3]];
                3'd2: hb_rdata = {{26'd0, e_len[hb_addr[15:3]]}};
                3'd3: hb_rdata = e_gw[hb_addr[15:3]];
                3'd4: hb_rdata = {{16'd0, e_port[hb_addr[15:3]]}};
                default: hb_rdata = 32'd0;
            endcase
        end
    end
",
        last = n - 1,
        words = n * ENTRY_WORDS,
    );
    let decide = format!(
        "lk_have = m_dstv || m_dlen >= m_noff + 16'd20;
lk_dest = m_dstv ? m_dst : {{{b16}, {b17}, {b18}, {b19}}};
lk_found = 1'b0;
lk_best = 0;
for (u = 0; u < {n}; u = u + 1) begin
    if (e_valid[u] && ((lk_dest ^ e_addr[u]) & lk_mask(e_len[u])) == 32'd0
        && (!lk_found || e_len[u] > e_len[lk_best])) begin
        lk_found = 1'b1;
        lk_best = u;
    end
end
if (!lk_have || !lk_found || e_port[lk_best] >= 16'd{outputs}) begin
    d_drop = 1'b1;
end else begin
    d_port = e_port[lk_best];
    if (e_gwv[lk_best]) begin
        n_dstv = 1'b1;
        n_dst = e_gw[lk_best];
    end else if (!m_dstv) begin
        n_dstv = 1'b1;
        n_dst = lk_dest;
    end
end
",
        b16 = b(16),
        b17 = b(17),
        b18 = b(18),
        b19 = b(19),
    );
    let declarations = "    reg lk_have, lk_found;\n    reg [31:0] lk_dest;\n    integer lk_best, u;\n    function [31:0] lk_mask(input [5:0] len);\n        lk_mask = (len == 6'd0) ? 32'd0 : (32'hffffffff << (6'd32 - len));\n    endfunction\n";
    // The table's registers come first: the decision reads them.
    let split = state.find("    integer t;").unwrap_or(0);
    let (table, logic) = state.split_at(split);
    Ok(Shell { window: 20, writes: 0, wstart: "c_hoff + c_noff".into(), decide, declarations: format!("{table}{declarations}"), state: logic.to_string(), reads: None, outputs }.module())
}
