//! The portable half of vdp.
//!
//! Everything under `kmod/core/` is plain `core` Rust: no allocation, no floating point, no kernel
//! types and no std. The module compiles it in with `#[path]`, and the userspace crate `vdp-core`
//! compiles the very same files, so the kernel and the coordinator can never disagree about the
//! wire protocol, the element catalog or the packet logic, and all of it is unit-tested in
//! userspace.

/// Version of the module and of `vdpctl`; both report it, and a test keeps it equal to the
/// userspace crate version.
pub const VERSION: &str = "0.1.0";

pub mod uapi;
pub mod catalog;
pub mod element;
pub mod library;
pub mod click_value;
pub mod packet_program;
pub mod call_depth;
pub mod compiled_graph;
pub mod wire;
pub mod tunnel;
pub mod lpm;
pub mod token_bucket;
pub mod tx_cap;
pub mod stride;
pub mod cpu_budget;
pub mod element_args;
pub mod route_text;
pub mod ip_actions;
pub mod channel;
pub mod boundary_stats;
pub mod boundary_ring;
pub mod dispatch;
pub mod cpu_set;
