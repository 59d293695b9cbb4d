//! `vdpctl top`: a live view of each tenant's and each element's packets per second, drops, and
//! CPU share against its cap and throttling. The counters come from where `vdpctl stats` reads
//! them ([`sample`]), become rates ([`rates`]) and are drawn in place on the terminal's alternate
//! screen ([`ui`], [`screen`]), or printed as one JSON line per interval under `-j`.

pub mod rates;
pub mod sample;
mod screen;
pub mod ui;

use crate::output::Output;
use crate::tenant_ref::TenantRef;
use anyhow::{bail, Result};
use clap::Args;
use sample::{Refused, Sample, Source};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The shortest and the longest `--interval`.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
pub const MAX_INTERVAL: Duration = Duration::from_secs(3600);

#[derive(Args)]
pub struct TopArgs {
    /// Seconds between refreshes, 0.1 to 3600 (decimals allowed, as in 0.5).
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_interval, allow_negative_numbers = true)]
    interval: Duration,
    /// Exit after this many refreshes (each shows one interval's rates); without it, run until q
    /// or a signal (with -j: until killed).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), allow_negative_numbers = true)]
    count: Option<u64>,
    /// Only this tenant: its id or its name. A tenant in its container sees only itself anyway;
    /// through the coordinator only the root context may name one.
    #[arg(long, value_parser = crate::tenant_ref::parse_tenant_ref)]
    tenant: Option<TenantRef>,
    /// Ask the coordinator at this socket instead of the module.
    #[arg(long)]
    socket: Option<PathBuf>,
}

/// The value parser of `--interval`: a number of seconds within the bounds.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text.trim().parse().map_err(|_| format!("`{text}` is not a number of seconds"))?;
    let bounds = format!("from {} to {} seconds", MIN_INTERVAL.as_secs_f64(), MAX_INTERVAL.as_secs());
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(format!("the interval must be a positive number of seconds, {bounds}; `{text}` is not"));
    }
    match Duration::try_from_secs_f64(seconds) {
        Ok(d) if (MIN_INTERVAL..=MAX_INTERVAL).contains(&d) => Ok(d),
        _ => Err(format!("the interval must be {bounds}; `{text}` is outside")),
    }
}

/// Refreshes on a fixed beat from the first sample, so the intervals do not drift by the time a
/// sample takes; one that falls behind (a slow answer) starts the beat again from now.
struct Ticker {
    next: Instant,
    every: Duration,
}

impl Ticker {
    fn new(start: Instant, every: Duration) -> Ticker {
        Ticker { next: start + every, every }
    }

    /// Time until the next refresh is due.
    fn remaining(&self) -> Duration {
        self.next.saturating_duration_since(Instant::now())
    }

    /// The refresh that was due is being made: schedules the one after it.
    fn advance(&mut self) {
        let now = Instant::now();
        self.next += self.every;
        if self.next <= now {
            self.next = now + self.every;
        }
    }
}

pub fn run(args: &TopArgs, out: &Output) -> Result<ExitCode> {
    if !out.json && !std::io::stdout().is_terminal() {
        bail!("`vdpctl top` draws on a terminal and standard output is not one; give -j (--json) for one JSON line per interval");
    }
    let mut source = Source::open(args.socket.as_deref(), args.tenant.as_ref())?;
    let result = if out.json {
        json_lines(|| source.sample(), args.interval, args.count, out, &mut std::io::stdout()).map(|()| ExitCode::SUCCESS)
    } else {
        screen::run(&mut source, args.interval, args.count)
    };
    match result {
        Err(e) if e.downcast_ref::<Refused>().is_some() => {
            let refused = e.downcast_ref::<Refused>().map_or(1, |r| r.code);
            eprintln!("vdpctl: {e}");
            Ok(ExitCode::from(refused))
        }
        other => other,
    }
}

/// `-j`: one JSON object per interval, a line each (indented under -p), flushed as it is made.
fn json_lines(mut sample: impl FnMut() -> Result<Sample>, every: Duration, count: Option<u64>, out: &Output, to: &mut impl Write) -> Result<()> {
    let mut earlier = sample()?;
    let mut ticker = Ticker::new(earlier.at, every);
    let mut printed = 0u64;
    while count.is_none_or(|n| printed < n) {
        std::thread::sleep(ticker.remaining());
        ticker.advance();
        let later = sample()?;
        writeln!(to, "{}", out.json_text(&rates::between(Some(&earlier), &later))?)?;
        to.flush()?;
        earlier = later;
        printed += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rates::tests::{sample, tenant};
    use super::*;

    #[test]
    fn intervals_are_bounded_and_garbage_is_refused() {
        assert_eq!(parse_interval("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_interval("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("3600"), Ok(MAX_INTERVAL));
        assert_eq!(parse_interval("0.1"), Ok(MIN_INTERVAL));
        for bad in ["0", "-1", "0.0", "-0.5", "nan", "inf", "-inf"] {
            let err = parse_interval(bad).unwrap_err();
            assert!(err.contains("must be a positive number of seconds, from 0.1 to 3600 seconds"), "{bad}: {err}");
        }
        for far in ["0.05", "3601", "1e300"] {
            let err = parse_interval(far).unwrap_err();
            assert!(err.contains("must be from 0.1 to 3600 seconds"), "{far}: {err}");
        }
        for garbage in ["", "abc", "1s", "1,5", "0x10"] {
            assert_eq!(parse_interval(garbage).unwrap_err(), format!("`{garbage}` is not a number of seconds"));
        }
    }

    /// `vdpctl top ARGS...` as the binary parses them.
    fn parse(args: &[&str]) -> Result<crate::Cli, clap::Error> {
        use clap::Parser;
        crate::Cli::try_parse_from(["vdpctl", "top"].into_iter().chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_takes_its_flags_and_refuses_bad_ones() {
        let top = |cli: crate::Cli| match cli.command {
            crate::Command::Top(args) => (args.interval, args.count, cli.output.json),
            _ => panic!("not top"),
        };
        assert_eq!(top(parse(&[]).unwrap()), (Duration::from_secs(1), None, false));
        assert_eq!(top(parse(&["--json", "--count", "3", "--interval", "0.5"]).unwrap()), (Duration::from_millis(500), Some(3), true));
        assert_eq!(top(parse(&["-j", "--interval=2"]).unwrap()), (Duration::from_secs(2), None, true));
        for (args, why) in [
            (&["--interval", "0"][..], "must be a positive number of seconds"),
            (&["--interval", "-1"], "must be a positive number of seconds"),
            (&["--interval", "soon"], "`soon` is not a number of seconds"),
            (&["--interval", "7200"], "must be from 0.1 to 3600 seconds"),
            (&["--count", "0"], "--count"),
            (&["--count", "-2"], "--count"),
        ] {
            let err = parse(args).err().unwrap_or_else(|| panic!("{args:?} parsed"));
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(why), "{args:?}: {err}");
        }
    }

    #[test]
    fn the_json_form_is_one_interval_a_line() {
        let t0 = Instant::now();
        let mut samples = (0..4u64).map(|n| sample(t0 + Duration::from_millis(n * 500), vec![tenant(1, "red", 40, 1000 + 100 * n, 1000 * n)]));
        let mut text = Vec::new();
        let out = Output { json: true, ..Output::default() };
        json_lines(|| Ok(samples.next().expect("a sample")), Duration::from_millis(1), Some(3), &out, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(!text.contains('\x1b'), "terminal control codes in {text:?}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        for line in &lines {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["seconds"], 0.5);
            let red = &v["tenants"][0];
            assert_eq!((red["id"].as_u64(), red["name"].as_str(), red["state"].as_str()), (Some(1), Some("red"), Some("steady")));
            assert_eq!(red["cpu"]["cap"], 0.2);
            assert!((red["cpu"]["share"].as_f64().unwrap() - 0.2).abs() < 1e-9, "{line}");
            assert!((red["cpu"]["of_cap"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{line}");
            assert_eq!(red["cpu"]["throttled_periods_per_s"], 10.0);
            let graph = &red["graph"];
            assert_eq!((graph["state"].as_str(), graph["packets_in_per_s"].as_f64()), (Some("steady"), Some(2000.0)));
            let q = &graph["elements"][2];
            assert_eq!(q["name"], "q");
            assert_eq!(q["drops_per_s"], 200.0);
            assert_eq!(q["queue"], serde_json::json!({"length": 5, "capacity": 100}));
        }
        // The exact keys, so that a change to them is a decision (serde_json's map sorts them).
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        let keys = |v: &serde_json::Value| {
            let mut keys = v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
            keys.sort();
            keys
        };
        assert_eq!(keys(&v), ["seconds", "tenants"]);
        assert_eq!(keys(&v["tenants"][0]), ["cpu", "graph", "id", "name", "state"]);
        assert_eq!(keys(&v["tenants"][0]["cpu"]), ["cap", "of_cap", "periods_per_s", "share", "throttled_periods_per_s", "throttled_share"]);
        assert_eq!(keys(&v["tenants"][0]["graph"]), ["drops_per_s", "elements", "packets_in_per_s", "packets_out_per_s", "state"]);
        assert_eq!(
            keys(&v["tenants"][0]["graph"]["elements"][0]),
            ["class", "drops_per_s", "name", "packets_in_per_s", "packets_out_per_s", "queue", "root", "state"]
        );
        // -p indents each object over several lines.
        let mut samples = (0..2u64).map(|n| sample(t0 + Duration::from_secs(n), vec![tenant(1, "red", 40, 1000, 10)]));
        let mut text = Vec::new();
        let pretty = Output { json: true, pretty: true, ..Output::default() };
        json_lines(|| Ok(samples.next().expect("a sample")), Duration::from_millis(1), Some(1), &pretty, &mut text).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(v["tenants"][0]["name"], "red");
        assert!(String::from_utf8(text).unwrap().lines().count() > 10);
    }

    #[test]
    fn a_failed_sample_ends_the_lines() {
        let t0 = Instant::now();
        let mut n = 0;
        let mut text = Vec::new();
        let out = Output { json: true, ..Output::default() };
        let err = json_lines(
            || {
                n += 1;
                if n > 2 {
                    bail!("the module went away");
                }
                Ok(sample(t0 + Duration::from_secs(n), vec![tenant(1, "red", 40, 1000, 10)]))
            },
            Duration::from_millis(1),
            None,
            &out,
            &mut text,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "the module went away");
        assert_eq!(String::from_utf8(text).unwrap().lines().count(), 1);
    }

    #[test]
    fn the_ticker_keeps_its_beat_and_restarts_when_behind() {
        let start = Instant::now();
        let mut ticker = Ticker::new(start, Duration::from_secs(10));
        assert!(ticker.remaining() > Duration::from_secs(9));
        ticker.advance();
        assert_eq!(ticker.next, start + Duration::from_secs(20));
        let mut behind = Ticker::new(start - Duration::from_secs(100), Duration::from_secs(10));
        assert_eq!(behind.remaining(), Duration::ZERO);
        behind.advance();
        assert!(behind.next > Instant::now() + Duration::from_secs(9));
    }
}
