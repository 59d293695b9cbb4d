//! Tenants: one per virtual network, each with its own kernel threads.
//!
//! The registry is a global mutex-protected list, small (at most `TENANTS_MAX` entries) and touched
//! only by control-plane commands; the data path never takes its lock.
//!
//! # Files
//!
//! - `registry.rs`: the global list (`TENANTS`) and the commands on it: create (which starts
//!   thread 0), find, get, count, snapshot for STATS, set tasks per yield, delete, and stopping
//!   every tenant at unload; [`TenantError`].
//! - `state.rs`: [`TenantState`], what a tenant's threads and commands share, its construction
//!   and plain accessors, and [`TenantState::charged`] (allocations billed to the tenant's
//!   memory cgroup).
//! - `graph.rs`: the running graph ([`Installed`]): install, a hotswap that carries element
//!   state over; re-placement when `THREADS` changes; removal; and routing-table writes ordered
//!   with them.
//! - `threads.rs`: threads 1 and up: starting them before a graph that needs them is switched
//!   to, stopping them after, closing the tenant, their names and PIDs.
//! - `sched.rs`: what every thread runs (`Worker`): the kthread loop (doorbell waits and
//!   yields), the stride-scheduled pass over its tasks (tasks per yield, or passes sized by
//!   time), and holding the thread to the tenant's CPU budget.
//! - `stats.rs`: what replies report: [`TenantView`], `CpuView` and the counters.
//! - `channel.rs`: the channel to the tenant's container engine ([`TenantChannel`]: the bound
//!   [`Channel`] of a `/dev/vdp` file, the per-boundary counters) and the kernel ends of its
//!   boundaries ([`BoundaryBinding`], ToContainer and FromContainer).
//!
//! # Lock order
//!
//! Outermost first. A lock is only ever taken while holding locks above it in this list, and
//! only the nestings named here happen; locks of other modules that are taken under these are
//! named where they are taken.
//!
//! 0. A channel file's `bind_lock` (`kmod/sys/vdp_channel.c`, a mutex per open `/dev/vdp`):
//!    held across `VDP_CHANNEL_BIND`, which takes `TENANTS` (to find the tenant), `home` (to
//!    charge the ring memory), `slot` and the new channel's `up`, one after the other, then
//!    wakes the replaced file's poll queue and rings the doorbell. Nothing takes it under
//!    another lock.
//! 1. `TENANTS` (a global `Mutex<TenantList>` in sys/globals.rs, used by registry.rs): taken by control-plane commands
//!    (netlink, which calls in holding no lock of ours) and by module init and exit, never by a
//!    tenant's threads or the data path. Under it: starting thread 0 and setting `home`
//!    (`create`); `workers`, for the PIDs of a [`TenantView`]; a doorbell ring
//!    (`set_tasks_per_yield`). A deleted tenant is dropped, and its threads stopped, after
//!    `TENANTS` is let go, except when `create` fails after starting thread 0: the tenant it
//!    could not list is dropped under `TENANTS`, through `changing` and `workers`.
//! 2. `changing` (state.rs, a per-tenant `Mutex<()>`): serialises the tenant's graph changes
//!    (install, `THREADS`, removal, close) and routing-table writes with their announcements.
//!    Held across the whole change: `Graph::build`, which binds devices under
//!    `crate::device`'s `DEVICES` lock (see `kmod/device/mod.rs`) and runs element
//!    constructors; `adopt_state` and table writes, which take element locks; `workers` and
//!    `home`, to start and stop threads; `installed`, for the swap; the doorbell ring; the
//!    genetlink announcement; dropping the old graph. Never taken under `workers`, `home`,
//!    `installed`, `budget` or `DEVICES`, nor by the tenant's threads.
//! 3. `workers` (state.rs, a per-tenant `Mutex`): threads 1 and up. Taken under `changing` to
//!    start and stop threads, under `TENANTS` or alone to read their PIDs. Under it:
//!    `home` (`start_workers`, to start threads; released before any is stopped), starting a
//!    thread, and stopping one (dropping a `Thread`, which waits for its loop to return). The threads never take `workers`, `changing` or
//!    `TENANTS`, so they can always finish a pass and stop.
//! 4. `home` (state.rs, a per-tenant `Mutex`): thread 0's task. Held only to read or set it
//!    (`charged` and the budget's `account` let go before they go on), and by `start_workers`
//!    across `Thread::start`, whose new thread joins `home`'s cgroups. Nothing of these modules
//!    is taken under it. A tenant's threads take it (in `account`, once per budget period).
//! 4b. `cpus` (state.rs, a per-tenant `Mutex`): the CPUs the threads are pinned to. Taken by
//!    `set_cpus` under `changing`, `workers` and `home`, and held while it moves every thread
//!    (which sleeps, waiting for no lock of ours); and alone by each thread as it starts, to
//!    move itself (`take_own_cpus`). Nothing is taken under it.
//! 5. `installed` and `budget` (state.rs, per-tenant `SpinLock`s): held for a few instructions
//!    with nothing taken inside: `installed` to clone, replace or take the running graph's
//!    `Arc` (what it replaces is dropped after the lock is let go), `budget` to read or charge
//!    the CPU budget. Never held together, nor with `home`.
//!
//! 6. `slot` (channel.rs, a per-tenant `SpinLock`): the current channel. Held to clone, swap
//!    or take the `Arc` with nothing taken inside; alone (sends, receives, `bind`, a file's
//!    release) or under `changing` (`close`). The replaced channel is detached (its file's
//!    wait queue woken) and dropped after the lock is let go; a dropped channel frees its ring
//!    memory, which sleeps, so its last reference never goes under a spinlock.
//! 7. A channel's `down` and `up` (channel.rs, `SpinLock`s): held for one slot's copy (a
//!    receive allocates its `sk_buff` with `GFP_ATOMIC` inside), or by poll to look at the
//!    down rings. Never together, never with `slot`; the poll wake-up after a push is made
//!    once `down` is let go.
//!
//! Stopping a thread waits for it, and a running thread may be waiting for `home`: so no thread
//! is stopped while `home` is held (`start_workers` lets it go before it stops the threads it
//! started when a later one fails).
//!
//! Lock-free protocols:
//!
//! - The doorbell (`kmod/sys/thread.rs`): a thread reads the ring count before a pass and sleeps
//!   only until it moves; whatever may give a thread work (a graph switch, a parameter change,
//!   the first packet on an empty receive queue) is done before the ring, a fully ordered
//!   increment, so a thread never sleeps through it.
//! - `installed`: readers clone the `Arc` and let go at once, so an install never waits for a
//!   pass, and a replaced graph lives until its last user (possibly a thread, mid-pass) drops it.
//! - `closed` is set once, under `changing`, and read under `changing` by installs and under
//!   `DEVICES` by device creation (the deleter removes the tenant's devices after closing it).
//! - `threads` is written only under `changing`, where installs read it.
//! - `tasks_per_yield` and `yield_auto` are written under `TENANTS`, then the doorbell rings;
//!   threads read them `Relaxed` once per pass, so a change takes effect at the next pass.
//! - The channel's wake-ups (`kmod/core/channel.rs`): a FromContainer that finds its up ring
//!   empty sets the ring's `waiting` flag and looks again before its thread may sleep, and the
//!   engine kicks (`VDP_CHANNEL_KICK`, a doorbell ring) when a push sees the flag; a bind sets
//!   every up ring waiting, and rings the doorbell, so the first packet of a new engine wakes the
//!   thread. The other way round a ToContainer push that sees the engine waiting wakes the
//!   file's poll queue.
//! - A channel's `detached` flag is set once, by whoever takes it out of `slot` for a newer
//!   bind or for `close`; `KICK` reads it to refuse a detached file (`EPIPE`).
//! - `wakeups` and `task_runs` are `Relaxed` counters, added to only by the tenant's threads.

mod channel;
mod graph;
mod registry;
mod sched;
mod state;
mod stats;
mod threads;

pub(crate) use channel::{BoundaryBinding, Channel, TenantChannel};
pub(crate) use graph::Installed;
pub(crate) use registry::{count, create, delete, find, get, set_tasks_per_yield, shutdown, snapshot, TenantError, TenantList};
pub(crate) use state::TenantState;
pub(crate) use stats::TenantView;
