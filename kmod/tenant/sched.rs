//! What each of a tenant's threads runs: the kthread loop, the stride-scheduled pass over the
//! thread's tasks (tasks per yield, or passes sized by time), and holding the thread to the
//! tenant's CPU budget.

use super::state::TenantState;
use crate::engine::{Graph, WakeAt};
use crate::portable::cpu_budget::Verdict;
use crate::portable::stride::{self, IdleRound, StrideEntry};
use crate::portable::uapi::{AUTO_PASS_NS, TASKS_PER_YIELD_MAX};
use crate::sys::thread::{CurrentThread, TaskRef, ThreadBody};
use crate::sys::time::now_ns;
use crate::sys::trace;
use core::sync::atomic::Ordering;
use kernel::prelude::*;
use kernel::sync::Arc;

/// One of a tenant's threads: thread `index` runs the tasks the graph places on it.
pub(crate) struct Worker {
    pub(super) state: Arc<TenantState>,
    pub(super) index: u32,
}

impl ThreadBody for Worker {
    fn run(&self, thread: &CurrentThread<'_>) {
        let state = &self.state;
        state.take_own_cpus(thread, self.index);
        let mut queue = RunQueue::new();
        let wake = WakeAt::new();
        let mut meter = Meter { last: thread.runtime_ns(true), exact: true };
        while !thread.should_stop() {
            // Read before looking for work: a ring from here on ends the wait below at once.
            let seen = state.doorbell.rings();
            let worked = state.run_pass(self.index, &mut queue, &wake);
            // Asked for by this pass only: a pass that runs the task again asks again.
            let wake_at = wake.take();
            // Every pass is paid for, idle ones too, before the thread goes on or sleeps.
            if state.hold_to_budget(thread, self.index, &mut meter) {
                break;
            }
            if worked {
                // More work is likely: let others run, then go on without sleeping.
                thread.yield_now();
                continue;
            }
            // Nothing did work in a whole pass: sleep until a queue, an install or a handler
            // rings, or until the earliest time a task (held back by a rate) may work again.
            let stop = match wake_at {
                Some(at) => thread.wait_until(&state.doorbell, seen, at),
                None => thread.wait(&state.doorbell, seen),
            };
            if stop {
                break;
            }
            state.wakeups.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl TenantState {
    /// Charges what the calling thread ran since `meter` last looked, and holds it while the
    /// tenant's budget is spent: it sleeps until the period that pays the debt back, then looks
    /// again (the limit may have changed meanwhile). Returns true when the thread must stop.
    /// Each sleep fires `vdp_throttle` for thread `index`.
    fn hold_to_budget(&self, thread: &CurrentThread<'_>, index: u32, meter: &mut Meter) -> bool {
        let runtime = thread.runtime_ns(meter.exact);
        let ran = runtime.saturating_sub(meter.last);
        meter.last = meter.last.max(runtime);
        let mut now = now_ns();
        let mut verdict = self.account(ran, now, meter);
        while let Verdict::ThrottleUntil(until) = verdict {
            if thread.sleep_until(until) {
                return true;
            }
            let woke = now_ns();
            let slept_ns = woke.saturating_sub(now);
            let event = {
                let mut budget = self.budget.lock();
                budget.note_throttled(slept_ns);
                trace::throttle_enabled().then(|| {
                    let stats = budget.stats();
                    trace::Throttle {
                        tenant: self.id,
                        thread: index,
                        slept_ns,
                        throttled_periods: stats.throttled_periods,
                        throttled_ns: stats.throttled_ns,
                        quota_ns: budget.quota_ns(),
                        period_ns: budget.period_ns(),
                    }
                })
            };
            if let Some(event) = event {
                trace::throttle(&event);
            }
            now = woke;
            verdict = self.account(0, now, meter);
        }
        false
    }

    /// Charges `ran` at `now`, first re-reading the cgroup's limit once per period.
    fn account(&self, ran: u64, now: u64, meter: &mut Meter) -> Verdict {
        let limit = if self.budget.lock().needs_refresh(now) {
            self.home.lock().as_ref().map(TaskRef::cpu_limit)
        } else {
            None
        };
        let mut budget = self.budget.lock();
        if let Some((quota, period)) = limit {
            budget.set_limit(quota, period, now);
        }
        let verdict = budget.charge(ran, now);
        // Exact readings cost the runqueue lock: only a limited tenant needs them.
        meter.exact = budget.limited();
        verdict
    }

    /// Runs up to `tasks_per_yield` of thread `thread`'s tasks, chosen by stride scheduling
    /// (tickets from ScheduleInfo, 1024 by default), fewer once every task ran without work;
    /// returns whether any did work. The earliest wake-up time the tasks asked for is left in
    /// `wake`.
    fn run_pass(&self, thread: u32, queue: &mut RunQueue, wake: &WakeAt) -> bool {
        let Some(installed) = self.installed() else { return false };
        let graph = &installed.graph;
        if queue.serial != graph.serial() && !queue.load(graph, thread) {
            // No memory for the run queue: report work so that the thread yields and tries
            // again, rather than sleeping with tasks that may be waiting.
            return true;
        }
        let mut worked = false;
        let mut runs = 0u32;
        queue.round.restart();
        let start = now_ns();
        // With a CPU limit, the pass stops once it may have used what the budget has left.
        let allowance = self.budget.lock().allowance(start);
        let auto = self.yield_auto();
        let most = if auto { TASKS_PER_YIELD_MAX } else { self.tasks_per_yield() };
        while runs < most && !queue.round.all_idle(&queue.entries) {
            let elapsed = now_ns().saturating_sub(start);
            // Cut short by time (the auto pass length, or the CPU budget), not idle: reported
            // as work so that the thread is held to its budget and then goes on, instead of
            // sleeping until a doorbell ring while its tasks have work. The clock may be coarse
            // (jiffies), so a tick can end a pass before its first task.
            if (auto && elapsed >= AUTO_PASS_NS) || allowance.is_some_and(|left| elapsed >= left) {
                worked = true;
                break;
            }
            let Some(index) = stride::next(&queue.entries) else { break };
            runs += 1;
            let did = graph.run_task(index as usize, thread, wake);
            worked |= did;
            queue.round.record(&mut queue.entries, did);
            stride::advance(&mut queue.entries);
        }
        self.task_runs.fetch_add(u64::from(runs), Ordering::Relaxed);
        worked
    }
}

/// One thread's stride run queue, kept across passes and rebuilt when the graph changes.
struct RunQueue {
    /// [`Graph::serial`] of the graph the entries are for; 0 for none.
    serial: u64,
    entries: KVec<StrideEntry>,
    round: IdleRound,
}

impl RunQueue {
    fn new() -> Self {
        RunQueue { serial: 0, entries: KVec::new(), round: IdleRound::new() }
    }

    /// Fills the queue with `thread`'s tasks of `graph`, each starting afresh; false when
    /// memory is short (the queue is then empty and is loaded again next time).
    fn load(&mut self, graph: &Graph, thread: u32) -> bool {
        self.serial = 0;
        self.entries.clear();
        let own = graph.thread_tasks(thread);
        if self.entries.reserve(own.len(), GFP_KERNEL).is_err() {
            return false;
        }
        for &index in own {
            // Within the capacity just reserved.
            if self.entries.push_within_capacity(StrideEntry::new(index, graph.task_tickets(index))).is_err() {
                return false;
            }
        }
        stride::arrange(&mut self.entries);
        self.serial = graph.serial();
        true
    }
}

/// Where a thread's CPU time stood when it last charged its tenant's budget.
struct Meter {
    last: u64,
    exact: bool,
}
