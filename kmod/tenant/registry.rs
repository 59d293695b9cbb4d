//! The tenant registry: the global list, and creating, finding, changing and deleting tenants.
//!
//! The list is small (at most `TENANTS_MAX` entries) and touched only by control-plane
//! commands; the data path never takes its lock.

use super::sched::Worker;
use super::state::TenantState;
use super::stats::TenantView;
use super::threads::worker_name;
use crate::portable::uapi::TENANTS_MAX;
use crate::sys::thread::Thread;
use core::sync::atomic::Ordering;
use kernel::prelude::*;
use kernel::sync::Arc;

use crate::sys::globals::TENANTS;

/// # Invariants
///
/// No two tenants share an id or a name, and there are at most `TENANTS_MAX`.
pub(crate) struct TenantList {
    tenants: KVec<Tenant>,
}

impl TenantList {
    /// The empty list the global starts as.
    pub(crate) const fn new() -> Self {
        TenantList { tenants: KVec::new() }
    }
}

pub(crate) struct Tenant {
    /// Thread 0, which lives as long as the tenant.
    pub(super) thread: Thread<Worker>,
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
    let state = TenantState::new(id, name)?;
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
    let installed = removed.state().installed();
    if let Some(installed) = &installed {
        removed.state().trace_uninstall(installed);
    }
    let had_graph = installed.is_some();
    drop(installed);
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
