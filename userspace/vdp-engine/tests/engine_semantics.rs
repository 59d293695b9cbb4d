//! The engine's own semantics: virtual time (the rated classes send exactly what their rate
//! allows over a virtual duration, at the times it allows, whatever the wall clock does and
//! however the run is cut into steps), queue overflow, and a graph that works without end
//! stopping with `RunError::Endless`.
//!
//! Hotswap is not tested here: the user-level engine builds one graph and never replaces it
//! (`Graph::adopt_state` is the kernel's, exercised by the QEMU scenarios).

mod common;

use common::*;
use proptest::prelude::*;
use std::time::Duration;
use vdp_engine::{RunError, Stopped};

const NS: u64 = 1_000_000_000;

fn config(default_cases: u32) -> ProptestConfig {
    ProptestConfig { cases: cases(default_cases), failure_persistence: None, ..ProptestConfig::default() }
}

/// A 34-byte frame as Click data: Ethernet and an IPv4 header.
const DATA: &str = "\\<0202020202020101010101010800 45000014 00000000 40110000 0a000001 0a000002>";

/// Runs to `until` in the steps `cuts` makes (each a fraction of the way, in thousandths), and
/// returns every frame `device` sent, with its time.
fn run_in_steps(run: &mut Run, until: u64, cuts: &[u16], device: &str) -> Vec<(u64, Vec<u8>)> {
    let mut deadlines: Vec<u64> = cuts.iter().map(|c| (u128::from(until) * u128::from(*c % 1000) / 1000) as u64).collect();
    deadlines.sort();
    deadlines.push(until);
    let mut sent = Vec::new();
    for deadline in deadlines {
        let deadline = deadline.max(run.engine.now_ns());
        run.run_until(deadline);
        sent.extend(run.take_timed(device));
    }
    sent
}

/// Packets a rate of `rate` per second has earned by `at` ns, from an empty start.
fn earned(rate: u64, at: u64) -> u64 {
    (u128::from(rate) * u128::from(at) / u128::from(NS)) as u64
}

/// When packet `k` (from 1) is due at `rate` per second: the first nanosecond by which `k`
/// whole packets are earned.
fn due(rate: u64, k: u64) -> u64 {
    (u128::from(k) * u128::from(NS)).div_ceil(u128::from(rate)) as u64
}

/// Rates, with the low ones (where a bucket holds a single token) well represented.
fn packet_rate() -> impl Strategy<Value = u64> {
    prop_oneof![2 => 1u64..100, 1 => prop::sample::select(vec![1u64, 3, 7, 10, 50, 99, 100, 101, 1000, 4096]), 2 => 100u64..20_000]
}

/// A duration giving at most about 1500 packets at `rate`, so the cases stay quick.
fn duration_for(rate: u64, fraction: u64) -> u64 {
    let max = (1500 * NS / rate).min(5 * NS);
    max * fraction / 1000
}

proptest! {
    #![proptest_config(config(128))]

    /// RatedSource(RATE R) sends packet k at the first nanosecond R·t reaches k packets, so
    /// exactly ⌊R·D⌋ by D (LIMIT aside), however the run is cut into steps.
    #[test]
    fn rated_source_sends_exactly_what_its_rate_allows(
        rate in packet_rate(),
        fraction in 0u64..=1000,
        limit in prop::option::weighted(0.3, 0u64..200),
        cuts in prop::collection::vec(any::<u16>(), 0..6),
    ) {
        let limit_arg = limit.map_or(-1, |l| l as i64);
        let mut run = Run::config(&format!("s :: RatedSource({DATA}, {rate}, {limit_arg}) -> Queue -> ToDevice(eth1);"));
        let until = duration_for(rate, fraction);
        let sent = run_in_steps(&mut run, until, &cuts, "eth1");
        let expected = earned(rate, until).min(limit.unwrap_or(u64::MAX));
        let times: Vec<u64> = sent.iter().map(|(time, _)| *time).collect();
        let due_times: Vec<u64> = (1..=expected).map(|k| due(rate, k)).collect();
        prop_assert_eq!(times, due_times, "RATE {} for {} ns", rate, until);
        prop_assert_eq!(run.read_int("s", "count"), expected);
    }

    /// RatedUnqueue(RATE R) behind a full queue moves packet k at the first nanosecond R·t
    /// reaches k, in order.
    #[test]
    fn rated_unqueue_moves_exactly_what_its_rate_allows(
        rate in packet_rate(),
        fraction in 0u64..=1000,
        backlog in 1usize..400,
        cuts in prop::collection::vec(any::<u16>(), 0..6),
    ) {
        let mut run = Run::config(&format!("FromDevice(eth0) -> Queue(1000) -> u :: RatedUnqueue({rate}) -> Queue -> ToDevice(eth1);"));
        let frames: Vec<Vec<u8>> = (0..backlog).map(|i| udp_frame([10, 0, 0, 1], [10, 0, 0, 2], i as u16, 7)).collect();
        for frame in &frames {
            run.send_at("eth0", frame, 0);
        }
        let until = duration_for(rate, fraction);
        let sent = run_in_steps(&mut run, until, &cuts, "eth1");
        let expected = earned(rate, until).min(backlog as u64);
        let times: Vec<u64> = sent.iter().map(|(time, _)| *time).collect();
        prop_assert_eq!(times, (1..=expected).map(|k| due(rate, k)).collect::<Vec<u64>>(), "RATE {} for {} ns", rate, until);
        let bytes: Vec<Vec<u8>> = sent.into_iter().map(|(_, frame)| frame).collect();
        prop_assert_eq!(&bytes[..], &frames[..expected as usize]);
        prop_assert_eq!(run.read_int("u", "count"), expected);
    }

    /// BandwidthShaper(RATE B) behind a full queue of L-byte frames: a full bucket of
    /// max(B/50, 1514) bytes to start with, a frame leaving whenever the balance is positive
    /// (so the last one of a burst borrows), and B bytes a second earned. Frame k leaves at the
    /// first nanosecond the balance before it is a whole byte or more.
    #[test]
    fn bandwidth_shaper_sends_exactly_what_its_rate_allows(
        bytes_per_second in prop_oneof![1000u64..20_000, 20_000u64..2_000_000],
        // Up to the largest frame the test device's tunnel carries: MTU 1500 less the outer
        // IPv4 (20) and keyless GRE (4) headers; longer ones are dropped as exceeding the MTU.
        length in 14usize..=1476,
        fraction in 0u64..=1000,
        cuts in prop::collection::vec(any::<u16>(), 0..6),
    ) {
        let backlog = 300usize;
        let mut run = Run::config(&format!("FromDevice(eth0) -> Queue(1000) -> s :: BandwidthShaper({bytes_per_second}Bps) -> ToDevice(eth1);"));
        let frame = ether(ETHERTYPE_IPV4, &vec![0x45; length - 14]);
        for _ in 0..backlog {
            run.send_at("eth0", &frame, 0);
        }
        let burst = (bytes_per_second / 50).max(1514);
        let length = length as u64;
        // Balance before frame k (from 1) at t ns, in bytes × 10⁹: burst + B·t − (k−1)·L.
        let until = (u128::from(backlog as u64 * length) * u128::from(NS) / u128::from(bytes_per_second)) as u64 * fraction / 1000;
        let sent = run_in_steps(&mut run, until, &cuts, "eth1");
        let leaves = |k: u64| -> u64 {
            let needed = (i128::from((k - 1) * length) + 1 - i128::from(burst)) * i128::from(NS);
            if needed <= 0 { 0 } else { (needed as u128).div_ceil(u128::from(bytes_per_second)) as u64 }
        };
        let expected: Vec<u64> = (1..=backlog as u64).map(leaves).take_while(|&t| t <= until).collect();
        let times: Vec<u64> = sent.iter().map(|(time, _)| *time).collect();
        prop_assert_eq!(times, expected, "{} Bps, {}-byte frames, for {} ns", bytes_per_second, length, until);
    }

    /// A queue of capacity C takes the first C of a burst and drops the rest, counting them;
    /// what it holds leaves oldest first. A smaller capacity written later keeps the oldest
    /// packets that fit and counts the others as drops too.
    #[test]
    fn queue_overflow_drops_the_newest_and_counts_them(capacity in 1usize..40, burst in 0usize..80, shrink in 1usize..40) {
        let mut run = Run::config(&format!("FromDevice(eth0) -> q :: Queue({capacity}) -> u :: Unqueue(ACTIVE false) -> Queue -> ToDevice(eth1);"));
        let frames: Vec<Vec<u8>> = (0..burst).map(|i| udp_frame([10, 0, 0, 1], [10, 0, 0, 2], i as u16, 7)).collect();
        for frame in &frames {
            run.send("eth0", frame);
        }
        run.run_until(0);
        let held = burst.min(capacity);
        prop_assert_eq!(run.read_int("q", "length"), held as u64);
        prop_assert_eq!(run.read_int("q", "drops"), (burst - held) as u64);
        prop_assert_eq!(run.read_int("q", "highwater_length"), held as u64);
        run.write("q", "capacity", &shrink.to_string()).unwrap();
        let kept = held.min(shrink);
        prop_assert_eq!(run.read_int("q", "length"), kept as u64);
        prop_assert_eq!(run.read_int("q", "drops"), (burst - kept) as u64);
        run.write("u", "active", "true").unwrap();
        run.run_until(0);
        prop_assert_eq!(run.take("eth1"), frames[..kept].to_vec());
    }
}

/// The same rated source with and without a Chew that burns about a millisecond of wall time
/// per packet: the same frames at the same virtual times.
#[test]
fn busy_work_takes_no_virtual_time() {
    let plain = format!("s :: RatedSource({DATA}, 997, 25) -> Queue -> ToDevice(eth1);");
    let chewing = format!("s :: RatedSource({DATA}, 997, 25) -> Chew(3000000) -> Queue -> ToDevice(eth1);");
    let mut outputs = Vec::new();
    for text in [plain, chewing] {
        let mut run = Run::config(&text);
        let started = std::time::Instant::now();
        assert_eq!(run.run_until(u64::MAX), Stopped::Idle { now_ns: due(997, 25) });
        outputs.push((run.take_timed("eth1"), started.elapsed()));
    }
    assert_eq!(outputs[0].0.len(), 25);
    assert_eq!(outputs[0].0, outputs[1].0);
    assert_eq!(outputs[0].0.last().unwrap().0, due(997, 25));
}

/// Virtual time moves only when the engine moves it: a source whose next packet is due in an
/// hour is an hour away after a run to that hour, and no wall time passes waiting for it.
#[test]
fn a_timer_far_away_is_reached_at_once() {
    let mut run = Run::config(&format!("s :: RatedSource({DATA}, 1) -> Queue -> ToDevice(eth1);"));
    let started = std::time::Instant::now();
    assert_eq!(run.run_until(3600 * NS), Stopped::Reached);
    let sent = run.take_timed("eth1");
    assert_eq!(sent.len(), 3600);
    assert_eq!(sent.last().unwrap().0, 3600 * NS);
    assert_eq!(run.engine.now_ns(), 3600 * NS);
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// Runs `text` to the end in a thread of its own, so that a graph that never stops fails the
/// test instead of hanging it.
fn run_to_end(text: &str, until: u64, budget: u64) -> Result<Stopped, RunError> {
    let text = text.to_string();
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut run = Run::config(&text);
        let _ = done.send(run.engine.run(until, budget));
    });
    result.recv_timeout(Duration::from_secs(300)).expect("the run did not end")
}

#[test]
fn a_graph_that_works_without_end_is_endless_not_hung() {
    assert_eq!(run_to_end(&format!("InfiniteSource({DATA}) -> Discard;"), u64::MAX, u64::MAX), Err(RunError::Endless { at_ns: 0 }));
    // A pulling Discard keeps a pushing source's queue busy for ever too.
    assert_eq!(run_to_end(&format!("InfiniteSource({DATA}) -> Queue -> Discard;"), u64::MAX, u64::MAX), Err(RunError::Endless { at_ns: 0 }));
}

#[test]
fn sources_that_stop_do_not_count_as_endless() {
    // A LIMIT ends the source, a rate spreads it over time, a budget ends the run.
    assert_eq!(run_to_end(&format!("InfiniteSource({DATA}, 100000) -> Discard;"), u64::MAX, u64::MAX), Ok(Stopped::Idle { now_ns: 0 }));
    assert_eq!(run_to_end(&format!("RatedSource({DATA}, 1000000) -> Discard;"), NS, u64::MAX), Ok(Stopped::Reached));
    assert_eq!(run_to_end(&format!("InfiniteSource({DATA}) -> Queue -> ToDevice(eth1);"), u64::MAX, 5000), Ok(Stopped::Budget { now_ns: 0 }));
}

// ---------------------------------------------------------------------------------------------
// Regressions: cases the properties found, kept as plain tests.

/// At rates under 100 a second the packet bucket holds one token. The engine wakes a rated
/// element at the first whole nanosecond its token is complete, when the bucket is a fraction
/// of a nanosecond's earnings over that one token; the cap threw the fraction away, so each
/// packet came up to a nanosecond late and RATE 3 sent 2 packets in its first second.
#[test]
fn low_rates_lose_no_fraction_of_a_packet() {
    let mut run = Run::config(&format!("RatedSource({DATA}, 3) -> Queue -> ToDevice(eth1);"));
    run.run_until(NS);
    let times: Vec<u64> = run.take_timed("eth1").into_iter().map(|(time, _)| time).collect();
    assert_eq!(times, [333_333_334, 666_666_667, 1_000_000_000]);
    let mut run = Run::config("FromDevice(eth0) -> Queue -> RatedUnqueue(7) -> Queue -> ToDevice(eth1);");
    for _ in 0..20 {
        run.send_at("eth0", &udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 1, 2), 0);
    }
    run.run_until(2 * NS);
    assert_eq!(run.take("eth1").len(), 14);
}

/// BandwidthShaper let a packet through as soon as its balance was above zero, but asked to be
/// woken only when it held a whole byte: so a packet left up to a byte's time early whenever
/// something else ran the task first, here the end of one step of the run.
#[test]
fn a_shaper_sends_at_the_same_times_however_the_run_is_cut() {
    let text = "FromDevice(eth0) -> Queue -> BandwidthShaper(1000Bps) -> ToDevice(eth1);";
    let frame = ether(ETHERTYPE_IPV4, &[0x45; 7]);
    let mut outputs = Vec::new();
    for cut in [None, Some(754_551_000)] {
        let mut run = Run::config(text);
        for _ in 0..150 {
            run.send_at("eth0", &frame, 0);
        }
        if let Some(cut) = cut {
            run.run_until(cut);
        }
        run.run_until(NS);
        outputs.push(run.take_timed("eth1").into_iter().map(|(time, _)| time).collect::<Vec<u64>>());
    }
    assert_eq!(outputs[0], outputs[1]);
    assert!(outputs[0].contains(&755_000_000), "{:?}", outputs[0]);
}

/// A received frame waits in its device's queue until the engine next runs, at the frame's own
/// time however late the run comes; the frames before it were handled when it arrived.
#[test]
fn a_received_frame_is_handled_by_the_next_run_at_its_time() {
    let mut run = Run::config("FromDevice(eth0) -> Queue -> ToDevice(eth1);");
    let frame = udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 1, 2);
    assert!(run.engine.receive("eth0", &frame, 1000).unwrap());
    assert!(run.take("eth1").is_empty());
    assert!(run.engine.receive("eth0", &frame, 2000).unwrap());
    assert_eq!(run.take_timed("eth1"), [(1000, frame.clone())]);
    assert_eq!(run.engine.run(5000, u64::MAX), Ok(Stopped::Idle { now_ns: 2000 }));
    assert_eq!(run.take_timed("eth1"), [(2000, frame)]);
}
