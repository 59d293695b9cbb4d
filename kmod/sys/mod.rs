//! The thin layer between vdp and the kernel's C APIs.
//!
//! Every call into C that the module makes goes through this module. Each wrapper states the
//! invariant that makes its `unsafe` sound, so the rest of the module is safe Rust. The C side
//! (`vdp_genl.c`) holds the genetlink tables and the `static inline` helpers Rust cannot call;
//! `vdp_trace.h` defines the module's tracepoints, which `trace.rs` fires.

pub(crate) mod channel;
pub(crate) mod genl;
pub(crate) mod globals;
pub(crate) mod memcg;
pub(crate) mod netdev;
pub(crate) mod packet;
pub(crate) mod thread;
pub(crate) mod time;
pub(crate) mod trace;
