//! A tenant's kernel threads 1 and up: starting them before a graph that needs them is switched
//! to, stopping them after, their names and PIDs. Thread 0 lives as long as the tenant and is
//! started by the registry.

use super::sched::Worker;
use super::state::TenantState;
use crate::engine::BuildError;
use crate::portable::cpu_set::CpuSet;
use crate::sys::thread::{CurrentThread, Thread};
use core::sync::atomic::Ordering;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::Arc;

impl TenantState {
    /// Starts threads until the tenant has `count` (thread 0 included). On failure the threads
    /// this call started are stopped again, and the running graph keeps the ones it had.
    pub(super) fn start_workers(self: &Arc<Self>, count: u32) -> Result<(), BuildError> {
        let mut workers = self.workers.lock();
        let home = self.home.lock();
        let had = workers.len();
        let mut started = || -> Result<(), Error> {
            while workers.len() + 1 < count as usize {
                let index = u32::try_from(workers.len() + 1).map_err(|_| EINVAL)?;
                let worker = Arc::new(Worker { state: self.clone(), index }, GFP_KERNEL)?;
                let name = worker_name(self.name(), index)?;
                workers.reserve(1, GFP_KERNEL)?;
                let thread = Thread::start(worker, &name, home.as_ref())?;
                // Cannot fail after the reservation.
                workers.push_within_capacity(thread).map_err(|_| ENOMEM)?;
            }
            Ok(())
        };
        let result = started();
        // A thread started above takes `home` in `account`; stopping it below waits for it to
        // exit, so `home` must be released first or the two wait for each other.
        drop(started);
        drop(home);
        if let Err(e) = result {
            while workers.len() > had {
                drop(workers.pop());
            }
            return Err(BuildError::new(e, format_args!("cannot start the tenant's thread {}", had + 1)));
        }
        Ok(())
    }

    /// Pins every thread of the tenant to `cpus` (`None`: lets them run anywhere), and threads
    /// it starts later ([`TenantState::take_own_cpus`]). Each CPU must be online (the caller
    /// checks). If a thread cannot be moved, the ones already moved go back to the set they
    /// had, which stays the tenant's.
    pub(crate) fn set_cpus(&self, cpus: Option<CpuSet>) -> Result<(), Error> {
        let _changing = self.changing.lock();
        let workers = self.workers.lock();
        let home = self.home.lock();
        let mut current = self.cpus.lock();
        let before = *current;
        let mut others = KVec::with_capacity(workers.len(), GFP_KERNEL)?;
        for task in workers.iter().filter_map(|w| w.task()) {
            others.push(task, GFP_KERNEL)?;
        }
        // Thread 0 is `home` once it has started; a tenant is listed only after that.
        let all = Iterator::chain(home.as_ref().into_iter(), others.iter());
        for (moved, task) in all.clone().enumerate() {
            if let Err(e) = task.set_cpus(cpus.as_ref()) {
                for back in all.clone().take(moved) {
                    // Back to the CPUs it had a moment ago. Should that fail too (a CPU of the
                    // old set went offline since), the thread stays where the kernel put it.
                    if let Err(undo) = back.set_cpus(before.as_ref()) {
                        pr_warn!("vdp: tenant {}: a thread kept its new CPUs ({:?})\n", self.name(), undo);
                    }
                }
                return Err(e);
            }
        }
        *current = cpus;
        Ok(())
    }

    /// Run by each thread of the tenant as it starts: moves it to the tenant's CPUs. Under
    /// `cpus`, so a [`TenantState::set_cpus`] meanwhile either comes after (and moves it again)
    /// or before (and this reads its set). A thread that cannot move stays where the kernel
    /// started it, and says so.
    pub(super) fn take_own_cpus(&self, thread: &CurrentThread<'_>, index: u32) {
        let cpus = self.cpus.lock();
        if let Some(set) = cpus.as_ref() {
            if let Err(e) = thread.set_cpus(Some(set)) {
                pr_warn!("vdp: tenant {} thread {}: cannot move to its CPUs ({:?}); it runs where it started\n", self.name(), index, e);
            }
        }
    }

    /// Stops threads until the tenant has at most `count` (thread 0 always stays). A stopping
    /// thread finishes its pass first.
    pub(super) fn stop_workers_beyond(&self, count: u32) {
        let mut workers = self.workers.lock();
        while workers.len() + 1 > (count.max(1)) as usize {
            drop(workers.pop());
        }
    }

    /// The tenant is going: no install may start threads any more, and threads 1 and up stop.
    pub(super) fn close(&self) {
        let _changing = self.changing.lock();
        self.closed.store(true, Ordering::Relaxed);
        let workers = core::mem::take(&mut *self.workers.lock());
        drop(workers);
        // The engine is told (EPOLLHUP); ring memory still mapped lives until its file closes.
        self.channel.close();
    }

    /// The PIDs of the tenant's threads 1 and up, in order, into `out`; returns how many.
    pub(super) fn worker_pids(&self, out: &mut [u32]) -> usize {
        let workers = self.workers.lock();
        let mut n = 0;
        for (slot, worker) in out.iter_mut().zip(workers.iter()) {
            *slot = u32::try_from(worker.pid()).unwrap_or(0);
            n += 1;
        }
        n
    }
}

/// A thread's name: `vdp-NAME` for thread 0 and `vdp-NAME/N` for the others, the tenant's name
/// shortened so that the whole fits the 15 bytes a task name holds.
pub(super) fn worker_name(tenant: &str, index: u32) -> Result<CString> {
    const NAME_BYTES: usize = 15;
    const PREFIX: &str = "vdp-";
    if index == 0 {
        return CString::try_from_fmt(fmt!("{}{}", PREFIX, tenant));
    }
    let digits = if index < 10 { 1 } else if index < 100 { 2 } else { 3 };
    let room = NAME_BYTES.saturating_sub(PREFIX.len() + 1 + digits);
    // Tenant names are ASCII, so any cut is at a character boundary.
    let short = tenant.get(..room.min(tenant.len())).unwrap_or(tenant);
    CString::try_from_fmt(fmt!("{}{}/{}", PREFIX, short, index))
}
