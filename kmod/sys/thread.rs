//! Kernel threads: each tenant's data plane runs on threads of its own.

use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::sync::Arc;
use crate::portable::cpu_set::CpuSet;

/// The C handle (`struct vdp_thread` in vdp_thread.c); opaque to Rust.
#[repr(C)]
pub(crate) struct RawThread {
    _opaque: [u8; 0],
}

/// A kernel `struct task_struct`; opaque to Rust.
#[repr(C)]
pub(crate) struct RawTask {
    _opaque: [u8; 0],
}

/// The C doorbell (`struct vdp_doorbell`); opaque to Rust.
#[repr(C)]
pub(crate) struct RawDoorbell {
    _opaque: [u8; 0],
}

type RawBody = unsafe extern "C" fn(thread: *mut RawThread, arg: *mut c_void) -> c_int;

extern "C" {
    fn vdp_thread_start(
        body: RawBody,
        arg: *mut c_void,
        name: *const c_char,
        cgroups_of: *mut RawTask,
        out: *mut *mut RawThread,
    ) -> c_int;
    fn vdp_thread_task(thread: *mut RawThread) -> *mut RawTask;
    fn vdp_task_put(task: *mut RawTask);
    fn vdp_task_cpu_limit(task: *mut RawTask, quota_ns: *mut u64, period_ns: *mut u64);
    fn vdp_task_set_cpus(task: *mut RawTask, words: *const u64, nwords: c_uint) -> c_int;
    fn vdp_cpu_online(cpu: c_uint) -> bool;
    fn vdp_thread_set_own_cpus(words: *const u64, nwords: c_uint) -> c_int;
    fn vdp_thread_runtime_ns(exact: bool) -> u64;
    fn vdp_thread_sleep_until(deadline_ns: u64) -> bool;
    fn vdp_thread_stop(thread: *mut RawThread);
    fn vdp_thread_should_stop() -> bool;
    fn vdp_doorbell_new() -> *mut RawDoorbell;
    fn vdp_doorbell_free(bell: *mut RawDoorbell);
    fn vdp_doorbell_ring(bell: *mut RawDoorbell);
    fn vdp_doorbell_rings(bell: *mut RawDoorbell) -> u32;
    fn vdp_doorbell_wait(bell: *mut RawDoorbell, seen: u32) -> bool;
    fn vdp_doorbell_wait_until(bell: *mut RawDoorbell, seen: u32, deadline_ns: u64) -> bool;
    fn vdp_thread_yield();
    fn vdp_thread_pid(thread: *const RawThread) -> c_int;
}

/// What a thread runs. `run` returns when the thread is asked to stop.
pub(crate) trait ThreadBody: Send + Sync + 'static {
    fn run(&self, thread: &CurrentThread<'_>);
}

/// A running kernel thread. Dropping it stops the thread and waits for its body to return.
///
/// Invariant: `raw` is a live handle from `vdp_thread_start`, stopped only in `drop`; `body` is
/// the object the thread's body borrows, kept alive here until the thread has stopped.
pub(crate) struct Thread<T: ThreadBody> {
    raw: NonNull<RawThread>,
    body: Arc<T>,
}

// SAFETY: the handle may be used from any thread: kick and stop are thread-safe in C, and `T` is
// `Send + Sync`.
unsafe impl<T: ThreadBody> Send for Thread<T> {}
// SAFETY: as above; shared access only kicks or reads the pid.
unsafe impl<T: ThreadBody> Sync for Thread<T> {}

unsafe extern "C" fn trampoline<T: ThreadBody>(raw: *mut RawThread, arg: *mut c_void) -> c_int {
    let Some(raw) = NonNull::new(raw) else { return -(EINVAL.to_errno().abs()) };
    // SAFETY: `arg` is `Arc::as_ptr` of the body that the owning `Thread` keeps alive until
    // `vdp_thread_stop` has returned, which is after this function returns.
    let body = unsafe { &*arg.cast::<T>() };
    body.run(&CurrentThread { _raw: raw, _not_send: PhantomData });
    0
}

impl<T: ThreadBody> Thread<T> {
    /// Starts a thread named `name` (truncated by the kernel to 15 bytes) running `body`. With
    /// `cgroups_of`, the thread joins that task's cgroups before it first runs. The kernel
    /// starts it on its housekeeping CPUs; a body that must run elsewhere moves itself
    /// ([`CurrentThread::set_cpus`]).
    pub(crate) fn start(body: Arc<T>, name: &CStr, cgroups_of: Option<&TaskRef>) -> Result<Self> {
        let mut raw: *mut RawThread = core::ptr::null_mut();
        let arg = Arc::as_ptr(&body).cast_mut().cast::<c_void>();
        let like = cgroups_of.map_or(core::ptr::null_mut(), |task| task.raw.as_ptr());
        // SAFETY: `trampoline::<T>` matches the body signature; `arg` stays valid for the thread's
        // life (the returned `Thread` owns `body`); `name` is NUL-terminated; `like` is NULL or a
        // task the `TaskRef` holds a reference to; `raw` is writable.
        to_result(unsafe { vdp_thread_start(trampoline::<T>, arg, name.as_ptr().cast(), like, &mut raw) })?;
        let raw = NonNull::new(raw).ok_or(EINVAL)?;
        Ok(Thread { raw, body })
    }

    pub(crate) fn pid(&self) -> i32 {
        // SAFETY: `raw` is live (type invariant); the task is pinned by a reference in C.
        unsafe { vdp_thread_pid(self.raw.as_ptr()) }
    }

    pub(crate) fn body(&self) -> &Arc<T> {
        &self.body
    }

    /// A reference to the thread's task that may outlive the thread (`None` cannot happen: the
    /// handle pins its task).
    pub(crate) fn task(&self) -> Option<TaskRef> {
        // SAFETY: `raw` is live (type invariant); the C side takes a new task reference, which
        // the returned `TaskRef` owns.
        let task = unsafe { vdp_thread_task(self.raw.as_ptr()) };
        NonNull::new(task).map(|raw| TaskRef { raw })
    }
}

/// Whether `cpu` is a CPU of this machine that is online now. Any context.
pub(crate) fn cpu_online(cpu: u32) -> bool {
    // SAFETY: reads the kernel's CPU masks; any CPU number is accepted.
    unsafe { vdp_cpu_online(cpu) }
}

/// `cpus` as the C side takes it: NULL for any CPU, else its words and how many.
fn mask_words(cpus: Option<&CpuSet>) -> Result<(*const u64, c_uint)> {
    match cpus {
        None => Ok((core::ptr::null(), 0)),
        Some(set) => {
            let words = set.words();
            Ok((words.as_ptr(), c_uint::try_from(words.len()).map_err(|_| EINVAL)?))
        }
    }
}

/// A counted reference to a kernel task (possibly one that has exited).
///
/// Invariant: `raw` holds one task reference, taken by `vdp_thread_task` and dropped in `drop`.
pub(crate) struct TaskRef {
    raw: NonNull<RawTask>,
}

// SAFETY: a task reference may be used and dropped from any thread; the C calls made through it
// are safe in any context.
unsafe impl Send for TaskRef {}
// SAFETY: as above; shared use only reads.
unsafe impl Sync for TaskRef {}

impl TaskRef {
    /// The referenced task, for other wrappers in `sys`; valid while `self` lives.
    pub(super) fn as_raw(&self) -> *mut RawTask {
        self.raw.as_ptr()
    }

    /// Lets the task run only on `cpus`, or on any CPU with `None`. Each CPU of `cpus` must be
    /// online ([`cpu_online`]); the kernel refuses a set with none usable (`EINVAL`). Sleeps.
    pub(crate) fn set_cpus(&self, cpus: Option<&CpuSet>) -> Result {
        let (words, nwords) = mask_words(cpus)?;
        // SAFETY: `raw` is a referenced task (type invariant); `words` is NULL or `nwords` words
        // borrowed from `cpus` for the call, which only reads them.
        to_result(unsafe { vdp_task_set_cpus(self.raw.as_ptr(), words, nwords) })
    }

    /// The `cpu.max` that holds the task, as (quota, period) in ns; the quota is
    /// [`crate::portable::cpu_budget::UNLIMITED`] without a limit. Any context.
    pub(crate) fn cpu_limit(&self) -> (u64, u64) {
        let (mut quota, mut period) = (0u64, 0u64);
        // SAFETY: `raw` is a referenced task (type invariant); both outputs are writable.
        unsafe { vdp_task_cpu_limit(self.raw.as_ptr(), &mut quota, &mut period) };
        (quota, period)
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        // SAFETY: drops the one reference this value holds (type invariant).
        unsafe { vdp_task_put(self.raw.as_ptr()) };
    }
}

impl<T: ThreadBody> Drop for Thread<T> {
    fn drop(&mut self) {
        // SAFETY: `raw` is live and this is its only stop (type invariant); afterwards the body
        // no longer runs, so `self.body` may be dropped.
        unsafe { vdp_thread_stop(self.raw.as_ptr()) };
    }
}

/// The running thread, as seen from inside its body. Not `Send`: only the thread itself waits.
pub(crate) struct CurrentThread<'a> {
    _raw: NonNull<RawThread>,
    _not_send: PhantomData<&'a *mut ()>,
}

impl CurrentThread<'_> {
    /// Sleeps until `bell` has rung since [`Doorbell::rings`] returned `seen`, or the thread is
    /// asked to stop; an idle thread costs no CPU. Returns true when the thread must stop.
    pub(crate) fn wait(&self, bell: &Doorbell, seen: u32) -> bool {
        // SAFETY: `bell.raw` is live (Doorbell invariant) and we are a kthread, as
        // kthread_should_stop inside requires.
        unsafe { vdp_doorbell_wait(bell.raw.as_ptr(), seen) }
    }

    /// Like [`CurrentThread::wait`], but also returns when the monotonic clock
    /// ([`crate::sys::time::now_ns`]) reaches `deadline_ns`; at once if it has passed.
    pub(crate) fn wait_until(&self, bell: &Doorbell, seen: u32, deadline_ns: u64) -> bool {
        // SAFETY: `bell.raw` is live (Doorbell invariant) and we are a kthread, as
        // kthread_should_stop inside requires.
        unsafe { vdp_doorbell_wait_until(bell.raw.as_ptr(), seen, deadline_ns) }
    }

    /// Whether the thread has been asked to stop; a busy thread must check between passes.
    pub(crate) fn should_stop(&self) -> bool {
        // SAFETY: called from the kthread itself, as kthread_should_stop requires.
        unsafe { vdp_thread_should_stop() }
    }

    /// CPU time this thread has run, in ns. `exact` includes the slice running now (taking the
    /// runqueue lock); otherwise the figure may lag by up to a tick, caught up by the next read.
    pub(crate) fn runtime_ns(&self, exact: bool) -> u64 {
        // SAFETY: reads the calling task's own accounting; we are that task.
        unsafe { vdp_thread_runtime_ns(exact) }
    }

    /// Sleeps until the monotonic clock reaches `deadline_ns`, whatever rings; returns true
    /// when the thread must stop (which ends the sleep early).
    pub(crate) fn sleep_until(&self, deadline_ns: u64) -> bool {
        // SAFETY: we are a kthread, as kthread_should_stop inside requires, holding no locks.
        unsafe { vdp_thread_sleep_until(deadline_ns) }
    }

    /// Lets this thread run only on `cpus`, or on any CPU with `None` (each CPU online: see
    /// [`cpu_online`]). Sleeps.
    pub(crate) fn set_cpus(&self, cpus: Option<&CpuSet>) -> Result {
        let (words, nwords) = mask_words(cpus)?;
        // SAFETY: acts on the calling task; `words` is NULL or `nwords` words borrowed from
        // `cpus` for the call, which only reads them; we hold no spinlock, so it may sleep.
        to_result(unsafe { vdp_thread_set_own_cpus(words, nwords) })
    }

    /// Gives the CPU to anyone else who is runnable.
    pub(crate) fn yield_now(&self) {
        // SAFETY: the thread holds no locks between task runs, so it may sleep here.
        unsafe { vdp_thread_yield() };
    }
}

/// Wakes sleeping threads when work arrives. Several threads may wait on one doorbell: each reads
/// the ring count before looking for work and waits for it to change, so a ring while it looked is
/// not lost and no thread takes another's ring.
///
/// Invariant: `raw` comes from `vdp_doorbell_new` and is freed only in `drop`.
pub(crate) struct Doorbell {
    raw: NonNull<RawDoorbell>,
}

// SAFETY: ringing is safe from any context and CPU; waiting is serialised by the kernel's wait
// queue.
unsafe impl Send for Doorbell {}
// SAFETY: as above.
unsafe impl Sync for Doorbell {}

impl Doorbell {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: plain allocation; checked for NULL.
        let raw = unsafe { vdp_doorbell_new() };
        Ok(Doorbell { raw: NonNull::new(raw).ok_or(ENOMEM)? })
    }

    pub(crate) fn ring(&self) {
        // SAFETY: `raw` is live (type invariant).
        unsafe { vdp_doorbell_ring(self.raw.as_ptr()) };
    }

    /// The ring count, to read before looking for work and pass to [`CurrentThread::wait`].
    pub(crate) fn rings(&self) -> u32 {
        // SAFETY: `raw` is live (type invariant).
        unsafe { vdp_doorbell_rings(self.raw.as_ptr()) }
    }
}

impl Drop for Doorbell {
    fn drop(&mut self) {
        // SAFETY: `raw` is live and freed only here; no thread waits on it any more, because the
        // owner stops its thread before dropping the doorbell.
        unsafe { vdp_doorbell_free(self.raw.as_ptr()) };
    }
}
