//! `vdpctl run`: runs a tenant's Click configuration in user space over packet captures, on a
//! virtual clock, with no kernel module.
//!
//! The configuration goes through the same check, merge and compile as `vdpctl install`
//! ([`prepare`]); the compiled graph runs in a data plane that implements [`Dataplane`] (the
//! user-level engine, made by the caller from the [`prepare::Prepared`] graph). Each `--input`
//! capture feeds a device the graph receives on, merged by time ([`capture`]); what the graph
//! transmits on each device goes to that device's `--output` capture, written atomically; then
//! each `--read ELEMENT.HANDLER` is printed.
//!
//! | file | job |
//! | --- | --- |
//! | `mod.rs` | the arguments and the order of the run |
//! | `dataplane.rs` | the [`Dataplane`] trait the engine implements |
//! | `prepare.rs` | configuration to compiled graph, tenant and devices |
//! | `bind.rs` | `--input` and `--output` against the graph's devices |
//! | `capture.rs` | pcap files: reading and checking, merging, atomic writing |
//! | `driver.rs` | the loop: packets in, the clock forward, frames out, the limits |
//! | `reads.rs` | `--read` targets: checked before the run, printed after it |

pub mod bind;
pub mod capture;
pub mod dataplane;
pub mod driver;
pub mod prepare;
pub mod reads;
#[cfg(test)]
pub mod testing;

pub use dataplane::Dataplane;
pub use prepare::{prepare, Prepared};

use anyhow::{anyhow, Result};
use capture::seconds;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Transmitted frames a run writes at most when `--max-packets` is not given.
pub const DEFAULT_MAX_PACKETS: u64 = 10_000_000;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The tenant's Click configuration.
    pub config: PathBuf,
    /// System config (TOML) whose tenant, devices and limits apply; without it the tenant has
    /// exactly the devices the configuration names, each carrying Ethernet frames.
    #[arg(long)]
    pub system: Option<PathBuf>,
    /// The tenant the configuration belongs to.
    #[arg(long, default_value = "tenant")]
    pub tenant: String,
    /// A pcap capture to feed a device the graph receives on (FromDevice): DEV=FILE, or just
    /// FILE when the graph receives on one device. Repeat for more devices; captures are
    /// merged by time.
    #[arg(long = "input", value_name = "[DEV=]FILE")]
    pub inputs: Vec<String>,
    /// Where to write what the graph transmits on a device (ToDevice): DEV=FILE, or just FILE
    /// when the graph transmits on one device. Every such device needs one.
    #[arg(long = "output", value_name = "[DEV=]FILE")]
    pub outputs: Vec<String>,
    /// Print handler ELEMENT.HANDLER after the run; repeatable, printed in order.
    #[arg(long = "read", value_name = "ELEMENT.HANDLER")]
    pub reads: Vec<String>,
    /// Virtual time to run for from the first input packet (from 0 without input), in Click
    /// time syntax (10ms, 1.5s, 2min). Without it the run goes to the last input packet, then
    /// until nothing is left to do: a graph whose timers never stop needs --duration.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<u64>,
    /// Transmitted frames written at most, over all outputs; the run stops when they are
    /// reached, so that an unlimited source ends.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PACKETS, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_packets: u64,
}

fn parse_duration(text: &str) -> Result<u64, String> {
    vdp_core::click_value::parse_time_ns(text).map_err(|e| e.describe().to_string())
}

/// Runs `args` in the data plane that `make` builds from the prepared graph. Exit 0 when the
/// run completed (also when `--max-packets` stopped it, which is reported); any error leaves no
/// output file behind.
pub fn run<D: Dataplane>(args: &RunArgs, make: impl FnOnce(&Prepared) -> Result<D, D::Error>) -> Result<ExitCode> {
    let prepared = prepare(&args.config, args.system.as_deref(), &args.tenant)?;
    let devices = &prepared.devices;
    let bindings = bind::bind(&args.inputs, &args.outputs, devices)?;
    let reads = reads::targets(&args.reads, &prepared)?;
    let mut inputs = Vec::new();
    for binding in &bindings.inputs {
        inputs.push(capture::read(&binding.file, devices[binding.device].carries)?);
    }
    let arrivals = capture::merge(inputs);
    // The outputs' temporary files are made before the run, so that an unwritable place fails
    // at once; they are put in place only when everything has succeeded.
    let mut writers = Vec::new();
    for binding in &bindings.outputs {
        writers.push(capture::Writer::create(&binding.file, devices[binding.device].carries)?);
    }
    let mut dataplane = make(&prepared).map_err(|e| anyhow!("cannot start the data plane: {e}"))?;
    let sources: Vec<driver::Source> =
        bindings.inputs.iter().map(|b| driver::Source { device: &devices[b.device].name, file: &b.file }).collect();
    let transmitting: Vec<&str> = bindings.outputs.iter().map(|b| devices[b.device].name.as_str()).collect();
    let limits = driver::Limits { duration_ns: args.duration, max_packets: args.max_packets };
    let outcome = driver::drive(&mut dataplane, &sources, &arrivals, &transmitting, limits, |output, time_ns, frame| {
        writers[output].write(time_ns, frame)
    })?;
    let mut values = Vec::new();
    for read in &reads {
        values.push(dataplane.read_handler(&read.element, &read.handler).map_err(|e| anyhow!("--read {}: {e}", read.target))?);
    }
    let mut placed: Vec<String> = Vec::new();
    for writer in writers {
        let path = writer.path().display().to_string();
        writer.commit().map_err(|e| match placed.is_empty() {
            true => e,
            false => e.context(format!("{} already written", placed.join(", "))),
        })?;
        placed.push(path);
    }
    for (read, value) in reads.iter().zip(&values) {
        print!("{}", reads::format(&read.target, value));
    }
    eprint!("{}", summary(&args.config.display().to_string(), &prepared, &bindings, &outcome, args.max_packets));
    Ok(ExitCode::SUCCESS)
}

/// What the run did, for stderr.
fn summary(config: &str, prepared: &Prepared, bindings: &bind::Bindings, outcome: &driver::Outcome, max_packets: u64) -> String {
    let name = |device: usize| prepared.devices[device].name.as_str();
    let mut text = format!("vdpctl: ran {config} as tenant {}: ", prepared.tenant);
    let total_in = outcome.delivered + outcome.undelivered;
    if total_in == 0 {
        text.push_str("no input packets");
    } else {
        let inputs: Vec<String> = bindings.inputs.iter().map(|b| format!("{} from {}", name(b.device), b.file.display())).collect();
        text.push_str(&format!("{} of {total_in} input packets delivered ({})", outcome.delivered, inputs.join(", ")));
    }
    let outputs: Vec<String> =
        bindings.outputs.iter().zip(&outcome.written).map(|(b, n)| format!("{n} on {} to {}", name(b.device), b.file.display())).collect();
    if !outputs.is_empty() {
        text.push_str(&format!("; frames written: {}", outputs.join(", ")));
    }
    let span = format!("virtual time 0 to {} s (capture time {} s)", seconds(outcome.end_ns), seconds(outcome.start_ns.saturating_add(outcome.end_ns)));
    text.push_str(&match outcome.ended {
        driver::Ended::Idle => format!("; {span}, where nothing was left to do\n"),
        driver::Ended::Duration => format!("; {span}, the --duration\n"),
        driver::Ended::MaxPackets => format!("; {span}\nvdpctl: stopped at --max-packets {max_packets}\n"),
    });
    if outcome.undelivered > 0 {
        let why = match outcome.ended {
            driver::Ended::MaxPackets => "the run stopped before them",
            _ => "they come after the --duration",
        };
        text.push_str(&format!("vdpctl: {} input packets were not delivered: {why}\n", outcome.undelivered));
    }
    if outcome.beyond_limit > 0 {
        text.push_str(&format!("vdpctl: {} frames transmitted past --max-packets were not written\n", outcome.beyond_limit));
    }
    text
}
