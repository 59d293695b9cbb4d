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
