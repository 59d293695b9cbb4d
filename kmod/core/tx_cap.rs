//! Transmit caps: the operator's rate limits on a tenant's devices and on the tenant as a whole,
//! applied by the transmit path in the root context (`kmod/device/transmit.rs`), outside any
//! graph the tenant installs.
//!
//! A cap is a [`TokenBucket`] in bytes per second used as a *policer*: a frame is sent while
//! the bucket is not in debt and is then charged its whole length, so a frame longer than the
//! burst still passes once the bucket has paid off what came before it. Over any window of `t`
//! seconds a cap lets through at most `rate × t + burst` bytes plus one frame. A frame that
//! finds the bucket in debt is refused (the caller drops and counts it); it costs nothing.
//!
//! A frame of a capped tenant passes two caps: its device's, then the tenant's aggregate.
//! [`admit`] takes both, refuses the frame at the first one that is spent and charges neither
//! then, and charges both when it passes.

use crate::token_bucket::TokenBucket;

/// Largest rate a cap may have, in bytes per second (8 Tbit/s): far above any link, and small
/// enough that `rate × elapsed` never saturates within an hour of nanoseconds.
pub const RATE_MAX: u64 = 1 << 40;
/// Smallest burst, in bytes: one full-sized Ethernet frame.
pub const BURST_MIN: u64 = 1514;
/// Largest burst, in bytes (1 GiB).
pub const BURST_MAX: u64 = 1 << 30;

/// The burst a cap gets when none is given: 100 ms of the rate, at least [`BURST_MIN`] bytes
/// and at most [`BURST_MAX`].
///
/// A policer is consulted only when its device transmits, on the tenant's thread, and saves at
/// most its burst in between, so it delivers its full rate only while the device transmits at
/// least once every `burst / rate` seconds. A tenant thread held to a CPU limit runs in bursts
/// within each CPU period (100 ms unless the cgroup says otherwise) and sleeps for the rest:
/// the default burst covers one such period. The earlier default, 10 ms, delivered 0.012 of the
/// cap to a tenant whose thread transmitted a few times a second.
pub fn default_burst(rate: u64) -> u64 {
    (rate / 10).clamp(BURST_MIN, BURST_MAX)
}

/// Why a cap's settings were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapError {
    /// The rate is above [`RATE_MAX`].
    RateTooHigh,
    /// The burst is outside [`BURST_MIN`]..=[`BURST_MAX`].
    BurstOutOfRange,
}

/// One cap: no limit, or a rate and a burst in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxCap {
    bucket: Option<TokenBucket>,
}

impl TxCap {
    /// No limit.
    pub const fn unlimited() -> TxCap {
        TxCap { bucket: None }
    }

    /// Sets the cap from `now` on: `rate` 0 lifts it; otherwise the bucket starts full with
    /// `burst` bytes ([`default_burst`] when `None`). A cap that keeps its rate and burst keeps
    /// its level, so applying the same settings again changes nothing.
    pub fn set(&mut self, now: u64, rate: u64, burst: Option<u64>) -> Result<(), CapError> {
        if rate > RATE_MAX {
            return Err(CapError::RateTooHigh);
        }
        let burst = burst.unwrap_or_else(|| default_burst(rate));
        if !(BURST_MIN..=BURST_MAX).contains(&burst) {
            return Err(CapError::BurstOutOfRange);
        }
        if rate == 0 {
            self.bucket = None;
            return Ok(());
        }
        match &mut self.bucket {
            Some(bucket) if bucket.rate() == rate && bucket.burst() == burst => {}
            Some(bucket) => {
                bucket.set_rate(now, rate);
                bucket.set_burst(now, burst);
            }
            None => self.bucket = Some(TokenBucket::new(rate, burst, now)),
        }
        Ok(())
    }

    /// Bytes per second, 0 without a limit.
    pub fn rate(&self) -> u64 {
        self.bucket.as_ref().map_or(0, TokenBucket::rate)
    }

    /// Bytes of burst, 0 without a limit.
    pub fn burst(&self) -> u64 {
        self.bucket.as_ref().map_or(0, TokenBucket::burst)
    }

    /// Whether a frame may be sent now: no limit, or the bucket is not in debt.
    fn open(&mut self, now: u64) -> bool {
        self.bucket.as_mut().is_none_or(|bucket| bucket.has_tokens(now))
    }

    fn charge(&mut self, now: u64, bytes: u64) {
        if let Some(bucket) = self.bucket.as_mut() {
            bucket.charge(now, bytes);
        }
    }
}

/// What [`admit`] decided about one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Send,
    /// The device's own cap is spent.
    OverDeviceCap,
    /// The device's cap let it through but the tenant's aggregate is spent.
    OverTenantCap,
}

/// Decides one frame of `bytes` at `now` against its device's cap and its tenant's aggregate:
/// sent (and charged to both) only if neither is spent.
pub fn admit(device: &mut TxCap, tenant: &mut TxCap, now: u64, bytes: u64) -> Verdict {
    if !device.open(now) {
        return Verdict::OverDeviceCap;
    }
    if !tenant.open(now) {
        return Verdict::OverTenantCap;
    }
    device.charge(now, bytes);
    tenant.charge(now, bytes);
    Verdict::Send
}
