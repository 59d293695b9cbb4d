//! What AverageCounter, RED, Align, SetTimestamp, DelayShaper, PollDevice, ToHost and FromHost
//! do, beyond every_class.rs's cases: rates and delays exact in virtual time, RED's drop
//! probability over many packets with a fixed seed, Align's placement as a packet's own bytes
//! show it, and the front end's refusals (ToHost without a host device, RED without queues).

mod common;

use common::*;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use vdp_click::source::{Diagnostics, Sources};
use vdp_click::system::SystemConfig;
use vdp_click::TenantSource;
use vdp_core::catalog::{base, ElementClass, PortRange};
use vdp_core::element::handler::reply;
use vdp_core::element::{Build, ConstructError, Cx, Element, HandlerError, NoHandlers, PacketBuf};
use vdp_core::handlers;
use vdp_engine::{custom_class, CustomClasses, User, UserPacket};

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

fn frame(i: usize) -> Vec<u8> {
    udp_frame([10, 0, 0, 1], [10, 0, 1, (i % 250) as u8], 1000, 2000 + (i % 1000) as u16)
}

// ---------------------------------------------------------------------------------------------
// AverageCounter

#[test]
fn average_counter_rate_is_clicks_over_virtual_time() {
    // A frame every 10 ms from 5 s to 8 s: 301 frames over 3000 ms.
    let text = "FromDevice(eth0) -> all :: AverageCounter -> late :: AverageCounter(1) -> Discard;";
    let mut run = Run::config(text);
    let sent: Vec<Vec<u8>> = (0..301).map(frame).collect();
    for (i, f) in sent.iter().enumerate() {
        run.send_at("eth0", f, 5 * S + i as u64 * 10 * MS);
    }
    run.run_until(run.engine.now_ns());
    let bytes = |from: usize| sent[from..].iter().map(|f| f.len() as u64).sum::<u64>();
    assert_eq!(run.read_int("all", "count"), 301);
    assert_eq!(run.read_int("all", "rate"), 301 * 1000 / 3000);
    assert_eq!(run.read_int("all", "byte_rate"), bytes(0) * 1000 / 3000);
    // IGNORE 1: the first second after the first frame is not counted, and not part of the
    // interval: the 201 frames from 6 s to 8 s, over 2000 ms.
    assert_eq!(run.read_int("late", "count"), 201);
    assert_eq!(run.read_int("late", "byte_count"), bytes(100));
    assert_eq!(run.read_int("late", "rate"), 201 * 1000 / 2000);
    assert_eq!(run.read_int("late", "byte_rate"), bytes(100) * 1000 / 2000);
    // The rate covers the first to the latest frame: time without frames changes nothing.
    run.run_until(20 * S);
    assert_eq!(run.read_int("all", "rate"), 100);
    // After a reset the next frame starts a new interval; one frame alone counts over one
    // millisecond, as Click counts it over one tick.
    run.write("all", "reset", "").unwrap();
    run.send_at("eth0", &sent[0], 30 * S);
    assert_eq!((run.read_int("all", "count"), run.read_int("all", "rate")), (1, 1000));
    run.send_at("eth0", &sent[1], 30 * S + 250 * MS);
    assert_eq!(run.read_int("all", "rate"), 2 * 1000 / 250);
}

// ---------------------------------------------------------------------------------------------
// RED

/// A Queue held at 30 packets (filled by a source, pulled by nobody) that a RED watches while
/// 20 000 packets pass it.
const RED_30: &str = "fill :: InfiniteSource(LIMIT 30, BURST 30) -> q :: Queue(100) -> Idle;\n\
                      src :: InfiniteSource(LIMIT 20000, BURST 50, ACTIVE false) -> r :: RED(10, 50, 0.1, QUEUES q) -> passed :: Counter -> Discard;\n\
                      r[1] -> dropped :: Counter -> Discard;";

fn red_drops(seed: u64) -> (u64, u64, String) {
    vdp_engine::set_random_seed(seed);
    let mut run = Run::config(RED_30);
    run.run_until(0);
    assert_eq!(run.read_int("q", "length"), 30);
    run.write("src", "active", "true").unwrap();
    run.run_until(0);
    (run.read_int("passed", "count"), run.read_int("dropped", "count"), run.read("r", "avg_queue_size"))
}

#[test]
fn red_drops_with_the_probability_red_gives_over_many_packets() {
    let (passed, dropped, average) = red_drops(7);
    assert_eq!(passed + dropped, 20_000);
    // The average settles at the queue's 30 packets.
    let average: f64 = average.parse().unwrap();
    assert!((29.9..30.1).contains(&average), "average {average}");
    // At an average of 30, between MIN_THRESH 10 and MAX_THRESH 50, the marking probability
    // is p = 0.1 * (30 - 10) / (50 - 10) = 0.05. RED spaces its drops out uniformly over 1 to
    // 1/p packets (Floyd and Jacobson), so it drops 2p / (1 + p) of the packets: 0.0952, 1905
    // of 20 000. The tolerance is 10% (about eight standard deviations of the count).
    let expected = 20_000.0 * 2.0 * 0.05 / 1.05;
    let error = (dropped as f64 - expected).abs() / expected;
    assert!(error < 0.10, "dropped {dropped} of 20000, expected about {expected:.0}");
    // The same seed draws the same numbers; another seed others, at the same rate.
    assert_eq!(red_drops(7).1, dropped);
    let other = red_drops(8).1;
    assert_ne!(other, dropped);
    assert!((other as f64 - expected).abs() / expected < 0.10, "seed 8 dropped {other}");
}

#[test]
fn red_follows_clicks_moving_average() {
    // STABILITY 1: each packet moves the average halfway to the queue's length (Click adds
    // half a unit of compensation). The queue is held at 4; the average goes 2, 3, 3.5, ...
    let mut run = Run::config(
        "fill :: InfiniteSource(LIMIT 4, BURST 4) -> q :: Queue(10) -> Idle;\n\
         FromDevice(eth0) -> r :: RED(100, 200, 0.5, QUEUES q, STABILITY 1) -> Discard;",
    );
    run.run_until(0);
    let mut seen = Vec::new();
    for i in 0..4 {
        run.send("eth0", &frame(i));
        seen.push(run.read("r", "avg_queue_size"));
    }
    // (x * 1024 + 1 - avg) >> 1 each time: 2048, 3072, 3584, 3840 (of 1024).
    assert_eq!(seen, ["2", "3", "3.5", "3.75"]);
    // Empty, the average decays once per 20 ms: the first look at the empty queue once, and
    // 100 periods or more set it to zero.
    run.write("q", "reset", "").unwrap();
    run.send_at("eth0", &frame(9), S);
    assert_eq!(run.read("r", "avg_queue_size"), "1.875");
    run.send_at("eth0", &frame(9), 3 * S);
    assert_eq!(run.read("r", "avg_queue_size"), "0");
}

#[test]
fn red_finds_the_nearest_queues_as_click_does() {
    // Pushing: downstream of output 0, through any element, not past a Storage element.
    let run = Run::config(
        "FromDevice(eth0) -> r :: RED(5, 50, 0.02) -> t :: Tee(2);\n\
         t[0] -> Counter -> a :: Queue -> Unqueue -> c :: Queue -> Discard;\n\
         t[1] -> b :: SimpleQueue -> Discard;",
    );
    assert_eq!(run.read("r", "queues"), "a\nb\n");
    // Pulling: upstream of input 0.
    let run = Run::config("FromDevice(eth0) -> q :: Queue -> Counter -> r :: RED(5, 50, 0.02) -> ToDevice(eth1);");
    assert_eq!(run.read("r", "queues"), "q\n");
    assert_eq!(run.read("r", "config"), "5, 50, 0.02, QUEUES q, STABILITY 4");
    // QUEUES names them, in a compound relative to the RED.
    let run = Run::config(
        "elementclass Guard { input -> r :: RED(5, 50, 0.02, QUEUES q) -> output; Idle -> q :: Queue -> Discard }\n\
         FromDevice(eth0) -> g :: Guard -> Queue -> ToDevice(eth1);",
    );
    assert_eq!(run.read("g/r", "queues"), "g/q\n");
}

#[test]
fn red_without_queues_or_with_a_non_queue_is_refused_at_its_place() {
    let errors = tenant_errors("FromDevice(eth0) -> r :: RED(5, 50, 0.02) -> Discard;", &system_with(&["eth0"], None));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("test.click:1:21: error: RED 'r' has no nearby Queues"), "{}", errors[0]);
    assert!(errors[0].contains("name them with QUEUES"), "{}", errors[0]);
    let errors = tenant_errors("FromDevice(eth0) -> r :: RED(5, 50, 0.02, QUEUES c) -> c :: Counter -> Queue -> Discard;", &system_with(&["eth0"], None));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("test.click:1:43: error: 'r' QUEUES names 'c', which is not a Storage element"), "{}", errors[0]);
    let errors = tenant_errors("FromDevice(eth0) -> r :: RED(50, 5, 0.02) -> Queue -> Discard;", &system_with(&["eth0"], None));
    assert!(errors[0].starts_with("test.click:1:30: error: RED 'r': MIN_THRESH 50 must not be above MAX_THRESH 5"), "{errors:?}");
    let errors = tenant_errors("FromDevice(eth0) -> r :: RED(5, 50, 1.5) -> Queue -> Discard;", &system_with(&["eth0"], None));
    assert!(errors[0].contains("expected a probability from 0 to 1"), "{errors:?}");
}

// ---------------------------------------------------------------------------------------------
// Align

/// Counts the packets it sees by where their data starts, modulo 8 (a test's custom class).
const PLACES: ElementClass = ElementClass {
    inputs: PortRange::exactly(1),
    outputs: PortRange::exactly(1),
    processing: "h/h",
    ..base("Places", "Counts packets by their data's address modulo 8 (a test's class)")
};

handlers! {
    pub enum PlacesRead {
        Counts = "counts": Lines,
    }
}

struct Places([AtomicU64; 8]);

impl Element<User> for Places {
    type Read = PlacesRead;
    type Write = NoHandlers;

    fn construct(_: &Build<'_, User>) -> Result<Self, ConstructError> {
        Ok(Places(std::array::from_fn(|_| AtomicU64::new(0))))
    }

    fn push(&self, cx: &Cx<'_, User>, _: u16, packet: UserPacket) {
        self.0[packet.data().as_ptr() as usize % 8].fetch_add(1, Relaxed);
        cx.push(0, packet);
    }

    fn read(&self, _: PlacesRead, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        reply(self.0.iter().try_for_each(|count| write!(out, "{} ", count.load(Relaxed))))
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}

/// How many packets `element` saw at each address modulo 8.
fn places(run: &Run, element: &str) -> Vec<u64> {
    run.read(element, "counts").split_whitespace().map(|n| n.parse().unwrap()).collect()
}

#[test]
fn align_places_the_data_where_it_is_asked() {
    let classes = CustomClasses::new(&[custom_class::<Places>(PLACES)]).unwrap();
    let text = "t/rx :: FromDevice(eth0) -> t/s :: Strip(1) -> t/before :: Places -> t/a :: Align(8, 3) -> t/after :: Places \
                -> t/b :: Align(2, 1) -> t/odd :: Places -> t/q :: Queue -> t/tx :: ToDevice(eth1);";
    let mut run = Run::with_classes(compile_merged_in(classes.catalog(), text, &["eth0", "eth1"]), 1, classes);
    let sent: Vec<Vec<u8>> = (0..50).map(|i| ether(ETHERTYPE_IPV4, &vec![i as u8; 20 + i])).collect();
    for f in &sent {
        run.send("eth0", f);
    }
    run.run_until(run.engine.now_ns());
    // The bytes are unchanged.
    assert_eq!(run.take("eth1"), sent.iter().map(|f| f[1..].to_vec()).collect::<Vec<_>>());
    // Before Align nothing is 3 past an 8-byte boundary (the buffers start aligned, and Strip
    // moved the data one byte on); after it everything is, and stays 1 past a 2-byte boundary.
    let before = places(&run, "before");
    assert_eq!(before[3], 0, "{before:?}");
    assert_eq!(places(&run, "after"), [0, 0, 0, 50, 0, 0, 0, 0]);
    assert_eq!(places(&run, "odd").iter().step_by(2).sum::<u64>(), 0);
    assert_eq!((run.read_int("a", "copies"), run.read_int("b", "copies")), (50, 0));
    assert_eq!(run.read_int("a", "drops"), 0);
}

#[test]
fn align_arguments_are_checked_at_their_place() {
    let system = system_with(&["eth0"], None);
    let errors = tenant_errors("FromDevice(eth0) -> Align(6, 1) -> Discard;", &system);
    assert!(errors[0].starts_with("test.click:1:27: error: Align 'Align@2': MODULUS must be 2, 4 or 8, not 6"), "{errors:?}");
    let errors = tenant_errors("FromDevice(eth0) -> Align(4, 4) -> Discard;", &system);
    assert!(errors[0].starts_with("test.click:1:30: error: Align 'Align@2': OFFSET 4 must be smaller than MODULUS 4"), "{errors:?}");
}

// ---------------------------------------------------------------------------------------------
// SetTimestamp, DelayShaper, PollDevice

#[test]
fn delay_shaper_lets_packets_go_exactly_delay_after_their_timestamps() {
    let mut run = Run::config("FromDevice(eth0) -> Queue -> d :: DelayShaper(25ms) -> ToDevice(eth1);");
    // Frames 1 ms apart, faster than anything holds them: each leaves 25 ms after it arrived.
    let arrivals: Vec<u64> = (0..20).map(|i| S + i * MS).collect();
    for (i, at) in arrivals.iter().enumerate() {
        run.send_at("eth0", &frame(i), *at);
    }
    let runs_before = run.engine.task_runs();
    run.run_until(2 * S);
    let left: Vec<u64> = run.take_timed("eth1").into_iter().map(|(at, _)| at).collect();
    assert_eq!(left, arrivals.iter().map(|at| at + 25 * MS).collect::<Vec<_>>());
    // The pulling task slept until each frame was due: a few runs per frame, not a poll of
    // every instant.
    let runs = run.engine.task_runs() - runs_before;
    assert!(runs < 20 * 10, "{runs} task runs for 20 frames");
    // A frame stamped long ago leaves as soon as it is pulled.
    let mut run = Run::config("FromDevice(eth0) -> SetTimestamp(1) -> Queue -> DelayShaper(25ms) -> ToDevice(eth1);");
    run.send_at("eth0", &frame(0), 5 * S);
    run.run_until(6 * S);
    assert_eq!(run.take_timed("eth1").into_iter().map(|(at, _)| at).collect::<Vec<_>>(), [5 * S]);
}

#[test]
fn poll_device_keeps_or_drops_the_receive_timestamp() {
    // Frames arrive at 1 s and wait in a queue until 2 s. With the device's timestamp the
    // DelayShaper's 10 ms are long over by then; with TIMESTAMP false the frame has none, is
    // stamped when the DelayShaper first pulls it, and waits its 10 ms from then.
    for (timestamp, leaves) in [("true", 2 * S), ("false", 2 * S + 10 * MS)] {
        let mut run = Run::config(&format!(
            "PollDevice(eth0, TIMESTAMP {timestamp}) -> Queue -> u :: Unqueue(ACTIVE false) -> Queue -> DelayShaper(10ms) -> ToDevice(eth1);"
        ));
        run.send_at("eth0", &frame(0), S);
        run.engine.advance_to(2 * S).unwrap();
        run.write("u", "active", "true").unwrap();
        run.run_until(3 * S);
        assert_eq!(run.take_timed("eth1").into_iter().map(|(at, _)| at).collect::<Vec<_>>(), [leaves], "TIMESTAMP {timestamp}");
    }
}

#[test]
fn one_element_receives_from_a_device() {
    let system = system_with(&["eth0", "host0"], Some("host0"));
    let errors = tenant_errors("PollDevice(eth0) -> Discard; FromDevice(eth0) -> Discard;", &system);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("'PollDevice@1' (PollDevice) and 'FromDevice@3' (FromDevice) both receive from device 'eth0'"), "{}", errors[0]);
    let errors = tenant_errors("FromHost(host0) -> Discard; FromDevice(host0) -> Discard;", &system);
    assert!(errors[0].contains("both receive from device 'host0'"), "{errors:?}");
}

// ---------------------------------------------------------------------------------------------
// ToHost and FromHost

/// A system config whose one tenant [`TENANT`] has `devices` and the host device `host`.
fn system_with(devices: &[&str], host: Option<&str>) -> SystemConfig {
    let devices: Vec<String> = devices.iter().map(|d| d.to_string()).collect();
    single_tenant_system_with_host(&devices, host)
}

/// What the coordinator says of `text` as [`TENANT`]'s configuration under `system`: its
/// errors, rendered with `file:line:col` and notes.
fn tenant_errors(text: &str, system: &SystemConfig) -> Vec<String> {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let inputs = [TenantSource { tenant: TENANT.to_string(), file_name: "test.click".to_string(), text: text.to_string(), catalog: vdp_core::catalog::Catalog::LIBRARY }];
    let merged = vdp_click::merge_tenants(&mut sources, system, &inputs, &mut diagnostics);
    let errors: Vec<String> = diagnostics.items.iter().filter(|d| d.is_error()).map(|d| sources.render(d)).collect();
    assert_eq!(merged.is_none(), !errors.is_empty(), "{errors:?}");
    errors
}

#[test]
fn to_host_without_a_host_device_is_refused_saying_what_to_add() {
    let system = system_with(&["eth0", "eth1"], None);
    let errors = tenant_errors("FromDevice(eth0)\n  -> th :: ToHost;", &system);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("test.click:2:6: error: ToHost 'th' needs the tenant's host device, and the system config names none"), "{}", errors[0]);
    assert!(errors[0].contains("add host_device = \"eth0\" to this tenant's [[tenant]] section of the system config"), "{}", errors[0]);
    let errors = tenant_errors("fh :: FromHost(eth1) -> Discard;", &system);
    assert!(errors[0].starts_with("test.click:1:1: error: FromHost 'fh' needs the tenant's host device"), "{errors:?}");
    // With a host device, a DEVNAME must name it.
    let system = system_with(&["eth0", "eth1"], Some("eth1"));
    let errors = tenant_errors("FromDevice(eth0) -> ToHost(eth0);", &system);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("test.click:1:28: error: ToHost 'ToHost@2' names device 'eth0', but this tenant's host device is 'eth1'"), "{}", errors[0]);
    assert_eq!(tenant_errors("FromDevice(eth0) -> ToHost;", &system), Vec::<String>::new());
}

#[test]
fn to_host_and_from_host_go_through_the_host_device() {
    // ToHost without DEVNAME sends on the host device the system config names.
    let system = system_with(&["eth0", "hst"], Some("hst"));
    let text = "FromDevice(eth0) -> th :: ToHost;\nfh :: FromHost(hst) -> Queue -> ToDevice(eth0);";
    let compiled = compile_for(text, &system, vec!["eth0".into(), "hst".into()]);
    let mut run = Run::new(compiled);
    let out: Vec<Vec<u8>> = (0..3).map(frame).collect();
    let back: Vec<Vec<u8>> = (10..14).map(frame).collect();
    for f in &out {
        run.send("eth0", f);
    }
    for f in &back {
        run.send("hst", f);
    }
    run.run_until(run.engine.now_ns());
    assert_eq!(run.take("hst"), out);
    assert_eq!(run.take("eth0"), back);
}

#[test]
fn a_capped_tenants_graph_gets_no_shaper() {
    // The cap is the module's, applied on its transmit path (kmod/core/tx_cap.rs): the merge
    // adds nothing to the tenant's graph, and the user-level engine sends what the graph sends.
    let mut system = system_with(&["eth0", "hst"], Some("hst"));
    system.tenant[0].bandwidth_cap = Some("10000Bps".to_string());
    let compiled = compile_for("FromDevice(eth0) -> ToHost;", &system, vec!["eth0".into(), "hst".into()]);
    assert_eq!(compiled.elements.len(), 2, "{:?}", compiled.elements);
    let mut run = Run::new(compiled);
    let f = ether(ETHERTYPE_IPV4, &[0x45; 86]);
    for _ in 0..40 {
        run.send("eth0", &f);
    }
    run.run_until(0);
    assert_eq!(run.take("hst").len(), 40);
}

#[test]
fn the_graph_refuses_a_red_watching_what_is_no_queue() {
    // A blob the front end would never make: RED's QUEUES changed to name the Counter. The
    // graph's own check refuses it, as the kernel's does.
    let text = "t/src :: InfiniteSource(LIMIT 1) -> t/r :: RED(5, 50, 0.02, QUEUES t/q) -> t/c :: Counter -> t/q :: Queue -> t/d :: Discard;";
    let compiled = compile_merged(text, &[]);
    let index = |name: &str| compiled.elements.iter().position(|(n, _)| n == name).unwrap() as u32;
    let mut list = vec![1u8, 0];
    list.extend(index("t/q").to_le_bytes());
    let at: Vec<usize> = compiled.blob.windows(list.len()).enumerate().filter(|(_, w)| *w == list.as_slice()).map(|(i, _)| i).collect();
    assert_eq!(at.len(), 1, "the storage list is found once in the blob");
    assert!(vdp_engine::Engine::new(&compiled.blob, TENANT, vec![], 1).is_ok());
    let mut blob = compiled.blob.clone();
    blob[at[0] + 2..at[0] + 6].copy_from_slice(&index("t/c").to_le_bytes());
    match vdp_engine::Engine::new(&blob, TENANT, vec![], 1) {
        Err(error) => assert_eq!(error.to_string(), "element 't/r': 't/c' is not a Storage element"),
        Ok(_) => panic!("a RED watching a Counter was built"),
    }
}
