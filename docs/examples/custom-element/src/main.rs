//! The tenant's container engine: vdp's engine with the FlowSampler class built in.
//!
//! `flow-sampler-engine describe` prints the declarations of the engine's classes (the built-in
//! ones, then FlowSampler) as JSON: what `vdpctl install --engine` in the container sends the
//! coordinator, which checks the tenant's configuration against them without running this code.
//! `flow-sampler-engine run …` runs the container part the coordinator cut off, over the channel
//! `vdpctl engine start` hands it (`docs/container-engine.md`).

use std::process::ExitCode;

fn main() -> ExitCode {
    vdp_engine::container::main(&flow_sampler_engine::classes())
}
