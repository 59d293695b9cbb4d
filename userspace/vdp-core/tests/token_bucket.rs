//! Token bucket: exact accrual, debt, and property tests that the long-run rate never exceeds
//! rate + burst.

use proptest::prelude::*;
use vdp_core::token_bucket::{TokenBucket, MAX_BURST, NANOS_PER_SEC};

const MS: u64 = 1_000_000;

fn cases() -> u32 {
    std::env::var("VDP_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

#[test]
fn starts_full_and_refills_at_rate() {
    let mut bucket = TokenBucket::new(1000, 100, 0);
    assert!(bucket.try_take(0, 100));
    assert!(!bucket.try_take(0, 1));
    assert!(!bucket.try_take(MS - 1, 1), "one token per millisecond");
    assert!(bucket.try_take(MS, 1));
    assert_eq!(bucket.level(MS), 0);
    assert_eq!(bucket.level(MS + 50 * MS), 50);
    assert_eq!(bucket.level(10 * NANOS_PER_SEC), 100, "capped at the burst");
    assert!(!bucket.try_take(10 * NANOS_PER_SEC, 101), "more than the burst never fits");
}

#[test]
fn fractions_of_a_token_are_not_lost() {
    // 3 units/s refilled every nanosecond: 10^9 refills of 3 nano-units each.
    let mut bucket = TokenBucket::new_empty(3, 10, 0);
    for now in (0..NANOS_PER_SEC).step_by(1000) {
        bucket.refill(now);
    }
    assert_eq!(bucket.level(NANOS_PER_SEC), 3);
}

#[test]
fn empty_bucket_waits() {
    let mut bucket = TokenBucket::new_empty(1_000_000, 1500, 0);
    assert!(!bucket.try_take(0, 64));
    assert_eq!(bucket.time_until(0, 64), Some(64_000));
    assert!(!bucket.try_take(63_999, 64));
    assert!(bucket.try_take(64_000, 64));
    assert_eq!(bucket.time_until(64_000, 1501), None);
    assert_eq!(TokenBucket::new_empty(0, 10, 0).time_until(0, 1), None);
    assert_eq!(TokenBucket::new(0, 10, 0).time_until(0, 1), Some(0));
}

#[test]
fn cpu_debt_is_carried_and_paid_off() {
    // A 15% share: 150 ms of CPU per second, at most 1 ms saved up.
    let mut share = TokenBucket::new(150 * MS, MS, 0);
    assert!(share.has_tokens(0));
    share.charge(0, 4 * MS);
    assert!(!share.has_tokens(0));
    assert_eq!(share.level(0), -3 * MS as i64);
    // 3 ms of debt at 0.15 ms per ms takes 20 ms to repay.
    assert!(!share.has_tokens(20 * MS));
    assert!(share.has_tokens(20 * MS + 1));
    // 0.15 units in hand, 0.85 to go at 0.15 per ns: 6 ns (rounded up).
    assert_eq!(share.time_until(20 * MS, 1), Some(6));
    share.refund(20 * MS, 10 * MS);
    assert_eq!(share.level(20 * MS), MS as i64);
}

#[test]
fn clock_going_backwards_earns_nothing() {
    let mut bucket = TokenBucket::new_empty(1000, 1000, 10 * NANOS_PER_SEC);
    assert_eq!(bucket.level(5 * NANOS_PER_SEC), 0);
    assert_eq!(bucket.level(10 * NANOS_PER_SEC + 10 * MS), 10);
}

#[test]
fn changing_rate_and_burst() {
    let mut bucket = TokenBucket::new_empty(1000, 1000, 0);
    bucket.set_rate(NANOS_PER_SEC, 10);
    assert_eq!(bucket.level(NANOS_PER_SEC), 1000);
    bucket.set_burst(NANOS_PER_SEC, 100);
    assert_eq!(bucket.level(NANOS_PER_SEC), 100);
    bucket.charge(NANOS_PER_SEC, 300);
    bucket.fill(NANOS_PER_SEC);
    assert_eq!(bucket.level(NANOS_PER_SEC), 100);
    assert_eq!((bucket.rate(), bucket.burst()), (10, 100));
}

#[test]
fn extreme_values_saturate() {
    let mut bucket = TokenBucket::new(u64::MAX, u64::MAX, 0);
    assert_eq!(bucket.burst(), MAX_BURST);
    assert!(bucket.try_take(u64::MAX, MAX_BURST));
    bucket.charge(u64::MAX, u64::MAX);
    bucket.charge(u64::MAX, u64::MAX);
    assert!(bucket.level(u64::MAX) < 0);
    let mut slow = TokenBucket::new_empty(1, 1, 0);
    slow.charge(0, u64::MAX);
    assert_eq!(slow.time_until(0, 1).map(|ns| ns > 0), Some(true));
    assert!(!slow.has_tokens(1000 * NANOS_PER_SEC), "the debt is capped, not forgotten");
}

#[derive(Clone, Debug)]
struct Step {
    advance: u64,
    amount: u64,
}

fn steps(max_advance: u64, max_amount: u64) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec((0..=max_advance, 0..=max_amount).prop_map(|(advance, amount)| Step { advance, amount }), 1..300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Whatever is asked for and whenever, what `try_take` hands out over a period never
    /// exceeds the burst plus the rate times the period.
    #[test]
    fn shaper_never_exceeds_rate_plus_burst(rate in 0u64..10_000_000_000, burst in 0u64..100_000, start in any::<u32>(), steps in steps(5 * MS, 3000)) {
        let mut bucket = TokenBucket::new(rate, burst, u64::from(start));
        let mut now = u64::from(start);
        let mut taken: u128 = 0;
        for step in &steps {
            now += step.advance;
            if bucket.try_take(now, step.amount) {
                taken += u128::from(step.amount);
            }
            let elapsed = u128::from(now - u64::from(start));
            let allowed = u128::from(burst) * u128::from(NANOS_PER_SEC) + u128::from(rate) * elapsed;
            prop_assert!(taken * u128::from(NANOS_PER_SEC) <= allowed, "took {} by {} ns", taken, elapsed);
            prop_assert!(bucket.level(now) <= burst as i64);
        }
    }

    /// A greedy taker gets everything the rate allows, less at most one request's worth, when
    /// the burst is large enough that no token overflows between two attempts.
    #[test]
    fn greedy_taker_gets_the_full_rate(rate in 1u64..10_000, amount in 1u64..100, periods in 1u64..20) {
        let mut bucket = TokenBucket::new_empty(rate, amount + rate, 0);
        let tick = NANOS_PER_SEC / 100;
        let mut taken: u64 = 0;
        for step in 1..=periods * 100 {
            while bucket.try_take(step * tick, amount) {
                taken += amount;
            }
        }
        let earned = rate * periods;
        prop_assert!(taken <= earned, "taken {} earned {}", taken, earned);
        prop_assert!(earned - taken <= amount, "taken {} earned {}", taken, earned);
    }

    /// Charging work only while the bucket has tokens bounds the total to burst + rate ×
    /// time + one batch, however large the debts in between.
    #[test]
    fn debt_gated_work_is_bounded(rate in 1u64..1_000_000_000, burst in 0u64..10_000_000, steps in steps(MS, 20 * MS)) {
        let mut bucket = TokenBucket::new(rate, burst, 0);
        let mut now = 0u64;
        let mut charged: u128 = 0;
        let largest = steps.iter().map(|s| s.amount).max().unwrap_or(0);
        for step in &steps {
            now += step.advance;
            if bucket.has_tokens(now) {
                bucket.charge(now, step.amount);
                charged += u128::from(step.amount);
            }
            let allowed = (u128::from(burst) + u128::from(largest)) * u128::from(NANOS_PER_SEC) + u128::from(rate) * u128::from(now);
            prop_assert!(charged * u128::from(NANOS_PER_SEC) <= allowed);
        }
    }

    #[test]
    fn arbitrary_calls_never_panic(rate in any::<u64>(), burst in any::<u64>(), calls in prop::collection::vec((any::<u64>(), any::<u64>(), 0u8..8), 1..50)) {
        let mut bucket = TokenBucket::new(rate, burst, 0);
        for (now, amount, call) in calls {
            match call {
                0 => { bucket.try_take(now, amount); }
                1 => bucket.charge(now, amount),
                2 => bucket.refund(now, amount),
                3 => { bucket.time_until(now, amount); }
                4 => bucket.set_rate(now, amount),
                5 => bucket.set_burst(now, amount),
                6 => { bucket.has_tokens(now); }
                _ => { bucket.level(now); }
            }
            prop_assert!(bucket.level(now) <= bucket.burst() as i64);
        }
    }
}

/// A consumer that takes each token at the first whole nanosecond it is complete (as the
/// rated elements do, woken by `time_until`) gets exactly `rate` tokens a second, even from a
/// bucket of one token's burst, which is a fraction of a nanosecond's earnings over the burst
/// each time it is read: that fraction is kept, not cut off by the cap.
#[test]
fn a_one_token_bucket_read_at_whole_nanoseconds_keeps_its_rate() {
    for rate in [3u64, 7, 9, 11, 97] {
        let mut bucket = TokenBucket::new_empty(rate, 1, 0);
        let mut now = 0;
        let mut taken = 0;
        while now <= 10 * NANOS_PER_SEC {
            if bucket.try_take(now, 1) {
                taken += 1;
            }
            now += bucket.time_until(now, 1).unwrap().max(1);
        }
        assert_eq!(taken, 10 * rate, "RATE {rate}");
        // Still never more than the burst in whole units, and full means full.
        assert_eq!(bucket.level(now + 5 * NANOS_PER_SEC), 1);
    }
}
