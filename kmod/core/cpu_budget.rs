//! Holding a tenant's kernel threads to its cgroup's `cpu.max`.
//!
//! CFS bandwidth control on kernel 7.3 throttles a task when it returns to user mode, which a
//! kthread never does: the tenant's data-plane threads are billed to its cgroup but not held to
//! its limit. The module therefore keeps a budget per tenant: every period of the cgroup's
//! `cpu.max` grants the quota, the tenant's threads charge the CPU time they actually ran, and a
//! thread that finds the budget spent sleeps until the period that pays it back.
//!
//! Overruns are charged in full and carried as debt into the following periods. A thread checks
//! its budget only between passes, so a pass that started with a little budget left may run far
//! past it (long tasks, many tasks per yield); without debt that excess would be free once per
//! period, which is how Linux-VServer's token bucket, that never went negative, let a context
//! exceed its share once per-packet work grew (Keller and Green, Figures 11 and 12). With debt,
//! what a tenant runs over any window of whole periods is at most the quota per period plus one
//! pass. Passes are also cut short once they have used the balance they started with
//! ([`CpuBudget::allowance`]), so that excess is one task run rather than a whole pass, which
//! keeps the share close over short windows too.
//!
//! Unused budget is not saved up beyond one period's quota (cpu.max without burst).
//!
//! Plain integer logic on caller-supplied times (monotonic nanoseconds), so it is unit-tested in
//! userspace; the module keeps one per tenant behind a spinlock shared by the tenant's threads.

/// `quota_ns` of a cgroup without a limit (`cpu.max` "max").
pub const UNLIMITED: u64 = u64::MAX;
/// The period assumed before the cgroup is first read, and CFS's default.
pub const DEFAULT_PERIOD_NS: u64 = 100_000_000;
/// Shortest and longest period CFS accepts (1 ms, 1 s); other values are clamped into range.
pub const MIN_PERIOD_NS: u64 = 1_000_000;
pub const MAX_PERIOD_NS: u64 = 1_000_000_000;

/// Counters in the manner of `cpu.stat`, for the tenant's data-plane threads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BudgetStats {
    /// CPU time the tenant's threads ran, as charged (limited or not).
    pub runtime_ns: u64,
    /// Limited periods in which the tenant ran.
    pub periods: u64,
    /// Of those, periods in which a thread had to stop for the budget.
    pub throttled_periods: u64,
    /// Time threads spent stopped for the budget, summed over threads.
    pub throttled_ns: u64,
}

/// What a thread does after charging its pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Budget left (or no limit): go on.
    Run,
    /// The budget is spent: sleep until this time, when enough periods have paid the debt back.
    /// Check again on waking: the limit may have changed meanwhile.
    ThrottleUntil(u64),
}

/// One tenant's budget. Times are monotonic nanoseconds from the caller's clock.
#[derive(Clone, Debug)]
pub struct CpuBudget {
    quota_ns: u64,
    period_ns: u64,
    /// End of the current period; 0 before the first limit is applied.
    period_end: u64,
    /// Runtime left in the current period; negative is debt owed to the next ones.
    balance: i64,
    /// Whether the tenant ran / was throttled in the current period (for the counters).
    ran_this_period: bool,
    throttled_this_period: bool,
    /// When the limit is to be read again from the cgroup.
    refresh_at: u64,
    stats: BudgetStats,
}

impl Default for CpuBudget {
    fn default() -> Self {
        Self::new()
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl CpuBudget {
    /// A budget without a limit, to be refreshed at once.
    pub const fn new() -> Self {
        CpuBudget {
            quota_ns: UNLIMITED,
            period_ns: DEFAULT_PERIOD_NS,
            period_end: 0,
            balance: 0,
            ran_this_period: false,
            throttled_this_period: false,
            refresh_at: 0,
            stats: BudgetStats { runtime_ns: 0, periods: 0, throttled_periods: 0, throttled_ns: 0 },
        }
    }

    pub fn quota_ns(&self) -> u64 {
        self.quota_ns
    }

    pub fn period_ns(&self) -> u64 {
        self.period_ns
    }

    pub fn limited(&self) -> bool {
        self.quota_ns != UNLIMITED
    }

    /// Runtime left in the current period (negative: debt).
    pub fn balance_ns(&self) -> i64 {
        self.balance
    }

    pub fn stats(&self) -> BudgetStats {
        self.stats
    }

    /// Whether the cgroup's limit should be read again (and passed to [`Self::set_limit`]):
    /// once per period, so a change of `cpu.max` applies within a period (at most one second).
    pub fn needs_refresh(&self, now: u64) -> bool {
        now >= self.refresh_at
    }

    /// Applies the limit read from the cgroup at `now`. The same limit again only schedules the
    /// next read. A changed limit starts a new period at once, keeping any debt (a shrunk quota
    /// also shrinks what is left of the current grant).
    pub fn set_limit(&mut self, quota_ns: u64, period_ns: u64, now: u64) {
        let period_ns = period_ns.clamp(MIN_PERIOD_NS, MAX_PERIOD_NS);
        self.refresh_at = now.saturating_add(period_ns);
        if quota_ns == self.quota_ns && period_ns == self.period_ns && self.period_end != 0 {
            return;
        }
        self.quota_ns = quota_ns;
        self.period_ns = period_ns;
        if quota_ns == UNLIMITED {
            self.balance = 0;
            self.period_end = now.saturating_add(period_ns);
            return;
        }
        self.close_period();
        self.balance = self.balance.min(0).saturating_add(to_i64(quota_ns));
        self.period_end = now.saturating_add(period_ns);
    }

    /// Counts the period that is ending.
    fn close_period(&mut self) {
        if self.limited() && self.ran_this_period {
            self.stats.periods = self.stats.periods.saturating_add(1);
            if self.throttled_this_period {
                self.stats.throttled_periods = self.stats.throttled_periods.saturating_add(1);
            }
        }
        self.ran_this_period = false;
        self.throttled_this_period = false;
    }

    /// Moves to the period that contains `now`, granting one quota per period passed; the
    /// balance never grows beyond one quota.
    fn roll(&mut self, now: u64) {
        if now < self.period_end {
            return;
        }
        let passed = (now - self.period_end) / self.period_ns.max(1) + 1;
        // A thread throttled in the closing period slept through the ones skipped here.
        let slept_through = self.throttled_this_period && self.limited();
        self.close_period();
        if slept_through {
            let skipped = passed - 1;
            self.stats.periods = self.stats.periods.saturating_add(skipped);
            self.stats.throttled_periods = self.stats.throttled_periods.saturating_add(skipped);
        }
        self.period_end = self.period_end.saturating_add(passed.saturating_mul(self.period_ns));
        if self.limited() {
            let grant = to_i64(passed.saturating_mul(self.quota_ns));
            self.balance = self.balance.saturating_add(grant).min(to_i64(self.quota_ns));
        }
    }

    /// Charges `ran_ns` of CPU time that one of the tenant's threads ran up to `now`, and says
    /// whether it may go on.
    pub fn charge(&mut self, ran_ns: u64, now: u64) -> Verdict {
        self.stats.runtime_ns = self.stats.runtime_ns.saturating_add(ran_ns);
        if !self.limited() {
            self.roll(now);
            return Verdict::Run;
        }
        // Charged to the period the pass started in, before moving on: a pass that straddles a
        // period boundary uses up what that period had left instead of the cap discarding it.
        self.roll(now.saturating_sub(ran_ns));
        if ran_ns > 0 {
            self.ran_this_period = true;
        }
        self.balance = self.balance.saturating_sub(to_i64(ran_ns));
        self.verdict(now)
    }

    /// Whether a thread may run at `now` (after a sleep, or before starting).
    pub fn verdict(&mut self, now: u64) -> Verdict {
        self.roll(now);
        if !self.limited() || self.balance > 0 {
            return Verdict::Run;
        }
        self.throttled_this_period = true;
        // Periods still to pass before the balance is positive again: the one ending at
        // `period_end` brings the first grant.
        let owed = self.balance.unsigned_abs();
        let periods = owed / self.quota_ns.max(1);
        Verdict::ThrottleUntil(self.period_end.saturating_add(periods.saturating_mul(self.period_ns)))
    }

    /// What a thread may run from `now` before it must stop and charge: the balance, or `None`
    /// without a limit. A pass ends once this much wall-clock time has gone by (CPU time is
    /// never more than wall time), so an overrun is at most one task run, not one whole pass.
    pub fn allowance(&mut self, now: u64) -> Option<u64> {
        self.roll(now);
        if !self.limited() {
            return None;
        }
        Some(u64::try_from(self.balance).unwrap_or(0))
    }

    /// Records that a thread was stopped for `slept_ns` by the budget.
    pub fn note_throttled(&mut self, slept_ns: u64) {
        self.stats.throttled_ns = self.stats.throttled_ns.saturating_add(slept_ns);
    }
}
