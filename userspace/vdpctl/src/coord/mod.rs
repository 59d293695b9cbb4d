//! The coordinator (`vdpctl daemon`) and the commands tenants run against it.

pub mod cgroups;
pub mod channel;
pub mod client;
pub mod daemon;
pub mod engine;
pub mod fdpass;
pub mod identity;
pub mod limits;
pub mod logging;
pub mod protocol;
pub mod reload;
pub mod state;
