//! The module's two global locks: the tenant list and the device registry.
//!
//! They are declared here, rather than beside the code that uses them, because a global lock
//! starts uninitialised and must be initialised exactly once before its first use, which takes
//! `unsafe`. [`init`] does it once for both, from module init, before the netlink family (the
//! first user of either) is registered.

use crate::device::Registry;
use crate::tenant::TenantList;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;

kernel::sync::global_lock! {
    // SAFETY: `init` below initialises the lock; module init calls it before it registers the
    // netlink family, the notifier or the channel device, the only paths that reach the lock.
    pub(crate) unsafe(uninit) static TENANTS: Mutex<TenantList> = TenantList::new();
}

kernel::sync::global_lock! {
    // SAFETY: as for `TENANTS`.
    pub(crate) unsafe(uninit) static DEVICES: Mutex<Registry> = Registry::new();
}

static INITIALISED: AtomicBool = AtomicBool::new(false);

/// Initialises both locks. Must run from module init before anything else in the module; a
/// second call does nothing.
pub(crate) fn init() {
    if INITIALISED.swap(true, Ordering::AcqRel) {
        return;
    }
    // SAFETY: the swap above lets exactly one call get here, so each lock is initialised once.
    unsafe {
        TENANTS.init();
        DEVICES.init();
    }
}
