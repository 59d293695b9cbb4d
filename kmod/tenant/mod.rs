//! Tenants: one per virtual network, each with its own kernel thread.
//!
//! The registry is a global mutex-protected list, small (at most `TENANTS_MAX` entries) and touched
//! only by control-plane commands; the data path never takes its lock.

use crate::sys::memcg::tenant_gfp;
use crate::engine::{BuildError, Graph, WakeAt, TENANT_THREADS_MAX};
use crate::portable::cpu_budget::{BudgetStats, CpuBudget, Verdict};
use crate::portable::stride::{self, IdleRound, StrideEntry};
use crate::portable::uapi::{AUTO_PASS_NS, TASKS_PER_YIELD_DEFAULT, TASKS_PER_YIELD_MAX, TENANTS_MAX};
use crate::sys::memcg::Memcg;
use crate::sys::thread::{CurrentThread, Doorbell, TaskRef, Thread, ThreadBody};
use crate::sys::time::now_ns;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::str::CString;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex, SpinLock, UniqueArc};
use kernel::{new_mutex, new_spinlock};

kernel::sync::global_lock! {
    // SAFETY: `init` is called from module init before the netlink family, the only user, is
    // registered.
    unsafe(uninit) static TENANTS: Mutex<TenantList> = TenantList { tenants: KVec::new() };
}

/// Must run once, from module init, before any other function here.
pub(crate) fn init() {
    // SAFETY: called exactly once, from module init (see the static's comment).
    unsafe { TENANTS.init() };
}

pub(crate) struct TenantList {
    tenants: KVec<Tenant>,
}

/// A tenant's state shared with its thread.
///
/// # Lock order
///
/// `changing`, then `workers`, then `home`, then `installed` or `budget`. `home` is held only
/// to read or set thread 0's task ([`TenantState::charged`] takes it and lets go before it runs
/// its closure), and `installed` and `budget` are spinlocks held for a few instructions with
/// nothing else taken inside them.
pub(crate) struct TenantState {
    pub(crate) id: u32,
    name: [u8; crate::portable::uapi::TENANT_NAME_MAX],
    name_len: usize,
    tasks_per_yield: AtomicU32,
    /// Passes sized by time ([`AUTO_PASS_NS`]) rather than by `tasks_per_yield`.
    yield_auto: AtomicBool,
    /// The `THREADS` knob: how many threads unpinned tasks are spread over. Changed only under
    /// `changing`, so an install and a re-placement never build with different values.
    threads: AtomicU32,
    /// Times the thread woke up to run tasks.
    wakeups: AtomicU64,
    /// Task runs on the thread, whether they did work or not.
    task_runs: AtomicU64,
    /// Rung when work may be waiting: a queue filled, a graph was installed, a parameter changed.
    doorbell: Arc<Doorbell>,
    /// The running graph. Replaced whole by an install; readers take a reference and drop the
    /// lock at once, so an install never waits for packet processing.
    installed: Pin<KBox<SpinLock<Option<Arc<Installed>>>>>,
    /// Serialises installs and removals of this tenant's graph: a hotswap takes the state of the
    /// graph it replaces, so two at once would each take it and one would lose it.
    changing: Pin<KBox<Mutex<()>>>,
    /// Threads 1 and up (thread 0 belongs to [`Tenant`]): as many as the running graph places
    /// tasks on, started before the graph that needs them is switched to. Changed only under
    /// `changing`. Each holds a reference to this state, a cycle that [`TenantState::close`]
    /// breaks when the tenant goes.
    workers: Pin<KBox<Mutex<KVec<Thread<Worker>>>>>,
    /// Set under `changing` when the tenant is deleted: no install may start threads after it.
    closed: AtomicBool,
    /// Thread 0's task, set once it has started: its cgroup is the tenant's, whose `cpu.max`
    /// the budget follows and which threads 1 and up join when they start.
    home: Pin<KBox<Mutex<Option<TaskRef>>>>,
    /// What the tenant's threads may still run in this period of its cgroup's `cpu.max`
    /// (`kmod/core/cpu_budget.rs`); every thread charges its passes here.
    budget: Pin<KBox<SpinLock<CpuBudget>>>,
}

/// A snapshot of a tenant's CPU budget, for STATS.
pub(crate) struct CpuView {
    /// Quota per period in ns, [`crate::portable::cpu_budget::UNLIMITED`] without a limit.
    pub(crate) quota_ns: u64,
    pub(crate) period_ns: u64,
    pub(crate) stats: BudgetStats,
}

/// A graph together with the blob it was built from (what `GRAPH_GET` returns).
pub(crate) struct Installed {
    pub(crate) graph: Graph,
    pub(crate) blob: KVVec<u8>,
}

impl TenantState {
    pub(crate) fn name(&self) -> &str {
        // The name was checked to be ASCII when the tenant was created.
        core::str::from_utf8(self.name.get(..self.name_len).unwrap_or(&[])).unwrap_or("")
    }

    /// Whether the tenant has been deleted (devices may no longer be added to it).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
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

    /// Charges what the calling thread ran since `meter` last looked, and holds it while the
    /// tenant's budget is spent: it sleeps until the period that pays the debt back, then looks
    /// again (the limit may have changed meanwhile). Returns true when the thread must stop.
    fn hold_to_budget(&self, thread: &CurrentThread<'_>, meter: &mut Meter) -> bool {
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
            self.budget.lock().note_throttled(woke.saturating_sub(now));
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

    /// Runs `change` (a routing-table write and its announcement) in order with the tenant's
    /// other changes, so that the events group reports them in the order they took effect.
    pub(crate) fn change_table<R>(&self, change: impl FnOnce() -> R) -> R {
        let _changing = self.changing.lock();
        change()
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

    /// The running graph, if any.
    pub(crate) fn installed(&self) -> Option<Arc<Installed>> {
        self.installed.lock().clone()
    }

    /// Builds `blob` completely, then switches to it. On failure the running graph is untouched.
    /// Elements that keep their name and class take over the state of the ones they replace.
    /// `announce` runs right after the switch, in order with the tenant's other changes.
    ///
    /// The threads the new graph places tasks on are started before the switch; threads it no
    /// longer uses are stopped after it.
    pub(crate) fn install(self: &Arc<Self>, blob: &[u8], announce: impl FnOnce(&Installed)) -> Result<Arc<Installed>, BuildError> {
        let _changing = self.changing.lock();
        self.charged(|| self.install_locked(blob, announce))
    }

    /// Sets the `THREADS` knob. A running graph is rebuilt from its blob with the new placement
    /// and swapped in exactly as an install would (state carried over, threads started before
    /// the switch and stopped after it), so a task never runs on two threads of one graph. On
    /// failure the knob and the running graph stay as they were.
    pub(crate) fn set_threads(self: &Arc<Self>, threads: u32) -> Result<(), BuildError> {
        let _changing = self.changing.lock();
        let before = self.threads.swap(threads, Ordering::Relaxed);
        if before == threads {
            return Ok(());
        }
        let Some(running) = self.installed() else { return Ok(()) };
        let result = self.charged(|| self.install_locked(&running.blob, |_| {}));
        if result.is_err() {
            self.threads.store(before, Ordering::Relaxed);
        }
        result.map(|_| ())
    }

    /// [`TenantState::install`] with `changing` held by the caller.
    fn install_locked(self: &Arc<Self>, blob: &[u8], announce: impl FnOnce(&Installed)) -> Result<Arc<Installed>, BuildError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(BuildError::new(ENOENT, format_args!("the tenant is being deleted")));
        }
        let graph = Graph::build(blob, self.name(), self.id, self.doorbell.clone(), self.threads())?;
        self.start_workers(graph.thread_count())?;
        let mut copy = KVVec::with_capacity(blob.len(), tenant_gfp())?;
        copy.extend_from_slice(blob, tenant_gfp())?;
        let mut fresh = UniqueArc::new(Installed { graph, blob: copy }, tenant_gfp())?;
        // Nothing can fail from here on, so the old graph is only touched by an install that
        // will happen. It keeps running during the transfer; see `Element::take_state`.
        let old = self.installed();
        if let Some(old) = &old {
            fresh.graph.adopt_state(&old.graph);
        }
        let installed: Arc<Installed> = fresh.into();
        // Under `changing`, what the swap replaces is `old`.
        let replaced = self.installed.lock().replace(installed.clone());
        self.doorbell.ring();
        self.stop_workers_beyond(installed.graph.thread_count());
        announce(&installed);
        // The old graph is freed when its last user (possibly the thread, mid-pass) lets go.
        drop(replaced);
        drop(old);
        Ok(installed)
    }

    /// Removes the running graph; returns whether there was one. `announce` runs after a removal,
    /// in order with the tenant's other changes.
    pub(crate) fn remove_graph(&self, announce: impl FnOnce()) -> bool {
        let _changing = self.changing.lock();
        let old = self.installed.lock().take();
        self.stop_workers_beyond(1);
        let removed = old.is_some();
        if removed {
            announce();
        }
        drop(old);
        removed
    }

    /// Starts threads until the tenant has `count` (thread 0 included). On failure the threads
    /// this call started are stopped again, and the running graph keeps the ones it had.
    fn start_workers(self: &Arc<Self>, count: u32) -> Result<(), BuildError> {
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
        if let Err(e) = result {
            while workers.len() > had {
                drop(workers.pop());
            }
            return Err(BuildError::new(e, format_args!("cannot start the tenant's thread {}", had + 1)));
        }
        Ok(())
    }

    /// Stops threads until the tenant has at most `count` (thread 0 always stays). A stopping
    /// thread finishes its pass first.
    fn stop_workers_beyond(&self, count: u32) {
        let mut workers = self.workers.lock();
        while workers.len() + 1 > (count.max(1)) as usize {
            drop(workers.pop());
        }
    }

    /// The tenant is going: no install may start threads any more, and threads 1 and up stop.
    fn close(&self) {
        let _changing = self.changing.lock();
        self.closed.store(true, Ordering::Relaxed);
        let workers = core::mem::take(&mut *self.workers.lock());
        drop(workers);
    }

    /// The PIDs of the tenant's threads 1 and up, in order, into `out`; returns how many.
    fn worker_pids(&self, out: &mut [u32]) -> usize {
        let workers = self.workers.lock();
        let mut n = 0;
        for (slot, worker) in out.iter_mut().zip(workers.iter()) {
            *slot = u32::try_from(worker.pid()).unwrap_or(0);
            n += 1;
        }
        n
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

/// One of a tenant's threads: thread `index` runs the tasks the graph places on it.
pub(crate) struct Worker {
    state: Arc<TenantState>,
    index: u32,
}

/// A thread's name: `vdp-NAME` for thread 0 and `vdp-NAME/N` for the others, the tenant's name
/// shortened so that the whole fits the 15 bytes a task name holds.
fn worker_name(tenant: &str, index: u32) -> Result<CString> {
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

impl ThreadBody for Worker {
    fn run(&self, thread: &CurrentThread<'_>) {
        let state = &self.state;
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
            if state.hold_to_budget(thread, &mut meter) {
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

pub(crate) struct Tenant {
    /// Thread 0, which lives as long as the tenant.
    thread: Thread<Worker>,
}

impl Tenant {
    pub(crate) fn state(&self) -> &Arc<TenantState> {
        &self.thread.body().state
    }
}

impl Drop for Tenant {
    fn drop(&mut self) {
        // Threads 1 and up first, which also frees the state they hold; thread 0 stops when the
        // field is dropped after this.
        self.state().close();
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
}

impl TenantView {
    fn of(tenant: &Tenant) -> Self {
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

/// Why a tenant command was refused.
pub(crate) enum TenantError {
    IdTaken,
    NameTaken,
    TooMany,
    NoSuchTenant,
    Kernel(Error),
}

impl From<Error> for TenantError {
    fn from(e: Error) -> Self {
        TenantError::Kernel(e)
    }
}

impl From<kernel::alloc::AllocError> for TenantError {
    fn from(_: kernel::alloc::AllocError) -> Self {
        TenantError::Kernel(ENOMEM)
    }
}

/// Number of tenants currently installed.
pub(crate) fn count() -> u32 {
    u32::try_from(TENANTS.lock().tenants.len()).unwrap_or(u32::MAX)
}

/// Creates a tenant and starts its thread. `name` must already satisfy `valid_tenant_name`.
pub(crate) fn create(id: u32, name: &[u8]) -> Result<TenantView, TenantError> {
    let mut list = TENANTS.lock();
    if list.tenants.iter().any(|t| t.state().id == id) {
        return Err(TenantError::IdTaken);
    }
    if list.tenants.iter().any(|t| t.state().name().as_bytes() == name) {
        return Err(TenantError::NameTaken);
    }
    if list.tenants.len() >= TENANTS_MAX as usize {
        return Err(TenantError::TooMany);
    }
    let mut state_name = [0u8; crate::portable::uapi::TENANT_NAME_MAX];
    let name_len = name.len().min(state_name.len());
    state_name
        .get_mut(..name_len)
        .zip(name.get(..name_len))
        .map(|(dst, src)| dst.copy_from_slice(src))
        .ok_or(TenantError::Kernel(EINVAL))?;
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
            doorbell: Arc::new(Doorbell::new()?, GFP_KERNEL)?,
            installed: KBox::pin_init(new_spinlock!(None, "vdp_tenant_graph"), GFP_KERNEL)?,
            changing: KBox::pin_init(new_mutex!((), "vdp_tenant_install"), GFP_KERNEL)?,
            workers: KBox::pin_init(new_mutex!(KVec::new(), "vdp_tenant_workers"), GFP_KERNEL)?,
            closed: AtomicBool::new(false),
            home: KBox::pin_init(new_mutex!(None, "vdp_tenant_home"), GFP_KERNEL)?,
            budget: KBox::pin_init(new_spinlock!(CpuBudget::new(), "vdp_tenant_budget"), GFP_KERNEL)?,
        },
        GFP_KERNEL,
    )?;
    let thread_name = worker_name(state.name(), 0)?;
    let worker = Arc::new(Worker { state, index: 0 }, GFP_KERNEL)?;
    let thread = Thread::start(worker, &thread_name, None)?;
    *thread.body().state.home.lock() = thread.task();
    let tenant = Tenant { thread };
    let view = TenantView::of(&tenant);
    list.tenants.reserve(1, GFP_KERNEL)?;
    // Cannot fail after the reservation; on failure the tenant (and its thread) would be dropped.
    list.tenants.push_within_capacity(tenant).map_err(|_| TenantError::Kernel(ENOMEM))?;
    Ok(view)
}

/// Deletes a tenant; its thread is stopped after the registry lock is released. Returns what the
/// tenant was, and whether it had a graph.
pub(crate) fn delete(id: u32) -> Result<(TenantView, bool), TenantError> {
    let removed = {
        let mut list = TENANTS.lock();
        let index = list
            .tenants
            .iter()
            .position(|t| t.state().id == id)
            .ok_or(TenantError::NoSuchTenant)?;
        list.tenants.remove(index).map_err(|_| TenantError::NoSuchTenant)?
    };
    let view = TenantView::of(&removed);
    let had_graph = removed.state().installed().is_some();
    drop(removed);
    Ok((view, had_graph))
}

/// Every tenant with id `from` or above (or just tenant `only`), in id order, with its shared
/// state: a snapshot for the STATS dump, taken without holding the registry lock afterwards.
pub(crate) fn snapshot(from: u32, only: Option<u32>) -> Result<KVec<(TenantView, Arc<TenantState>)>, TenantError> {
    let list = TENANTS.lock();
    let mut out = KVec::with_capacity(list.tenants.len(), GFP_KERNEL)?;
    for tenant in list.tenants.iter() {
        let id = tenant.state().id;
        if id >= from && only.is_none_or(|only| only == id) {
            out.push((TenantView::of(tenant), tenant.state().clone()), GFP_KERNEL)?;
        }
    }
    drop(list);
    out.sort_unstable_by_key(|(view, _)| view.id);
    Ok(out)
}

/// The shared state of tenant `id`, for commands that work on its graph.
pub(crate) fn find(id: u32) -> Result<Arc<TenantState>, TenantError> {
    let list = TENANTS.lock();
    list.tenants
        .iter()
        .find(|t| t.state().id == id)
        .map(|t| t.state().clone())
        .ok_or(TenantError::NoSuchTenant)
}

pub(crate) fn get(id: u32) -> Result<TenantView, TenantError> {
    let list = TENANTS.lock();
    list.tenants
        .iter()
        .find(|t| t.state().id == id)
        .map(TenantView::of)
        .ok_or(TenantError::NoSuchTenant)
}

/// Sets a fixed `tasks` per pass (turning the time-sized passes off), or with `tasks` `None`
/// turns them on or off as `auto` says.
pub(crate) fn set_tasks_per_yield(id: u32, tasks: Option<u32>, auto: Option<bool>) -> Result<TenantView, TenantError> {
    let list = TENANTS.lock();
    let tenant = list.tenants.iter().find(|t| t.state().id == id).ok_or(TenantError::NoSuchTenant)?;
    if let Some(tasks) = tasks {
        tenant.state().tasks_per_yield.store(tasks, Ordering::Relaxed);
    }
    tenant.state().yield_auto.store(auto.unwrap_or(false), Ordering::Relaxed);
    tenant.state().doorbell.ring();
    Ok(TenantView::of(tenant))
}

/// Stops every tenant thread; for module unload, after the netlink family is gone.
pub(crate) fn shutdown() {
    let tenants = core::mem::take(&mut TENANTS.lock().tenants);
    drop(tenants);
}
