//! [`TenantState`]: what a tenant's threads and the commands acting on it share.

use super::channel::TenantChannel;
use super::graph::Installed;
use super::registry::TenantError;
use super::sched::Worker;
use crate::portable::cpu_budget::CpuBudget;
use crate::portable::cpu_set::CpuSet;
use crate::portable::uapi::TASKS_PER_YIELD_DEFAULT;
use crate::sys::memcg::Memcg;
use crate::sys::thread::{Doorbell, TaskRef, Thread};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex, SpinLock};
use kernel::{new_mutex, new_spinlock};

/// A tenant's state shared with its thread.
///
/// The locks are taken in the order the [module documentation](super) gives.
///
/// # Invariants
///
/// - `name[..name_len]` is the name the tenant was created with, ASCII (checked by the caller).
/// - `threads`, `workers` and `installed` change only under `changing`.
/// - `closed` is set once, under `changing`, and never cleared; `workers` is empty from then on.
/// - `home` is `None` only until thread 0 has started; it is set once, by the registry.
pub(crate) struct TenantState {
    pub(crate) id: u32,
    pub(super) name: [u8; crate::portable::uapi::TENANT_NAME_MAX],
    pub(super) name_len: usize,
    pub(super) tasks_per_yield: AtomicU32,
    /// Passes sized by time ([`crate::portable::uapi::AUTO_PASS_NS`]) rather than by
    /// `tasks_per_yield`.
    pub(super) yield_auto: AtomicBool,
    /// The `THREADS` knob: how many threads unpinned tasks are spread over. Changed only under
    /// `changing`, so an install and a re-placement never build with different values.
    pub(super) threads: AtomicU32,
    /// Times the thread woke up to run tasks.
    pub(super) wakeups: AtomicU64,
    /// Task runs on the thread, whether they did work or not.
    pub(super) task_runs: AtomicU64,
    /// Rung when work may be waiting: a queue filled, a graph was installed, a parameter changed.
    pub(super) doorbell: Arc<Doorbell>,
    /// The running graph. Replaced whole by an install; readers take a reference and drop the
    /// lock at once, so an install never waits for packet processing.
    pub(super) installed: Pin<KBox<SpinLock<Option<Arc<Installed>>>>>,
    /// Serialises installs and removals of this tenant's graph: a hotswap takes the state of the
    /// graph it replaces, so two at once would each take it and one would lose it.
    pub(super) changing: Pin<KBox<Mutex<()>>>,
    /// Threads 1 and up (thread 0 belongs to [`super::registry::Tenant`]): as many as the running
    /// graph places tasks on, started before the graph that needs them is switched to. Changed
    /// only under `changing`. Each holds a reference to this state, a cycle that
    /// [`TenantState::close`] breaks when the tenant goes.
    pub(super) workers: Pin<KBox<Mutex<KVec<Thread<Worker>>>>>,
    /// Set under `changing` when the tenant is deleted: no install may start threads after it.
    pub(super) closed: AtomicBool,
    /// Thread 0's task, set once it has started: its cgroup is the tenant's, whose `cpu.max`
    /// the budget follows and which threads 1 and up join when they start.
    pub(super) home: Pin<KBox<Mutex<Option<TaskRef>>>>,
    /// What the tenant's threads may still run in this period of its cgroup's `cpu.max`
    /// (`kmod/core/cpu_budget.rs`); every thread charges its passes here.
    pub(super) budget: Pin<KBox<SpinLock<CpuBudget>>>,
    /// The channel to the tenant's container engine and its boundaries' counters; the
    /// boundary elements of its graphs hold it too.
    pub(super) channel: Arc<TenantChannel>,
    /// The operator's cap on everything the tenant's devices send together (`SHAPE_SET`
    /// without a device); each device holds it too (`kmod/device/shaping.rs`).
    pub(super) tx_cap: Arc<crate::device::TenantTxCap>,
    /// The CPUs every thread of the tenant runs on (`None`: any). Changed only under
    /// `changing` with `workers` and `home` held; a thread reads it under this lock as it
    /// starts, so it gets the set before a change or is moved by the change.
    pub(super) cpus: Pin<KBox<Mutex<Option<CpuSet>>>>,
}

impl TenantState {
    /// A fresh state for tenant `id` named `name` (already checked by `valid_tenant_name`), with
    /// no graph and no thread yet.
    pub(super) fn new(id: u32, name: &[u8]) -> Result<Arc<Self>, TenantError> {
        let mut state_name = [0u8; crate::portable::uapi::TENANT_NAME_MAX];
        let name_len = name.len().min(state_name.len());
        state_name
            .get_mut(..name_len)
            .zip(name.get(..name_len))
            .map(|(dst, src)| dst.copy_from_slice(src))
            .ok_or(TenantError::Kernel(EINVAL))?;
        let doorbell = Arc::new(Doorbell::new()?, GFP_KERNEL)?;
        let channel = TenantChannel::new(doorbell.clone())?;
        let state = Arc::new(
            TenantState {
                id,
                name: state_name,
                name_len,
                tasks_per_yield: AtomicU32::new(TASKS_PER_YIELD_DEFAULT),
                yield_auto: AtomicBool::new(true),
                threads: AtomicU32::new(1),
                wakeups: AtomicU64::new(0),
                task_runs: AtomicU64::new(0),
                doorbell,
                installed: KBox::pin_init(new_spinlock!(None, "vdp_tenant_graph"), GFP_KERNEL)?,
                changing: KBox::pin_init(new_mutex!((), "vdp_tenant_install"), GFP_KERNEL)?,
                workers: KBox::pin_init(new_mutex!(KVec::new(), "vdp_tenant_workers"), GFP_KERNEL)?,
                closed: AtomicBool::new(false),
                home: KBox::pin_init(new_mutex!(None, "vdp_tenant_home"), GFP_KERNEL)?,
                budget: KBox::pin_init(new_spinlock!(CpuBudget::new(), "vdp_tenant_budget"), GFP_KERNEL)?,
                channel,
                tx_cap: crate::device::TenantTxCap::new()?,
                cpus: KBox::pin_init(new_mutex!(None, "vdp_tenant_cpus"), GFP_KERNEL)?,
            },
            GFP_KERNEL,
        )?;
        Ok(state)
    }

    pub(crate) fn name(&self) -> &str {
        // The name was checked to be ASCII when the tenant was created.
        core::str::from_utf8(self.name.get(..self.name_len).unwrap_or(&[])).unwrap_or("")
    }

    /// Whether the tenant has been deleted (devices may no longer be added to it).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// The tenant's aggregate transmit cap, which its devices share.
    pub(crate) fn tx_cap(&self) -> Arc<crate::device::TenantTxCap> {
        self.tx_cap.clone()
    }

    /// What wakes the tenant's threads; rung by its devices' receive path.
    pub(crate) fn doorbell(&self) -> Arc<Doorbell> {
        self.doorbell.clone()
    }

    pub(crate) fn tasks_per_yield(&self) -> u32 {
        self.tasks_per_yield.load(Ordering::Relaxed)
    }

    pub(crate) fn yield_auto(&self) -> bool {
        self.yield_auto.load(Ordering::Relaxed)
    }

    pub(crate) fn threads(&self) -> u32 {
        self.threads.load(Ordering::Relaxed)
    }

    /// The CPUs the tenant's threads are pinned to, `None` for any.
    pub(crate) fn cpus(&self) -> Option<CpuSet> {
        *self.cpus.lock()
    }

    /// Runs `f` with the tenant memory it allocates (`GFP_KERNEL_ACCOUNT`) charged to the
    /// memory cgroup of thread 0, the tenant's data-plane cgroup, whichever context calls: an
    /// allocation past that cgroup's `memory.max` fails, and other tenants are not touched.
    /// Takes `home` only to look up the cgroup, so `f` may take it again.
    pub(crate) fn charged<R>(&self, f: impl FnOnce() -> R) -> R {
        let memcg = self.home.lock().as_ref().and_then(Memcg::of);
        let _scope = memcg.as_ref().map(Memcg::charge);
        f()
    }
}
