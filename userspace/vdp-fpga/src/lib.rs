//! vdp's FPGA level (Keller's `click-fpga`): a checked Click graph becomes Verilog modules on
//! one streaming interface, wired by a generated top level, with the handlers laid out in an
//! address map; a Verilator testbench runs the design over pcap captures, and Yosys synthesises
//! it for its area ([`synth`]). See docs/fpga.md.

pub mod addrmap;
pub mod board;
pub mod classes;
pub mod design;
pub mod handlers;
pub mod host;
pub mod map;
pub mod partition;
pub mod sim;
pub mod synth;
