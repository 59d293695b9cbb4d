//! FromDevice and ToDevice (and ToHostLink, a partition's boundary), bound to the stream ports of the board's device of that name.
//!
//! FromDevice takes the board's ingress stream, drops a frame shorter than an Ethernet header
//! or longer than the device's largest frame (counted as `drops`, as the software device
//! counts `rx_inner_truncated`), counts the others and starts their metadata at zero.
//! ToDevice takes the data (from the data start `hoff`) to the egress stream and counts it; a
//! frame longer than the device's largest is dropped and counted.

use super::{action, count, counter64, write_at, Ctx, FpgaClass, Module, Shell};

pub const FROM_DEVICE: FpgaClass = FpgaClass {
    class: "FromDevice",
    elaborate: elaborate_from,
    registers: |_| 4,
    handlers: &[count("count", 0), count("drops", 2), action("reset_counts", 0)],
};

pub const TO_DEVICE: FpgaClass = FpgaClass {
    class: "ToDevice",
    elaborate: elaborate_to,
    registers: |_| 4,
    handlers: &[count("count", 0), count("drops", 2), action("reset_counts", 0)],
};

/// The FPGA side of a partition boundary: ToDevice's module on a host link's egress stream.
pub const TO_HOST: FpgaClass = FpgaClass {
    class: crate::host::TO_HOST,
    elaborate: elaborate_to,
    registers: |_| 4,
    handlers: &[count("count", 0), count("drops", 2), action("reset_counts", 0)],
};

fn max_frame(ctx: &Ctx) -> Result<u32, String> {
    ctx.device.map(|d| d.max_frame).ok_or_else(|| format!("{} is bound to no board device", ctx.element.name))
}

/// A device end: the drop rule and the decision's other statements; the rest is common.
fn device_module(bad: &str, decide: &str) -> Module {
    let decide = format!("dev_bad = {bad};\nif (dev_bad) d_drop = 1'b1;\n{decide}");
    let mut reads = Vec::new();
    let mut state = counter64("packets", 0, "d_fire && !dev_bad", &write_at(0), &mut reads);
    state.push_str(&counter64("drops", 2, "d_fire && dev_bad", &write_at(0), &mut reads));
    Shell { window: 1, writes: 0, wstart: "16'd0".into(), decide, declarations: "    reg dev_bad;\n".into(), state, reads: Some(reads), outputs: 1 }.module()
}

fn elaborate_from(ctx: &Ctx) -> Result<Module, String> {
    let max = max_frame(ctx)?;
    let fresh = "n_hoff = 16'd0;\nn_net = 16'd0;\nn_netv = 1'b0;\nn_paint = 8'd0;\nn_dstv = 1'b0;\nn_dst = 32'd0;\n";
    Ok(device_module(&format!("d_len < 16'd14 || d_len > 16'd{max}"), fresh))
}

fn elaborate_to(ctx: &Ctx) -> Result<Module, String> {
    let max = max_frame(ctx)?;
    Ok(device_module(&format!("m_dlen > 16'd{max}"), "d_cut = m_hoff;\nn_hoff = 16'd0;\n"))
}
