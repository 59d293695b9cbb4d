//! The module's portable core (`kmod/core/`), built as a userspace crate so that `vdpctl` shares
//! its definitions and its logic is unit-tested outside the kernel.
#![no_std]

#[path = "../../../kmod/core/mod.rs"]
mod portable;

pub use portable::*;
