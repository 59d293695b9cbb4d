//! Time for elements that measure rates.

extern "C" {
    fn vdp_now_ms() -> u64;
}

/// Milliseconds on the kernel's monotonic jiffies clock.
pub(crate) fn now_ms() -> u64 {
    // SAFETY: reads a global counter; callable from any context.
    unsafe { vdp_now_ms() }
}
