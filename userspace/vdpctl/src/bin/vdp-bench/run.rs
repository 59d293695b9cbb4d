//! vdpctl's `run` module, the parts that turn a configuration into a running engine: the very
//! files `vdpctl run` is built from.

#[path = "../../run/dataplane.rs"]
pub mod dataplane;
#[path = "../../run/engine.rs"]
pub mod engine;
#[path = "../../run/prepare.rs"]
pub mod prepare;
