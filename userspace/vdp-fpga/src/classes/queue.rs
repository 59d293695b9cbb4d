//! Queue: a packet FIFO in block RAM (hdl/vdp_queue.v) sized for CAPACITY packets of the
//! largest frame the board's devices carry, with the software's read handlers and
//! `reset_counts`.

use super::{action, count, int_arg, read_mux, stream_ports, write_at, Ctx, FpgaClass, HandlerKind, HwHandler, Module, BUS_PORTS, MODULE};
use crate::board::Board;

pub const CLASS: FpgaClass = FpgaClass {
    class: "Queue",
    elaborate,
    registers: |_| 8,
    handlers: &[
        HwHandler { name: "length", read: true, write: false, kind: HandlerKind::Integer { min: 0, max: i64::MAX }, offset: 0 },
        HwHandler { name: "highwater_length", read: true, write: false, kind: HandlerKind::Integer { min: 0, max: i64::MAX }, offset: 1 },
        HwHandler { name: "capacity", read: true, write: false, kind: HandlerKind::Integer { min: 0, max: i64::MAX }, offset: 2 },
        count("drops", 4),
        action("reset_counts", 6),
    ],
};

/// Words of the largest packet any device of the board carries.
fn max_words(board: &Board) -> u64 {
    let frame = board.devices.iter().map(|d| d.max_frame).max().unwrap_or(1518);
    u64::from(frame).div_ceil(8) + 1
}

fn elaborate(ctx: &Ctx) -> Result<Module, String> {
    let capacity = int_arg(ctx, "CAPACITY")?;
    if capacity < 1 {
        return Err("a Queue of capacity 0 has no FPGA form".into());
    }
    let capacity = capacity as u64;
    let maxw = max_words(ctx.board);
    let depth = (capacity * maxw).next_power_of_two();
    let aw = depth.trailing_zeros().max(1);
    let cb = 64 - (capacity + 1).leading_zeros();
    let reads = vec![
        (0, format!("{{{{(32-{cb}){{1'b0}}}}, q_length}}")),
        (1, format!("{{{{(32-{cb}){{1'b0}}}}, q_highwater}}")),
        (2, format!("32'd{capacity}")),
        (4, "q_drops[31:0]".to_string()),
        (5, "q_drops_hi".to_string()),
    ];
    let text = format!(
        "module {MODULE} (
    input  wire clk,
    input  wire rst,
{i0}{o0}{BUS_PORTS}    output wire idle
);
    wire [{cbm}:0] q_length, q_highwater;
    wire [63:0] q_drops;
    reg  [31:0] q_drops_hi;
    always @(posedge clk) if (hb_sel && hb_rd && hb_addr == 16'd4) q_drops_hi <= q_drops[63:32];
    vdp_queue #(.CAPACITY({capacity}), .MAXW({maxw}), .AW({aw}), .CB({cb}), .MW(74)) queue (
        .clk(clk), .rst(rst),
        .i_data(i0_data), .i_valid(i0_valid), .i_ready(i0_ready), .i_sop(i0_sop), .i_eop(i0_eop),
        .i_bytes(i0_bytes), .i_meta(i0_meta),
        .o_data(o0_data), .o_valid(o0_valid), .o_ready(o0_ready), .o_sop(o0_sop), .o_eop(o0_eop),
        .o_bytes(o0_bytes), .o_meta(o0_meta),
        .length(q_length), .highwater(q_highwater), .drops(q_drops),
        .reset_counts({reset}), .idle(idle));
{mux}endmodule
",
        i0 = stream_ports("i0", false),
        o0 = stream_ports("o0", true),
        cbm = cb - 1,
        reset = write_at(6),
        mux = read_mux(&reads),
    );
    Ok(Module { text, memory_bits: depth * 69 + capacity * 74 })
}
