//! Tenants: one per virtual network.
//!
//! The tenant table arrives with the TENANT_NEW/TENANT_DEL commands; until then the module
//! counts zero tenants, and this counter is what those commands will maintain.

use core::sync::atomic::{AtomicU32, Ordering};

static TENANT_COUNT: AtomicU32 = AtomicU32::new(0);

/// Number of tenants currently installed.
pub(crate) fn count() -> u32 {
    TENANT_COUNT.load(Ordering::Relaxed)
}
