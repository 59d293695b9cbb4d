//! Stride scheduling of a thread's tasks, as Click's kernel threads do it: each task holds
//! tickets (1024 by default, `ScheduleInfo` changes them), and a task with twice the tickets of
//! another runs twice as often.
//!
//! Every task keeps a *pass*; the thread runs the task with the lowest pass and then advances its
//! pass by its *stride*, a constant divided by its tickets. The run queue is a binary min-heap on
//! (pass, task) in a caller-owned slice, so choosing costs O(1) and advancing O(log n), and equal
//! passes fall back to task order, which makes equal tickets plain round-robin.

/// Tickets of a task that no `ScheduleInfo` mentions.
pub const DEFAULT_TICKETS: u32 = 1024;
/// The numerator of every stride; a multiple of every ticket count up to 2^16, so strides are
/// exact.
const STRIDE_ONE: u64 = 1 << 32;

/// One task in a run queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrideEntry {
    pass: u64,
    stride: u64,
    task: u32,
    /// The [`IdleRound`] epoch in which the task last ran without work.
    idle_in: u64,
}

impl StrideEntry {
    /// Task `task` with `tickets` tickets (0 counts as 1).
    pub fn new(task: u32, tickets: u32) -> StrideEntry {
        let stride = STRIDE_ONE.checked_div(u64::from(tickets.max(1))).unwrap_or(STRIDE_ONE);
        StrideEntry { pass: stride, stride, task, idle_in: 0 }
    }

    pub fn task(&self) -> u32 {
        self.task
    }

    fn key(&self) -> (u64, u32) {
        (self.pass, self.task)
    }
}

/// Tells when every task of a run queue has run without work since any task last did some, so a
/// thread can end its pass early instead of running idle tasks again and again. With unequal
/// tickets one task may run several times before another runs once, so counting idle runs in a
/// row is not enough: this counts distinct tasks.
#[derive(Debug)]
pub struct IdleRound {
    epoch: u64,
    idle: usize,
}

impl Default for IdleRound {
    fn default() -> Self {
        IdleRound::new()
    }
}

impl IdleRound {
    pub fn new() -> IdleRound {
        // Entries start marked with epoch 0, which is never current.
        IdleRound { epoch: 1, idle: 0 }
    }

    /// Starts counting afresh, e.g. at the start of a pass.
    pub fn restart(&mut self) {
        self.epoch = self.epoch.wrapping_add(1).max(1);
        self.idle = 0;
    }

    /// Records how the run of the task [`next`] returned went; call before [`advance`].
    pub fn record(&mut self, queue: &mut [StrideEntry], worked: bool) {
        if worked {
            self.restart();
        } else if let Some(first) = queue.first_mut() {
            if first.idle_in != self.epoch {
                first.idle_in = self.epoch;
                self.idle += 1;
            }
        }
    }

    /// Whether every task in `queue` ran without work since the count restarted.
    pub fn all_idle(&self, queue: &[StrideEntry]) -> bool {
        self.idle >= queue.len()
    }
}

/// Orders `queue` into a run queue; call once after filling it.
pub fn arrange(queue: &mut [StrideEntry]) {
    for start in (0..queue.len() / 2).rev() {
        sift_down(queue, start);
    }
}

/// The task to run next, if any.
pub fn next(queue: &[StrideEntry]) -> Option<u32> {
    queue.first().map(StrideEntry::task)
}

/// Charges the task [`next`] returned for one run, and reorders the queue.
pub fn advance(queue: &mut [StrideEntry]) {
    if let Some(first) = queue.first_mut() {
        first.pass = first.pass.saturating_add(first.stride);
        sift_down(queue, 0);
    }
}

fn sift_down(queue: &mut [StrideEntry], mut at: usize) {
    loop {
        let left = at.saturating_mul(2).saturating_add(1);
        let right = left.saturating_add(1);
        let key = |i: usize| queue.get(i).map(StrideEntry::key);
        let Some(here) = key(at) else { return };
        let mut smallest = (at, here);
        for child in [left, right] {
            if let Some(k) = key(child) {
                if k < smallest.1 {
                    smallest = (child, k);
                }
            }
        }
        if smallest.0 == at {
            return;
        }
        // `at` < `smallest.0`, both in bounds: the range holds both ends.
        if let Some([parent, .., child]) = queue.get_mut(at..=smallest.0) {
            core::mem::swap(parent, child);
        }
        at = smallest.0;
    }
}
