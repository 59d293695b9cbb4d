//! The stock container engine: runs a tenant's container part with the library's classes only.

use vdp_engine::container::watchdog::ReportingAlloc;

/// Failed allocations say which element was running (`--memory-limit`).
#[global_allocator]
static ALLOC: ReportingAlloc = ReportingAlloc;

fn main() -> std::process::ExitCode {
    vdp_engine::container::main(&[])
}
