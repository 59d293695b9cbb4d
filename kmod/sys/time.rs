//! The clocks the kernel platform gives elements (`platform.rs`).

extern "C" {
    fn vdp_now_ns() -> u64;
    fn vdp_wall_clock_ns() -> u64;
    fn vdp_cycles() -> u64;
    fn vdp_random_u64() -> u64;
}

/// Nanoseconds on the kernel's monotonic clock.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: reads the monotonic clock; callable from any context.
    unsafe { vdp_now_ns() }
}

/// Nanoseconds since the Unix epoch on the kernel's real-time clock.
pub(crate) fn wall_clock_ns() -> u64 {
    // SAFETY: reads the real-time clock; callable from any context.
    unsafe { vdp_wall_clock_ns() }
}

/// The CPU's cycle counter, or 0 on machines without one.
pub(crate) fn cycles() -> u64 {
    // SAFETY: reads a CPU register; callable from any context.
    unsafe { vdp_cycles() }
}

/// 64 random bits from the kernel's generator.
pub(crate) fn random_u64() -> u64 {
    // SAFETY: reads the kernel's random pool; callable from any context, allocates nothing.
    unsafe { vdp_random_u64() }
}
