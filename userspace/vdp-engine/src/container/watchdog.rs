//! The container engine's limits on its elements: a watchdog thread that stops the engine when
//! one task run takes longer than the time limit, the report of an element that panicked (a
//! trap), and the optional address-space limit.
//!
//! The engine's thread notes, through the user platform, which element it is in (the innermost
//! of a chain of pushes and pulls) and when the current task run began; the watchdog reads both
//! without locks. A run over the limit cannot be interrupted safely in the middle of element
//! code, so the watchdog writes the error (with `write(2)`, taking no lock the stuck thread may
//! hold) and ends the process with [`EXIT_TIME_LIMIT`].

use crate::platform::{self, NO_ELEMENT};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Exit status when a task run overran the time limit.
pub const EXIT_TIME_LIMIT: u8 = 4;
/// Exit status when an element trapped (panicked).
pub const EXIT_TRAP: u8 = 5;

/// The default per-task-run time limit.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_millis(200);

/// What the engine's thread publishes for the watchdog.
pub struct Watch {
    start: Instant,
    /// The element being run, or [`NO_ELEMENT`].
    element: AtomicU32,
    /// When the current task run began, in nanoseconds since `start` plus one; 0 between runs.
    run_began: AtomicU64,
    /// Names and classes of the graph's elements, by index, for the messages.
    elements: Vec<(String, &'static str)>,
    limit: Duration,
}

/// The panic message of the last trap, kept by the panic hook for [`Watch::trap_message`].
static TRAP: Mutex<Option<String>> = Mutex::new(None);

impl Watch {
    /// Sets up the watch for this thread, which runs the graph whose elements are `elements`,
    /// and starts the watchdog thread. The watch lives as long as the process.
    pub fn start(elements: Vec<(String, &'static str)>, limit: Duration, clock: Instant) -> std::io::Result<&'static Watch> {
        let watch: &'static Watch =
            Box::leak(Box::new(Watch { start: clock, element: AtomicU32::new(NO_ELEMENT), run_began: AtomicU64::new(0), elements, limit }));
        platform::watch_elements(&watch.element);
        CURRENT_WATCH.store(watch as *const Watch as *mut Watch, Relaxed);
        std::panic::set_hook(Box::new(move |info| {
            let message = match info.payload().downcast_ref::<&str>() {
                Some(text) => text.to_string(),
                None => info.payload().downcast_ref::<String>().cloned().unwrap_or_else(|| "(no message)".to_string()),
            };
            let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            if watch.element.load(Relaxed) == NO_ELEMENT {
                // Not an element's trap (the engine reports those): the engine's own fault.
                super::say!("vdp-engine: internal error: {message}{at}");
            }
            *TRAP.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("{message}{at}"));
        }));
        std::thread::Builder::new().name("vdp-watchdog".into()).spawn(move || watch.guard())?;
        Ok(watch)
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// A task run begins.
    pub fn begin(&self) {
        self.run_began.store(self.now().saturating_add(1), Relaxed);
    }

    /// A handler of element `index` (if the graph has it) is called: timed like a task run.
    pub fn begin_handler(&self, index: Option<usize>) {
        self.element.store(index.and_then(|i| u32::try_from(i).ok()).unwrap_or(NO_ELEMENT), Relaxed);
        self.begin();
    }

    /// The task run (or handler call) ended.
    pub fn end(&self) {
        self.run_began.store(0, Relaxed);
        self.element.store(NO_ELEMENT, Relaxed);
    }

    /// The element the thread was in when it stopped (or is in now), as `'name' (Class)`.
    pub fn element_text(&self) -> String {
        match self.elements.get(self.element.load(Relaxed) as usize) {
            Some((name, class)) => format!("element '{name}' ({class})"),
            None => "no element".to_string(),
        }
    }

    /// The message of the last panic.
    pub fn trap_message(&self) -> String {
        TRAP.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or_else(|| "(no message)".to_string())
    }

    fn guard(&self) {
        let limit = u64::try_from(self.limit.as_nanos()).unwrap_or(u64::MAX);
        let tick = (self.limit / 8).clamp(Duration::from_micros(100), Duration::from_millis(20));
        loop {
            std::thread::sleep(tick);
            let began = self.run_began.load(Relaxed);
            if began == 0 || self.now().saturating_sub(began - 1) <= limit {
                continue;
            }
            // The same run still going (a new run has a later start).
            if self.run_began.load(Relaxed) != began {
                continue;
            }
            let text = format!(
                "vdp-engine: {} ran longer than the time limit of {} ms in one task run; stopping the engine\n",
                self.element_text(),
                self.limit.as_millis()
            );
            // SAFETY: writes a buffer of ours to stderr and ends the process without running
            // anything that could wait for a lock the stuck thread holds.
            unsafe {
                libc::write(2, text.as_ptr().cast(), text.len());
                libc::_exit(i32::from(EXIT_TIME_LIMIT));
            }
        }
    }
}

/// Caps the process's address space at `bytes` (`RLIMIT_AS`), on top of the container's own
/// cgroup limits: past it allocations fail.
pub fn limit_memory(bytes: u64) -> std::io::Result<()> {
    let limit = libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: bytes as libc::rlim_t };
    // SAFETY: `limit` is a valid rlimit for the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    MEMORY_LIMIT.store(bytes, Relaxed);
    Ok(())
}

/// The watch of the running engine, for [`ReportingAlloc`]; null before [`Watch::start`].
static CURRENT_WATCH: std::sync::atomic::AtomicPtr<Watch> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());
/// The `--memory-limit` in force, 0 for none.
static MEMORY_LIMIT: AtomicU64 = AtomicU64::new(0);

/// The system allocator, saying on stderr what failed when an allocation fails: how many bytes,
/// which element was running, and the memory limit. An engine binary installs it with
/// `#[global_allocator] static ALLOC: ReportingAlloc = ReportingAlloc;` (the stock `vdp-engine`
/// does). Allocations the element library makes through the platform then drop a packet,
/// counted; any other failed allocation ends the process as Rust's runtime does, after this line.
pub struct ReportingAlloc;

/// Writes `bytes` to stderr with no allocation and no lock.
fn raw_stderr(bytes: &[u8]) {
    // SAFETY: writes a buffer of ours to descriptor 2; a failed write is of no consequence.
    unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
}

/// Writes `n` in decimal to stderr, without allocating.
fn raw_number(mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    raw_stderr(&digits[at..]);
}

fn report_failed_allocation(size: usize) {
    raw_stderr(b"vdp-engine: an allocation of ");
    raw_number(size as u64);
    raw_stderr(b" bytes failed");
    let watch = CURRENT_WATCH.load(Relaxed);
    // SAFETY: a non-null pointer is the leaked, never freed watch of `Watch::start`.
    if let Some(watch) = unsafe { watch.as_ref() } {
        if let Some((name, class)) = watch.elements.get(watch.element.load(Relaxed) as usize) {
            raw_stderr(b" while element '");
            raw_stderr(name.as_bytes());
            raw_stderr(b"' (");
            raw_stderr(class.as_bytes());
            raw_stderr(b") ran");
        }
    }
    let limit = MEMORY_LIMIT.load(Relaxed);
    if limit != 0 {
        raw_stderr(b" (memory limit ");
        raw_number(limit);
        raw_stderr(b" bytes)");
    }
    raw_stderr(b"\n");
}

// SAFETY: every call is passed to the system allocator unchanged; a failure is only reported.
unsafe impl std::alloc::GlobalAlloc for ReportingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on.
        let ptr = unsafe { std::alloc::System.alloc(layout) };
        if ptr.is_null() {
            report_failed_allocation(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from `alloc`/`realloc` above, that is from System, with `layout`.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let ptr = unsafe { std::alloc::System.alloc_zeroed(layout) };
        if ptr.is_null() {
            report_failed_allocation(layout.size());
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` is System's (see `dealloc`); the caller's contract is passed on.
        let moved = unsafe { std::alloc::System.realloc(ptr, layout, new_size) };
        if moved.is_null() {
            report_failed_allocation(new_size);
        }
        moved
    }
}
