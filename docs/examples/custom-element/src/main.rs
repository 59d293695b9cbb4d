//! The tenant's container engine: vdp's engine with the FlowSampler class built in.
//!
//! `flow-sampler-engine --describe` prints the declarations of the engine's custom classes (the
//! built-in ones, then FlowSampler) as JSON: what `vdpctl install` in the container sends the
//! coordinator, which checks the tenant's configuration against them without running this code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let classes = flow_sampler_engine::classes();
    if args.iter().any(|arg| arg == "--describe") {
        return match vdp_engine::describe_json(&classes) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("flow-sampler-engine: {error}");
                ExitCode::FAILURE
            }
        };
    }
    // THE RUNTIME'S ENTRY POINT GOES HERE: the container runtime (`vdp_engine::container`, being
    // written beside this example) will take `classes` and `args` and run the tenant's graph.
    // Until it lands this binary only describes its classes.
    eprintln!("flow-sampler-engine: only --describe is available; the container runtime is not part of vdp-engine yet");
    ExitCode::from(2)
}
