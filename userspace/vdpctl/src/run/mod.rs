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
//! | `engine.rs` | the user-level engine (`vdp-engine`) as the [`Dataplane`] |
//! | `reads.rs` | `--read` targets: checked before the run, printed after it |
//! | `testing.rs` | test aids: pcap bytes, a test data plane that echoes frames |


pub mod bind;
pub mod capture;
pub mod dataplane;
pub mod driver;
pub mod engine;
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
    /// The tenant's Click configuration (`-` for standard input).
    pub config: String,
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
    /// Seed of the graph's random numbers (RED's drops): a run with the same seed and inputs
    /// repeats exactly.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
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
    // Elements take their seeds when the graph is built, on this thread.
    vdp_engine::set_random_seed(args.seed);
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
    let name = if args.config == "-" { crate::frontend::STDIN_NAME } else { &args.config };
    eprint!("{}", summary(name, &prepared, &bindings, &outcome, args.max_packets));
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

#[cfg(test)]
mod tests {
    use super::dataplane::Carries;
    use super::testing::{Echo, PcapBytes};
    use crate::testdir::{listing, scratch};
    use super::*;
    use clap::Parser;
    use std::path::Path;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: RunArgs,
    }

    fn parse(words: &[&str]) -> Result<RunArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("vdpctl-run").chain(words.iter().copied())).map(|cli| cli.args)
    }

    const FORWARD: &str = "FromDevice(eth1) -> c :: Counter -> Queue -> ToDevice(eth2);\n";
    const T0: u64 = 1_700_000_000_000_000_000;

    /// A scratch directory with the configuration and an input of three frames on eth1.
    fn setup(name: &str) -> PathBuf {
        let dir = scratch(name);
        std::fs::write(dir.join("forward.click"), FORWARD).unwrap();
        let frame = [0xffu8; 60];
        let input = PcapBytes::ethernet().record(T0, &frame).record(T0 + 1_000_000, &frame).record(T0 + 3_000_000, &frame);
        std::fs::write(dir.join("in.pcap"), input.bytes).unwrap();
        dir
    }

    fn args_in(dir: &Path, extra: &[&str]) -> RunArgs {
        let path = |name: &str| dir.join(name).display().to_string();
        let mut words = vec![path("forward.click"), "--input".into(), path("in.pcap"), "--output".into(), path("out.pcap")];
        words.extend(extra.iter().map(|w| w.to_string()));
        parse(&words.iter().map(String::as_str).collect::<Vec<_>>()).unwrap()
    }

    /// Echoes each receiving device's frames to the first transmitting one, 10 µs later.
    fn echo_engine(prepared: &Prepared) -> Result<Echo, String> {
        let to = prepared.devices.iter().find(|d| d.transmits).ok_or("no transmitting device")?;
        let mut echo = Echo::echoing("", "", 10_000);
        echo.echo = prepared.devices.iter().filter(|d| d.receives).map(|d| (d.name.clone(), to.name.clone())).collect();
        Ok(echo)
    }

    #[test]
    fn arguments_parse_with_their_defaults() {
        let args = parse(&["f.click", "--input", "eth1=a.pcap", "--input", "b.pcap", "--output", "o.pcap", "--read", "c.count", "--read", "c.rate"]).unwrap();
        assert_eq!((args.tenant.as_str(), args.system, args.duration, args.max_packets), ("tenant", None, None, DEFAULT_MAX_PACKETS));
        assert_eq!((args.inputs, args.outputs, args.reads), (vec!["eth1=a.pcap".to_string(), "b.pcap".into()], vec!["o.pcap".to_string()], vec!["c.count".to_string(), "c.rate".into()]));
        let args = parse(&["f.click", "--duration", "1.5ms", "--max-packets", "7", "--tenant", "red", "--system", "s.toml", "--seed", "9"]).unwrap();
        assert_eq!((args.duration, args.max_packets, args.tenant.as_str(), args.seed), (Some(1_500_000), 7, "red", 9));
        assert_eq!(parse(&["f.click", "--duration", "2"]).unwrap().duration, Some(2_000_000_000), "a bare number is seconds, as in Click");
        let bad = parse(&["f.click", "--duration", "ten"]).unwrap_err().to_string();
        assert!(bad.contains("invalid value 'ten' for '--duration <DURATION>': expected a duration like 10ms, 1.5s or 250us"), "{bad}");
        assert!(parse(&["f.click", "--max-packets", "0"]).unwrap_err().to_string().contains("--max-packets"));
        assert!(parse(&["--input", "a.pcap"]).is_err(), "the configuration is required");
    }

    #[test]
    fn a_run_writes_what_the_graph_transmits_and_prints_the_reads() {
        let dir = setup("run-ok");
        let args = args_in(&dir, &["--read", "c.count"]);
        assert_eq!(run(&args, echo_engine).unwrap(), ExitCode::SUCCESS);
        let records = capture::parse("out.pcap", &std::fs::read(dir.join("out.pcap")).unwrap(), Carries::Ethernet).unwrap();
        let times: Vec<u64> = records.iter().map(|r| r.time_ns).collect();
        assert_eq!(times, [T0 + 10_000, T0 + 1_010_000, T0 + 3_010_000]);
        assert_eq!(listing(&dir), ["forward.click", "in.pcap", "out.pcap"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_engine_is_made_from_the_compiled_graph() {
        let dir = setup("run-prepared");
        let mut seen = None;
        run(&args_in(&dir, &["--tenant", "red"]), |prepared: &Prepared| {
            seen = Some((prepared.tenant.clone(), prepared.devices.len(), prepared.blob.clone()));
            echo_engine(prepared)
        })
        .unwrap();
        let (tenant, devices, blob) = seen.unwrap();
        assert_eq!((tenant.as_str(), devices), ("red", 2));
        vdp_click::compile::validate(&blob).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Each failure leaves the directory as it was: no output, and an old output untouched.
    fn fails_leaving_nothing(name: &str, extra: &[&str], setup_more: impl FnOnce(&Path), make: impl FnOnce(&Prepared) -> Result<Echo, String>) -> String {
        let dir = setup(name);
        setup_more(&dir);
        std::fs::write(dir.join("out.pcap"), "old").unwrap();
        let before = listing(&dir);
        let error = format!("{:#}", run(&args_in(&dir, extra), make).unwrap_err());
        assert_eq!(listing(&dir), before, "{error}");
        assert_eq!(std::fs::read(dir.join("out.pcap")).unwrap(), b"old", "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
        error
    }

    #[test]
    fn a_failing_run_leaves_no_output_behind() {
        // The engine fails a read after the run: the output it wrote is not put in place.
        let error = fails_leaving_nothing("run-read", &["--read", "c.rate"], |_| {}, echo_engine);
        assert_eq!(error, "--read c.rate: tenant/c has no handler rate");
        // The engine cannot be made.
        let error = fails_leaving_nothing("run-make", &[], |_| {}, |_| Err("out of engines".to_string()));
        assert_eq!(error, "cannot start the data plane: out of engines");
        // A bad input.
        let error = fails_leaving_nothing("run-input", &[], |dir| std::fs::write(dir.join("in.pcap"), [0xd4, 0xc3, 0xb2, 0xa1, 2]).unwrap(), echo_engine);
        assert!(error.ends_with("in.pcap: byte offset 0: truncated file header: 5 of 24 bytes"), "{error}");
        // A configuration check refuses.
        let error = fails_leaving_nothing("run-config", &[], |dir| std::fs::write(dir.join("forward.click"), "FromDevice(eth1) -> Nope;\n").unwrap(), echo_engine);
        assert!(error.ends_with("forward.click has errors; nothing was run"), "{error}");
        // An unknown handler, refused before the run.
        let error = fails_leaving_nothing("run-unknown", &["--read", "c.bogus", "--read", "x.count"], |_| {}, echo_engine);
        assert!(error.contains("--read c.bogus: c (Counter) has no read handler 'bogus'") && error.contains("--read x.count: the configuration has no element 'x'"), "{error}");
        // The engine refuses a packet.
        let error = fails_leaving_nothing("run-refused", &[], |_| {}, |_| Ok(Echo::echoing("eth9", "eth2", 0)));
        assert!(error.ends_with("in.pcap: record 1: the data plane refused it on eth1: the graph has no FromDevice(eth1)"), "{error}");
    }

    #[test]
    fn bad_bindings_are_refused_before_anything_runs() {
        let dir = setup("run-bindings");
        let words = |extra: &[&str]| -> RunArgs {
            let config = dir.join("forward.click").display().to_string();
            let mut words = vec![config.as_str()];
            words.extend_from_slice(extra);
            parse(&words).unwrap()
        };
        let never = |_: &Prepared| -> Result<Echo, String> { panic!("the engine is not made") };
        let error = run(&words(&["--input", "eth1=in.pcap"]), never).unwrap_err().to_string();
        assert_eq!(error, "the graph transmits on eth2, but no --output names it: add --output DEV=FILE for it");
        let error = run(&words(&["--input", "eth2=in.pcap", "--output", "o.pcap"]), never).unwrap_err().to_string();
        assert!(error.starts_with("--input eth2=in.pcap: the graph does not receive on eth2"), "{error}");
        assert_eq!(listing(&dir), ["forward.click", "in.pcap"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_summary_says_how_the_run_ended() {
        let prepared = prepare::prepare_text("f.click", FORWARD, None, "tenant").unwrap();
        let bindings = bind::bind(&["in.pcap".into()], &["out.pcap".into()], &prepared.devices).unwrap();
        let outcome = driver::Outcome {
            ended: driver::Ended::MaxPackets,
            start_ns: T0,
            end_ns: 2_500_000_000,
            delivered: 3,
            undelivered: 2,
            written: vec![4],
            beyond_limit: 1,
        };
        assert_eq!(
            summary("f.click", &prepared, &bindings, &outcome, 4),
            "vdpctl: ran f.click as tenant tenant: 3 of 5 input packets delivered (eth1 from in.pcap); frames written: 4 on eth2 to out.pcap; \
             virtual time 0 to 2.500000000 s (capture time 1700000002.500000000 s)\n\
             vdpctl: stopped at --max-packets 4\n\
             vdpctl: 2 input packets were not delivered: the run stopped before them\n\
             vdpctl: 1 frames transmitted past --max-packets were not written\n"
        );
        let idle = driver::Outcome { ended: driver::Ended::Idle, start_ns: 0, end_ns: 0, delivered: 0, undelivered: 0, written: vec![0], beyond_limit: 0 };
        assert_eq!(
            summary("f.click", &prepared, &bindings, &idle, 4),
            "vdpctl: ran f.click as tenant tenant: no input packets; frames written: 0 on eth2 to out.pcap; virtual time 0 to 0.000000000 s (capture time 0.000000000 s), where nothing was left to do\n"
        );
    }
}
