//! Memory cgroups: a tenant's kernel memory is charged to its data plane's cgroup.
//!
//! The kernel charges an allocation made with `__GFP_ACCOUNT` (`GFP_KERNEL_ACCOUNT`) to the
//! allocating task's memory cgroup, but kernel threads bypass that and a netlink request is
//! served in the context of whoever sent it (the coordinator). So the module names the target
//! itself: [`Memcg::charge`] makes the tenant's memory cgroup the active one for the calling
//! context until the returned scope ends, and every tenant allocation is made with
//! [`tenant_gfp`]. An allocation past the cgroup's `memory.max` then fails with `ENOMEM`
//! like any other, and the caller's error path leaves the tenant's running state untouched.

use super::thread::{RawTask, TaskRef};
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::alloc::Flags;
use kernel::prelude::*;

/// The flags of every allocation of tenant memory: charged to the active memory cgroup
/// (`__GFP_ACCOUNT`); failing with `ENOMEM` at the cgroup's `memory.max` instead of invoking
/// the memcg OOM killer, which would find only the tenant's unkillable kthreads there
/// (`__GFP_RETRY_MAYFAIL`, added by `vserver-patch/0002`); and without a warning, since the
/// tenant is told why (`__GFP_NOWARN`).
#[inline]
pub(crate) fn tenant_gfp() -> Flags {
    GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN
}

/// A kernel `struct mem_cgroup`; opaque to Rust.
#[repr(C)]
pub(crate) struct RawMemcg {
    _opaque: [u8; 0],
}

extern "C" {
    fn vdp_task_memcg_get(task: *mut RawTask) -> *mut RawMemcg;
    fn vdp_memcg_put(memcg: *mut RawMemcg);
    fn vdp_memcg_set_active(memcg: *mut RawMemcg) -> *mut RawMemcg;
}

/// A counted reference to a memory cgroup.
///
/// # Invariants
///
/// `raw` holds one css reference, taken by `vdp_task_memcg_get` and dropped in `drop`.
pub(crate) struct Memcg {
    raw: NonNull<RawMemcg>,
}

// SAFETY: a css reference may be used and dropped from any thread.
unsafe impl Send for Memcg {}
// SAFETY: shared use only passes the pointer to `set_active_memcg`, which any thread may do.
unsafe impl Sync for Memcg {}

impl Memcg {
    /// The memory cgroup `task` is in, or `None` without memory cgroups (or when the group is
    /// being removed).
    pub(crate) fn of(task: &TaskRef) -> Option<Memcg> {
        // SAFETY: `as_raw` is a referenced task while `task` lives; the C side takes its own
        // css reference under RCU, which the returned value owns.
        let raw = unsafe { vdp_task_memcg_get(task.as_raw()) };
        NonNull::new(raw).map(|raw| Memcg { raw })
    }

    /// Charges the calling context's `GFP_KERNEL_ACCOUNT` allocations to this cgroup until the
    /// scope is dropped. Scopes nest; the scope cannot leave the thread that made it.
    pub(crate) fn charge(&self) -> ChargeScope<'_> {
        // SAFETY: `raw` is referenced for at least as long as the scope borrows `self`, as
        // `set_active_memcg` requires; the previous target is restored when the scope drops.
        let previous = unsafe { vdp_memcg_set_active(self.raw.as_ptr()) };
        ChargeScope { previous, _memcg: PhantomData, _not_send: PhantomData }
    }
}

impl Drop for Memcg {
    fn drop(&mut self) {
        // SAFETY: drops the one reference this value holds (type invariant).
        unsafe { vdp_memcg_put(self.raw.as_ptr()) };
    }
}

/// While alive, the calling context's accounted allocations go to one memory cgroup.
///
/// # Invariants
///
/// Made and dropped by the same task (it is neither `Send` nor `Sync`), so the target it
/// restores is the one it replaced.
pub(crate) struct ChargeScope<'a> {
    previous: *mut RawMemcg,
    _memcg: PhantomData<&'a Memcg>,
    _not_send: PhantomData<*mut ()>,
}

impl Drop for ChargeScope<'_> {
    fn drop(&mut self) {
        // SAFETY: restores the target this scope replaced, on the same task (type invariant);
        // `previous` is NULL or a cgroup an enclosing scope holds referenced.
        unsafe { vdp_memcg_set_active(self.previous) };
    }
}
