//! The user-level engine: a tenant's graph run over user buffers and a virtual clock, by the
//! very element library (`kmod/core/library/`) and graph engine (`kmod/core/element/graph.rs`)
//! that the kernel module runs. `vdpctl run` drives it over pcap files; the differential tests
//! compare it with the kernel bit for bit. The container engine (`container/`, the `vdp-engine`
//! binary) runs a tenant's container part in real time over its channel to the kernel.

pub mod custom;
pub mod container;
pub mod device;
pub mod engine;
pub mod packet;
pub mod platform;
pub mod to_dump;

pub use custom::{custom_class, describe_json, CustomClass, CustomClasses};
pub use device::{DeviceSetup, UserDevice};
pub use engine::{Engine, RunError, Stopped};
pub use packet::UserPacket;
pub use platform::{set_random_seed, User};
