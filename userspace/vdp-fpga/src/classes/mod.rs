//! The FPGA definitions of element classes: one typed table ([`CLASSES`]), one file a class.
//!
//! A definition is Click's `elaborate()`: from an element's checked arguments it writes the
//! Verilog of a module specialised to them (constants folded into the logic: a Classifier's
//! patterns become comparators, a route table its initial contents), says how many handler
//! registers the element needs and which of the class's handlers those registers serve.
//!
//! Most classes are built on `vdp_shell` (hdl/vdp_shell.v) through [`Shell`]: the class gives
//! the window it reads, and a combinational decision over that window, the packet's length and
//! its metadata; [`Shell::module`] wraps it into a module on the common interface.

pub mod check_ip_header;
pub mod classifier;
pub mod counter;
pub mod dec_ip_ttl;
pub mod device;
pub mod discard;
pub mod ether_encap;
pub mod ether_mirror;
pub mod ip_lookup;
pub mod paint;
pub mod paint_switch;
pub mod queue;
pub mod strip;

use crate::board::Board;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use vdp_click::check::CheckedElement;

/// Bits of the metadata that travels beside each packet (docs/fpga.md, "Metadata").
pub const META_BITS: usize = 74;
/// Words of 64 bits a packet buffer holds: 2048 bytes.
pub const BUFFER_WORDS: usize = 256;
/// The placeholder the module's name takes in elaborated text.
pub const MODULE: &str = "__MODULE__";

/// What elaboration sees of one element.
pub struct Ctx<'a> {
    pub element: &'a CheckedElement,
    pub board: &'a Board,
    /// The board device the element is bound to (FromDevice, ToDevice).
    pub device: Option<&'a crate::board::BoardDevice>,
}

impl Ctx<'_> {
    pub fn outputs(&self) -> u16 {
        self.element.outputs
    }
    pub fn inputs(&self) -> u16 {
        self.element.inputs
    }
}

/// An elaborated module: its text (named [`MODULE`]) and the block RAM bits it uses.
pub struct Module {
    pub text: String,
    pub memory_bits: u64,
}

/// How a handler's value sits in the element's registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlerKind {
    /// A 64-bit count: low word at the offset, high word after it (reading the low word
    /// latches the high one).
    Count,
    /// An integer in one register, within the bounds given.
    Integer { min: i64, max: i64 },
    /// A write of any value to the offset performs the action.
    Action,
    /// A route table: `slots` entries of [`ip_lookup::ENTRY_WORDS`] registers from the offset.
    Routes,
}

/// One handler an FPGA definition serves from its registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HwHandler {
    pub name: &'static str,
    pub read: bool,
    pub write: bool,
    pub kind: HandlerKind,
    /// First register, relative to the element's block.
    pub offset: u32,
}

pub const fn count(name: &'static str, offset: u32) -> HwHandler {
    HwHandler { name, read: true, write: false, kind: HandlerKind::Count, offset }
}

pub const fn action(name: &'static str, offset: u32) -> HwHandler {
    HwHandler { name, read: false, write: true, kind: HandlerKind::Action, offset }
}

/// The FPGA definition of one class.
pub struct FpgaClass {
    /// The catalog class it implements (its Click name).
    pub class: &'static str,
    pub elaborate: fn(&Ctx) -> Result<Module, String>,
    /// Handler registers an element needs (0: it gets no block).
    pub registers: fn(&Ctx) -> u64,
    pub handlers: &'static [HwHandler],
}

/// Every class with an FPGA definition.
pub static CLASSES: &[FpgaClass] = &[
    classifier::CLASS,
    check_ip_header::CLASS,
    dec_ip_ttl::CLASS,
    ip_lookup::CLASS,
    ip_lookup::RADIX,
    ip_lookup::STATIC,
    ether_encap::CLASS,
    ether_mirror::CLASS,
    strip::STRIP,
    strip::UNSTRIP,
    paint::CLASS,
    paint_switch::CLASS,
    counter::CLASS,
    queue::CLASS,
    discard::CLASS,
    device::FROM_DEVICE,
    device::TO_DEVICE,
    device::TO_HOST,
];

pub fn by_name(name: &str) -> Option<&'static FpgaClass> {
    CLASSES.iter().find(|c| c.class == name)
}

/// Names of the classes that have FPGA definitions, for messages.
pub fn names() -> Vec<&'static str> {
    CLASSES.iter().map(|c| c.class).collect()
}

/// Byte `i` of the decision window.
pub fn b(i: usize) -> String {
    format!("d_win[{}:{}]", 8 * i + 7, 8 * i)
}

/// A shell-based element: see the module comment.
pub struct Shell {
    /// Bytes of the window (at least 1).
    pub window: usize,
    /// Bytes at the window's start the decision may write back (`d_wout`, `d_wmask`); 0 when
    /// it never writes, which saves the shell the logic.
    pub writes: usize,
    /// Where the window starts in the input stream: an expression over `c_hoff`, `c_noff` (the
    /// network offset relative to the data, 0 when none) and the other `c_` metadata fields.
    pub wstart: String,
    /// Statements that set the decision (`d_drop`, `d_port`, `d_cut`, `d_ins`, `d_keep`,
    /// `d_wpos`, `d_wout`, `d_wmask`) and the new metadata (`n_hoff`, `n_net`, `n_netv`,
    /// `n_paint`, `n_dstv`, `n_dst`), after defaults that pass the packet on unchanged to
    /// output 0. They may read `d_win`, `d_have`, `d_len`, the `m_` metadata fields, `m_dlen`
    /// (the data's length) and `m_noff`.
    pub decide: String,
    /// Declarations the decision needs (temporaries, tables), placed before it.
    pub declarations: String,
    /// Declarations and clocked logic: handler registers, which may use `d_fire`, `d_drop`
    /// and the handler bus (`hb_sel`, `hb_wr`, `hb_rd`, `hb_addr`, `hb_wdata`).
    pub state: String,
    /// Register reads: (offset, expression); `None` when `state` drives `hb_rdata` itself.
    pub reads: Option<Vec<(u32, String)>>,
    pub outputs: u16,
}

impl Shell {
    pub fn module(&self) -> Module {
        let w = self.window.max(1);
        let mut t = String::new();
        let _ = writeln!(t, "module {MODULE} (");
        t.push_str("    input  wire clk,\n    input  wire rst,\n");
        t.push_str(&stream_ports("i0", false));
        for k in 0..self.outputs {
            t.push_str(&stream_ports(&format!("o{k}"), true));
        }
        t.push_str(BUS_PORTS);
        t.push_str("    output wire idle\n);\n");
        let _ = writeln!(t, "    localparam W = {w};\n    localparam WW = {};", self.writes.min(w));
        t.push_str(META_WIRES);
        let _ = writeln!(t, "    wire [15:0] c_wstart = {};", self.wstart);
        t.push_str(SHELL_INSTANCE);
        t.push_str(&self.declarations);
        t.push_str("    always @* begin\n");
        t.push_str(DECIDE_DEFAULTS);
        t.push_str(&indent(&self.decide, 8));
        t.push_str("    end\n");
        t.push_str(&self.state);
        if let Some(reads) = &self.reads {
            t.push_str(&read_mux(reads));
        }
        t.push_str(&output_demux(self.outputs));
        t.push_str("endmodule\n");
        Module { text: t, memory_bits: 2 * BUFFER_WORDS as u64 * 64 }
    }
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines().map(|l| if l.trim().is_empty() { "\n".to_string() } else { format!("{pad}{l}\n") }).collect()
}

/// The ports of one stream on the common interface; `out` for an output of the module.
pub fn stream_ports(name: &str, out: bool) -> String {
    let (i, o) = if out { ("output", "input ") } else { ("input ", "output") };
    format!(
        "    {i} wire [63:0] {name}_data,\n    {i} wire        {name}_valid,\n    {o} wire        {name}_ready,\n    {i} wire        {name}_sop,\n    {i} wire        {name}_eop,\n    {i} wire [3:0]  {name}_bytes,\n    {i} wire [{m}:0] {name}_meta,\n",
        m = META_BITS - 1
    )
}

pub const BUS_PORTS: &str = "    input  wire        hb_sel,\n    input  wire        hb_wr,\n    input  wire        hb_rd,\n    input  wire [15:0] hb_addr,\n    input  wire [31:0] hb_wdata,\n    output reg  [31:0] hb_rdata,\n";

const META_WIRES: &str = "    wire [73:0] c_meta;
    wire [15:0] c_hoff = c_meta[15:0];
    wire [15:0] c_net = c_meta[31:16];
    wire        c_netv = c_meta[32];
    // The network offset relative to the data; 0 when none is marked or the mark is behind the
    // data. (Its software form also needs it inside the data, which holds for every graph of
    // the FPGA subset: only CheckIPHeader marks, inside the packet it keeps.)
    wire [15:0] c_noff = (c_netv && c_net >= c_hoff) ? c_net - c_hoff : 16'd0;
    wire [8*W-1:0] d_win;
    wire [15:0] d_have;
    wire [15:0] d_len;
    wire [73:0] d_meta;
    wire        d_fire;
    wire [15:0] m_hoff = d_meta[15:0];
    wire [15:0] m_net = d_meta[31:16];
    wire        m_netv = d_meta[32];
    wire [7:0]  m_paint = d_meta[40:33];
    wire        m_dstv = d_meta[41];
    wire [31:0] m_dst = d_meta[73:42];
    wire [15:0] m_dlen = (d_len > m_hoff) ? d_len - m_hoff : 16'd0;
    wire        m_noffv = m_netv && m_net >= m_hoff && (m_net - m_hoff) < m_dlen;
    wire [15:0] m_noff = m_noffv ? m_net - m_hoff : 16'd0;
    reg         d_drop;
    reg  [15:0] d_port, d_cut, d_ins, d_keep, d_wpos;
    reg  [8*W-1:0] d_wout;
    reg  [W-1:0] d_wmask;
    reg  [15:0] n_hoff, n_net;
    reg         n_netv, n_dstv;
    reg  [7:0]  n_paint;
    reg  [31:0] n_dst;
    wire [73:0] d_meta_out = {n_dst, n_dstv, n_paint, n_netv, n_net, n_hoff};
    wire [63:0] s_data;
    wire        s_valid, s_sop, s_eop;
    wire        s_ready;
    wire [3:0]  s_bytes;
    wire [73:0] s_meta;
    wire [15:0] s_port;
";

const SHELL_INSTANCE: &str = "    vdp_shell #(.W(W), .WW(WW), .DEPTH(256), .MW(74)) shell (
        .clk(clk), .rst(rst),
        .i_data(i0_data), .i_valid(i0_valid), .i_ready(i0_ready), .i_sop(i0_sop), .i_eop(i0_eop),
        .i_bytes(i0_bytes), .i_meta(i0_meta),
        .o_data(s_data), .o_valid(s_valid), .o_ready(s_ready), .o_sop(s_sop), .o_eop(s_eop),
        .o_bytes(s_bytes), .o_meta(s_meta), .o_port(s_port),
        .c_meta(c_meta), .c_wstart(c_wstart),
        .d_win(d_win), .d_have(d_have), .d_len(d_len), .d_meta(d_meta), .d_fire(d_fire),
        .d_drop(d_drop), .d_port(d_port), .d_cut(d_cut), .d_ins(d_ins), .d_keep(d_keep),
        .d_wpos(d_wpos), .d_wout(d_wout), .d_wmask(d_wmask), .d_meta_out(d_meta_out),
        .idle(idle));
";

const DECIDE_DEFAULTS: &str = "        d_drop = 1'b0;
        d_port = 16'd0;
        d_cut = 16'd0;
        d_ins = 16'd0;
        d_keep = 16'hffff;
        d_wpos = 16'd0;
        d_wout = {(8*W){1'b0}};
        d_wmask = {W{1'b0}};
        n_hoff = m_hoff;
        n_net = m_net;
        n_netv = m_netv;
        n_paint = m_paint;
        n_dstv = m_dstv;
        n_dst = m_dst;
";

/// The combinational register read of a module.
pub fn read_mux(reads: &[(u32, String)]) -> String {
    let mut t = String::from("    always @* begin\n        hb_rdata = 32'd0;\n");
    if !reads.is_empty() {
        t.push_str("        case (hb_addr)\n");
        for (offset, expr) in reads {
            let _ = writeln!(t, "            16'd{offset}: hb_rdata = {expr};");
        }
        t.push_str("            default: hb_rdata = 32'd0;\n        endcase\n");
    }
    t.push_str("    end\n");
    t
}

/// Sends the shell's output to the output its decision named.
fn output_demux(outputs: u16) -> String {
    let mut t = String::new();
    let mut ready = String::from("1'b1");
    for k in (0..outputs).rev() {
        let _ = writeln!(
            t,
            "    assign o{k}_data = s_data;\n    assign o{k}_valid = s_valid && s_port == 16'd{k};\n    assign o{k}_sop = s_sop;\n    assign o{k}_eop = s_eop;\n    assign o{k}_bytes = s_bytes;\n    assign o{k}_meta = s_meta;"
        );
        ready = format!("(s_port == 16'd{k}) ? o{k}_ready : {ready}");
    }
    let _ = writeln!(t, "    assign s_ready = {ready};");
    t
}

/// A 64-bit counter register `name` with its handler reads at `offset` (low word, which
/// latches the high word) and `offset + 1`.
pub fn counter64(name: &str, offset: u32, increment_when: &str, reset_when: &str, reads: &mut Vec<(u32, String)>) -> String {
    reads.push((offset, format!("{name}[31:0]")));
    reads.push((offset + 1, format!("{name}_hi")));
    format!(
        "    reg [63:0] {name};\n    reg [31:0] {name}_hi;\n    always @(posedge clk) begin\n        if (rst || ({reset_when})) {name} <= 64'd0;\n        else if ({increment_when}) {name} <= {name} + 64'd1;\n        if (hb_sel && hb_rd && hb_addr == 16'd{offset}) {name}_hi <= {name}[63:32];\n    end\n"
    )
}

/// A handler write to `offset`.
pub fn write_at(offset: u32) -> String {
    format!("hb_sel && hb_wr && hb_addr == 16'd{offset}")
}

/// A Verilog literal for a 32-bit value.
pub fn hex32(value: u32) -> String {
    format!("32'h{value:08x}")
}

/// The integer argument `keyword` of an element, as the checker filled it in.
pub fn int_arg(ctx: &Ctx, keyword: &str) -> Result<i64, String> {
    ctx.element.int_arg(keyword).ok_or_else(|| format!("{}: argument {keyword} is missing", ctx.element.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_definition_names_a_catalog_class_and_its_handlers() {
        for def in CLASSES {
            let class = crate::host::catalog().class_by_name(def.class).unwrap_or_else(|| panic!("{} is not in the catalog", def.class));
            for handler in def.handlers {
                if handler.read {
                    assert!(class.has_handler(handler.name, false), "{}.{} is not a read handler", def.class, handler.name);
                }
                if handler.write {
                    assert!(class.has_handler(handler.name, true), "{}.{} is not a write handler", def.class, handler.name);
                }
            }
        }
        let mut names = names();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CLASSES.len(), "a class is defined twice");
    }
}
