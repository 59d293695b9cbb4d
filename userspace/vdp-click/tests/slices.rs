//! Best-fit slicing (`vdp_click::slices`): worked cases, and property tests against brute force
//! on small instances. `docs/pdp.md` defines what "optimum" means here:
//!
//! - a *fractional* slice is one smaller than a whole engine; every tenant whose demand is not a
//!   whole number of engines needs at least one, so `L` = the number of such tenants is a lower
//!   bound on the fractional slices of any allocation, and `Σ ⌈R/C⌉` one on all slices;
//! - an allocation reaching both bounds is *unfragmented*: each tenant has `⌊R/C⌋` whole
//!   engines and at most one remainder slice;
//! - the allocator is optimal if it succeeds exactly when brute force (every way of splitting
//!   every demand over the engines, at most one slice per engine and tenant) finds an
//!   unfragmented allocation, and what it returns is unfragmented.

use proptest::prelude::*;
use vdp_click::slices::{allocate, Allocation, Demand, Placement, SliceError, SEARCH_STEPS, UNITS_PER_ENGINE};

fn demands(units: &[u32]) -> Vec<Demand> {
    units.iter().enumerate().map(|(i, &units)| Demand { tenant: format!("t{i}"), units }).collect()
}

fn slices_of(allocation: &Allocation, tenant: &str) -> Vec<(u32, u32)> {
    allocation.tenant(tenant).map(|t| t.slices.iter().map(|s| (s.cpu, s.units)).collect()).unwrap_or_default()
}

#[test]
fn pdp_figure_4_whole_engines_for_whole_demands() {
    let a = allocate(&[0, 1, 2], UNITS_PER_ENGINE, &demands(&[100, 100, 100])).unwrap();
    assert_eq!(slices_of(&a, "t0"), [(0, 100)]);
    assert_eq!(slices_of(&a, "t1"), [(1, 100)]);
    assert_eq!(slices_of(&a, "t2"), [(2, 100)]);
    assert_eq!(a.placement, Placement::BestFit);
}

#[test]
fn whole_engines_first_then_the_remainder() {
    let a = allocate(&[4, 5], UNITS_PER_ENGINE, &demands(&[150, 50])).unwrap();
    assert_eq!(slices_of(&a, "t0"), [(4, 100), (5, 50)]);
    assert_eq!(slices_of(&a, "t1"), [(5, 50)]);
    assert_eq!((a.used(4), a.used(5)), (100, 100));
    assert_eq!(a.on(5), [("t0", 50), ("t1", 50)]);
}

#[test]
fn the_remainder_goes_where_it_fits_tightest_and_an_exact_fit_is_taken() {
    // After t0 (0.70, cpu 0) and t1 (0.40, cpu 1): cpu 0 has 0.30 free, cpu 1 0.60, cpu 2 1.00.
    // t2's 0.30 fits cpu 0 exactly (PdP's `>` would pass it over), and t3's 0.25 then fits
    // cpu 1 best.
    let a = allocate(&[0, 1, 2], UNITS_PER_ENGINE, &demands(&[70, 40, 30, 25])).unwrap();
    assert_eq!(slices_of(&a, "t0"), [(0, 70)]);
    assert_eq!(slices_of(&a, "t1"), [(1, 40)]);
    assert_eq!(slices_of(&a, "t2"), [(0, 30)]);
    assert_eq!(slices_of(&a, "t3"), [(1, 25)]);
    assert_eq!(a.used(2), 0);
}

#[test]
fn remainders_are_placed_largest_first() {
    // In the config's order best fit would put 0.40 and 0.40 on cpu 0 and 0.60 on cpu 1,
    // leaving no engine for the second 0.60; largest first pairs each 0.60 with a 0.40.
    let a = allocate(&[0, 1], UNITS_PER_ENGINE, &demands(&[40, 40, 60, 60])).unwrap();
    assert_eq!(a.placement, Placement::BestFit);
    assert_eq!(slices_of(&a, "t2"), [(0, 60)]);
    assert_eq!(slices_of(&a, "t3"), [(1, 60)]);
    assert_eq!(slices_of(&a, "t0"), [(0, 40)]);
    assert_eq!(slices_of(&a, "t1"), [(1, 40)]);
}

#[test]
fn the_search_finds_what_best_fit_misses() {
    // Best fit: 0.4 and 0.4 on one engine, 0.3 0.3 0.3 on the other, and the last 0.3 has no
    // room; 0.4 + 0.3 + 0.3 on each engine fits.
    let a = allocate(&[0, 1], 10, &demands(&[4, 4, 3, 3, 3, 3])).unwrap();
    assert!(matches!(a.placement, Placement::Searched { steps } if steps > 6), "{:?}", a.placement);
    assert_eq!((a.used(0), a.used(1)), (10, 10));
    assert_ne!(slices_of(&a, "t0")[0].0, slices_of(&a, "t1")[0].0);
}

#[test]
fn demands_over_the_engines_are_refused_naming_the_tenant() {
    let err = allocate(&[0, 1], UNITS_PER_ENGINE, &demands(&[150, 40, 20])).unwrap_err();
    assert!(matches!(&err, SliceError::Short { tenant, .. } if tenant == "t2"), "{err:?}");
    assert_eq!(
        err.to_string(),
        "tenant 't2' needs 0.20 engines, which brings the tenants' total to 2.10 engines, more than the 2 [engines] gives (0.10 short)"
    );
}

#[test]
fn a_remainder_is_not_split() {
    // 2.00 engines for 2.00 engines of demand, but no two of 0.60, 0.60 and 0.80 share an engine.
    let err = allocate(&[0, 1], UNITS_PER_ENGINE, &demands(&[60, 60, 80])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tenant 't1' needs 0.60 engines: 0 whole and a slice of 0.60, but no engine has 0.60 free once the larger remainders \
         are placed (the most is 0.40 on cpu 1, 0.60 on all engines together; a slice is not split over engines), and no \
         other placement of the remainders fits"
    );
    let err = allocate(&[0, 1, 2], UNITS_PER_ENGINE, &demands(&[160, 60, 80])).unwrap_err();
    assert!(err.to_string().starts_with("tenant 't1' needs 0.60 engines: 0 whole"), "{err}");
}

#[test]
fn zero_demands_and_no_demands_get_nothing() {
    let a = allocate(&[3], UNITS_PER_ENGINE, &demands(&[0])).unwrap();
    assert!(a.tenants[0].slices.is_empty());
    let a = allocate(&[], UNITS_PER_ENGINE, &[]).unwrap();
    assert!(a.tenants.is_empty());
    assert!(allocate(&[], UNITS_PER_ENGINE, &demands(&[1])).is_err());
}

/// Every way of giving each demand its slices: one amount per engine, 0 to `capacity`, adding
/// up to the demand, the engines' loads within `capacity`. The least number of fractional
/// slices over all of them, `None` when there is none.
fn fewest_fractional(engines: usize, capacity: u32, units: &[u32]) -> Option<usize> {
    fn splits(engines: usize, capacity: u32, units: u32) -> Vec<Vec<u32>> {
        if engines == 0 {
            return if units == 0 { vec![Vec::new()] } else { Vec::new() };
        }
        let mut all = Vec::new();
        for first in 0..=capacity.min(units) {
            for mut rest in splits(engines - 1, capacity, units - first) {
                rest.insert(0, first);
                all.push(rest);
            }
        }
        all
    }
    fn walk(options: &[Vec<Vec<u32>>], load: &mut Vec<u32>, capacity: u32, fractional: usize, best: &mut Option<usize>) {
        let Some((first, rest)) = options.split_first() else {
            *best = Some(best.map_or(fractional, |b| b.min(fractional)));
            return;
        };
        for split in first {
            if split.iter().zip(load.iter()).any(|(a, l)| a + l > capacity) {
                continue;
            }
            split.iter().zip(load.iter_mut()).for_each(|(a, l)| *l += a);
            let here = split.iter().filter(|&&a| a > 0 && a < capacity).count();
            walk(rest, load, capacity, fractional + here, best);
            split.iter().zip(load.iter_mut()).for_each(|(a, l)| *l -= a);
        }
    }
    let options: Vec<Vec<Vec<u32>>> = units.iter().map(|&u| splits(engines, capacity, u)).collect();
    let mut best = None;
    walk(&options, &mut vec![0; engines], capacity, 0, &mut best);
    best
}

/// Whether the remainders of `units` pack, unsplit, into the engines the whole engines leave:
/// every assignment of remainders to engines is tried.
fn remainders_pack(engines: usize, capacity: u32, units: &[u32]) -> bool {
    let whole: u32 = units.iter().map(|u| u / capacity).sum();
    let Some(left) = engines.checked_sub(whole as usize) else { return false };
    let remainders: Vec<u32> = units.iter().map(|u| u % capacity).filter(|&r| r > 0).collect();
    if remainders.is_empty() {
        return true;
    }
    if left == 0 {
        return false;
    }
    let mut choice = vec![0usize; remainders.len()];
    loop {
        let mut load = vec![0u32; left];
        remainders.iter().zip(&choice).for_each(|(r, &e)| load[e] += r);
        if load.iter().all(|&l| l <= capacity) {
            return true;
        }
        let mut i = 0;
        loop {
            if i == choice.len() {
                return false;
            }
            choice[i] += 1;
            if choice[i] < left {
                break;
            }
            choice[i] = 0;
            i += 1;
        }
    }
}

/// PdP's procedure as written, for the demands in the order given to it: whole engines first
/// (lowest idle CPU), then each remainder on the engine with the least room that holds it.
fn reference_best_fit(engines: usize, capacity: u32, units: &[u32]) -> Option<Vec<Vec<(u32, u32)>>> {
    let mut free = vec![capacity; engines];
    let mut out = vec![Vec::new(); units.len()];
    let mut idle = 0;
    for (t, &u) in units.iter().enumerate() {
        for _ in 0..u / capacity {
            if idle >= engines {
                return None;
            }
            free[idle] = 0;
            out[t].push((idle as u32, capacity));
            idle += 1;
        }
    }
    let mut order: Vec<usize> = (0..units.len()).filter(|&t| units[t] % capacity > 0).collect();
    order.sort_by(|&a, &b| (units[b] % capacity).cmp(&(units[a] % capacity)).then(a.cmp(&b)));
    for t in order {
        let r = units[t] % capacity;
        let e = (0..engines).filter(|&e| free[e] >= r).min_by_key(|&e| (free[e] - r, e))?;
        free[e] -= r;
        out[t].push((e as u32, r));
    }
    Some(out)
}

/// The allocation is one: each tenant's slices add up to its demand, on distinct engines, its
/// whole engines first and then at most one fractional slice; no engine over its capacity.
fn assert_unfragmented(a: &Allocation, units: &[u32]) {
    let c = a.capacity;
    for (t, &u) in a.tenants.iter().zip(units) {
        assert_eq!(t.slices.iter().map(|s| s.units).sum::<u32>(), u, "{a:?}");
        let whole = t.slices.iter().filter(|s| s.units == c).count();
        let fractional = t.slices.iter().filter(|s| s.units < c).count();
        assert_eq!(whole as u32, u / c, "{a:?}");
        assert_eq!(fractional, usize::from(u % c > 0), "{a:?}");
        let mut cpus: Vec<u32> = t.slices.iter().map(|s| s.cpu).collect();
        cpus.sort_unstable();
        cpus.dedup();
        assert_eq!(cpus.len(), t.slices.len(), "{a:?}");
    }
    for &cpu in &a.cpus {
        assert!(a.used(cpu) <= c, "{a:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Against every split of every demand, with engines of 2 to 5 units.
    #[test]
    fn optimal_against_every_split(engines in 1usize..=3, capacity in 2u32..=5, seeds in prop::collection::vec(0u32..1000, 1..=3)) {
        let units: Vec<u32> = seeds.iter().map(|s| 1 + s % (capacity * engines as u32)).collect();
        let cpus: Vec<u32> = (0..engines as u32).map(|e| e * 2).collect();
        let bound = units.iter().filter(|&&u| u % capacity > 0).count();
        let best = fewest_fractional(engines, capacity, &units);
        match allocate(&cpus, capacity, &demands(&units)) {
            Ok(a) => {
                assert_unfragmented(&a, &units);
                prop_assert_eq!(best, Some(bound));
            }
            Err(SliceError::Short { .. }) => {
                prop_assert!(units.iter().sum::<u32>() > capacity * engines as u32);
                prop_assert_eq!(best, None);
            }
            Err(SliceError::NoRoom { gave_up, .. }) => {
                prop_assert!(!gave_up);
                prop_assert!(best.is_some_and(|b| b > bound), "brute force found {:?} fractional slices, bound {}", best, bound);
            }
        }
    }

    /// Engines of 100 units, up to 5 engines and 6 tenants, against every assignment of the
    /// remainders; and the placement is PdP's best fit whenever best fit alone succeeds.
    #[test]
    fn feasible_whenever_the_remainders_pack(engines in 1usize..=5, units in prop::collection::vec(1u32..=250, 1..=6)) {
        let cpus: Vec<u32> = (10..10 + engines as u32).collect();
        let packs = remainders_pack(engines, UNITS_PER_ENGINE, &units);
        let result = allocate(&cpus, UNITS_PER_ENGINE, &demands(&units));
        prop_assert_eq!(result.is_ok(), packs, "{:?}", result);
        if let Ok(a) = &result {
            assert_unfragmented(a, &units);
            if let Some(reference) = reference_best_fit(engines, UNITS_PER_ENGINE, &units) {
                prop_assert_eq!(a.placement, Placement::BestFit);
                for (t, expected) in a.tenants.iter().zip(reference) {
                    let got: Vec<(u32, u32)> = t.slices.iter().map(|s| (s.cpu - 10, s.units)).collect();
                    prop_assert_eq!(got, expected);
                }
            } else {
                prop_assert!(matches!(a.placement, Placement::Searched { steps } if steps <= SEARCH_STEPS), "{:?}", a.placement);
            }
        }
    }

    /// Demands made by cutting each of 2 to 4 engines of 10 units into 1 to 4 pieces, in a
    /// shuffled order, some pieces joined to a whole engine of the same tenant: a placement
    /// always exists (the cuts), best fit often misses it, and the allocator must find one that
    /// fills every engine.
    #[test]
    fn tight_packings_are_found(cuts in prop::collection::vec(prop::collection::vec(1u32..=9, 0..=3), 2..=4),
                                whole in prop::collection::vec(any::<bool>(), 16), order in Just(()).prop_perturb(|_, mut rng| rng.random::<u64>())) {
        let capacity = 10;
        let mut pieces: Vec<u32> = Vec::new();
        for engine in &cuts {
            // Cut points inside one engine: distinct, sorted, so the pieces add up to 10.
            let mut points: Vec<u32> = engine.clone();
            points.sort_unstable();
            points.dedup();
            let mut last = 0;
            for p in points.into_iter().chain([capacity]) {
                pieces.push(p - last);
                last = p;
            }
        }
        // A shuffle from the seed, and some pieces on top of a whole engine.
        let mut seed = order | 1;
        for i in (1..pieces.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            pieces.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        let mut units: Vec<u32> = Vec::new();
        let mut engines = cuts.len();
        for (i, &piece) in pieces.iter().enumerate() {
            if whole[i % whole.len()] && piece < capacity {
                units.push(piece + capacity);
                engines += 1;
            } else {
                units.push(piece);
            }
        }
        let cpus: Vec<u32> = (0..engines as u32).collect();
        let a = allocate(&cpus, capacity, &demands(&units));
        prop_assert!(a.is_ok(), "{:?} on {} engines: {:?}", units, engines, a);
        let a = a.unwrap();
        assert_unfragmented(&a, &units);
        for &cpu in &cpus {
            prop_assert_eq!(a.used(cpu), capacity);
        }
    }
}
