use proptest::prelude::*;
use vdp_core::dispatch::{flow_bucket, Choice, DispatchError, Dispatcher, Policy, FLOW_BUCKETS, MAX_ENGINES};

/// An Ethernet + IPv4 + UDP (or TCP) header with the given flow.
fn frame(src: [u8; 4], dst: [u8; 4], protocol: u8, sport: u16, dport: u16, fragment: u16) -> Vec<u8> {
    let mut f = vec![0u8; 14 + 20 + 8];
    f[12] = 0x08;
    f[14] = 0x45;
    f[14 + 6..14 + 8].copy_from_slice(&fragment.to_be_bytes());
    f[14 + 9] = protocol;
    f[14 + 12..14 + 16].copy_from_slice(&src);
    f[14 + 16..14 + 20].copy_from_slice(&dst);
    f[34..36].copy_from_slice(&sport.to_be_bytes());
    f[36..38].copy_from_slice(&dport.to_be_bytes());
    f
}

fn udp(flow: u16) -> Vec<u8> {
    frame([10, 0, 0, 1], [10, 0, 1, 1], 17, 1000 + flow, 9, 0)
}

#[test]
fn bad_engine_sets_are_refused() {
    assert_eq!(Dispatcher::new(Policy::RoundRobin, &[], 0, 0).unwrap_err(), DispatchError::EngineCount(0));
    assert_eq!(Dispatcher::new(Policy::RoundRobin, &[1; MAX_ENGINES + 1], 0, 0).unwrap_err(), DispatchError::EngineCount(9));
    assert_eq!(Dispatcher::new(Policy::Proportional, &[25, 0], 0, 0).unwrap_err(), DispatchError::ZeroWeight(1));
    // Only the proportional policy needs shares.
    assert!(Dispatcher::new(Policy::FlowAffinity, &[0, 0], 0, 0).is_ok());
    assert!(DispatchError::ZeroWeight(1).to_string().contains("engine 1 has no share"));
}

#[test]
fn round_robin_takes_engines_in_turn() {
    let mut d = Dispatcher::new(Policy::RoundRobin, &[1, 1, 1], 0, 0).unwrap();
    let engines: Vec<u8> = (0..7).map(|_| d.dispatch(&udp(0)).engine).collect();
    assert_eq!(engines, [0, 1, 2, 0, 1, 2, 0]);
    assert_eq!(d.counters().dispatched[..3], [3, 2, 2]);
}

#[test]
fn proportional_follows_the_shares_and_interleaves() {
    let mut d = Dispatcher::new(Policy::Proportional, &[25, 75], 0, 0).unwrap();
    let engines: Vec<u8> = (0..8).map(|_| d.dispatch(&udp(0)).engine).collect();
    // Three of every four to the 75% engine, never four in a row.
    assert_eq!(engines.iter().filter(|e| **e == 1).count(), 6);
    assert!(engines.windows(4).all(|w| w.contains(&0)), "{engines:?}");
}

#[test]
fn a_flow_stays_on_its_engine_and_fragments_with_it() {
    let mut d = Dispatcher::new(Policy::FlowAffinity, &[1, 1], 7, 0).unwrap();
    let first = d.dispatch(&udp(3)).engine;
    assert!((0..50).all(|_| d.dispatch(&udp(3)).engine == first));
    // Fragments of one datagram: no ports in later fragments, so the address pair decides.
    let a = flow_bucket(&frame([10, 0, 0, 1], [10, 0, 1, 1], 17, 1, 2, 0x2000 | 0), 7);
    let b = flow_bucket(&frame([10, 0, 0, 1], [10, 0, 1, 1], 17, 77, 88, 0x0010), 7);
    assert_eq!(a, b);
    // Many flows spread over both engines.
    let spread: std::collections::HashSet<u8> = (0..64).map(|f| d.dispatch(&udp(f)).engine).collect();
    assert_eq!(spread.len(), 2);
}

#[test]
fn short_and_foreign_frames_are_dispatched_without_fault() {
    let mut d = Dispatcher::new(Policy::FlowAffinity, &[1, 1, 1], 1, 4).unwrap();
    for len in 0..60 {
        let choice = d.dispatch(&udp(1)[..len.min(42)]);
        assert!(usize::from(choice.engine) < 3);
    }
    let arp = [0xffu8; 14];
    assert!(usize::from(d.dispatch(&arp).engine) < 3);
}

#[test]
fn an_overloaded_engine_gives_up_only_idle_buckets() {
    let mut d = Dispatcher::new(Policy::FlowAffinity, &[1, 1], 0, 4).unwrap();
    // Pick two flows that share an owner.
    let owner = d.bucket_engine(flow_bucket(&udp(0), 0));
    let other = (1..200).find(|f| d.bucket_engine(flow_bucket(&udp(*f), 0)) == owner && flow_bucket(&udp(*f), 0) != flow_bucket(&udp(0), 0)).unwrap();
    // Flow 0 fills its engine past the mark; it has packets in flight, so it never moves.
    let held: Vec<Choice> = (0..6).map(|_| d.dispatch(&udp(0))).collect();
    assert!(held.iter().all(|c| c.engine == owner));
    assert!(d.counters().moves_held > 0);
    // The other flow has nothing in flight: it moves to the idle engine, and stays there.
    let moved = d.dispatch(&udp(other));
    assert_ne!(moved.engine, owner);
    assert_eq!(d.counters().moves, 1);
    for choice in held {
        d.done(choice);
    }
    assert_eq!(d.dispatch(&udp(other)).engine, moved.engine);
    assert_eq!(d.backlog(usize::from(owner)), 0);
}

#[test]
fn a_done_never_made_is_counted_and_harmless() {
    let mut d = Dispatcher::new(Policy::RoundRobin, &[1, 1], 0, 0).unwrap();
    d.done(Choice { engine: 1, bucket: 9 });
    d.done(Choice { engine: 200, bucket: 9 });
    assert_eq!(d.counters().stray_done, 2);
    assert_eq!(d.backlog(1), 0);
}

/// Engines that each finish their oldest packet at random times; returns, per flow, the
/// packets out of order at the receiver (a packet arriving after a later one of its flow).
fn run(policy: Policy, weights: &[u32], flows: u16, steps: &[(u16, u8)]) -> (u64, u64) {
    let mut d = Dispatcher::new(policy, weights, 3, 8).unwrap();
    let mut queues: Vec<std::collections::VecDeque<(u16, u64, Choice)>> = vec![Default::default(); weights.len()];
    let mut next_seq = vec![0u64; usize::from(flows)];
    let mut highest = vec![None::<u64>; usize::from(flows)];
    let (mut out_of_order, mut delivered) = (0, 0);
    let mut deliver = |flow: u16, seq: u64, highest: &mut Vec<Option<u64>>| {
        let seen = &mut highest[usize::from(flow)];
        if seen.is_some_and(|h| seq < h) {
            out_of_order += 1;
        } else {
            *seen = Some(seq);
        }
        delivered += 1;
    };
    for &(flow, service) in steps {
        let flow = flow % flows;
        let seq = next_seq[usize::from(flow)];
        next_seq[usize::from(flow)] += 1;
        let choice = d.dispatch(&udp(flow));
        queues[usize::from(choice.engine)].push_back((flow, seq, choice));
        // One engine, chosen by the step, finishes up to `service % 3` packets.
        let engine = usize::from(service) % weights.len();
        for _ in 0..(service / 16) % 3 {
            if let Some((f, s, c)) = queues[engine].pop_front() {
                d.done(c);
                deliver(f, s, &mut highest);
            }
        }
    }
    for queue in &mut queues {
        while let Some((f, s, c)) = queue.pop_front() {
            d.done(c);
            deliver(f, s, &mut highest);
        }
    }
    assert_eq!(d.counters().stray_done, 0);
    assert!((0..weights.len()).all(|e| d.backlog(e) == 0));
    (out_of_order, delivered)
}

proptest! {
    #[test]
    fn flow_affinity_never_reorders_a_flow(
        engines in 2usize..=4,
        flows in 1u16..64,
        steps in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..2000),
    ) {
        let weights = vec![1; engines];
        let (out_of_order, delivered) = run(Policy::FlowAffinity, &weights, flows, &steps);
        prop_assert_eq!(out_of_order, 0);
        prop_assert_eq!(delivered as usize, steps.len());
    }

    #[test]
    fn proportional_gives_each_engine_its_share_exactly(weights in proptest::collection::vec(1u32..10, 1..=MAX_ENGINES), periods in 1u64..5) {
        let mut d = Dispatcher::new(Policy::Proportional, &weights, 0, 0).unwrap();
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        for _ in 0..total * periods {
            d.dispatch(&udp(0));
        }
        for (engine, weight) in weights.iter().enumerate() {
            prop_assert_eq!(d.counters().dispatched[engine], u64::from(*weight) * periods);
        }
    }

    #[test]
    fn any_bytes_get_a_bucket(bytes in proptest::collection::vec(any::<u8>(), 0..80), seed in any::<u32>()) {
        prop_assert!(usize::from(flow_bucket(&bytes, seed)) < FLOW_BUCKETS);
        prop_assert_eq!(flow_bucket(&bytes, seed), flow_bucket(&bytes, seed));
    }
}

#[test]
fn round_robin_reorders_where_flow_affinity_does_not() {
    // The same uneven service under both policies: round-robin spreads one flow over the
    // engines and it leaves out of order; flow affinity keeps it in order.
    let steps: Vec<(u16, u8)> = (0..3000u32).map(|i| (0, (i.wrapping_mul(2_654_435_761) >> 24) as u8)).collect();
    let (rr, _) = run(Policy::RoundRobin, &[1, 1], 1, &steps);
    let (affine, _) = run(Policy::FlowAffinity, &[1, 1], 1, &steps);
    assert!(rr > 0);
    assert_eq!(affine, 0);
}
