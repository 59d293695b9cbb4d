//! Discard: takes every packet and counts it.

use super::{action, count, counter64, read_mux, stream_ports, write_at, Ctx, FpgaClass, Module, BUS_PORTS, MODULE};

pub const CLASS: FpgaClass = FpgaClass { class: "Discard", elaborate, registers: |_| 2, handlers: &[count("count", 0), action("reset_counts", 0)] };

fn elaborate(_: &Ctx) -> Result<Module, String> {
    let mut reads = Vec::new();
    let counter = counter64("packets", 0, "i0_valid && i0_eop", &write_at(0), &mut reads);
    let text = format!(
        "module {MODULE} (\n    input  wire clk,\n    input  wire rst,\n{}{BUS_PORTS}    output wire idle\n);\n    assign i0_ready = 1'b1;\n    assign idle = 1'b1;\n{counter}{}endmodule\n",
        stream_ports("i0", false),
        read_mux(&reads)
    );
    Ok(Module { text, memory_bits: 0 })
}
