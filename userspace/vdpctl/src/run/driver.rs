//! The run itself: input packets into the data plane at their times, transmitted frames out,
//! within `--duration` and `--max-packets`.
//!
//! The first input packet arrives at virtual time 0 (with no input, the run starts at 0 too),
//! and every other one at its capture time less the first one's. Transmitted frames are handed
//! out with their virtual time plus that offset, so the outputs' timestamps line up with the
//! inputs'.

use super::capture::Arrival;
use super::dataplane::{Dataplane, Ran};
use anyhow::{anyhow, Result};
use std::path::Path;

/// Where an input's records go: the device, and the file (for errors).
pub struct Source<'a> {
    pub device: &'a str,
    pub file: &'a Path,
}

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Virtual time the run may reach, from the first packet; `None`: the last packet's, then
    /// until idle.
    pub duration_ns: Option<u64>,
    /// Transmitted frames written at most, over all outputs.
    pub max_packets: u64,
}

/// Why the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Nothing was left to do.
    Idle,
    /// `--duration` was reached with a timer still set.
    Duration,
    /// `--max-packets` frames were transmitted.
    MaxPackets,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub ended: Ended,
    /// The capture time of virtual time 0: the first input packet's, or 0.
    pub start_ns: u64,
    /// The virtual time the run ended at.
    pub end_ns: u64,
    pub delivered: usize,
    /// Input packets not delivered: after `--duration`, or left when `--max-packets` stopped it.
    pub undelivered: usize,
    /// Frames written, for each output.
    pub written: Vec<u64>,
    /// Frames transmitted past `--max-packets` in the task run that reached it: not written.
    pub beyond_limit: u64,
}

struct Run<'a, D, E> {
    dataplane: &'a mut D,
    transmitting: &'a [&'a str],
    start_ns: u64,
    max_packets: u64,
    written: Vec<u64>,
    beyond_limit: u64,
    emit: E,
}

impl<D: Dataplane, E: FnMut(usize, u64, &[u8]) -> Result<()>> Run<'_, D, E> {
    fn total(&self) -> u64 {
        self.written.iter().sum()
    }

    /// Runs the data plane up to `until_ns` and hands out what it transmitted, oldest first
    /// (frames of the same time in the outputs' order), up to `--max-packets` in all.
    fn run(&mut self, until_ns: u64) -> Result<Ran> {
        let ran = self.dataplane.run(until_ns, self.max_packets - self.total()).map_err(|e| anyhow!("{e}"))?;
        let mut frames: Vec<(u64, usize, Vec<u8>)> = Vec::new();
        for (output, device) in self.transmitting.iter().enumerate() {
            frames.extend(self.dataplane.take_transmitted(device).into_iter().map(|(time, frame)| (time, output, frame)));
        }
        frames.sort_by_key(|(time, _, _)| *time);
        for (time, output, frame) in frames {
            if self.total() == self.max_packets {
                self.beyond_limit += 1;
                continue;
            }
            let time_ns = self.start_ns.checked_add(time).ok_or_else(|| anyhow!("a frame's virtual time {time} ns overflows the clock"))?;
            (self.emit)(output, time_ns, &frame)?;
            self.written[output] += 1;
        }
        Ok(ran)
    }
}

/// The clock after a run up to `until_ns` that ended as `ran`.
fn clock(ran: Ran, until_ns: u64) -> u64 {
    match ran {
        Ran::Reached => until_ns,
        Ran::Idle { now_ns } | Ran::Budget { now_ns } => now_ns,
    }
}

/// Delivers `arrivals` (merged, in time order) to the data plane, running it between them, and
/// hands each frame transmitted on `transmitting[i]` to `emit(i, capture time, frame)`.
pub fn drive<D: Dataplane>(
    dataplane: &mut D,
    sources: &[Source],
    arrivals: &[Arrival],
    transmitting: &[&str],
    limits: Limits,
    emit: impl FnMut(usize, u64, &[u8]) -> Result<()>,
) -> Result<Outcome> {
    let start_ns = arrivals.first().map_or(0, |a| a.record.time_ns);
    let horizon = limits.duration_ns.unwrap_or(u64::MAX);
    let mut run = Run {
        dataplane,
        transmitting,
        start_ns,
        max_packets: limits.max_packets,
        written: vec![0; transmitting.len()],
        beyond_limit: 0,
        emit,
    };
    let mut delivered = 0;
    let mut stopped = None;
    for arrival in arrivals {
        let at = arrival.record.time_ns - start_ns;
        if at > horizon {
            break;
        }
        let ran = run.run(at)?;
        if matches!(ran, Ran::Budget { .. }) || run.total() == run.max_packets {
            stopped = Some((Ended::MaxPackets, clock(ran, at)));
            break;
        }
        let source = &sources[arrival.input];
        run.dataplane.receive(source.device, &arrival.record.data, at).map_err(|e| {
            anyhow!("{}: record {}: the data plane refused it on {}: {e}", source.file.display(), arrival.record.number, source.device)
        })?;
        delivered += 1;
    }
    let (ended, end_ns) = match stopped {
        Some(stopped) => stopped,
        None => {
            let ran = run.run(horizon)?;
            let ended = match ran {
                _ if run.total() == run.max_packets => Ended::MaxPackets,
                Ran::Budget { .. } => Ended::MaxPackets,
                Ran::Reached => Ended::Duration,
                Ran::Idle { .. } => Ended::Idle,
            };
            (ended, clock(ran, horizon))
        }
    };
    Ok(Outcome {
        ended,
        start_ns,
        end_ns,
        delivered,
        undelivered: arrivals.len() - delivered,
        written: run.written,
        beyond_limit: run.beyond_limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::capture::Record;
    use crate::run::testing::Echo;

    const T0: u64 = 1_700_000_000_000_000_000;

    fn arrival(input: usize, time_ns: u64, tag: u8, number: usize) -> Arrival {
        Arrival { input, record: Record { time_ns, data: vec![tag], number } }
    }

    fn sources() -> Vec<Source<'static>> {
        vec![Source { device: "eth1", file: Path::new("a.pcap") }, Source { device: "eth3", file: Path::new("b.pcap") }]
    }

    fn limits(duration_ns: Option<u64>, max_packets: u64) -> Limits {
        Limits { duration_ns, max_packets }
    }

    /// Drives `dataplane`, returning the outcome and the frames emitted as (output, time, tag).
    fn drive_collecting(dataplane: &mut Echo, arrivals: &[Arrival], transmitting: &[&str], limits: Limits) -> (Outcome, Vec<(usize, u64, u8)>) {
        let mut emitted = Vec::new();
        let outcome = drive(dataplane, &sources(), arrivals, transmitting, limits, |output, time, frame| {
            emitted.push((output, time, frame[0]));
            Ok(())
        })
        .unwrap();
        (outcome, emitted)
    }

    #[test]
    fn packets_arrive_at_their_times_from_the_first_and_frames_leave_at_theirs() {
        let mut echo = Echo::echoing("eth1", "eth2", 100);
        let arrivals = [arrival(0, T0, 1, 1), arrival(0, T0 + 1000, 2, 2), arrival(0, T0 + 5000, 3, 3)];
        let (outcome, emitted) = drive_collecting(&mut echo, &arrivals, &["eth2"], limits(None, 100));
        let received: Vec<(&str, u64)> = echo.received.iter().map(|(d, t, _)| (d.as_str(), *t)).collect();
        assert_eq!(received, [("eth1", 0), ("eth1", 1000), ("eth1", 5000)]);
        assert_eq!(emitted, [(0, T0 + 100, 1), (0, T0 + 1100, 2), (0, T0 + 5100, 3)]);
        assert_eq!(
            outcome,
            Outcome { ended: Ended::Idle, start_ns: T0, end_ns: 5100, delivered: 3, undelivered: 0, written: vec![3], beyond_limit: 0 }
        );
    }

    #[test]
    fn merged_inputs_feed_their_own_devices_and_outputs_keep_time_order() {
        let mut echo = Echo::echoing("eth1", "eth2", 0);
        echo.echo.insert("eth3".into(), "eth4".into());
        let arrivals = [arrival(1, 10, 1, 1), arrival(0, 20, 2, 1), arrival(1, 20, 3, 2), arrival(0, 30, 4, 2)];
        let (outcome, emitted) = drive_collecting(&mut echo, &arrivals, &["eth4", "eth2"], limits(None, 100));
        let received: Vec<(&str, u8)> = echo.received.iter().map(|(d, _, f)| (d.as_str(), f[0])).collect();
        assert_eq!(received, [("eth3", 1), ("eth1", 2), ("eth3", 3), ("eth1", 4)]);
        assert_eq!(emitted, [(0, 10, 1), (1, 20, 2), (0, 20, 3), (1, 30, 4)]);
        assert_eq!(outcome.written, [2, 2]);
    }

    #[test]
    fn the_duration_bounds_virtual_time_from_the_first_packet() {
        let arrivals = [arrival(0, T0, 1, 1), arrival(0, T0 + 1_000_000, 2, 2), arrival(0, T0 + 3_000_000, 3, 3)];
        // A timer that never stops: the run ends at the duration.
        let mut echo = Echo::echoing("eth1", "eth2", 500_000);
        echo.timer_ns = Some(250_000);
        let (outcome, emitted) = drive_collecting(&mut echo, &arrivals, &["eth2"], limits(Some(2_000_000), 100));
        assert_eq!(emitted, [(0, T0 + 500_000, 1), (0, T0 + 1_500_000, 2)]);
        assert_eq!((outcome.ended, outcome.end_ns, outcome.delivered, outcome.undelivered), (Ended::Duration, 2_000_000, 2, 1));
        // A packet right at the duration is delivered; its echo, after it, is not sent.
        let mut echo = Echo::echoing("eth1", "eth2", 500_000);
        let (outcome, emitted) = drive_collecting(&mut echo, &arrivals, &["eth2"], limits(Some(1_000_000), 100));
        assert_eq!(emitted, [(0, T0 + 500_000, 1)]);
        assert_eq!((outcome.ended, outcome.end_ns, outcome.delivered, outcome.undelivered), (Ended::Duration, 1_000_000, 2, 1));
        // Without a timer the plane goes idle before the duration.
        let mut echo = Echo::echoing("eth1", "eth2", 0);
        let (outcome, _) = drive_collecting(&mut echo, &arrivals, &["eth2"], limits(Some(10_000_000), 100));
        assert_eq!((outcome.ended, outcome.end_ns, outcome.delivered), (Ended::Idle, 3_000_000, 3));
    }

    #[test]
    fn without_input_the_run_starts_at_zero() {
        let mut echo = Echo::default();
        echo.timer_ns = Some(1_000_000);
        let (outcome, emitted) = drive_collecting(&mut echo, &[], &[], limits(Some(1_000_000_000), 100));
        assert!(emitted.is_empty());
        assert_eq!(outcome, Outcome { ended: Ended::Duration, start_ns: 0, end_ns: 1_000_000_000, delivered: 0, undelivered: 0, written: vec![], beyond_limit: 0 });
    }

    #[test]
    fn max_packets_ends_an_unlimited_source() {
        let mut echo = Echo::default();
        echo.source = Some(("eth2".into(), 1000, 1));
        let (outcome, emitted) = drive_collecting(&mut echo, &[], &["eth2"], limits(None, 5));
        assert_eq!(emitted, [(0, 0, 0), (0, 1000, 1), (0, 2000, 2), (0, 3000, 3), (0, 4000, 4)]);
        assert_eq!((outcome.ended, outcome.end_ns, outcome.written, outcome.beyond_limit), (Ended::MaxPackets, 4000, vec![5], 0));
        // A task run that sends a burst past the limit: the frames past it are counted, not written.
        let mut echo = Echo::default();
        echo.source = Some(("eth2".into(), 1000, 4));
        let (outcome, emitted) = drive_collecting(&mut echo, &[], &["eth2"], limits(None, 6));
        assert_eq!(emitted.len(), 6);
        assert_eq!((outcome.ended, outcome.end_ns, outcome.written, outcome.beyond_limit), (Ended::MaxPackets, 1000, vec![6], 2));
    }

    #[test]
    fn max_packets_stops_the_input_too() {
        let mut echo = Echo::echoing("eth1", "eth2", 0);
        let arrivals: Vec<Arrival> = (0..10).map(|i| arrival(0, T0 + i * 1000, i as u8, i as usize + 1)).collect();
        let (outcome, emitted) = drive_collecting(&mut echo, &arrivals, &["eth2"], limits(None, 3));
        assert_eq!(emitted, [(0, T0, 0), (0, T0 + 1000, 1), (0, T0 + 2000, 2)]);
        assert_eq!((outcome.ended, outcome.end_ns, outcome.delivered, outcome.undelivered), (Ended::MaxPackets, 2000, 3, 7));
    }

    #[test]
    fn a_refused_packet_is_an_error_naming_its_file_and_record() {
        let mut echo = Echo::echoing("eth1", "eth2", 0);
        let arrivals = [arrival(0, 0, 1, 1), arrival(1, 5, 2, 4)];
        let error = drive(&mut echo, &sources(), &arrivals, &["eth2"], limits(None, 100), |_, _, _| Ok(())).unwrap_err().to_string();
        assert_eq!(error, "b.pcap: record 4: the data plane refused it on eth3: the graph has no FromDevice(eth3)");
    }

    #[test]
    fn an_output_error_ends_the_run() {
        let mut echo = Echo::echoing("eth1", "eth2", 0);
        let arrivals = [arrival(0, 0, 1, 1), arrival(0, 5, 2, 2)];
        let error = drive(&mut echo, &sources(), &arrivals, &["eth2"], limits(None, 100), |_, _, _| anyhow::bail!("disk full")).unwrap_err();
        assert_eq!(error.to_string(), "disk full");
    }
}
