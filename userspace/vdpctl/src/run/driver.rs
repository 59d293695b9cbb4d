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
        let ran = self.dataplane.run(until_ns, self.max_packets - self.total());
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
