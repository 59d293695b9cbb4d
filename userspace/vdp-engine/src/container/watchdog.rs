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
        std::panic::set_hook(Box::new(move |info| {
            let message = match info.payload().downcast_ref::<&str>() {
                Some(text) => text.to_string(),
                None => info.payload().downcast_ref::<String>().cloned().unwrap_or_else(|| "(no message)".to_string()),
            };
            let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            if watch.element.load(Relaxed) == NO_ELEMENT {
                // Not an element's trap (the engine reports those): the engine's own fault.
                eprintln!("vdp-engine: internal error: {message}{at}");
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

    /// The task run ended.
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
    Ok(())
}
