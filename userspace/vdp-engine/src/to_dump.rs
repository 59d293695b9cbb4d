//! ToDump(FILENAME [, SNAPLEN]): writes every packet to a pcap file (Ethernet link type,
//! nanosecond timestamps on the engine's clock, each record cut to SNAPLEN bytes) and passes it
//! on, as Click's ToDump does.
//!
//! A built-in custom class of every container engine ([`crate::custom::builtin_classes`]): it
//! does file I/O, so it can never run in the kernel. Push only, one input, no output (the packet
//! ends there) or one (it goes on). The file is created, or emptied, when the graph is built;
//! a hotswapped ToDump starts its file again. Each packet's record is staged in memory and written
//! with one `write` call, so the file is complete whenever the engine is between packets. A packet that cannot
//! be written (an I/O error, a time beyond what a pcap timestamp holds) is counted in `errors`
//! and still passed on.

use crate::custom::{custom_class, CustomClass};
use crate::platform::User;
use crate::UserPacket;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};
use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vdp_core::catalog::{base, int, keyword, required, ArgKind, ElementClass, PortRange};
use vdp_core::element::handler::reply;
use vdp_core::element::{Build, ConstructError, Cx, Element, HandlerError, NoHandlers, PacketBuf, Platform};
use vdp_core::element_args::ArgValue;
use vdp_core::handlers;

/// Largest snap length (and the default), as in Click.
pub const MAX_SNAPLEN: i64 = 65535;

/// ToDump's catalog entry.
pub const CLASS: ElementClass = ElementClass {
    inputs: PortRange::exactly(1),
    outputs: PortRange::between(0, 1),
    processing: "h/h",
    args: &[required("FILENAME", ArgKind::String), keyword("SNAPLEN", int(1, MAX_SNAPLEN), Some("65535"))],
    cost_cycles: 5000,
    ..base("ToDump", "Writes packets to a pcap file (container level only)")
};

handlers! {
    pub enum Read {
        Count = "count": Integer,
        Errors = "errors": Integer,
        Filename = "filename": Lines,
    }
}

/// The class, as every container engine has it.
pub fn class() -> CustomClass {
    custom_class::<ToDump>(CLASS)
}

pub struct ToDump {
    filename: String,
    snaplen: usize,
    /// Whether output 0 exists: packets go on, or end here.
    has_output: bool,
    dump: Mutex<Dump>,
    count: AtomicU64,
    errors: AtomicU64,
}

/// Where the pcap writer puts its bytes until they go to the file in one piece.
#[derive(Clone, Default)]
struct Staging(Arc<Mutex<Vec<u8>>>);

impl Staging {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

impl io::Write for Staging {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Dump {
    pcap: PcapWriter<Staging>,
    staged: Staging,
    file: File,
}

impl Dump {
    fn write(&mut self, record: &PcapPacket<'_>) -> bool {
        let written = self.pcap.write_packet(record).is_ok();
        // Whatever was staged goes out, or nothing does: a failed record leaves no half.
        let bytes = self.staged.take();
        written && self.file.write_all(&bytes).is_ok()
    }
}

impl ToDump {
    fn write(&self, packet: &UserPacket) -> bool {
        let time_ns = User::now_ns();
        let data = packet.data();
        if time_ns / 1_000_000_000 > u64::from(u32::MAX) {
            return false;
        }
        let Ok(orig_len) = u32::try_from(data.len()) else { return false };
        let captured = data.get(..self.snaplen).unwrap_or(data);
        let record = PcapPacket { timestamp: Duration::from_nanos(time_ns), orig_len, data: Cow::Borrowed(captured) };
        self.dump.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).write(&record)
    }
}

impl Element<User> for ToDump {
    type Read = Read;
    type Write = NoHandlers;

    fn construct(build: &Build<'_, User>) -> Result<Self, ConstructError> {
        let Some(ArgValue::Bytes(name)) = build.value("FILENAME") else { return Err(ConstructError::BadArgument("FILENAME")) };
        let filename = std::str::from_utf8(name).map_err(|_| ConstructError::BadArgument("FILENAME (not UTF-8)"))?.to_string();
        if filename.is_empty() {
            return Err(ConstructError::BadArgument("FILENAME (empty)"));
        }
        let snaplen = build.int_as::<usize>("SNAPLEN")?;
        let mut file = File::create(&filename).map_err(|e| {
            User::log(format_args!("ToDump: cannot create {filename}: {e}"));
            ConstructError::BadArgument("FILENAME (cannot create the file)")
        })?;
        let header = PcapHeader {
            // Records are cut to SNAPLEN, but the header gives the largest snap length: some
            // readers (pcap-file's among them) refuse a record whose original length exceeds
            // the header's.
            snaplen: MAX_SNAPLEN as u32,
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::NanoSecond,
            endianness: Endianness::Little,
            ..PcapHeader::default()
        };
        let staged = Staging::default();
        let written = PcapWriter::with_header(staged.clone(), header).map_err(|e| e.to_string());
        let pcap = written.and_then(|pcap| file.write_all(&staged.take()).map(|()| pcap).map_err(|e| e.to_string())).map_err(|e| {
            User::log(format_args!("ToDump: cannot write {filename}: {e}"));
            ConstructError::BadArgument("FILENAME (cannot write the file)")
        })?;
        let dump = Dump { pcap, staged, file };
        Ok(ToDump { filename, snaplen, has_output: build.outputs() > 0, dump: Mutex::new(dump), count: AtomicU64::new(0), errors: AtomicU64::new(0) })
    }

    fn push(&self, cx: &Cx<'_, User>, _port: u16, packet: UserPacket) {
        if self.write(&packet) {
            self.count.fetch_add(1, Relaxed);
        } else {
            self.errors.fetch_add(1, Relaxed);
        }
        if self.has_output {
            cx.push(0, packet);
        } else {
            packet.consume();
        }
    }

    fn read(&self, handler: Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {
            Read::Count => reply(write!(out, "{}", self.count.load(Relaxed))),
            Read::Errors => reply(write!(out, "{}", self.errors.load(Relaxed))),
            Read::Filename => reply(out.write_str(&self.filename)),
        }
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
