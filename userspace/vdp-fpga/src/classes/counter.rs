//! Counter: counts packets and the bytes of their data. The rate handlers need the software
//! clock and have no registers here.

use super::{action, count, counter64, write_at, Ctx, FpgaClass, Module, Shell};

pub const CLASS: FpgaClass = FpgaClass {
    class: "Counter",
    elaborate,
    registers: |_| 4,
    handlers: &[count("count", 0), count("byte_count", 2), action("reset", 0)],
};

fn elaborate(_: &Ctx) -> Result<Module, String> {
    let mut reads = Vec::new();
    let reset = write_at(0);
    let mut state = counter64("packets", 0, "d_fire", &reset, &mut reads);
    state.push_str(&counter64("bytes", 2, "1'b0", &reset, &mut reads));
    // The byte count grows by the data's length, not by one.
    state = state.replace("else if (1'b0) bytes <= bytes + 64'd1;", "else if (d_fire) bytes <= bytes + {48'd0, m_dlen};");
    Ok(Shell { window: 1, writes: 0, wstart: "c_hoff".into(), decide: String::new(), state, declarations: String::new(), reads: Some(reads), outputs: 1 }.module())
}
