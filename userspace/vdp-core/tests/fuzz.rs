//! Randomised hammering of everything in the portable core that sees untrusted input: the wire
//! views, the tunnel classifier and encapsulator, the route table and the token bucket.
//!
//! Under `cargo test` each target runs a few dozen cases. `fuzz.sh` runs them for as long as it
//! is told, with `VDP_FUZZ_CASES` raised and a fresh random seed per round. Inputs are generated
//! structure-aware (valid packets, then mutated), so cases get past the first length checks and
//! reach the deep paths that uniformly random bytes never would.

#[allow(dead_code)] // each test crate uses only part of the helpers
mod common {
    pub mod linear_table;
    pub mod vec_arena;
}

use common::linear_table::LinearTable;
use common::vec_arena::VecArena;
use proptest::prelude::*;
use proptest::sample::Index;
use vdp_core::lpm::{Lpm, LpmError, Node, Prefix, Route, SliceArena};
use vdp_core::token_bucket::TokenBucket;
use vdp_core::tunnel::{classify, encapsulate, InnerKind, RxReason, TunnelSpec};
use vdp_core::wire::checksum::Sum;
use vdp_core::wire::{gre, tcp, udp, EthernetFrame, Ipv4Address, Ipv4Packet};

fn cases() -> u32 {
    std::env::var("VDP_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(32)
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: cases(), max_shrink_iters: 10_000, ..ProptestConfig::default() }
}

/// Addresses from a tiny pool, so that random tunnels and packets share endpoints.
fn address() -> impl Strategy<Value = Ipv4Address> {
    prop_oneof![
        3 => (0u8..4).prop_map(|i| Ipv4Address::new(192, 0, 2, i)),
        1 => any::<u32>().prop_map(Ipv4Address::from_u32),
    ]
}

fn tunnel() -> impl Strategy<Value = TunnelSpec> {
    (address(), address(), prop::option::of(0u32..4), any::<bool>(), any::<bool>(), any::<bool>(), any::<u8>(), 0u16..=u16::MAX)
        .prop_map(|(local, remote, key, ethernet, checksum, dont_fragment, ttl, mtu)| TunnelSpec {
            local,
            remote,
            key,
            inner: if ethernet { InnerKind::Ethernet } else { InnerKind::Ipv4 },
            ttl,
            dont_fragment,
            checksum,
            mtu,
            tos: 0,
        })
}

#[derive(Clone, Debug)]
enum Mutation {
    Set(Index, u8),
    Xor(Index, u8),
    Truncate(Index),
    Insert(Index, Vec<u8>),
    Remove(Index, Index),
    /// Puts back a correct outer checksum, so the GRE layer sees the other mutations.
    FixIpChecksum,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Mutation::Set(i, v)),
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Mutation::Xor(i, v)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(i, n)| Mutation::Remove(i, n)),
        2 => Just(Mutation::FixIpChecksum),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutations: &[Mutation]) {
    for mutation in mutations {
        match mutation {
            Mutation::Set(i, v) if !bytes.is_empty() => {
                let at = i.index(bytes.len());
                bytes[at] = *v;
            }
            Mutation::Xor(i, v) if !bytes.is_empty() => {
                let at = i.index(bytes.len());
                bytes[at] ^= *v;
            }
            Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len() + 1)),
            Mutation::Insert(i, v) => {
                let at = i.index(bytes.len() + 1);
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::Remove(i, n) if !bytes.is_empty() => {
                let at = i.index(bytes.len());
                let end = at + n.index(bytes.len() - at + 1);
                bytes.drain(at..end);
            }
            Mutation::FixIpChecksum if bytes.len() >= 20 => {
                let header_len = (usize::from(bytes[0] & 0x0f) * 4).clamp(20, bytes.len());
                bytes[10] = 0;
                bytes[11] = 0;
                let sum = vdp_core::wire::checksum::checksum(&bytes[..header_len]);
                bytes[10..12].copy_from_slice(&sum.to_be_bytes());
            }
            _ => {}
        }
    }
}

fn encapsulated(tunnel: &TunnelSpec, inner: &[u8]) -> Option<Vec<u8>> {
    let header_len = tunnel.encap_len();
    let mut packet = vec![0u8; header_len + inner.len()];
    packet[header_len..].copy_from_slice(inner);
    encapsulate(tunnel, 7, &mut packet[..header_len], inner.len(), Sum::ZERO.add_bytes(inner)).ok()?;
    Some(packet)
}

fn far_end(tunnels: &[TunnelSpec]) -> Vec<TunnelSpec> {
    tunnels.iter().map(|t| TunnelSpec { local: t.remote, remote: t.local, ..*t }).collect()
}

fn exercise_views(bytes: &[u8]) {
    let ip = Ipv4Packet::new_unchecked(bytes);
    let checked = ip.check_header(true);
    let _ = (ip.payload(), ip.options(), ip.is_fragment(), ip.header(), ip.ecn(), ip.dscp());
    if checked.is_ok() {
        assert!(ip.header_len() >= 20 && usize::from(ip.total_len()) <= bytes.len());
        assert_eq!(ip.payload().len(), usize::from(ip.total_len()) - ip.header_len());
        let transport = ip.payload();
        let _ = udp::Packet::new_checked(transport).map(|u| (u.payload().len(), u.dst_port()));
        let _ = tcp::Packet::new_checked(transport).map(|t| (t.payload().len(), t.flags()));
        let gre = gre::Packet::new_unchecked(transport);
        if gre.check().is_ok() {
            assert!(gre.header_len() <= transport.len());
            let _ = (gre.key(), gre.sequence(), gre.verify_checksum(), gre.payload());
        }
    }
    let eth = EthernetFrame::new_unchecked(bytes);
    let _ = (eth.ethertype(), eth.payload(), eth.src_addr());
    let mut copy = bytes.to_vec();
    let mut ip = Ipv4Packet::new_unchecked(&mut copy[..]);
    let was_valid = ip.verify_checksum();
    if ip.decrement_ttl().is_ok() && was_valid {
        assert!(ip.verify_checksum());
    }
    ip.rewrite_dst_addr(Ipv4Address::new(10, 0, 0, 1));
    let _ = ip.payload_mut();
    let mut gre = gre::Packet::new_unchecked(&mut copy[..]);
    gre.fill_checksum();
    let _ = gre.payload_mut();
}

#[derive(Clone, Debug)]
enum LpmOp {
    Add(Prefix, Route),
    Set(Prefix, Route),
    Remove(Prefix),
    Lookup(Ipv4Address),
    Clear,
}

fn prefix() -> impl Strategy<Value = Prefix> {
    (any::<u32>(), 0u8..=32, 0u32..4).prop_map(|(bits, len, pool)| {
        // Mostly a few shared high bytes, so prefixes nest and collide.
        let bits = if pool == 0 { bits } else { (bits & 0x00ff_ffff) | (pool << 30) };
        Prefix::new(Ipv4Address::from_u32(bits), len).unwrap()
    })
}

fn lpm_op() -> impl Strategy<Value = LpmOp> {
    let route = (prop::option::of(any::<u32>()), any::<u16>())
        .prop_map(|(g, port)| Route { gateway: g.map(Ipv4Address::from_u32), port });
    prop_oneof![
        20 => (prefix(), route.clone()).prop_map(|(p, r)| LpmOp::Add(p, r)),
        5 => (prefix(), route).prop_map(|(p, r)| LpmOp::Set(p, r)),
        12 => prefix().prop_map(LpmOp::Remove),
        20 => prefix().prop_map(|p| LpmOp::Lookup(p.network())),
        5 => any::<u32>().prop_map(|a| LpmOp::Lookup(Ipv4Address::from_u32(a))),
        1 => Just(LpmOp::Clear),
    ]
}

fn routes_of<A: vdp_core::lpm::NodeArena>(table: &Lpm<A>) -> Vec<(Prefix, Route)> {
    let mut out = Vec::new();
    table.for_each(|p, r| out.push((p, r)));
    out
}

fn sorted(mut routes: Vec<(Prefix, Route)>) -> Vec<(Prefix, Route)> {
    routes.sort_by_key(|(p, _)| (p.network(), p.len()));
    routes
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_wire_views(bytes in prop::collection::vec(any::<u8>(), 0..1600)) {
        exercise_views(&bytes);
    }

    #[test]
    fn fuzz_classify_mutated_tunnel_traffic(
        tunnels in prop::collection::vec(tunnel(), 1..8),
        pick in any::<Index>(),
        inner in prop::collection::vec(any::<u8>(), 0..200),
        mutations in prop::collection::vec(mutation(), 0..6),
        sequence in prop::option::of(any::<u32>()),
    ) {
        let sender = tunnels[pick.index(tunnels.len())];
        let Some(mut packet) = encapsulated(&sender, &inner) else { return Ok(()); };
        if let Some(sequence) = sequence {
            // Linux may send sequence numbers; splice one in and repair the lengths.
            let gre_at = 20;
            let gre_len = gre::header_len(sender.checksum, sender.key.is_some(), false);
            packet[gre_at] |= 0x10;
            packet.splice(gre_at + gre_len..gre_at + gre_len, sequence.to_be_bytes());
            let total = packet.len() as u16;
            packet[2..4].copy_from_slice(&total.to_be_bytes());
            let mut gre_view = gre::Packet::new_unchecked(&mut packet[gre_at..]);
            gre_view.fill_checksum();
            Ipv4Packet::new_unchecked(&mut packet[..]).fill_checksum();
        }
        let receivers = far_end(&tunnels);
        let untouched = mutations.is_empty();
        mutate(&mut packet, &mutations);
        exercise_views(&packet);
        match classify(&packet, &receivers[..]) {
            Ok(found) => {
                prop_assert!(found.inner_start <= found.inner_end && found.inner_end <= packet.len());
                let tunnel = receivers[found.tunnel];
                let outer = Ipv4Packet::new_unchecked(&packet[..]);
                prop_assert_eq!((tunnel.local, tunnel.remote), (outer.dst_addr(), outer.src_addr()));
                prop_assert_eq!(tunnel.key, found.key);
                prop_assert_eq!(tunnel.inner, found.inner);
                if untouched {
                    prop_assert_eq!(&packet[found.inner_start..found.inner_end], &inner[..]);
                }
            }
            Err(reason) => {
                if untouched {
                    // Unmodified traffic fails only for a too-short inner packet.
                    prop_assert_eq!(reason, RxReason::InnerTruncated);
                }
            }
        }
    }

    #[test]
    fn fuzz_classify_header_shaped_noise(
        mut bytes in prop::collection::vec(any::<u8>(), 0..120),
        tunnels in prop::collection::vec(tunnel(), 0..6),
        pick in any::<Index>(),
        shape in 0u8..4,
    ) {
        if bytes.len() >= 20 && shape > 0 {
            bytes[0] = 0x40 | (bytes[0] & 0x0f);
            bytes[9] = 47;
            if let Some(t) = tunnels.get(pick.index(tunnels.len().max(1))) {
                bytes[12..16].copy_from_slice(&t.remote.0);
                bytes[16..20].copy_from_slice(&t.local.0);
            }
            if shape > 1 {
                mutate(&mut bytes, &[Mutation::FixIpChecksum]);
            }
        }
        if let Ok(found) = classify(&bytes, &tunnels[..]) {
            prop_assert!(found.inner_start <= found.inner_end && found.inner_end <= bytes.len());
        }
    }

    #[test]
    fn fuzz_encapsulate(spec in tunnel(), ident in any::<u16>(), headroom in 0usize..40, inner_len in prop_oneof![0usize..2000, Just(usize::MAX), 65_000usize..70_000]) {
        let mut buffer = vec![0u8; headroom];
        if let Ok(written) = encapsulate(&spec, ident, &mut buffer, inner_len, Sum::ZERO) {
            prop_assert_eq!(written, spec.encap_len());
            let outer = Ipv4Packet::new_unchecked(&buffer[..]);
            prop_assert!(outer.verify_checksum());
            prop_assert_eq!(usize::from(outer.total_len()), written + inner_len);
            prop_assert!(written + inner_len <= usize::from(spec.mtu));
        }
    }

    #[test]
    fn fuzz_lpm_against_reference(ops in prop::collection::vec(lpm_op(), 1..1500)) {
        let mut table = Lpm::new(VecArena::default());
        let mut reference = LinearTable::default();
        for op in &ops {
            match *op {
                LpmOp::Add(p, r) => prop_assert_eq!(table.add(p, r), reference.add(p, r)),
                LpmOp::Set(p, r) => prop_assert_eq!(table.set(p, r), Ok(reference.set(p, r))),
                LpmOp::Remove(p) => prop_assert_eq!(table.remove(p), reference.remove(p)),
                LpmOp::Lookup(a) => prop_assert_eq!(table.lookup_entry(a), reference.lookup(a)),
                LpmOp::Clear => {
                    table.clear();
                    reference.routes.clear();
                }
            }
            prop_assert!(table.node_count() <= (2 * table.len()).saturating_sub(1));
        }
        prop_assert_eq!(routes_of(&table), sorted(reference.routes.clone()));
        prop_assert_eq!(table.arena().live(), table.node_count());
    }

    #[test]
    fn fuzz_lpm_in_a_small_fixed_arena(ops in prop::collection::vec(lpm_op(), 1..400), capacity in 0usize..24) {
        let mut slots = vec![Node::EMPTY; capacity];
        let mut table = Lpm::new(SliceArena::new(&mut slots));
        let mut reference = LinearTable::default();
        for op in &ops {
            let before = table.len();
            match *op {
                LpmOp::Add(p, r) => match table.add(p, r) {
                    Err(LpmError::Full) => prop_assert_eq!(table.len(), before),
                    result => prop_assert_eq!(result, reference.add(p, r)),
                },
                LpmOp::Set(p, r) => match table.set(p, r) {
                    Err(LpmError::Full) => prop_assert_eq!(table.len(), before),
                    result => prop_assert_eq!(result, Ok(reference.set(p, r))),
                },
                LpmOp::Remove(p) => prop_assert_eq!(table.remove(p), reference.remove(p)),
                LpmOp::Lookup(a) => prop_assert_eq!(table.lookup_entry(a), reference.lookup(a)),
                LpmOp::Clear => {
                    table.clear();
                    reference.routes.clear();
                }
            }
            prop_assert!(table.node_count() <= capacity);
            prop_assert_eq!(table.arena().live(), table.node_count());
        }
        prop_assert_eq!(routes_of(&table), sorted(reference.routes.clone()));
    }

    #[test]
    fn fuzz_token_bucket(rate in any::<u64>(), burst in any::<u64>(), calls in prop::collection::vec((any::<u64>(), any::<u64>(), 0u8..8), 1..200)) {
        let mut bucket = TokenBucket::new(rate, burst, 0);
        let mut now = 0u64;
        for (step, amount, call) in calls {
            now = now.saturating_add(step >> (step % 64));
            match call {
                0 => { bucket.try_take(now, amount); }
                1 => bucket.charge(now, amount),
                2 => bucket.refund(now, amount),
                3 => { bucket.time_until(now, amount); }
                4 => bucket.set_rate(now, amount),
                5 => bucket.set_burst(now, amount),
                6 => { bucket.has_tokens(now); }
                _ => bucket.fill(now),
            }
            prop_assert!(bucket.level(now) <= bucket.burst() as i64);
        }
    }
}
