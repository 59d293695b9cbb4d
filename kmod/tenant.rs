//! Tenants: one per virtual network, each with its own kernel thread.
//!
//! The registry is a global mutex-protected list, small (at most `TENANTS_MAX` entries) and touched
//! only by control-plane commands; the data path never takes its lock.

use crate::portable::uapi::{TASKS_PER_YIELD_DEFAULT, TENANTS_MAX};
use crate::sys::thread::{thread_name, CurrentThread, Thread, ThreadBody};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;

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
pub(crate) struct TenantState {
    pub(crate) id: u32,
    name: [u8; crate::portable::uapi::TENANT_NAME_MAX],
    name_len: usize,
    tasks_per_yield: AtomicU32,
    /// Times the thread woke up to run tasks; lets tests see the thread alive.
    wakeups: AtomicU64,
}

impl TenantState {
    pub(crate) fn name(&self) -> &str {
        // The name was checked to be ASCII when the tenant was created.
        core::str::from_utf8(self.name.get(..self.name_len).unwrap_or(&[])).unwrap_or("")
    }

    pub(crate) fn tasks_per_yield(&self) -> u32 {
        self.tasks_per_yield.load(Ordering::Relaxed)
    }
}

impl ThreadBody for TenantState {
    fn run(&self, thread: &CurrentThread<'_>) {
        while !thread.wait_for_work() {
            self.wakeups.fetch_add(1, Ordering::Relaxed);
            // The element graph's tasks run here, at most `tasks_per_yield` per pass, before the
            // thread yields and sleeps again; with no graph installed there is nothing to run.
            thread.yield_now();
        }
    }
}

pub(crate) struct Tenant {
    thread: Thread<TenantState>,
}

impl Tenant {
    pub(crate) fn state(&self) -> &Arc<TenantState> {
        self.thread.body()
    }
}

/// A snapshot of one tenant, for replies.
pub(crate) struct TenantView {
    pub(crate) id: u32,
    pub(crate) name: [u8; crate::portable::uapi::TENANT_NAME_MAX],
    pub(crate) name_len: usize,
    pub(crate) thread_pid: u32,
    pub(crate) tasks_per_yield: u32,
}

impl TenantView {
    fn of(tenant: &Tenant) -> Self {
        let state = tenant.state();
        TenantView {
            id: state.id,
            name: state.name,
            name_len: state.name_len,
            thread_pid: u32::try_from(tenant.thread.pid()).unwrap_or(0),
            tasks_per_yield: state.tasks_per_yield(),
        }
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
            wakeups: AtomicU64::new(0),
        },
        GFP_KERNEL,
    )?;
    let thread_name = thread_name("vdp-", state.name())?;
    let thread = Thread::start(state, &thread_name)?;
    let tenant = Tenant { thread };
    let view = TenantView::of(&tenant);
    list.tenants.reserve(1, GFP_KERNEL)?;
    // Cannot fail after the reservation; on failure the tenant (and its thread) would be dropped.
    list.tenants.push_within_capacity(tenant).map_err(|_| TenantError::Kernel(ENOMEM))?;
    Ok(view)
}

/// Deletes a tenant; its thread is stopped after the registry lock is released.
pub(crate) fn delete(id: u32) -> Result<(), TenantError> {
    let removed = {
        let mut list = TENANTS.lock();
        let index = list
            .tenants
            .iter()
            .position(|t| t.state().id == id)
            .ok_or(TenantError::NoSuchTenant)?;
        list.tenants.remove(index).map_err(|_| TenantError::NoSuchTenant)?
    };
    drop(removed);
    Ok(())
}

pub(crate) fn get(id: u32) -> Result<TenantView, TenantError> {
    let list = TENANTS.lock();
    list.tenants
        .iter()
        .find(|t| t.state().id == id)
        .map(TenantView::of)
        .ok_or(TenantError::NoSuchTenant)
}

pub(crate) fn set_tasks_per_yield(id: u32, tasks: u32) -> Result<TenantView, TenantError> {
    let list = TENANTS.lock();
    let tenant = list.tenants.iter().find(|t| t.state().id == id).ok_or(TenantError::NoSuchTenant)?;
    tenant.state().tasks_per_yield.store(tasks, Ordering::Relaxed);
    tenant.thread.kick();
    Ok(TenantView::of(tenant))
}

/// Stops every tenant thread; for module unload, after the netlink family is gone.
pub(crate) fn shutdown() {
    let tenants = core::mem::take(&mut TENANTS.lock().tenants);
    drop(tenants);
}
