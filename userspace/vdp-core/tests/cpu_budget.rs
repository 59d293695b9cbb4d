use proptest::prelude::*;
use vdp_core::cpu_budget::{CpuBudget, Verdict, UNLIMITED};

const MS: u64 = 1_000_000;

/// One always-busy thread running passes of the given lengths (cycled) under `quota`/`period`
/// for `total` ns from time 1 s. Returns the runtime it got and its budget.
fn run_busy(quota: u64, period: u64, passes: &[u64], total: u64) -> (u64, CpuBudget) {
    let mut budget = CpuBudget::new();
    let start = 1_000 * MS;
    let mut now = start;
    budget.set_limit(quota, period, now);
    let mut ran = 0;
    let mut i = 0;
    while now < start + total {
        let pass = passes[i % passes.len()];
        i += 1;
        now += pass;
        ran += pass;
        if let Verdict::ThrottleUntil(at) = budget.charge(pass, now) {
            assert!(at > now, "a throttle must end in the future");
            budget.note_throttled(at - now);
            now = at;
            assert_eq!(budget.verdict(now), Verdict::Run, "woken at the promised time, the budget is positive");
        }
    }
    (ran, budget)
}

#[test]
fn short_passes_get_the_quota_and_no_more() {
    // 20% of 100 ms, passes of 1 ms: 20 ms per period over 3 s.
    let (ran, budget) = run_busy(20 * MS, 100 * MS, &[MS], 3_000 * MS);
    assert!(ran <= 620 * MS && ran >= 580 * MS, "ran {} ms", ran / MS);
    let stats = budget.stats();
    assert_eq!(stats.runtime_ns, ran);
    assert!(stats.throttled_periods >= 29 && stats.periods >= stats.throttled_periods);
    assert!(stats.throttled_ns >= 2_300 * MS);
}

#[test]
fn a_pass_longer_than_the_quota_is_paid_back_as_debt() {
    // 15% of 100 ms with 40 ms passes: without debt each period would give 40 ms (40%).
    let (ran, _) = run_busy(15 * MS, 100 * MS, &[40 * MS], 10_000 * MS);
    // What it got over the window: at most the quota per period plus one pass.
    assert!(ran <= 100 * 15 * MS + 40 * MS + 15 * MS, "ran {} ms in 10 s", ran / MS);
    assert!(ran >= 90 * 15 * MS, "ran {} ms in 10 s", ran / MS);
}

#[test]
fn unlimited_never_throttles_but_counts_runtime() {
    let mut budget = CpuBudget::new();
    budget.set_limit(UNLIMITED, 100 * MS, 0);
    for t in 1..1000 {
        assert_eq!(budget.charge(10 * MS, t * 10 * MS), Verdict::Run);
    }
    assert_eq!(budget.stats().runtime_ns, 999 * 10 * MS);
    assert_eq!(budget.stats().periods, 0);
    assert_eq!(budget.stats().throttled_ns, 0);
}

#[test]
fn a_changed_limit_applies_at_once_and_keeps_debt() {
    let mut budget = CpuBudget::new();
    budget.set_limit(10 * MS, 100 * MS, 0);
    // Overrun by 30 ms: debt 20 ms.
    assert!(matches!(budget.charge(30 * MS, 30 * MS), Verdict::ThrottleUntil(_)));
    assert_eq!(budget.balance_ns(), -20 * MS as i64);
    // Raised to 50 ms: a fresh period with the debt taken off the new grant.
    budget.set_limit(50 * MS, 100 * MS, 31 * MS);
    assert_eq!(budget.balance_ns(), 30 * MS as i64);
    assert_eq!(budget.verdict(31 * MS), Verdict::Run);
    // The same limit again changes nothing but the next read.
    budget.set_limit(50 * MS, 100 * MS, 40 * MS);
    assert_eq!(budget.balance_ns(), 30 * MS as i64);
    assert!(!budget.needs_refresh(100 * MS));
    assert!(budget.needs_refresh(140 * MS));
    // Lifted: nothing holds the tenant any more.
    budget.set_limit(UNLIMITED, 100 * MS, 50 * MS);
    assert_eq!(budget.charge(500 * MS, 60 * MS), Verdict::Run);
}

#[test]
fn idle_time_saves_no_more_than_one_quota() {
    let mut budget = CpuBudget::new();
    budget.set_limit(10 * MS, 100 * MS, 0);
    // Ten idle seconds, then a burst: only one quota's worth runs before a throttle.
    assert_eq!(budget.charge(9 * MS, 10_050 * MS), Verdict::Run);
    assert!(matches!(budget.charge(2 * MS, 10_052 * MS), Verdict::ThrottleUntil(_)));
}

#[test]
fn periods_are_clamped_like_cfs() {
    let mut budget = CpuBudget::new();
    budget.set_limit(MS / 10, 10, 0);
    assert_eq!(budget.period_ns(), MS);
    budget.set_limit(MS, 10_000 * MS, 0);
    assert_eq!(budget.period_ns(), 1_000 * MS);
}

proptest! {
    /// Whatever the pass lengths (from far below to far above the quota), a busy tenant gets at
    /// most its quota per period plus one pass over the window, and at least the quota per
    /// period minus one period's worth when passes are no longer than the quota.
    #[test]
    fn the_share_holds_for_any_passes(
        quota_ms in 1u64..80,
        period_ms in prop::sample::select(vec![10u64, 50, 100, 250, 1000]),
        passes in prop::collection::vec(1u64..200_000_000, 1..8),
    ) {
        let period = period_ms * MS;
        let quota = (quota_ms * MS).min(period);
        let total = 20 * period.max(100 * MS);
        let longest = *passes.iter().max().unwrap();
        let (ran, budget) = run_busy(quota, period, &passes, total);
        let periods = total / period + 1;
        prop_assert!(ran <= periods * quota + longest, "ran {} > {} periods x {} + {}", ran, periods, quota, longest);
        if longest <= quota {
            prop_assert!(ran + quota + longest >= (total / period) * quota, "ran only {}", ran);
        }
        prop_assert_eq!(budget.stats().runtime_ns, ran);
    }

    /// Several threads charging one budget in any interleaving: the sum they run is held the
    /// same way (each thread may overrun by one pass).
    #[test]
    fn threads_share_one_budget(
        quota_ms in 1u64..50,
        threads in 1usize..4,
        pass_ms in 1u64..30,
    ) {
        let period = 100 * MS;
        let quota = quota_ms * MS;
        let pass = pass_ms * MS;
        let mut budget = CpuBudget::new();
        budget.set_limit(quota, period, 0);
        // Each thread's next ready time; a simple discrete-event run over 5 s of parallel time.
        let mut ready = vec![0u64; threads];
        let mut ran = 0u64;
        let end = 5_000 * MS;
        loop {
            let (t, &at) = ready.iter().enumerate().min_by_key(|(_, at)| **at).unwrap();
            if at >= end { break; }
            let now = at + pass;
            ran += pass;
            ready[t] = match budget.charge(pass, now) {
                Verdict::Run => now,
                Verdict::ThrottleUntil(until) => until,
            };
        }
        let periods = end / period + 1;
        prop_assert!(ran <= periods * quota + threads as u64 * pass + pass * threads as u64,
            "ran {} ms, limit {} ms", ran / MS, (periods * quota) / MS);
    }
}

#[test]
fn allowance_is_the_balance_and_none_without_a_limit() {
    let mut budget = CpuBudget::new();
    budget.set_limit(UNLIMITED, 100 * MS, 0);
    assert_eq!(budget.allowance(MS), None);
    budget.set_limit(20 * MS, 100 * MS, 2 * MS);
    assert_eq!(budget.allowance(3 * MS), Some(20 * MS));
    let _ = budget.charge(25 * MS, 28 * MS);
    assert_eq!(budget.allowance(29 * MS), Some(0));
    // The next period pays 20 ms against the 5 ms debt.
    assert_eq!(budget.allowance(103 * MS), Some(15 * MS));
}

#[test]
fn periods_slept_through_count_as_throttled() {
    let mut budget = CpuBudget::new();
    budget.set_limit(10 * MS, 100 * MS, 0);
    // 45 ms against a 10 ms quota, 35 ms of debt: four grants (at 100, 200, 300 and 400 ms)
    // make the balance positive again.
    let Verdict::ThrottleUntil(at) = budget.charge(45 * MS, 45 * MS) else { panic!("not throttled") };
    assert_eq!(at, 400 * MS);
    assert_eq!(budget.verdict(at), Verdict::Run);
    let stats = budget.stats();
    assert_eq!(stats.periods, 4);
    assert_eq!(stats.throttled_periods, 4);
}
