//! User space as a [`Platform`]: `std` containers and locks, [`UserPacket`]s, the engine's
//! virtual clock, and devices that are queues the engine fills and drains.
//!
//! A container engine (`container/`) instead makes the clock follow real time
//! ([`follow_real_time`]) and has the elements it enters tracked for its watchdog
//! ([`watch_elements`]).
//!
//! The clock and the log belong to the thread that runs an engine (the element library calls
//! them as associated functions, with no engine at hand); an engine sets them before it runs
//! elements, so several engines may run on several threads.

use crate::device::UserDevice;
use crate::packet::UserPacket;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Instant;
use std::sync::{Arc, Mutex, MutexGuard};
use vdp_core::element::{self, NoMemory, Platform};

/// The user-level platform; a type only, never a value.
pub enum User {}

thread_local! {
    /// Virtual nanoseconds of the engine running on this thread.
    static NOW_NS: Cell<u64> = const { Cell::new(0) };
    /// Lines logged by elements (Print) on this thread, until the engine takes them.
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// Set by a container engine: the clock reads the real monotonic time since then.
    static REAL_CLOCK: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Set by a container engine: where the element being run is noted for the watchdog.
    static WATCHED: Cell<Option<&'static AtomicU32>> = const { Cell::new(None) };
    /// The seed of the random generators elements built on this thread take ([`set_random_seed`]).
    static SEED: Cell<u64> = const { Cell::new(0) };
    /// Seeds handed out since the engine being built started building.
    static SEEDS_DRAWN: Cell<u64> = const { Cell::new(0) };
}

/// Sets the seed that the random generators of elements built on this thread from now on are
/// seeded from (RED's); 0 until set. Each engine build starts the sequence of seeds afresh,
/// so the same graph built with the same seed draws the same numbers.
pub fn set_random_seed(seed: u64) {
    SEED.with(|cell| cell.set(seed));
}

/// Starts the sequence of seeds afresh (an engine is about to build its graph).
pub(crate) fn restart_seeds() {
    SEEDS_DRAWN.with(|cell| cell.set(0));
}

/// SplitMix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Makes this thread's clock read real time: nanoseconds since `start`.
pub(crate) fn follow_real_time(start: Instant) {
    REAL_CLOCK.with(|clock| clock.set(Some(start)));
}

/// From now on the index of the element this thread runs (innermost, for a chain of pushes)
/// is kept in `slot`, [`NO_ELEMENT`] between task runs.
pub(crate) fn watch_elements(slot: &'static AtomicU32) {
    WATCHED.with(|watched| watched.set(Some(slot)));
}

/// What a watched slot holds when no element runs.
pub(crate) const NO_ELEMENT: u32 = u32::MAX;

/// Sets this thread's virtual clock.
pub(crate) fn set_now_ns(now: u64) {
    NOW_NS.with(|clock| clock.set(now));
}

/// Takes the lines elements logged on this thread.
pub(crate) fn take_log() -> Vec<String> {
    LOG.with(|log| std::mem::take(&mut *log.borrow_mut()))
}

/// Set when an element rings: work is waiting (the engine polls, so this is only a hint).
#[derive(Clone, Default)]
pub struct Bell(Arc<AtomicBool>);

impl Bell {
    /// Whether it rang since the last call.
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::Relaxed)
    }
}

impl element::Doorbell for Bell {
    fn ring(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A lock poisoned by a panic elsewhere still guards consistent data here: element code does
/// not panic, and the engine stops at the first panic anyway.
fn unpoisoned<T>(result: std::sync::LockResult<MutexGuard<'_, T>>) -> MutexGuard<'_, T> {
    result.unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Platform for User {
    type Packet = UserPacket;
    type Device = UserDevice;
    type Doorbell = Bell;
    type Vec<T: Send + Sync + Unpin + 'static> = Vec<T>;
    type Shared<T: Send + Sync + 'static> = Arc<T>;
    type Locked<T: Send + Unpin + 'static> = Arc<Mutex<T>>;
    type Guard<'a, T: Send + Unpin + 'static>
        = MutexGuard<'a, T>
    where
        T: 'a;
    type Writer = Arc<Mutex<()>>;
    /// Custom classes' elements ([`crate::custom`]).
    type Extension = crate::custom::CustomElement;

    fn vec_new<T: Send + Sync + Unpin + 'static>() -> Vec<T> {
        Vec::new()
    }
    fn vec_with_capacity<T: Send + Sync + Unpin + 'static>(capacity: usize) -> Result<Vec<T>, NoMemory> {
        let mut vec = Vec::new();
        vec.try_reserve_exact(capacity).map_err(|_| NoMemory)?;
        Ok(vec)
    }
    fn vec_with_capacity_atomic<T: Send + Sync + Unpin + 'static>(capacity: usize) -> Result<Vec<T>, NoMemory> {
        Self::vec_with_capacity(capacity)
    }
    fn vec_push<T: Send + Sync + Unpin + 'static>(vec: &mut Vec<T>, value: T) -> Result<(), T> {
        if vec.try_reserve(1).is_err() {
            return Err(value);
        }
        vec.push(value);
        Ok(())
    }
    fn vec_push_within_capacity<T: Send + Sync + Unpin + 'static>(vec: &mut Vec<T>, value: T) -> Result<(), T> {
        if vec.len() == vec.capacity() {
            return Err(value);
        }
        vec.push(value);
        Ok(())
    }
    fn vec_pop<T: Send + Sync + Unpin + 'static>(vec: &mut Vec<T>) -> Option<T> {
        vec.pop()
    }
    fn vec_capacity<T: Send + Sync + Unpin + 'static>(vec: &Vec<T>) -> usize {
        vec.capacity()
    }

    fn shared<T: Send + Sync + 'static>(value: T) -> Result<Arc<T>, NoMemory> {
        Ok(Arc::new(value))
    }
    fn same_shared<T: Send + Sync + 'static>(a: &Arc<T>, b: &Arc<T>) -> bool {
        Arc::ptr_eq(a, b)
    }
    fn locked<T: Send + Unpin + 'static>(value: T) -> Result<Arc<Mutex<T>>, NoMemory> {
        Ok(Arc::new(Mutex::new(value)))
    }
    fn lock<T: Send + Unpin + 'static>(locked: &Arc<Mutex<T>>) -> MutexGuard<'_, T> {
        unpoisoned(locked.lock())
    }
    fn writer() -> Result<Arc<Mutex<()>>, NoMemory> {
        Ok(Arc::new(Mutex::new(())))
    }
    fn write_serialised<R>(writer: &Arc<Mutex<()>>, f: impl FnOnce() -> R) -> R {
        let _held = unpoisoned(writer.lock());
        f()
    }

    fn rx_queue_capacity() -> u64 {
        crate::device::RX_QUEUE_CAPACITY as u64
    }
    fn now_ns() -> u64 {
        match REAL_CLOCK.with(Cell::get) {
            Some(start) => u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX),
            None => NOW_NS.with(Cell::get),
        }
    }
    fn wall_clock_ns() -> u64 {
        match REAL_CLOCK.with(Cell::get) {
            Some(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)),
            None => NOW_NS.with(Cell::get),
        }
    }
    fn cycles() -> u64 {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: RDTSC has no preconditions; it reads the time-stamp counter.
            unsafe { core::arch::x86_64::_rdtsc() }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            0
        }
    }
    fn log(line: fmt::Arguments<'_>) {
        LOG.with(|log| log.borrow_mut().push(line.to_string()));
    }
    /// The `n`th seed since the build started, from the thread's seed.
    fn random_seed() -> u64 {
        let n = SEEDS_DRAWN.with(|cell| cell.replace(cell.get().wrapping_add(1)));
        mix(SEED.with(Cell::get).wrapping_add(n.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
    }
    fn entering_element(element: u32) -> u32 {
        match WATCHED.with(Cell::get) {
            Some(slot) => slot.swap(element, Ordering::Relaxed),
            None => element,
        }
    }
    fn left_element(outer: u32) {
        if let Some(slot) = WATCHED.with(Cell::get) {
            slot.store(outer, Ordering::Relaxed);
        }
    }
}
