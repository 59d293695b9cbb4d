//! What replies report about a tenant: its counters, a snapshot of its CPU budget
//! ([`CpuView`]), and a snapshot of the tenant itself ([`TenantView`]).

use super::registry::Tenant;
use super::state::TenantState;
use crate::engine::TENANT_THREADS_MAX;
use crate::portable::cpu_budget::BudgetStats;
use core::sync::atomic::Ordering;

/// A snapshot of a tenant's CPU budget, for STATS.
pub(crate) struct CpuView {
    /// Quota per period in ns, [`crate::portable::cpu_budget::UNLIMITED`] without a limit.
    pub(crate) quota_ns: u64,
    pub(crate) period_ns: u64,
    pub(crate) stats: BudgetStats,
}

impl TenantState {
    pub(crate) fn wakeups(&self) -> u64 {
        self.wakeups.load(Ordering::Relaxed)
    }

    pub(crate) fn task_runs(&self) -> u64 {
        self.task_runs.load(Ordering::Relaxed)
    }

    pub(crate) fn cpu(&self) -> CpuView {
        let budget = self.budget.lock();
        CpuView { quota_ns: budget.quota_ns(), period_ns: budget.period_ns(), stats: budget.stats() }
    }
}

/// A snapshot of one tenant, for replies.
pub(crate) struct TenantView {
    pub(crate) id: u32,
    pub(crate) name: [u8; crate::portable::uapi::TENANT_NAME_MAX],
    pub(crate) name_len: usize,
    /// PIDs of the tenant's threads, thread 0 first; `thread_count` of them are valid.
    thread_pids: [u32; TENANT_THREADS_MAX as usize],
    thread_count: usize,
    pub(crate) tasks_per_yield: u32,
    pub(crate) yield_auto: bool,
    /// The `THREADS` knob (the tenant may run more threads when its graph pins tasks higher).
    pub(crate) threads: u32,
    /// The CPUs its threads are pinned to, `None` for any.
    pub(crate) cpus: Option<crate::portable::cpu_set::CpuSet>,
}

impl TenantView {
    pub(super) fn of(tenant: &Tenant) -> Self {
        let state = tenant.state();
        let (thread_pids, thread_count) = Self::pids(tenant);
        TenantView {
            id: state.id,
            name: state.name,
            name_len: state.name_len,
            thread_pids,
            thread_count,
            tasks_per_yield: state.tasks_per_yield(),
            yield_auto: state.yield_auto(),
            threads: state.threads(),
            cpus: state.cpus(),
        }
    }

    /// The PIDs of `tenant`'s threads, thread 0 first, and how many there are.
    fn pids(tenant: &Tenant) -> ([u32; TENANT_THREADS_MAX as usize], usize) {
        let mut pids = [0; TENANT_THREADS_MAX as usize];
        let mut count = 0;
        if let Some((first, rest)) = pids.split_first_mut() {
            *first = u32::try_from(tenant.thread.pid()).unwrap_or(0);
            count = 1 + tenant.state().worker_pids(rest);
        }
        (pids, count)
    }

    /// The PIDs of the tenant's threads, thread 0 first.
    pub(crate) fn thread_pids(&self) -> &[u32] {
        self.thread_pids.get(..self.thread_count).unwrap_or(&[])
    }

    pub(crate) fn name(&self) -> &str {
        core::str::from_utf8(self.name.get(..self.name_len).unwrap_or(&[])).unwrap_or("")
    }
}
