//! Custom element classes through the engine: a class defined here, as a tenant's crate would
//! define one, checked by the front end, compiled, built and run by `Engine`, its handlers read
//! and written; the built-in ToDump; and the refusals (the kernel's catalog, name clashes).

mod common;

use common::*;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use vdp_click::check::CheckOptions;
use vdp_click::source::{Diagnostics, Sources};
use vdp_core::catalog::{base, ElementClass, PortRange};
use vdp_core::element::handler::{parse_int_in, reply};
use vdp_core::element::{Build, ConstructError, Cx, Element, Graph, HandlerError, PacketBuf};
use vdp_core::handlers;
use vdp_engine::{custom_class, CustomClass, CustomClasses, User, UserPacket};

/// Counts packets and bytes, and remembers the largest; `reset` clears them, `limit` drops
/// packets longer than it (0: none).
const TALLY: ElementClass = ElementClass {
    inputs: PortRange::exactly(1),
    outputs: PortRange::exactly(1),
    processing: "h/h",
    ..base("Tally", "Counts packets and bytes (a test's custom class)")
};

handlers! {
    pub enum TallyRead {
        Count = "count": Integer,
        Bytes = "bytes": Integer,
        Largest = "largest": Integer,
    }
}

handlers! {
    pub enum TallyWrite {
        Reset = "reset": Action,
        Limit = "limit": Integer,
    }
}

struct Tally {
    count: AtomicU64,
    bytes: AtomicU64,
    largest: AtomicU64,
    limit: AtomicU64,
}

impl Element<User> for Tally {
    type Read = TallyRead;
    type Write = TallyWrite;

    fn construct(_: &Build<'_, User>) -> Result<Self, ConstructError> {
        Ok(Tally { count: AtomicU64::new(0), bytes: AtomicU64::new(0), largest: AtomicU64::new(0), limit: AtomicU64::new(0) })
    }

    fn push(&self, cx: &Cx<'_, User>, _: u16, packet: UserPacket) {
        let len = packet.len() as u64;
        let limit = self.limit.load(Relaxed);
        if limit != 0 && len > limit {
            return;
        }
        self.count.fetch_add(1, Relaxed);
        self.bytes.fetch_add(len, Relaxed);
        self.largest.fetch_max(len, Relaxed);
        cx.push(0, packet);
    }

    fn read(&self, handler: TallyRead, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        let value = match handler {
            TallyRead::Count => &self.count,
            TallyRead::Bytes => &self.bytes,
            TallyRead::Largest => &self.largest,
        };
        reply(write!(out, "{}", value.load(Relaxed)))
    }

    fn write(&self, handler: TallyWrite, value: &str) -> Result<(), HandlerError> {
        match handler {
            TallyWrite::Reset => {
                for counter in [&self.count, &self.bytes, &self.largest] {
                    counter.store(0, Relaxed);
                }
            }
            // Lossless: the bounds are non-negative.
            TallyWrite::Limit => self.limit.store(parse_int_in(value, 0, 1 << 20)? as u64, Relaxed),
        }
        Ok(())
    }
}

fn tally() -> CustomClass {
    custom_class::<Tally>(TALLY)
}

fn classes() -> CustomClasses {
    CustomClasses::new(&[tally()]).expect("the test's classes")
}

/// The tenant-level check's errors, rendered with their `file:line:col`.
fn rendered_errors(text: &str, options: &CheckOptions) -> Vec<String> {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    vdp_click::check_text(&mut sources, "tenant.click", text, options, &mut diagnostics);
    diagnostics.items.iter().filter(|d| d.is_error()).map(|d| sources.render(d)).collect()
}

const TALLY_GRAPH: &str = "t/rx :: FromDevice(eth0) -> t/tally :: Tally -> t/q :: Queue -> t/tx :: ToDevice(eth1);";

#[test]
fn a_custom_class_runs_in_the_engine_and_answers_its_handlers() {
    let classes = classes();
    let compiled = compile_merged_in(classes.catalog(), TALLY_GRAPH, &["eth0", "eth1"]);
    let mut run = Run::with_classes(compiled, 1, classes);
    let frames: Vec<Vec<u8>> = [20usize, 60, 35].iter().map(|&n| ether(ETHERTYPE_IPV4, &vec![7; n])).collect();
    for frame in &frames {
        run.send("eth0", frame);
    }
    assert_eq!(run.take("eth1"), frames);
    assert_eq!(run.read_int("tally", "count"), 3);
    assert_eq!(run.read_int("tally", "bytes"), frames.iter().map(|f| f.len() as u64).sum::<u64>());
    assert_eq!(run.read_int("tally", "largest"), 74);
    run.write("tally", "limit", "50").expect("limit");
    run.send("eth0", &frames[1]);
    run.send("eth0", &frames[0]);
    assert_eq!(run.take("eth1"), [frames[0].clone()], "the 74-byte frame is over the limit");
    run.write("tally", "reset", "").expect("reset");
    assert_eq!(run.read_int("tally", "count"), 0);
    assert_eq!(run.engine.read_handler("t/tally", "nonsense"), Err(HandlerError::NoSuchHandler));
    assert_eq!(run.write("tally", "limit", "lots"), Err(HandlerError::BadValue("expected an integer in range")));
    assert_eq!(run.write("tally", "count", "1"), Err(HandlerError::NoSuchHandler), "count is read-only");
}

#[test]
fn the_front_end_checks_connections_to_a_custom_class_with_file_line_col() {
    let options = CheckOptions { catalog: classes().catalog(), ..CheckOptions::default() };
    assert_eq!(rendered_errors("FromDevice(eth0) -> tally :: Tally -> Queue -> ToDevice(eth1);", &options), Vec::<String>::new());
    // Tally has one output; line 2 connects a second.
    let errors = rendered_errors("FromDevice(eth0) -> tally :: Tally -> Discard;\ntally[1] -> Discard;", &options);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("tenant.click:2:10: error: output port 1 is out of range: 'tally' (Tally) has 1 output"), "{}", errors[0]);
    // Its input is push: a Queue's pull output cannot feed it.
    let errors = rendered_errors("FromDevice(eth0) -> Queue\n  -> Tally -> Discard;", &options);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("tenant.click:2:"), "{}", errors[0]);
    // Without the engine's catalog the class is unknown, and a misspelling is helped.
    let errors = rendered_errors("FromDevice(eth0) -> Tally -> Discard;", &CheckOptions::default());
    assert!(errors.len() == 1 && errors[0].contains("unknown element class 'Tally'"), "{errors:?}");
    let errors = rendered_errors("FromDevice(eth0) -> Taly -> Discard;", &options);
    assert!(errors.len() == 1 && errors[0].contains("did you mean Tally"), "{errors:?}");
}

#[test]
fn the_kernel_catalog_refuses_a_custom_class() {
    let classes = classes();
    let compiled = compile_merged_in(classes.catalog(), TALLY_GRAPH, &["eth0", "eth1"]);
    let error = vdp_click::compile::validate(&compiled.blob).err().expect("the library catalog refuses the blob");
    assert!(format!("{error:?}").contains("UnknownClass"), "{error:?}");
    // Graph::build is what the kernel calls: the library catalog and no extensions.
    let built = Graph::<User>::build(&compiled.blob, TENANT, &NoDevices, Default::default(), 1);
    let error = built.err().expect("refused");
    assert!(error.text().contains("UnknownClass"), "{error}");
}

struct NoDevices;

impl vdp_core::element::DeviceBinder<User> for NoDevices {
    fn bind(&self, _: &str) -> Option<vdp_engine::UserDevice> {
        None
    }
}

#[test]
fn a_custom_class_may_not_take_a_library_name_or_another_custom_name() {
    let counter = custom_class::<Tally>(ElementClass { ..base("Counter", "clash") });
    let error = CustomClasses::new(&[counter]).expect_err("a library name");
    assert!(error.to_string().contains("has the name of a library class"), "{error}");
    let error = CustomClasses::new(&[tally(), tally()]).expect_err("twice");
    assert!(error.to_string().contains("declared twice"), "{error}");
    let to_dump = custom_class::<Tally>(ElementClass { ..base("ToDump", "clash with a built-in") });
    assert!(CustomClasses::new(&[to_dump]).is_err());
}

#[test]
fn the_description_round_trips_to_the_same_catalog() {
    let classes = classes();
    let json = vdp_engine::describe_json(&[tally()]).expect("describe");
    let decoded = vdp_click::decl::catalog_from_json(&json).expect("decode");
    assert_eq!(decoded, classes.catalog(), "the same declarations intern to the same catalog");
    let names: Vec<&str> = decoded.custom().iter().map(|c| c.name).collect();
    assert_eq!(names, ["ToDump", "Tally"]);
    let tally = decoded.class_by_name("Tally").expect("Tally");
    assert_eq!(tally.id, vdp_core::catalog::CUSTOM_CLASS_BASE + 1);
    assert!(tally.has_handler("largest", false) && tally.has_handler("limit", true) && !tally.has_handler("count", true));
}

#[test]
fn to_dump_writes_every_packet_to_a_pcap_file_and_passes_it_on() {
    let dir = std::env::temp_dir().join(format!("vdp-to-dump-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join("dump.pcap");
    let classes = CustomClasses::stock().expect("stock");
    let text = format!(
        "t/rx :: FromDevice(eth0) -> t/dump :: ToDump(\"{}\", SNAPLEN 40) -> t/q :: Queue -> t/tx :: ToDevice(eth1);\n\
         t/rx2 :: FromDevice(eth2) -> t/end :: ToDump(\"{}\");",
        path.display(),
        dir.join("end.pcap").display()
    );
    let compiled = compile_merged_in(classes.catalog(), &text, &["eth0", "eth1", "eth2"]);
    let mut run = Run::with_classes(compiled, 1, classes);
    let frames: Vec<Vec<u8>> = [10usize, 50].iter().map(|&n| ether(ETHERTYPE_IPV4, &vec![n as u8; n])).collect();
    run.send_at("eth0", &frames[0], 1_500_000_000);
    run.send_at("eth0", &frames[1], 2_000_000_007);
    run.send("eth2", &frames[0]);
    assert_eq!(run.take("eth1"), frames, "ToDump passes packets on");
    assert_eq!(run.read_int("dump", "count"), 2);
    assert_eq!(run.read_int("dump", "errors"), 0);
    assert_eq!(run.read("dump", "filename"), path.display().to_string());
    assert_eq!(run.read_int("end", "count"), 1, "with no output the packet ends there");

    let file = std::fs::File::open(&path).expect("the dump exists");
    let mut reader = pcap_file::pcap::PcapReader::new(file).expect("a pcap file");
    assert_eq!(reader.header().datalink, pcap_file::DataLink::ETHERNET);
    let mut records = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.expect("a record");
        records.push((packet.timestamp.as_nanos() as u64, packet.orig_len, packet.data.into_owned()));
    }
    assert_eq!(records.len(), 2);
    assert_eq!(records[0], (1_500_000_000, 24, frames[0].clone()));
    assert_eq!(records[1], (2_000_000_007, 64, frames[1][..40].to_vec()), "cut to SNAPLEN");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn to_dump_that_cannot_create_its_file_refuses_the_graph() {
    let classes = CustomClasses::stock().expect("stock");
    let text = "t/rx :: FromDevice(eth0) -> t/dump :: ToDump(\"/nonexistent-dir/x.pcap\");";
    let compiled = compile_merged_in(classes.catalog(), text, &["eth0"]);
    let devices = vec![ethernet_device("eth0")];
    let error = vdp_engine::Engine::with_classes(classes, &compiled.blob, TENANT, devices, 1).err().expect("refused");
    assert!(error.text().contains("'t/dump' (ToDump): bad argument FILENAME (cannot create the file)"), "{error}");
}
