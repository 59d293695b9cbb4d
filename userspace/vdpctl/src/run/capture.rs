//! Packet captures in and out of `vdpctl run`: classic pcap files, read with the `pcap-file`
//! crate and checked record by record, merged by time, and written atomically.
//!
//! A file is read whole into memory. Both byte orders and both timestamp resolutions
//! (microsecond magic `a1b2c3d4`, nanosecond magic `a1b23c4d`) are read. The link type must
//! match what the device carries: `ETHERNET` (1) for an Ethernet device, `RAW` (101) or `IPV4`
//! (228) for an IP one. Outputs are written little-endian with nanosecond timestamps, link type
//! `ETHERNET` or `RAW`.

use super::dataplane::Carries;
use crate::atomic::AtomicFile;
use anyhow::{Context, Result};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapParser, PcapWriter};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};
use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;
/// The classic pcap magic numbers, as the first four bytes read big-endian: microsecond and
/// nanosecond, in each byte order.
const MAGICS: [u32; 4] = [0xa1b2_c3d4, 0xa1b2_3c4d, 0xd4c3_b2a1, 0x4d3c_b2a1];
/// A pcapng file starts with a Section Header Block, type 0x0a0d0d0a.
const PCAPNG_MAGIC: u32 = 0x0a0d_0d0a;
/// The snap length of the files written: libpcap's largest.
const WRITE_SNAPLEN: u32 = 262_144;

/// One packet of a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its timestamp, in nanoseconds since the epoch.
    pub time_ns: u64,
    pub data: Vec<u8>,
    /// Its place in the file, counting from 1.
    pub number: usize,
}

/// What is wrong with a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    WrongMagic(u32),
    Pcapng,
    TruncatedHeader { have: usize },
    UnsupportedVersion { major: u16, minor: u16 },
    UnsupportedLinkType(u32),
    LinkTypeMismatch { link: u32, carries: Carries },
    TruncatedRecordHeader { have: usize },
    TruncatedRecord { captured: u32, have: usize },
    CapturedOverSnapLength { captured: u32, snap_length: u32 },
    CapturedOverOriginal { captured: u32, original: u32 },
    BadTimestampFraction { fraction: u32, nanosecond: bool },
    Backwards { time_ns: u64, previous_ns: u64 },
    NotIpv4 { version: Option<u8> },
    /// What pcap-file reported where none of the above applies.
    Reader(String),
}

/// A problem in a capture: the file, and the record (from 1) and byte offset it is at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureError {
    pub file: String,
    /// `None` for the file header.
    pub record: Option<usize>,
    pub offset: usize,
    pub problem: Problem,
}

impl std::error::Error for CaptureError {}

fn link_name(link: u32) -> String {
    match DataLink::from(link) {
        DataLink::Unknown(_) => format!("{link}"),
        known => format!("{link} ({known:?})"),
    }
}

fn expected_links(carries: Carries) -> &'static str {
    match carries {
        Carries::Ethernet => "1 (ETHERNET)",
        Carries::Ip => "101 (RAW) or 228 (IPV4)",
    }
}

pub fn carriage(carries: Carries) -> &'static str {
    match carries {
        Carries::Ethernet => "Ethernet frames",
        Carries::Ip => "bare IPv4 packets",
    }
}

/// Nanoseconds as seconds with nine decimals.
pub fn seconds(ns: u64) -> String {
    format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::WrongMagic(magic) => write!(f, "wrong magic number {magic:08x}: not a classic pcap file (a1b2c3d4 or a1b23c4d, in either byte order)"),
            Problem::Pcapng => write!(f, "this is a pcapng file; vdpctl run reads classic pcap (convert it with `editcap -F pcap`)"),
            Problem::TruncatedHeader { have } => write!(f, "truncated file header: {have} of {HEADER_LEN} bytes"),
            Problem::UnsupportedVersion { major, minor } => write!(f, "pcap version {major}.{minor} is not supported (only 2.x is)"),
            Problem::UnsupportedLinkType(link) => write!(
                f,
                "link type {} is not supported: vdpctl run reads {} for Ethernet devices and {} for IP devices",
                link_name(*link),
                expected_links(Carries::Ethernet),
                expected_links(Carries::Ip)
            ),
            Problem::LinkTypeMismatch { link, carries } => write!(
                f,
                "link type {} does not match the device, which carries {} (link type {})",
                link_name(*link),
                carriage(*carries),
                expected_links(*carries)
            ),
            Problem::TruncatedRecordHeader { have } => write!(f, "truncated record header: {have} of {RECORD_HEADER_LEN} bytes"),
            Problem::TruncatedRecord { captured, have } => write!(f, "truncated record: its header says {captured} bytes were captured, the file holds {have}"),
            Problem::CapturedOverSnapLength { captured, snap_length } => {
                write!(f, "captured length {captured} exceeds the file's snap length {snap_length}")
            }
            Problem::CapturedOverOriginal { captured, original } => write!(f, "captured length {captured} exceeds the original length {original}"),
            Problem::BadTimestampFraction { fraction, nanosecond } => {
                let (unit, limit) = if *nanosecond { ("nanoseconds", 1_000_000_000) } else { ("microseconds", 1_000_000) };
                write!(f, "timestamp fraction {fraction} {unit} is not below {limit}")
            }
            Problem::Backwards { time_ns, previous_ns } => write!(
                f,
                "timestamps go backwards: {} s is earlier than the previous record's {} s (records must be in time order)",
                seconds(*time_ns),
                seconds(*previous_ns)
            ),
            Problem::NotIpv4 { version: Some(version) } => write!(f, "not an IPv4 packet (IP version {version}); the device carries bare IPv4 packets"),
            Problem::NotIpv4 { version: None } => write!(f, "an empty record; the device carries bare IPv4 packets"),
            Problem::Reader(text) => write!(f, "{text}"),
        }
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.record {
            Some(record) => write!(f, "{}: record {record} (byte offset {}): {}", self.file, self.offset, self.problem),
            None => write!(f, "{}: byte offset {}: {}", self.file, self.offset, self.problem),
        }
    }
}

/// Parses a whole capture of a device that carries `carries`; `file` names it in errors.
pub fn parse(file: &str, bytes: &[u8], carries: Carries) -> Result<Vec<Record>, CaptureError> {
    let fail = |record: Option<usize>, offset: usize, problem: Problem| CaptureError { file: file.to_string(), record, offset, problem };
    let magic = bytes.get(..4).map(|m| u32::from_be_bytes([m[0], m[1], m[2], m[3]]));
    match magic {
        Some(PCAPNG_MAGIC) => return Err(fail(None, 0, Problem::Pcapng)),
        Some(magic) if !MAGICS.contains(&magic) => return Err(fail(None, 0, Problem::WrongMagic(magic))),
        _ => {}
    }
    let (mut rest, parser) = match PcapParser::new(bytes) {
        Ok(parsed) => parsed,
        Err(PcapError::IncompleteBuffer) => return Err(fail(None, 0, Problem::TruncatedHeader { have: bytes.len() })),
        Err(e) => return Err(fail(None, 0, Problem::Reader(e.to_string()))),
    };
    let header = parser.header();
    if header.version_major != 2 {
        return Err(fail(None, 4, Problem::UnsupportedVersion { major: header.version_major, minor: header.version_minor }));
    }
    let link = u32::from(header.datalink);
    let fits = match (header.datalink, carries) {
        (DataLink::ETHERNET, Carries::Ethernet) | (DataLink::RAW | DataLink::IPV4, Carries::Ip) => true,
        (DataLink::ETHERNET | DataLink::RAW | DataLink::IPV4, _) => false,
        _ => return Err(fail(None, 20, Problem::UnsupportedLinkType(link))),
    };
    if !fits {
        return Err(fail(None, 20, Problem::LinkTypeMismatch { link, carries }));
    }
    let nanosecond = header.ts_resolution == TsResolution::NanoSecond;
    // A field of a record header, in the file's byte order.
    let field = |record: &[u8], at: usize| {
        let b = [record[at], record[at + 1], record[at + 2], record[at + 3]];
        match header.endianness {
            Endianness::Big => u32::from_be_bytes(b),
            Endianness::Little => u32::from_le_bytes(b),
        }
    };
    let mut records = Vec::new();
    let mut previous_ns = 0;
    while !rest.is_empty() {
        let number = records.len() + 1;
        let offset = bytes.len() - rest.len();
        let at = |problem| fail(Some(number), offset, problem);
        let raw = match parser.next_raw_packet(rest) {
            Ok((remaining, raw)) => {
                rest = remaining;
                raw
            }
            Err(PcapError::IncompleteBuffer) if rest.len() < RECORD_HEADER_LEN => {
                return Err(at(Problem::TruncatedRecordHeader { have: rest.len() }));
            }
            Err(PcapError::IncompleteBuffer) => {
                let captured = field(rest, 8);
                if captured > header.snaplen {
                    return Err(at(Problem::CapturedOverSnapLength { captured, snap_length: header.snaplen }));
                }
                return Err(at(Problem::TruncatedRecord { captured, have: rest.len() - RECORD_HEADER_LEN }));
            }
            Err(e) => return Err(at(Problem::Reader(e.to_string()))),
        };
        if raw.incl_len > header.snaplen {
            return Err(at(Problem::CapturedOverSnapLength { captured: raw.incl_len, snap_length: header.snaplen }));
        }
        if raw.incl_len > raw.orig_len {
            return Err(at(Problem::CapturedOverOriginal { captured: raw.incl_len, original: raw.orig_len }));
        }
        let fraction_ns = match nanosecond {
            true if raw.ts_frac < 1_000_000_000 => raw.ts_frac,
            false if raw.ts_frac < 1_000_000 => raw.ts_frac * 1000,
            _ => return Err(at(Problem::BadTimestampFraction { fraction: raw.ts_frac, nanosecond })),
        };
        let time_ns = u64::from(raw.ts_sec) * 1_000_000_000 + u64::from(fraction_ns);
        if time_ns < previous_ns {
            return Err(at(Problem::Backwards { time_ns, previous_ns }));
        }
        previous_ns = time_ns;
        if carries == Carries::Ip {
            match raw.data.first() {
                Some(byte) if byte >> 4 == 4 => {}
                first => return Err(at(Problem::NotIpv4 { version: first.map(|b| b >> 4) })),
            }
        }
        records.push(Record { time_ns, data: raw.data.into_owned(), number });
    }
    Ok(records)
}

/// Reads and parses the capture at `path`.
pub fn read(path: &Path, carries: Carries) -> Result<Vec<Record>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(parse(&path.display().to_string(), &bytes, carries)?)
}

/// A packet to deliver: a record of input `input` (an index into the caller's inputs).
#[derive(Debug, PartialEq, Eq)]
pub struct Arrival {
    pub input: usize,
    pub record: Record,
}

/// Merges the inputs' records by time. Each input is in time order; records with the same time
/// keep the order of their inputs, then their order in the file.
pub fn merge(inputs: Vec<Vec<Record>>) -> Vec<Arrival> {
    let mut arrivals: Vec<Arrival> =
        inputs.into_iter().enumerate().flat_map(|(input, records)| records.into_iter().map(move |record| Arrival { input, record })).collect();
    // A stable sort: the concatenation is already in input order.
    arrivals.sort_by_key(|a| a.record.time_ns);
    arrivals
}

/// An output capture being written beside its path; [`Writer::commit`] puts it in place.
pub struct Writer {
    path: PathBuf,
    pcap: PcapWriter<AtomicFile>,
}

impl Writer {
    /// Creates the temporary file and writes the header: link type `ETHERNET` or `RAW` as the
    /// device carries, nanosecond timestamps.
    pub fn create(path: &Path, carries: Carries) -> Result<Writer> {
        if path.is_dir() {
            anyhow::bail!("cannot write {}: it is a directory", path.display());
        }
        let file = AtomicFile::create(path).with_context(|| format!("cannot create a temporary file beside {}", path.display()))?;
        let header = PcapHeader {
            snaplen: WRITE_SNAPLEN,
            datalink: match carries {
                Carries::Ethernet => DataLink::ETHERNET,
                Carries::Ip => DataLink::RAW,
            },
            ts_resolution: TsResolution::NanoSecond,
            endianness: Endianness::Little,
            ..PcapHeader::default()
        };
        let pcap = PcapWriter::with_header(file, header).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Writer { path: path.to_path_buf(), pcap })
    }

    /// Writes a frame sent at `time_ns` (nanoseconds since the epoch).
    pub fn write(&mut self, time_ns: u64, frame: &[u8]) -> Result<()> {
        let problem = if time_ns / 1_000_000_000 > u64::from(u32::MAX) {
            Some(format!("a frame's time, {} s, is past what a pcap timestamp holds", seconds(time_ns)))
        } else if frame.len() > WRITE_SNAPLEN as usize {
            Some(format!("a frame of {} bytes is longer than the snap length {WRITE_SNAPLEN}", frame.len()))
        } else {
            None
        };
        if let Some(problem) = problem {
            anyhow::bail!("cannot write {}: {problem}", self.path.display());
        }
        let packet = PcapPacket { timestamp: Duration::from_nanos(time_ns), orig_len: frame.len() as u32, data: Cow::Borrowed(frame) };
        self.pcap.write_packet(&packet).with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Puts the file in place (see [`AtomicFile::commit`]).
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        self.pcap.into_writer().commit().with_context(|| format!("cannot put {} in place", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::testing::PcapBytes;
    use crate::testdir::{listing, scratch};

    const FRAME: &[u8] = &[0xaa; 20];
    /// An IPv4 header's first bytes: version 4, header length 5.
    const IPV4: &[u8] = &[0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];

    fn problem(bytes: &[u8], carries: Carries) -> (Option<usize>, usize, Problem) {
        let e = parse("in.pcap", bytes, carries).unwrap_err();
        assert_eq!(e.file, "in.pcap");
        (e.record, e.offset, e.problem)
    }

    #[test]
    fn reads_both_byte_orders_and_both_resolutions() {
        for big in [false, true] {
            for nano in [false, true] {
                let file = PcapBytes::new(big, nano, 65535, 1).record(1_500_000_123_000, FRAME).record(1_500_000_124_000, &FRAME[..3]);
                let records = parse("in.pcap", &file.bytes, Carries::Ethernet).unwrap();
                assert_eq!(
                    records,
                    [
                        Record { time_ns: 1_500_000_123_000, data: FRAME.to_vec(), number: 1 },
                        Record { time_ns: 1_500_000_124_000, data: FRAME[..3].to_vec(), number: 2 },
                    ],
                    "big {big}, nano {nano}"
                );
            }
        }
        let nano = PcapBytes::new(false, true, 65535, 1).record(7, FRAME);
        assert_eq!(parse("in.pcap", &nano.bytes, Carries::Ethernet).unwrap()[0].time_ns, 7);
        let empty = PcapBytes::ethernet();
        assert!(parse("in.pcap", &empty.bytes, Carries::Ethernet).unwrap().is_empty());
    }

    #[test]
    fn a_wrong_magic_is_refused() {
        let mut bytes = PcapBytes::ethernet().record(0, FRAME).bytes;
        bytes[..4].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(problem(&bytes, Carries::Ethernet), (None, 0, Problem::WrongMagic(0xdead_beef)));
        assert_eq!(problem(b"GET / HTTP", Carries::Ethernet).2, Problem::WrongMagic(0x4745_5420));
        let pcapng = [0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a];
        assert_eq!(problem(&pcapng, Carries::Ethernet).2, Problem::Pcapng);
        let text = parse("in.pcap", &bytes, Carries::Ethernet).unwrap_err().to_string();
        assert!(text.starts_with("in.pcap: byte offset 0: wrong magic number deadbeef"), "{text}");
    }

    #[test]
    fn a_truncated_header_is_refused() {
        let bytes = PcapBytes::ethernet().bytes;
        for len in [0, 2, 4, 23] {
            assert_eq!(problem(&bytes[..len], Carries::Ethernet), (None, 0, Problem::TruncatedHeader { have: len }), "{len} bytes");
        }
        let text = parse("in.pcap", &bytes[..10], Carries::Ethernet).unwrap_err().to_string();
        assert_eq!(text, "in.pcap: byte offset 0: truncated file header: 10 of 24 bytes");
    }

    #[test]
    fn an_unsupported_version_is_refused() {
        let mut bytes = PcapBytes::ethernet().bytes;
        bytes[4] = 1;
        assert_eq!(problem(&bytes, Carries::Ethernet), (None, 4, Problem::UnsupportedVersion { major: 1, minor: 4 }));
    }

    #[test]
    fn truncated_records_are_refused_with_their_number_and_offset() {
        let whole = PcapBytes::ethernet().record(0, FRAME).record(1000, FRAME).bytes;
        let second = 24 + 16 + FRAME.len();
        // The second record's header cut after 8 bytes.
        assert_eq!(problem(&whole[..second + 8], Carries::Ethernet), (Some(2), second, Problem::TruncatedRecordHeader { have: 8 }));
        // Its data cut after 5 bytes.
        assert_eq!(
            problem(&whole[..second + 16 + 5], Carries::Ethernet),
            (Some(2), second, Problem::TruncatedRecord { captured: FRAME.len() as u32, have: 5 })
        );
        let text = parse("in.pcap", &whole[..second + 16 + 5], Carries::Ethernet).unwrap_err().to_string();
        assert_eq!(text, "in.pcap: record 2 (byte offset 60): truncated record: its header says 20 bytes were captured, the file holds 5");
    }

    #[test]
    fn a_captured_length_past_the_snap_length_or_the_original_is_refused() {
        let file = PcapBytes::new(false, false, 16, 1).record(0, &FRAME[..16]).record(0, &FRAME[..17]);
        assert_eq!(
            problem(&file.bytes, Carries::Ethernet),
            (Some(2), 24 + 16 + 16, Problem::CapturedOverSnapLength { captured: 17, snap_length: 16 })
        );
        // A wild captured length is named as such, not as a truncated record.
        let wild = PcapBytes::new(false, false, 65535, 1).raw_record(0, 0, 0x7fff_ffff, 0x7fff_ffff, FRAME);
        assert_eq!(problem(&wild.bytes, Carries::Ethernet).2, Problem::CapturedOverSnapLength { captured: 0x7fff_ffff, snap_length: 65535 });
        let over = PcapBytes::ethernet().raw_record(0, 0, 20, 14, FRAME);
        assert_eq!(problem(&over.bytes, Carries::Ethernet), (Some(1), 24, Problem::CapturedOverOriginal { captured: 20, original: 14 }));
        // A frame cut at the snap length is the usual case: its original length may be larger.
        let cut = PcapBytes::new(false, false, 20, 1).raw_record(0, 0, 20, 1500, FRAME);
        assert_eq!(parse("in.pcap", &cut.bytes, Carries::Ethernet).unwrap().len(), 1);
    }

    #[test]
    fn a_timestamp_fraction_out_of_range_is_refused() {
        let micro = PcapBytes::ethernet().raw_record(0, 1_000_000, 20, 20, FRAME);
        assert_eq!(problem(&micro.bytes, Carries::Ethernet).2, Problem::BadTimestampFraction { fraction: 1_000_000, nanosecond: false });
        let nano = PcapBytes::new(false, true, 65535, 1).raw_record(0, 999_999_999, 20, 20, FRAME).raw_record(1, 1_000_000_000, 20, 20, FRAME);
        assert_eq!(problem(&nano.bytes, Carries::Ethernet), (Some(2), 60, Problem::BadTimestampFraction { fraction: 1_000_000_000, nanosecond: true }));
    }

    #[test]
    fn timestamps_going_backwards_are_refused() {
        let file = PcapBytes::ethernet().record(2_000_000, FRAME).record(2_000_000, FRAME).record(1_000_000, FRAME);
        let (record, offset, found) = problem(&file.bytes, Carries::Ethernet);
        assert_eq!((record, offset, found), (Some(3), 24 + 2 * 36, Problem::Backwards { time_ns: 1_000_000, previous_ns: 2_000_000 }));
        let text = parse("in.pcap", &file.bytes, Carries::Ethernet).unwrap_err().to_string();
        assert!(text.contains("record 3 (byte offset 96): timestamps go backwards: 0.001000000 s is earlier than the previous record's 0.002000000 s"), "{text}");
    }

    #[test]
    fn the_link_type_must_match_the_device() {
        let linux_cooked = PcapBytes::new(false, false, 65535, 113).bytes;
        assert_eq!(problem(&linux_cooked, Carries::Ethernet), (None, 20, Problem::UnsupportedLinkType(113)));
        assert_eq!(problem(&linux_cooked, Carries::Ip).2, Problem::UnsupportedLinkType(113));
        let text = parse("in.pcap", &linux_cooked, Carries::Ip).unwrap_err().to_string();
        assert!(text.contains("link type 113 (LINUX_SLL) is not supported"), "{text}");
        let ethernet = PcapBytes::ethernet().record(0, FRAME).bytes;
        assert_eq!(problem(&ethernet, Carries::Ip).2, Problem::LinkTypeMismatch { link: 1, carries: Carries::Ip });
        for link in [101, 228] {
            let ip = PcapBytes::new(true, false, 65535, link).record(0, IPV4).bytes;
            assert_eq!(problem(&ip, Carries::Ethernet).2, Problem::LinkTypeMismatch { link, carries: Carries::Ethernet });
            assert_eq!(parse("in.pcap", &ip, Carries::Ip).unwrap()[0].data, IPV4);
        }
        let text = parse("in.pcap", &ethernet, Carries::Ip).unwrap_err().to_string();
        assert!(text.contains("link type 1 (ETHERNET) does not match the device, which carries bare IPv4 packets (link type 101 (RAW) or 228 (IPV4))"), "{text}");
    }

    #[test]
    fn an_ip_device_takes_only_ipv4_packets() {
        let mut ipv6 = IPV4.to_vec();
        ipv6[0] = 0x60;
        let file = PcapBytes::new(false, false, 65535, 101).record(0, IPV4).record(0, &ipv6).bytes;
        assert_eq!(problem(&file, Carries::Ip), (Some(2), 60, Problem::NotIpv4 { version: Some(6) }));
        let empty = PcapBytes::new(false, false, 65535, 228).record(0, &[]).bytes;
        assert_eq!(problem(&empty, Carries::Ip).2, Problem::NotIpv4 { version: None });
    }

    #[test]
    fn merging_orders_by_time_then_by_input_then_by_file() {
        let record = |time_ns, tag: u8, number| Record { time_ns, data: vec![tag], number };
        let first = vec![record(10, 1, 1), record(20, 2, 2), record(20, 3, 3), record(40, 4, 4)];
        let second = vec![record(5, 5, 1), record(20, 6, 2), record(30, 7, 3)];
        let third = vec![record(20, 8, 1)];
        let order: Vec<(usize, u8)> = merge(vec![first, second, third]).iter().map(|a| (a.input, a.record.data[0])).collect();
        assert_eq!(order, [(1, 5), (0, 1), (0, 2), (0, 3), (1, 6), (2, 8), (1, 7), (0, 4)]);
        assert!(merge(vec![]).is_empty());
    }

    #[test]
    fn written_captures_read_back_with_the_device_link_type() {
        let dir = scratch("capture-write");
        let path = dir.join("out.pcap");
        let mut writer = Writer::create(&path, Carries::Ip).unwrap();
        writer.write(1_700_000_000_000_000_001, IPV4).unwrap();
        writer.write(1_700_000_000_000_000_002, IPV4).unwrap();
        assert!(!path.exists(), "nothing is at the path before the commit");
        writer.commit().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[20..24], &101u32.to_le_bytes());
        let records = parse("out.pcap", &bytes, Carries::Ip).unwrap();
        assert_eq!(records.iter().map(|r| r.time_ns).collect::<Vec<_>>(), [1_700_000_000_000_000_001, 1_700_000_000_000_000_002]);
        assert_eq!(listing(&dir), ["out.pcap"]);
        let mut writer = Writer::create(&path, Carries::Ethernet).unwrap();
        writer.write(0, FRAME).unwrap();
        writer.commit().unwrap();
        assert_eq!(parse("out.pcap", &std::fs::read(&path).unwrap(), Carries::Ethernet).unwrap()[0].data, FRAME);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_abandoned_or_failed_output_leaves_no_file_and_the_old_one_whole() {
        let dir = scratch("capture-abandon");
        let path = dir.join("out.pcap");
        let mut writer = Writer::create(&path, Carries::Ethernet).unwrap();
        writer.write(0, FRAME).unwrap();
        drop(writer);
        assert!(listing(&dir).is_empty());
        std::fs::write(&path, "old").unwrap();
        let mut writer = Writer::create(&path, Carries::Ethernet).unwrap();
        let error = writer.write(u64::from(u32::MAX) * 1_000_000_000 + 1_000_000_000, FRAME).unwrap_err().to_string();
        assert!(error.contains("past what a pcap timestamp holds"), "{error}");
        assert!(writer.write(0, &vec![0; WRITE_SNAPLEN as usize + 1]).unwrap_err().to_string().contains("longer than the snap length"));
        drop(writer);
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(listing(&dir), ["out.pcap"]);
        let directory = Writer::create(&dir, Carries::Ethernet).err().unwrap().to_string();
        assert!(directory.ends_with("it is a directory"), "{directory}");
        let missing = Writer::create(&dir.join("no/such/dir/out.pcap"), Carries::Ethernet).err().unwrap().to_string();
        assert!(missing.contains("cannot create a temporary file beside") && missing.contains("no/such/dir/out.pcap"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
