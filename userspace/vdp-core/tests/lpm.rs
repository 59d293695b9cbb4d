//! Longest-prefix match: Click's add/remove/set semantics, a model-based property test against
//! a linear table, the memory bound, arena exhaustion, and 200k routes.

#[allow(dead_code)] // each test crate uses only part of the helpers
mod common {
    pub mod linear_table;
    pub mod vec_arena;
}

use common::linear_table::LinearTable;
use common::vec_arena::VecArena;
use proptest::prelude::*;
use vdp_core::lpm::{Lpm, LpmError, Node, Prefix, Route, SliceArena, NODE_BYTES};
use vdp_core::wire::Ipv4Address;

fn cases() -> u32 {
    std::env::var("VDP_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

fn addr(text: &str) -> Ipv4Address {
    text.parse().unwrap()
}

fn prefix(text: &str) -> Prefix {
    let (address, len) = text.split_once('/').unwrap();
    Prefix::new(addr(address), len.parse().unwrap()).unwrap()
}

fn port(port: u16) -> Route {
    Route { gateway: None, port }
}

fn via(gateway: &str, port: u16) -> Route {
    Route { gateway: Some(addr(gateway)), port }
}

fn sorted_table<A: vdp_core::lpm::NodeArena>(table: &Lpm<A>) -> Vec<(Prefix, Route)> {
    let mut out = Vec::new();
    table.for_each(|p, r| out.push((p, r)));
    out
}

#[test]
fn click_style_sequence() {
    let mut table = Lpm::new(VecArena::default());
    assert_eq!(table.lookup(addr("10.1.2.3")), None);
    table.add(prefix("0.0.0.0/0"), via("192.0.2.254", 0)).unwrap();
    table.add(prefix("10.0.0.0/8"), port(1)).unwrap();
    table.add(prefix("10.1.0.0/16"), via("10.0.0.2", 2)).unwrap();
    table.add(prefix("10.1.2.3/32"), port(3)).unwrap();
    assert_eq!(table.lookup(addr("10.1.2.3")), Some(port(3)));
    assert_eq!(table.lookup(addr("10.1.2.4")), Some(via("10.0.0.2", 2)));
    assert_eq!(table.lookup(addr("10.2.0.1")), Some(port(1)));
    assert_eq!(table.lookup(addr("11.0.0.1")), Some(via("192.0.2.254", 0)));
    assert_eq!(table.lookup_entry(addr("10.1.9.9")).map(|(p, _)| p), Some(prefix("10.1.0.0/16")));

    assert_eq!(table.add(prefix("10.1.0.0/16"), port(9)), Err(LpmError::Exists));
    assert_eq!(table.add(prefix("10.1.255.255/16"), port(9)), Err(LpmError::Exists), "host bits are cleared");
    assert_eq!(table.remove(prefix("10.1.0.0/16")), Ok(via("10.0.0.2", 2)));
    assert_eq!(table.remove(prefix("10.1.0.0/16")), Err(LpmError::NotFound));
    assert_eq!(table.remove(prefix("10.1.0.0/17")), Err(LpmError::NotFound));
    assert_eq!(table.lookup(addr("10.1.2.4")), Some(port(1)));

    assert_eq!(table.set(prefix("10.0.0.0/8"), port(5)), Ok(Some(port(1))));
    assert_eq!(table.set(prefix("172.16.0.0/12"), port(6)), Ok(None));
    assert_eq!(table.lookup(addr("172.31.255.255")), Some(port(6)));
    assert_eq!(table.lookup(addr("172.32.0.0")), Some(via("192.0.2.254", 0)));
    assert_eq!(table.len(), 4);

    assert_eq!(
        sorted_table(&table).iter().map(|(p, _)| p.to_string()).collect::<Vec<_>>(),
        ["0.0.0.0/0", "10.0.0.0/8", "10.1.2.3/32", "172.16.0.0/12"]
    );

    table.remove(prefix("0.0.0.0/0")).unwrap();
    assert_eq!(table.lookup(addr("11.0.0.1")), None);
    table.clear();
    assert!(table.is_empty());
    assert_eq!(table.node_count(), 0);
    assert_eq!(table.arena().live(), 0);
}

#[test]
fn prefix_values() {
    let p = Prefix::new(addr("10.1.2.3"), 8).unwrap();
    assert_eq!(p.network(), addr("10.0.0.0"));
    assert_eq!(p.mask(), addr("255.0.0.0"));
    assert_eq!(p.to_string(), "10.0.0.0/8");
    assert!(Prefix::new(addr("1.2.3.4"), 33).is_err());
    assert!(Prefix::new(addr("1.2.3.4"), 0).unwrap().contains(addr("200.0.0.1")));
    assert!(Prefix::new(addr("1.2.3.4"), 32).unwrap().contains(addr("1.2.3.4")));
    assert!(!Prefix::new(addr("1.2.3.4"), 32).unwrap().contains(addr("1.2.3.5")));
}

#[test]
fn host_routes_at_both_ends_of_the_space() {
    let mut table = Lpm::new(VecArena::default());
    table.add(prefix("0.0.0.0/32"), port(1)).unwrap();
    table.add(prefix("255.255.255.255/32"), port(2)).unwrap();
    table.add(prefix("128.0.0.0/1"), port(3)).unwrap();
    assert_eq!(table.lookup(addr("0.0.0.0")), Some(port(1)));
    assert_eq!(table.lookup(addr("0.0.0.1")), None);
    assert_eq!(table.lookup(addr("255.255.255.255")), Some(port(2)));
    assert_eq!(table.lookup(addr("255.255.255.254")), Some(port(3)));
    assert_eq!(table.get(prefix("128.0.0.0/1")), Some(port(3)));
    assert_eq!(table.get(prefix("128.0.0.0/2")), None);
}

#[test]
fn node_is_twenty_bytes() {
    assert_eq!(NODE_BYTES, 20);
}

#[test]
fn full_arena_leaves_table_unchanged() {
    let mut arena = VecArena::default();
    arena.limit = Some(3);
    let mut table = Lpm::new(arena);
    table.add(prefix("10.0.0.0/8"), port(1)).unwrap();
    table.add(prefix("11.0.0.0/8"), port(2)).unwrap();
    assert_eq!(table.node_count(), 3);
    let before = sorted_table(&table);
    assert_eq!(table.add(prefix("12.0.0.0/8"), port(3)), Err(LpmError::Full));
    assert_eq!(table.add(prefix("10.0.0.0/16"), port(3)), Err(LpmError::Full));
    assert_eq!(sorted_table(&table), before);
    assert_eq!(table.node_count(), 3);
    assert_eq!(table.arena().live(), 3);
    // A route on an existing glue node needs no new node.
    assert_eq!(table.add(prefix("10.0.0.0/7"), port(4)), Ok(()));
    assert_eq!(table.lookup(addr("11.1.1.1")), Some(port(2)));
}

#[test]
fn slice_arena_reuses_freed_slots() {
    let mut slots = [Node::EMPTY; 8];
    let mut table = Lpm::new(SliceArena::new(&mut slots));
    for round in 0..50u32 {
        for i in 0..4u32 {
            let p = Prefix::new(Ipv4Address::from_u32((i + round) << 24), 8).unwrap();
            table.add(p, port(i as u16)).unwrap();
        }
        assert!(table.node_count() <= 7);
        assert_eq!(table.add(Prefix::new(Ipv4Address::from_u32(0xff00_0000), 8).unwrap(), port(9)), Err(LpmError::Full));
        for i in 0..4u32 {
            let p = Prefix::new(Ipv4Address::from_u32((i + round) << 24), 8).unwrap();
            assert_eq!(table.remove(p), Ok(port(i as u16)));
        }
        assert_eq!(table.node_count(), 0);
        assert_eq!(table.arena().live(), 0);
    }
}

#[derive(Clone, Debug)]
enum Op {
    Add(Prefix, Route),
    Set(Prefix, Route),
    Remove(Prefix),
    Lookup(Ipv4Address),
}

/// Prefixes from a small pool of addresses, so that operations collide, nest and diverge.
fn prefix_strategy() -> impl Strategy<Value = Prefix> {
    let bases = prop::sample::select(vec![0u32, 0x0a00_0000, 0x0a01_0000, 0x0a01_0200, 0xc0a8_0101, 0xffff_ffff, 0x8000_0000]);
    (bases, any::<u32>(), 0u8..=32, 0u8..4).prop_map(|(base, noise, len, spread)| {
        let noise = noise >> (8 * u32::from(spread) + 8).min(31);
        Prefix::new(Ipv4Address::from_u32(base ^ noise), len).unwrap()
    })
}

fn route_strategy() -> impl Strategy<Value = Route> {
    (any::<Option<u32>>(), 0u16..8).prop_map(|(gateway, port)| Route { gateway: gateway.map(Ipv4Address::from_u32), port })
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (prefix_strategy(), route_strategy()).prop_map(|(p, r)| Op::Add(p, r)),
        1 => (prefix_strategy(), route_strategy()).prop_map(|(p, r)| Op::Set(p, r)),
        2 => prefix_strategy().prop_map(Op::Remove),
        3 => (prefix_strategy(), any::<u32>()).prop_map(|(p, low)| Op::Lookup(Ipv4Address::from_u32(p.network().to_u32() | (low & !p.mask().to_u32())))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn matches_linear_reference(ops in prop::collection::vec(op_strategy(), 1..120)) {
        let mut table = Lpm::new(VecArena::default());
        let mut reference = LinearTable::default();
        for op in ops {
            match op {
                Op::Add(p, r) => prop_assert_eq!(table.add(p, r), reference.add(p, r)),
                Op::Set(p, r) => prop_assert_eq!(table.set(p, r), Ok(reference.set(p, r))),
                Op::Remove(p) => prop_assert_eq!(table.remove(p), reference.remove(p)),
                Op::Lookup(a) => prop_assert_eq!(table.lookup_entry(a), reference.lookup(a)),
            }
            prop_assert_eq!(table.len(), reference.routes.len());
            prop_assert!(table.node_count() <= (2 * table.len()).saturating_sub(1));
            prop_assert_eq!(table.node_count(), table.arena().live());
        }
        let mut expected = reference.routes.clone();
        expected.sort_by_key(|(p, _)| (p.network(), p.len()));
        prop_assert_eq!(sorted_table(&table), expected.clone());
        for (p, r) in &expected {
            prop_assert_eq!(table.get(*p), Some(*r));
            prop_assert_eq!(table.lookup(p.network()).is_some(), true);
        }
        for (p, _) in &expected {
            table.remove(*p).unwrap();
        }
        prop_assert_eq!(table.node_count(), 0);
        prop_assert_eq!(table.arena().live(), 0);
    }
}

/// A small xorshift generator, so the large tests need no extra crates and repeat exactly.
pub struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn two_hundred_thousand_routes() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut table = Lpm::new(VecArena::with_capacity(400_000));
    let mut added = Vec::new();
    while added.len() < 200_000 {
        let len = 8 + (rng.next() % 25) as u8;
        let p = Prefix::new(Ipv4Address::from_u32(rng.next() as u32), len).unwrap();
        if table.add(p, port((added.len() % 16) as u16)).is_ok() {
            added.push(p);
        }
    }
    assert_eq!(table.len(), 200_000);
    assert!(table.node_count() < 400_000);
    for p in added.iter().step_by(97) {
        assert!(table.get(*p).is_some());
        let found = table.lookup_entry(p.network()).unwrap().0;
        assert!(found.len() >= p.len() && found.contains(p.network()));
    }
    for p in &added[..100_000] {
        table.remove(*p).unwrap();
    }
    assert_eq!(table.len(), 100_000);
    assert!(table.node_count() < 200_000);
}
