//! An integer token bucket: the rate limiter behind BandwidthShaper, RatedUnqueue and
//! RatedSource, and the CPU-share accountant of tenants' threads.
//!
//! Tokens accrue at `rate` units per second up to `burst` units. Time is whatever monotonic
//! nanosecond clock the caller passes in, so the bucket is testable and runs unchanged in the
//! kernel. The level is kept in nano-units (units × 10⁹): `rate × elapsed_ns` is then exact, and
//! no fraction of a token is ever lost to rounding, however often the bucket is refilled.
//!
//! Two ways to spend:
//! - [`TokenBucket::try_take`] spends only what is there, as a shaper must;
//! - [`TokenBucket::charge`] always succeeds and may drive the level below zero. That is how CPU
//!   time is billed: a thread learns what a batch cost only after running it, carries the debt,
//!   and may run again once refilling has paid it off ([`TokenBucket::has_tokens`]).

pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Largest burst, in units. Together with [`MAX_DEBT`] it keeps every level within `±2^62`
/// nano-units, so no sum of a level and a refill can overflow.
pub const MAX_BURST: u64 = (1u64 << 62) / NANOS_PER_SEC;
/// Deepest debt, in units; charges beyond it are forgotten.
pub const MAX_DEBT: u64 = MAX_BURST;

const LEVEL_LIMIT: i64 = (MAX_BURST * NANOS_PER_SEC) as i64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    rate: u64,
    burst: u64,
    /// Nano-units; negative while in debt.
    level: i64,
    /// Time of the last refill, ns.
    last: u64,
}

/// `units` in nano-units, saturating at the level limit.
fn scaled(units: u64) -> i64 {
    let nano = units.saturating_mul(NANOS_PER_SEC).min(LEVEL_LIMIT as u64);
    nano as i64
}

impl TokenBucket {
    /// A full bucket: `rate` units per second, at most `burst` units (clamped to
    /// [`MAX_BURST`]) saved up, starting at time `now`.
    pub fn new(rate: u64, burst: u64, now: u64) -> TokenBucket {
        let burst = burst.min(MAX_BURST);
        TokenBucket { rate, burst, level: scaled(burst), last: now }
    }

    /// An empty bucket, as a source that must not start with a burst wants.
    pub fn new_empty(rate: u64, burst: u64, now: u64) -> TokenBucket {
        TokenBucket { level: 0, ..TokenBucket::new(rate, burst, now) }
    }

    pub fn rate(&self) -> u64 {
        self.rate
    }

    pub fn burst(&self) -> u64 {
        self.burst
    }

    /// Credits the tokens earned since the last refill. A clock that appears to go backwards
    /// earns nothing and does not move the bucket's notion of time back.
    ///
    /// The clock is read in whole nanoseconds, so a bucket that fills up between two of them is
    /// seen only at the next one, up to a nanosecond's earnings over the burst. Those are kept
    /// (they are less than a unit): a consumer woken at the first nanosecond its token is whole
    /// ([`TokenBucket::time_until`]) then loses no fraction to the cap, and a bucket of one
    /// token's burst still gives exactly `rate` units a second. A bucket that stays full for a
    /// nanosecond or more is at the burst exactly.
    pub fn refill(&mut self, now: u64) {
        let Some(elapsed) = now.checked_sub(self.last) else {
            return;
        };
        if elapsed == 0 {
            return;
        }
        self.last = now;
        let capacity = scaled(self.burst);
        if self.level >= capacity {
            self.level = capacity;
            return;
        }
        let earned = self.rate.saturating_mul(elapsed).min(i64::MAX as u64) as i64;
        let level = self.level.saturating_add(earned);
        // Full since less than a nanosecond ago: `over` is what it earned since.
        let over = level.saturating_sub(capacity);
        let last_nanosecond = self.rate.min(NANOS_PER_SEC) as i64;
        self.level = if over < last_nanosecond { level } else { capacity };
    }

    /// Takes `amount` units if the bucket holds that many; otherwise takes nothing.
    pub fn try_take(&mut self, now: u64, amount: u64) -> bool {
        self.refill(now);
        let cost = scaled(amount);
        if self.level < cost {
            return false;
        }
        self.level = self.level.saturating_sub(cost);
        true
    }

    /// Takes `amount` units unconditionally, going into debt if need be (down to
    /// [`MAX_DEBT`]).
    pub fn charge(&mut self, now: u64, amount: u64) {
        self.refill(now);
        self.level = self.level.saturating_sub(scaled(amount)).max(-LEVEL_LIMIT);
    }

    /// Gives back `amount` units, e.g. for work reserved but not done (up to the burst).
    pub fn refund(&mut self, now: u64, amount: u64) {
        self.refill(now);
        self.level = self.level.saturating_add(scaled(amount)).min(scaled(self.burst));
    }

    /// True while the level is above zero: not in debt, and something left to spend.
    pub fn has_tokens(&mut self, now: u64) -> bool {
        self.refill(now);
        self.level > 0
    }

    /// Whole units available (negative while in debt), rounded down.
    pub fn level(&mut self, now: u64) -> i64 {
        self.refill(now);
        self.level.div_euclid(NANOS_PER_SEC as i64)
    }

    /// Nanoseconds from `now` until `amount` units are available: 0 if they are, `None` if they
    /// never will be (no rate, or more than the burst).
    pub fn time_until(&mut self, now: u64, amount: u64) -> Option<u64> {
        self.refill(now);
        let cost = scaled(amount);
        if self.level >= cost {
            return Some(0);
        }
        if self.rate == 0 || amount > self.burst {
            return None;
        }
        let deficit = cost.saturating_sub(self.level).unsigned_abs();
        Some(deficit.div_ceil(self.rate))
    }

    /// Changes the rate from `now` on; tokens earned so far are credited at the old rate.
    pub fn set_rate(&mut self, now: u64, rate: u64) {
        self.refill(now);
        self.rate = rate;
    }

    /// Changes the burst; a level above the new burst is cut down to it.
    pub fn set_burst(&mut self, now: u64, burst: u64) {
        self.refill(now);
        self.burst = burst.min(MAX_BURST);
        self.level = self.level.min(scaled(self.burst));
    }

    /// Fills the bucket to its burst, forgiving any debt.
    pub fn fill(&mut self, now: u64) {
        self.refill(now);
        self.level = scaled(self.burst);
    }
}
