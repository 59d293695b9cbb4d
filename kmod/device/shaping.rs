//! The operator's transmit caps (`SHAPE_SET`): one per device and one per tenant, applied on
//! the transmit path in the root context, whatever graph the tenant installs
//! (`portable::tx_cap` has the policing rule).

use super::types::VirtualDevice;
use super::DeviceError;
use crate::portable::tx_cap::{self, CapError, TxCap, Verdict};
use crate::sys::time::now_ns;
use kernel::new_spinlock;
use kernel::prelude::*;
use kernel::sync::{Arc, SpinLock};

/// A tenant's aggregate cap, shared by the tenant's state and every one of its devices.
pub(crate) struct TenantTxCap {
    cap: Pin<KBox<SpinLock<TxCap>>>,
}

impl TenantTxCap {
    pub(crate) fn new() -> Result<Arc<TenantTxCap>> {
        let cap = KBox::pin_init(new_spinlock!(TxCap::unlimited(), "vdp_tenant_tx_cap"), GFP_KERNEL)?;
        Ok(Arc::new(TenantTxCap { cap }, GFP_KERNEL)?)
    }

    /// Sets the tenant's aggregate: `rate` bytes/s (0 lifts it), `burst` bytes.
    pub(crate) fn set(&self, rate: u64, burst: Option<u64>) -> Result<(), CapError> {
        self.cap.lock().set(now_ns(), rate, burst)
    }

    /// (rate, burst) in bytes; (0, 0) without a cap.
    pub(crate) fn get(&self) -> (u64, u64) {
        let cap = self.cap.lock();
        (cap.rate(), cap.burst())
    }
}

/// A device's own cap, unlimited until the coordinator sets one.
pub(super) fn new_device_cap() -> Result<Pin<KBox<SpinLock<TxCap>>>, DeviceError> {
    Ok(KBox::pin_init(new_spinlock!(TxCap::unlimited(), "vdp_device_tx_cap"), GFP_KERNEL)?)
}

impl VirtualDevice {
    /// Sets this device's cap: `rate` bytes/s (0 lifts it), `burst` bytes.
    pub(crate) fn set_tx_cap(&self, rate: u64, burst: Option<u64>) -> Result<(), CapError> {
        self.tx_cap.lock().set(now_ns(), rate, burst)
    }

    /// (rate, burst) of this device's cap in bytes; (0, 0) without one.
    pub(crate) fn tx_cap(&self) -> (u64, u64) {
        let cap = self.tx_cap.lock();
        (cap.rate(), cap.burst())
    }

    /// Whether a frame of `bytes` may go out now, charging both caps if so. The device's lock
    /// is taken first, then the tenant's, each held for a few instructions.
    pub(super) fn admit(&self, bytes: u64) -> Verdict {
        let now = now_ns();
        let mut device = self.tx_cap.lock();
        let mut tenant = self.tenant_cap.cap.lock();
        tx_cap::admit(&mut device, &mut tenant, now, bytes)
    }
}
