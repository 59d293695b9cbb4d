//! The vdp generic netlink family as userspace speaks it: [`attrs`], the typed attributes that
//! `build.rs` generates from the family's YAML spec (`docs/netlink/vdp.yaml`), and [`netlink`],
//! a synchronous client that sends requests and decodes replies and notifications into them,
//! and [`spec`], the spec itself as typed values (the model `build.rs` generates from).
//! vdpctl, its benchmark tool and the fuzzer share it.

pub mod attrs;
pub mod netlink;
pub mod spec;
