//! vdp's tracepoints: the `vdp` event system, read with the kernel's tracefs
//! (`/sys/kernel/tracing/events/vdp/`, `trace`, `trace_pipe`); `docs/tracing.md` lists the events.
//!
//! The events are defined in C (`vdp_trace.h`, instantiated by `vdp_trace.c`), the kernel's own
//! way. Each function here first tests the event's static key, inline, through the kernel's
//! `static_branch_unlikely!` (as `kernel::declare_trace!` does for the kernel's own events;
//! that macro looks the event up in `kernel::bindings`, which an out-of-tree module cannot add
//! to). Only an enabled event calls into C, where the record is written: a disabled one costs
//! one test of the key (a patched jump with `CONFIG_JUMP_LABEL`, a read of the key's count
//! without it) and nothing is formatted, copied or allocated.

use kernel::bindings;

/// Where a packet was dropped: `vdp_drop`'s `kind`, the values of `VDP_DROP_*` in
/// `vdp_trace.h`.
#[derive(Clone, Copy)]
#[repr(u8)]
pub(crate) enum DropKind {
    /// An element's drops or the graph's depth drops.
    Element = 0,
    /// A virtual device's receive drops.
    DeviceRx = 1,
    /// A virtual device's transmit drops.
    DeviceTx = 2,
    /// A port's receive drops that no one device could be charged with.
    PortRx = 3,
}

/// Declares the entry points of the `vdp_graph` class's events, which share its prototype.
macro_rules! graph_events {
    ($($name:ident),*) => {
        extern "C" {
            $(
                fn $name(
                    tenant: u32,
                    name: *const u8,
                    name_len: u32,
                    old_elements: u32,
                    elements: u32,
                    tasks: u32,
                    threads: u32,
                    bytes: u64,
                    old_serial: u64,
                    serial: u64,
                    duration_ns: u64,
                );
            )*
        }
    };
}
graph_events!(rust_do_trace_vdp_install, rust_do_trace_vdp_swap);

// The kernel's names for the symbols `vdp_trace.c` defines. The `struct tracepoint`s are only
// ever used for the address of their static key, never read or passed by value, so the type's
// empty members (which the lint calls not FFI-safe) do not matter.
#[allow(non_upper_case_globals, improper_ctypes)]
extern "C" {
    static __tracepoint_vdp_install: bindings::tracepoint;
    static __tracepoint_vdp_swap: bindings::tracepoint;
    static __tracepoint_vdp_uninstall: bindings::tracepoint;
    static __tracepoint_vdp_drop: bindings::tracepoint;
    static __tracepoint_vdp_throttle: bindings::tracepoint;

    fn rust_do_trace_vdp_uninstall(tenant: u32, name: *const u8, name_len: u32, elements: u32, serial: u64);
    fn rust_do_trace_vdp_drop(tenant: u32, kind: u8, element: i32, at: *const u8, at_len: u32, reason: *const u8, reason_len: u32);
    fn rust_do_trace_vdp_throttle(
        tenant: u32,
        thread: u32,
        slept_ns: u64,
        throttled_periods: u64,
        throttled_ns: u64,
        quota_ns: u64,
        period_ns: u64,
    );
}

/// Whether the event whose `struct tracepoint` is `$tracepoint` is enabled (has a probe).
macro_rules! enabled {
    ($tracepoint:ident) => {
        // SAFETY: `$tracepoint` is a `struct tracepoint` that `vdp_trace.c` defines for the
        // module's lifetime, and `key` is its static key; testing a tracepoint's key is allowed
        // in any context.
        unsafe { kernel::static_branch_unlikely!($tracepoint, bindings::tracepoint, key) }
    };
}

/// A name's bytes as the C side takes them: a pointer and a length that fits a `u32`.
fn text(bytes: &[u8]) -> (*const u8, u32) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    // A length cut to `u32::MAX` is still within `bytes`.
    (bytes.as_ptr(), len)
}

/// What `vdp_install` and `vdp_swap` report about the graph switched to.
pub(crate) struct Installed<'a> {
    pub(crate) tenant: u32,
    pub(crate) name: &'a str,
    pub(crate) elements: usize,
    pub(crate) tasks: usize,
    pub(crate) threads: u32,
    /// Length of the compiled graph it was built from.
    pub(crate) bytes: usize,
    /// The graph's serial number (unique among the graphs built since the module was loaded).
    pub(crate) serial: u64,
    /// From the start of the install (the build included) to the switch.
    pub(crate) duration_ns: u64,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The graph a tenant was switched to: `vdp_install` on a tenant that had none, `vdp_swap`
/// when it replaced `old`, the running graph's element count and serial.
#[inline]
pub(crate) fn switched(graph: &Installed<'_>, old: Option<(usize, u64)>) {
    let event = match old {
        None if enabled!(__tracepoint_vdp_install) => rust_do_trace_vdp_install,
        Some(_) if enabled!(__tracepoint_vdp_swap) => rust_do_trace_vdp_swap,
        _ => return,
    };
    let (old_elements, old_serial) = old.unwrap_or((0, 0));
    let (name, name_len) = text(graph.name.as_bytes());
    // SAFETY: the event is defined by `vdp_trace.c` and `event` is its entry point; `name`
    // points to `name_len` readable bytes for the call, which copies them into the record;
    // callable from any context.
    unsafe {
        event(
            graph.tenant,
            name,
            name_len,
            count(old_elements),
            count(graph.elements),
            count(graph.tasks),
            graph.threads,
            graph.bytes as u64,
            old_serial,
            graph.serial,
            graph.duration_ns,
        )
    };
}

/// `vdp_uninstall`: tenant `tenant`'s graph (`elements` elements, serial `serial`) was removed.
#[inline]
pub(crate) fn uninstall(tenant: u32, name: &str, elements: usize, serial: u64) {
    if !enabled!(__tracepoint_vdp_uninstall) {
        return;
    }
    let (name, name_len) = text(name.as_bytes());
    // SAFETY: as in `switched`.
    unsafe { rust_do_trace_vdp_uninstall(tenant, name, name_len, count(elements), serial) };
}

/// Whether `vdp_drop` is enabled, so that a caller looks up the names it reports only then.
#[inline(always)]
pub(crate) fn packet_drop_enabled() -> bool {
    enabled!(__tracepoint_vdp_drop)
}

/// `vdp_drop`: one packet of tenant `tenant` was counted in a drop counter of `kind`, at the
/// element of graph index `element` (`None` for a device or port) named `at`, for `reason`
/// (the counter's name). On the packet path: when the event is off this is one key test.
#[inline(always)]
pub(crate) fn packet_drop(tenant: u32, kind: DropKind, element: Option<u32>, at: &[u8], reason: &str) {
    if !enabled!(__tracepoint_vdp_drop) {
        return;
    }
    let element = element.and_then(|e| i32::try_from(e).ok()).unwrap_or(-1);
    let (at, at_len) = text(at);
    let (reason, reason_len) = text(reason.as_bytes());
    // SAFETY: the event is defined by `vdp_trace.c`; both names point to as many readable bytes
    // as their lengths say for the call, which copies them into the record; tracepoints may be
    // hit in any context, softirq included.
    unsafe { rust_do_trace_vdp_drop(tenant, kind as u8, element, at, at_len, reason, reason_len) };
}

/// What `vdp_throttle` reports: one sleep of a tenant's thread for its CPU budget.
pub(crate) struct Throttle {
    pub(crate) tenant: u32,
    pub(crate) thread: u32,
    pub(crate) slept_ns: u64,
    /// The tenant's totals after this sleep (`CPU_THROTTLED_PERIODS`, `CPU_THROTTLED_NS`).
    pub(crate) throttled_periods: u64,
    pub(crate) throttled_ns: u64,
    pub(crate) quota_ns: u64,
    pub(crate) period_ns: u64,
}

/// Whether `vdp_throttle` is enabled, so that a caller gathers its fields only then.
#[inline(always)]
pub(crate) fn throttle_enabled() -> bool {
    enabled!(__tracepoint_vdp_throttle)
}

/// `vdp_throttle`.
#[inline]
pub(crate) fn throttle(event: &Throttle) {
    if !enabled!(__tracepoint_vdp_throttle) {
        return;
    }
    // SAFETY: the event is defined by `vdp_trace.c`; plain values only.
    unsafe {
        rust_do_trace_vdp_throttle(
            event.tenant,
            event.thread,
            event.slept_ns,
            event.throttled_periods,
            event.throttled_ns,
            event.quota_ns,
            event.period_ns,
        )
    };
}
