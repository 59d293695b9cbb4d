//! How many connections to the coordinator each caller may hold at once. The accept loop asks
//! [`ConnectionLimits::admit`] before it starts a thread for a connection, so a caller that
//! floods the socket gets answered at once and never gets more threads than its cap, and the
//! slots every other tenant and the root context are guaranteed stay free for them.
//!
//! The rule (`docs/coordinator.md` has the numbers): every identity that may use the
//! coordinator (each tenant of the system config, and the root context) is guaranteed
//! `reserve` slots and may hold at most `per_caller`. Everyone else (callers that will be
//! refused, or that cannot be identified) shares one pool of `others` slots, with no guarantee.
//! A connection is admitted when its caller is under its cap and, once admitted, the free slots
//! still cover every other identity's unused guarantee.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Whose slot a connection takes, as known when it is accepted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Holder {
    Tenant(String),
    /// uid 0 in the coordinator's network namespace and in no tenant cgroup.
    Root,
    /// Anyone the coordinator will refuse: in no tenant cgroup and not the root context, or not
    /// identifiable at all. They share one pool.
    Others,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Holder::Tenant(name) => write!(f, "tenant {name}"),
            Holder::Root => f.write_str("the root context"),
            Holder::Others => f.write_str("callers that are neither a tenant nor the root context"),
        }
    }
}

/// The numbers. [`Numbers::for_tenants`] gives the coordinator's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Numbers {
    /// Connections served at once, by everyone together.
    pub total: usize,
    /// The most one tenant, or the root context, may hold at once.
    pub per_caller: usize,
    /// Slots held free for each tenant and for the root context while they use fewer.
    pub reserve: usize,
    /// The most all other callers together may hold; they have no reserve.
    pub others: usize,
}

/// Connections served at once when the system config has few tenants.
pub const TOTAL: usize = 64;
/// The most connections one tenant (or the root context) holds at once.
pub const PER_CALLER: usize = 16;
/// Slots kept for each tenant and for the root context.
pub const RESERVE: usize = 4;
/// The pool shared by callers that are refused anyway.
pub const OTHERS: usize = 4;

impl Numbers {
    /// The coordinator's numbers for `tenants` tenants: the total grows with the tenants, so
    /// that every guarantee, one caller at its cap and the others' pool fit at the same time.
    pub fn for_tenants(tenants: usize) -> Numbers {
        let needed = RESERVE * (tenants + 1) + (PER_CALLER - RESERVE) + OTHERS;
        Numbers { total: TOTAL.max(needed), per_caller: PER_CALLER, reserve: RESERVE, others: OTHERS }
    }
}

/// Why a connection gets no slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    /// The caller already holds as many connections as it may.
    OverCap { holder: Holder, cap: usize },
    /// The caller is under its cap, but the free slots are all held for other callers.
    Busy { holder: Holder, total: usize },
}

impl Denied {
    /// The answer for the caller, naming the limit.
    pub fn message(&self) -> String {
        match self {
            Denied::OverCap { holder: holder @ Holder::Others, cap } => format!(
                "refused (limit: {cap} connections at once for {holder}): that many are already open; \
                 callers must be a tenant or the root context"
            ),
            Denied::OverCap { holder, cap } => format!(
                "refused (limit: {cap} connections at once per caller): {holder} already holds {cap} open connections \
                 to the coordinator; close some (each ends after its answer, or 10 s without a request) and try again"
            ),
            Denied::Busy { holder, total } => format!(
                "the coordinator is busy: its {total} connections are in use or held for other callers than {holder}; try again"
            ),
        }
    }
}

/// The connections open now, per holder.
#[derive(Debug)]
pub struct ConnectionLimits {
    numbers: Numbers,
    /// Every identity with a guarantee: each tenant of the system config, and the root context.
    guaranteed: Vec<Holder>,
    open: HashMap<Holder, usize>,
    total: usize,
}

impl ConnectionLimits {
    /// Limits for the tenants named, each with its guarantee, plus the root context's.
    /// `numbers.total` must hold every guarantee; it is raised to if it does not.
    pub fn new<I: IntoIterator<Item = String>>(numbers: Numbers, tenants: I) -> ConnectionLimits {
        let mut guaranteed: Vec<Holder> = tenants.into_iter().map(Holder::Tenant).collect();
        guaranteed.push(Holder::Root);
        guaranteed.dedup();
        let total = numbers.total.max(numbers.reserve * guaranteed.len());
        ConnectionLimits { numbers: Numbers { total, ..numbers }, guaranteed, open: HashMap::new(), total: 0 }
    }

    pub fn numbers(&self) -> Numbers {
        self.numbers
    }

    /// New numbers and tenants (the system config was read again): connections already open
    /// keep their slots and are released as before; a tenant no longer named loses its
    /// guarantee, a new one gets its own.
    pub fn retarget<I: IntoIterator<Item = String>>(&mut self, numbers: Numbers, tenants: I) {
        let fresh = ConnectionLimits::new(numbers, tenants);
        self.numbers = fresh.numbers;
        self.guaranteed = fresh.guaranteed;
    }

    /// Connections open now, by everyone.
    pub fn open(&self) -> usize {
        self.total
    }

    /// Connections `holder` has open now.
    pub fn open_by(&self, holder: &Holder) -> usize {
        self.open.get(holder).copied().unwrap_or(0)
    }

    fn cap(&self, holder: &Holder) -> usize {
        match holder {
            Holder::Others => self.numbers.others,
            // A tenant that left the system config (on a reload, while its connections are
            // still open) has no guarantee, but the same cap.
            Holder::Tenant(_) | Holder::Root => self.numbers.per_caller,
        }
    }

    /// The slots held free for identities other than `holder`: each one's unused guarantee.
    fn reserved_for_others(&self, holder: &Holder) -> usize {
        self.guaranteed.iter().filter(|h| *h != holder).map(|h| self.numbers.reserve.saturating_sub(self.open_by(h))).sum()
    }

    /// Whether [`Self::admit`] would give `holder` a slot now.
    pub fn check(&self, holder: &Holder) -> Result<(), Denied> {
        let cap = self.cap(holder);
        if self.open_by(holder) >= cap {
            return Err(Denied::OverCap { holder: holder.clone(), cap });
        }
        let free = self.numbers.total.saturating_sub(self.total);
        if free == 0 || free - 1 < self.reserved_for_others(holder) {
            return Err(Denied::Busy { holder: holder.clone(), total: self.numbers.total });
        }
        Ok(())
    }

    /// Takes a slot for `holder`, or says why not. Each `Ok` must be matched by one
    /// [`Self::release`] when the connection closes.
    pub fn admit(&mut self, holder: &Holder) -> Result<(), Denied> {
        self.check(holder)?;
        *self.open.entry(holder.clone()).or_insert(0) += 1;
        self.total += 1;
        Ok(())
    }

    /// Gives back a slot `holder` was admitted to.
    pub fn release(&mut self, holder: &Holder) {
        if let Some(n) = self.open.get_mut(holder) {
            if *n > 0 {
                *n -= 1;
                self.total = self.total.saturating_sub(1);
            }
            if *n == 0 {
                self.open.remove(holder);
            }
        }
    }
}

/// Processes refused lately, by pid, so that a flood from one process costs the accept loop
/// neither the `/proc` reads nor the pidfd check for every connection. An entry holds a handle
/// on the process that was identified (a pidfd); it is used only while that process lives, so
/// its pid is still its own, and only for `ttl`, so a process moved to another cgroup is taken
/// for its old identity that long at most. It only ever refuses: a caller whose remembered
/// identity has room again is identified afresh.
#[derive(Debug)]
pub struct RecentRefusals<H> {
    ttl: Duration,
    max: usize,
    entries: HashMap<u32, (H, Holder, Instant)>,
}

impl<H> RecentRefusals<H> {
    pub fn new(ttl: Duration, max: usize) -> RecentRefusals<H> {
        RecentRefusals { ttl, max, entries: HashMap::new() }
    }

    /// Who `pid` was when refused, if that was less than `ttl` before `now` and `alive` says
    /// the process then identified still lives. A stale entry is dropped.
    pub fn holder(&mut self, pid: u32, now: Instant, alive: impl Fn(&H) -> bool) -> Option<Holder> {
        let (handle, holder, at) = self.entries.get(&pid)?;
        if now.duration_since(*at) < self.ttl && alive(handle) {
            return Some(holder.clone());
        }
        self.entries.remove(&pid);
        None
    }

    /// Remembers that the live process `handle` names, `pid`, was refused as `holder` at `now`.
    /// When full, expired entries go first, and if none has, all of them.
    pub fn remember(&mut self, pid: u32, handle: H, holder: Holder, now: Instant) {
        if self.entries.len() >= self.max && !self.entries.contains_key(&pid) {
            let ttl = self.ttl;
            self.entries.retain(|_, (_, _, at)| now.duration_since(*at) < ttl);
            if self.entries.len() >= self.max {
                self.entries.clear();
            }
        }
        self.entries.insert(pid, (handle, holder, now));
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Refused connections are logged once per burst and holder: the first refusal at once, then
/// nothing for `window`, then, when the window has passed, how many more were refused in it.
#[derive(Debug)]
pub struct BurstLog {
    window: Duration,
    bursts: HashMap<Holder, Burst>,
}

#[derive(Debug)]
struct Burst {
    since: Instant,
    /// The latest refusal's reason, for the closing line.
    last: String,
    more: u64,
}

impl BurstLog {
    pub fn new(window: Duration) -> BurstLog {
        BurstLog { window, bursts: HashMap::new() }
    }

    /// A refusal at `now`: the line to log, if this one starts a burst.
    pub fn refused(&mut self, denied: &Denied, now: Instant) -> Option<String> {
        let holder = match denied {
            Denied::OverCap { holder, .. } | Denied::Busy { holder, .. } => holder,
        };
        let reason = denied.message();
        if let Some(burst) = self.bursts.get_mut(holder) {
            burst.more += 1;
            burst.last = reason;
            return None;
        }
        self.bursts.insert(holder.clone(), Burst { since: now, last: String::new(), more: 0 });
        Some(format!("refusing connections from {holder} (logged once per {} s): {reason}", self.window.as_secs()))
    }

    /// Ends the bursts whose window has passed by `now`: one line for each that refused more.
    pub fn flush(&mut self, now: Instant) -> Vec<String> {
        self.end(now, self.window)
    }

    /// Ends every burst, as at shutdown.
    pub fn drain(&mut self, now: Instant) -> Vec<String> {
        self.end(now, Duration::ZERO)
    }

    fn end(&mut self, now: Instant, after: Duration) -> Vec<String> {
        let mut lines = Vec::new();
        self.bursts.retain(|holder, burst| {
            if now.duration_since(burst.since) < after {
                return true;
            }
            if burst.more > 0 {
                let seconds = now.duration_since(burst.since).as_secs_f64();
                lines.push(format!("refused {} more connections from {holder} in {seconds:.1} s; the last: {}", burst.more, burst.last));
            }
            false
        });
        lines.sort();
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Numbers = Numbers { total: 20, per_caller: 8, reserve: 3, others: 2 };

    fn tenant(name: &str) -> Holder {
        Holder::Tenant(name.into())
    }

    fn limits() -> ConnectionLimits {
        ConnectionLimits::new(SMALL, ["red".to_string(), "blue".to_string()])
    }

    fn fill(limits: &mut ConnectionLimits, holder: &Holder) -> usize {
        let mut n = 0;
        while limits.admit(holder).is_ok() {
            n += 1;
            assert!(n <= SMALL.total, "admitted past the total");
        }
        n
    }

    #[test]
    fn a_caller_stops_at_its_cap_and_the_answer_names_it() {
        let mut l = limits();
        assert_eq!(fill(&mut l, &tenant("red")), 8);
        let denied = l.admit(&tenant("red")).unwrap_err();
        assert_eq!(denied, Denied::OverCap { holder: tenant("red"), cap: 8 });
        let message = denied.message();
        assert!(message.contains("refused (limit: 8 connections at once per caller)"), "{message}");
        assert!(message.contains("tenant red"), "{message}");
        // Everyone else still gets in.
        assert!(l.admit(&tenant("blue")).is_ok());
        assert!(l.admit(&Holder::Root).is_ok());
    }

    #[test]
    fn a_caller_at_its_cap_leaves_the_others_their_reserve() {
        // 20 slots, 3 kept for each of red, blue and root while they use fewer.
        let mut l = limits();
        // Red may take 20 - 6 (blue's and root's reserves) = 14, but its cap is 8.
        assert_eq!(fill(&mut l, &tenant("red")), 8);
        // Blue may take 20 - 8 - 3 (root's reserve) = 9, but its cap is 8.
        assert_eq!(fill(&mut l, &tenant("blue")), 8);
        assert_eq!(l.admit(&Holder::Others), Ok(()));
        // 17 open, 3 free: exactly root's reserve, so the others' pool gets no more...
        assert!(matches!(l.admit(&Holder::Others), Err(Denied::Busy { .. })));
        // ...and root gets all three.
        assert_eq!(fill(&mut l, &Holder::Root), 3);
        assert_eq!(l.open(), 20);
        let busy = l.admit(&Holder::Root).unwrap_err().message();
        assert!(busy.contains("busy: its 20 connections"), "{busy}");
    }

    #[test]
    fn a_tenant_below_its_reserve_always_gets_in() {
        let numbers = Numbers { total: 12, per_caller: 10, reserve: 3, others: 4 };
        let mut l = ConnectionLimits::new(numbers, ["red".to_string(), "blue".to_string()]);
        // 12 slots, 9 of them guaranteed: red can take its 3 and the 3 nobody is guaranteed.
        assert_eq!(fill(&mut l, &tenant("red")), 6);
        assert!(matches!(l.admit(&Holder::Others), Err(Denied::Busy { .. })));
        assert_eq!(fill(&mut l, &tenant("blue")), 3);
        assert_eq!(fill(&mut l, &Holder::Root), 3);
        assert_eq!(l.open(), 12);
    }

    #[test]
    fn callers_that_will_be_refused_share_a_small_pool() {
        let mut l = limits();
        assert_eq!(fill(&mut l, &Holder::Others), 2);
        let message = l.admit(&Holder::Others).unwrap_err().message();
        assert!(message.contains("refused (limit: 2 connections at once for callers that are neither"), "{message}");
        assert_eq!(fill(&mut l, &tenant("red")), 8);
    }

    #[test]
    fn closing_gives_the_slot_back() {
        let mut l = limits();
        assert_eq!(fill(&mut l, &tenant("red")), 8);
        l.release(&tenant("red"));
        assert_eq!(l.open_by(&tenant("red")), 7);
        assert!(l.admit(&tenant("red")).is_ok());
        for _ in 0..8 {
            l.release(&tenant("red"));
        }
        assert_eq!((l.open(), l.open_by(&tenant("red"))), (0, 0));
        // A release without a slot changes nothing.
        l.release(&tenant("red"));
        l.release(&Holder::Root);
        assert_eq!(l.open(), 0);
        assert_eq!(fill(&mut l, &tenant("red")), 8);
    }

    #[test]
    fn the_coordinators_numbers_hold_every_guarantee() {
        assert_eq!(Numbers::for_tenants(2), Numbers { total: 64, per_caller: 16, reserve: 4, others: 4 });
        for tenants in [0, 1, 2, 10, 11, 12, 50, 200] {
            let numbers = Numbers::for_tenants(tenants);
            let names: Vec<String> = (0..tenants).map(|i| format!("t{i}")).collect();
            let mut l = ConnectionLimits::new(numbers, names.clone());
            // One tenant floods, then the others' pool fills; every other tenant and root
            // still get their whole reserve.
            if let Some(first) = names.first() {
                assert_eq!(fill(&mut l, &tenant(first)), numbers.per_caller, "{tenants} tenants");
            }
            assert_eq!(fill(&mut l, &Holder::Others), numbers.others, "{tenants} tenants");
            for name in names.iter().skip(1) {
                for _ in 0..numbers.reserve {
                    assert_eq!(l.admit(&tenant(name)), Ok(()), "{tenants} tenants: {name}");
                }
            }
            for _ in 0..numbers.reserve {
                assert_eq!(l.admit(&Holder::Root), Ok(()), "{tenants} tenants: root");
            }
        }
    }

    #[test]
    fn a_total_too_small_for_the_guarantees_is_raised() {
        let l = ConnectionLimits::new(Numbers { total: 5, per_caller: 4, reserve: 2, others: 1 }, ["a".to_string(), "b".to_string()]);
        assert_eq!(l.numbers().total, 6);
    }

    #[test]
    fn check_says_what_admit_would_and_takes_nothing() {
        let mut l = limits();
        assert_eq!(fill(&mut l, &tenant("red")), 8);
        assert_eq!(l.check(&tenant("red")), Err(Denied::OverCap { holder: tenant("red"), cap: 8 }));
        assert_eq!(l.check(&tenant("blue")), Ok(()));
        assert_eq!(l.open(), 8);
    }

    #[test]
    fn a_refused_process_is_remembered_while_it_lives_and_not_for_long() {
        use std::cell::Cell;
        let start = Instant::now();
        let mut recent: RecentRefusals<std::rc::Rc<Cell<bool>>> = RecentRefusals::new(Duration::from_secs(1), 3);
        let alive = |h: &std::rc::Rc<Cell<bool>>| h.get();
        let process = std::rc::Rc::new(Cell::new(true));
        assert_eq!(recent.holder(40, start, alive), None);
        recent.remember(40, process.clone(), tenant("red"), start);
        assert_eq!(recent.holder(40, start + Duration::from_millis(500), alive), Some(tenant("red")));
        assert_eq!(recent.holder(41, start, alive), None, "another pid");
        // Gone after the ttl, and dropped.
        assert_eq!(recent.holder(40, start + Duration::from_secs(1), alive), None);
        assert_eq!(recent.len(), 0);
        // Gone once the process exited: its pid may be someone else's now.
        recent.remember(40, process.clone(), tenant("red"), start);
        process.set(false);
        assert_eq!(recent.holder(40, start, alive), None);
        assert_eq!(recent.len(), 0);
    }

    #[test]
    fn the_remembered_refusals_stay_few() {
        let start = Instant::now();
        let mut recent: RecentRefusals<()> = RecentRefusals::new(Duration::from_secs(1), 3);
        for pid in 1..=3 {
            recent.remember(pid, (), tenant("red"), start);
        }
        // Full, nothing expired: the next one starts afresh.
        recent.remember(4, (), tenant("red"), start + Duration::from_millis(10));
        assert_eq!(recent.len(), 1);
        for pid in 5..=6 {
            recent.remember(pid, (), tenant("red"), start + Duration::from_millis(20));
        }
        // Full again, with 4 expired by now: only it goes.
        recent.remember(7, (), Holder::Others, start + Duration::from_millis(1015));
        assert_eq!(recent.len(), 3);
        assert_eq!(recent.holder(4, start + Duration::from_millis(1015), |_| true), None);
        assert_eq!(recent.holder(7, start + Duration::from_millis(1015), |_| true), Some(Holder::Others));
        // Remembering a pid again replaces its entry.
        recent.remember(7, (), Holder::Root, start + Duration::from_millis(1016));
        assert_eq!(recent.len(), 3);
        assert_eq!(recent.holder(7, start + Duration::from_millis(1016), |_| true), Some(Holder::Root));
    }

    #[test]
    fn refusals_are_logged_once_per_burst() {
        let start = Instant::now();
        let mut log = BurstLog::new(Duration::from_secs(10));
        let red = Denied::OverCap { holder: tenant("red"), cap: 16 };
        let blue = Denied::OverCap { holder: tenant("blue"), cap: 16 };
        let first = log.refused(&red, start).expect("the first refusal is logged");
        assert!(first.starts_with("refusing connections from tenant red (logged once per 10 s): refused (limit: 16"), "{first}");
        for i in 1..200 {
            assert_eq!(log.refused(&red, start + Duration::from_millis(i)), None);
        }
        // Another holder's burst is its own.
        assert!(log.refused(&blue, start + Duration::from_secs(1)).is_some());
        assert!(log.flush(start + Duration::from_secs(9)).is_empty());
        let lines = log.flush(start + Duration::from_secs(10));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("refused 199 more connections from tenant red in 10.0 s; the last: refused (limit: 16"), "{}", lines[0]);
        // Blue's window ends later; it refused nothing more, so it ends silently.
        assert!(log.flush(start + Duration::from_secs(11)).is_empty());
        // After the window, a refusal starts a new burst and is logged again.
        assert!(log.refused(&red, start + Duration::from_secs(12)).is_some());
        assert_eq!(log.refused(&red, start + Duration::from_secs(13)), None);
        // At shutdown every open burst says what it refused.
        let lines = log.drain(start + Duration::from_secs(14));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].starts_with("refused 1 more connections from tenant red in 2.0 s"), "{}", lines[0]);
        assert!(log.drain(start + Duration::from_secs(15)).is_empty());
    }
}
