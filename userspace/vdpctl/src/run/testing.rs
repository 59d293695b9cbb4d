//! Test aids for `vdpctl run`: pcap files built byte by byte and a small
//! [`Dataplane`] that echoes frames, so that the driver is tested without the engine.

use super::dataplane::{Dataplane, Ran};
use std::collections::BTreeMap;

/// A classic pcap file, written field by field in either byte order.
pub struct PcapBytes {
    big: bool,
    nano: bool,
    pub bytes: Vec<u8>,
}

impl PcapBytes {
    /// A file header: version 2.4, the given resolution, snap length and link type.
    pub fn new(big: bool, nano: bool, snaplen: u32, link: u32) -> PcapBytes {
        let mut file = PcapBytes { big, nano, bytes: Vec::new() };
        file.u32(if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
        file.u16(2);
        file.u16(4);
        file.u32(0);
        file.u32(0);
        file.u32(snaplen);
        file.u32(link);
        file
    }

    /// Little-endian, microseconds, snap length 65535, Ethernet.
    pub fn ethernet() -> PcapBytes {
        PcapBytes::new(false, false, 65535, 1)
    }

    fn u16(&mut self, v: u16) {
        self.bytes.extend(if self.big { v.to_be_bytes() } else { v.to_le_bytes() });
    }

    pub fn u32(&mut self, v: u32) {
        self.bytes.extend(if self.big { v.to_be_bytes() } else { v.to_le_bytes() });
    }

    /// A record with the lengths given as they are, whatever the data.
    pub fn raw_record(mut self, sec: u32, fraction: u32, captured: u32, original: u32, data: &[u8]) -> PcapBytes {
        self.u32(sec);
        self.u32(fraction);
        self.u32(captured);
        self.u32(original);
        self.bytes.extend(data);
        self
    }

    /// A record at `time_ns` (truncated to the file's resolution) holding `data` whole.
    pub fn record(self, time_ns: u64, data: &[u8]) -> PcapBytes {
        let fraction = time_ns % 1_000_000_000;
        let fraction = if self.nano { fraction } else { fraction / 1000 };
        let len = data.len() as u32;
        self.raw_record((time_ns / 1_000_000_000) as u32, fraction as u32, len, len, data)
    }
}

/// A test data plane. Each frame received on a device of `echo` is transmitted on the
/// device it maps to `delay_ns` later; `source` transmits a frame every so often without end;
/// `timer_ns` is a periodic timer that does nothing, so the plane is never idle.
#[derive(Default)]
pub struct Echo {
    pub echo: BTreeMap<String, String>,
    pub delay_ns: u64,
    /// (device, period, burst): transmits `burst` frames every `period`, from time 0; the n-th
    /// frame is `[n as u8]`.
    pub source: Option<(String, u64, u64)>,
    pub timer_ns: Option<u64>,
    pub clock: u64,
    /// Received (device, time, frame), in order.
    pub received: Vec<(String, u64, Vec<u8>)>,
    /// Scheduled transmits (time, device, frame), in time order.
    scheduled: Vec<(u64, String, Vec<u8>)>,
    transmitted: BTreeMap<String, Vec<(u64, Vec<u8>)>>,
    source_sent: u64,
    source_runs: u64,
    timer_next: u64,
}

impl Echo {
    pub fn echoing(from: &str, to: &str, delay_ns: u64) -> Echo {
        Echo { echo: BTreeMap::from([(from.to_string(), to.to_string())]), delay_ns, ..Echo::default() }
    }

    /// The time of the next event: a scheduled transmit, the source's next frame, the timer.
    fn next(&self) -> Option<u64> {
        let scheduled = self.scheduled.first().map(|s| s.0);
        let source = self.source.as_ref().map(|(_, period, _)| self.source_runs * period);
        let timer = self.timer_ns.map(|_| self.timer_next);
        [scheduled, source, timer].into_iter().flatten().min()
    }
}

impl Dataplane for Echo {
    type Error = String;

    fn receive(&mut self, device: &str, frame: &[u8], time_ns: u64) -> Result<(), String> {
        assert!(time_ns >= self.clock, "a frame at {time_ns} arrived before the clock, {}", self.clock);
        let Some(to) = self.echo.get(device) else { return Err(format!("the graph has no FromDevice({device})")) };
        self.clock = time_ns;
        self.received.push((device.to_string(), time_ns, frame.to_vec()));
        let at = time_ns + self.delay_ns;
        let index = self.scheduled.partition_point(|s| s.0 <= at);
        self.scheduled.insert(index, (at, to.clone(), frame.to_vec()));
        Ok(())
    }

    fn run(&mut self, until_ns: u64, budget: u64) -> Result<Ran, String> {
        assert!(budget >= 1);
        let mut sent = 0;
        loop {
            let Some(next) = self.next() else { return Ok(Ran::Idle { now_ns: self.clock }) };
            if next > until_ns {
                self.clock = until_ns;
                return Ok(Ran::Reached);
            }
            self.clock = next;
            if self.scheduled.first().is_some_and(|s| s.0 == next) {
                let (time, device, frame) = self.scheduled.remove(0);
                self.transmitted.entry(device).or_default().push((time, frame));
                sent += 1;
            } else if let Some((device, _, burst)) = self.source.as_ref().filter(|(_, period, _)| self.source_runs * period == next) {
                for _ in 0..*burst {
                    self.transmitted.entry(device.clone()).or_default().push((next, vec![self.source_sent as u8]));
                    self.source_sent += 1;
                    sent += 1;
                }
                self.source_runs += 1;
            } else {
                self.timer_next += self.timer_ns.expect("the timer is the only other event");
            }
            if sent >= budget {
                return Ok(Ran::Budget { now_ns: self.clock });
            }
        }
    }

    fn take_transmitted(&mut self, device: &str) -> Vec<(u64, Vec<u8>)> {
        self.transmitted.remove(device).unwrap_or_default()
    }

    fn read_handler(&mut self, element: &str, handler: &str) -> Result<String, String> {
        match (element, handler) {
            (_, "count") => Ok(format!("{}", self.received.len())),
            (_, "lines") => Ok("first\nsecond\n".to_string()),
            _ => Err(format!("{element} has no handler {handler}")),
        }
    }
}
