//! The user-level engine: one tenant's compiled graph, run by the same element library and the
//! same graph engine as in the kernel, on one thread, in virtual time.
//!
//! Time moves only when the engine moves it: to each arriving frame's timestamp, and to the
//! times timed elements ask to be woken at ([`vdp_core::element::Cx::wake_at`]). Between two
//! moves the engine runs every task of every thread, in the order the kernel's threads would
//! take them, until a whole pass does no work. So a run depends only on its input, never on the
//! machine's speed.

use crate::container::LoopbackBinder;
use crate::custom::CustomClasses;
use crate::device::{Device, DeviceEnd, DeviceSetup, UserDevice};
use crate::platform::{self, Bell, User};
use std::fmt;
use std::sync::Arc;
use vdp_core::element::handler::MAX_HANDLER_TEXT;
use vdp_core::element::{BoundaryEnd, BuildError, BuildErrorKind, DeviceBinder, Graph, HandlerError, WakeAt};

/// Most task runs the engine makes at one instant of virtual time before it concludes that the
/// graph works without end (a source with no limit and no rate), so that a run always ends.
pub const MAX_RUNS_PER_INSTANT: u64 = 10_000_000;

/// How [`Engine::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Everything due by the deadline ran and a timer is set after it; the clock reads the
    /// deadline.
    Reached,
    /// Nothing has work and no timer is set; the clock reads the time of the last work.
    Idle { now_ns: u64 },
    /// The run transmitted its budget of frames; work may be left.
    Budget { now_ns: u64 },
}

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The graph kept doing work without time passing ([`MAX_RUNS_PER_INSTANT`] task runs).
    Endless { at_ns: u64 },
    /// The device is not one of the graph's.
    NoSuchDevice(String),
    /// Time cannot go backwards: a frame or a deadline before the engine's present.
    Backwards { at_ns: u64, now_ns: u64 },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Endless { at_ns } => write!(
                f,
                "the graph kept working at {} ns without time passing ({} task runs): a source without LIMIT or RATE?",
                at_ns, MAX_RUNS_PER_INSTANT
            ),
            RunError::NoSuchDevice(name) => write!(f, "the graph has no device '{name}'"),
            RunError::Backwards { at_ns, now_ns } => write!(f, "time {at_ns} ns is before the engine's present, {now_ns} ns"),
        }
    }
}

impl std::error::Error for RunError {}

/// The tenant's devices, and a loopback channel for boundary elements: a graph holding both
/// parts (a merged graph with its cuts) runs whole in one engine.
struct Devices<'a>(&'a [Arc<Device>], LoopbackBinder);

impl DeviceBinder<User> for Devices<'_> {
    fn bind(&self, name: &str) -> Option<UserDevice> {
        self.0.iter().find(|device| device.setup.name == name).map(|device| UserDevice::Tunnel(DeviceEnd(device.clone())))
    }

    fn bind_boundary(&self, end: BoundaryEnd, index: u16) -> Option<UserDevice> {
        self.1.bind(end, index).map(UserDevice::Boundary)
    }
}

/// One tenant's graph at user level.
pub struct Engine {
    graph: Graph<User>,
    /// The custom classes the graph was built with.
    classes: CustomClasses,
    devices: Vec<Arc<Device>>,
    bell: Bell,
    now_ns: u64,
    wake: WakeAt,
    /// The earliest wake-up time asked for and not reached yet.
    next_wake: Option<u64>,
    task_runs: u64,
}

impl Engine {
    /// Builds `tenant`'s graph from a compiled graph, with its devices, over `threads` threads
    /// (task placement as in the kernel; the engine runs them all on this thread). The clock
    /// starts at 0. The graph may use the library and the stock engine's built-in custom
    /// classes ([`crate::custom::builtin_classes`]).
    pub fn new(blob: &[u8], tenant: &str, devices: Vec<DeviceSetup>, threads: u32) -> Result<Engine, BuildError> {
        let classes = CustomClasses::stock().map_err(|e| BuildError::new(BuildErrorKind::Invalid, format_args!("{e}")))?;
        Engine::with_classes(classes, blob, tenant, devices, threads)
    }

    /// [`Engine::new`] for an engine with `classes` (the built-ins and a tenant's own): the
    /// blob is validated against their catalog, and their elements built by their constructors.
    pub fn with_classes(classes: CustomClasses, blob: &[u8], tenant: &str, devices: Vec<DeviceSetup>, threads: u32) -> Result<Engine, BuildError> {
        let devices: Vec<Arc<Device>> = devices.into_iter().map(Device::new).collect();
        let bell = Bell::default();
        platform::set_now_ns(0);
        platform::restart_seeds();
        let graph = Graph::build_with(classes.catalog(), &classes, blob, tenant, &Devices(&devices, LoopbackBinder::default()), bell.clone(), threads)?;
        Ok(Engine { graph, classes, devices, bell, now_ns: 0, wake: WakeAt::new(), next_wake: None, task_runs: 0 })
    }

    /// The custom classes the engine has.
    pub fn classes(&self) -> &CustomClasses {
        &self.classes
    }

    /// The virtual time, in nanoseconds.
    pub fn now_ns(&self) -> u64 {
        self.now_ns
    }

    /// Task runs made so far.
    pub fn task_runs(&self) -> u64 {
        self.task_runs
    }

    pub fn graph(&self) -> &Graph<User> {
        &self.graph
    }

    fn device(&self, name: &str) -> Result<&Arc<Device>, RunError> {
        self.devices.iter().find(|device| device.setup.name == name).ok_or_else(|| RunError::NoSuchDevice(name.to_string()))
    }

    /// Frames transmitted on every device since the engine was made.
    pub fn transmitted_total(&self) -> u64 {
        self.devices.iter().map(|device| device.transmitted_total()).sum()
    }

    /// Runs passes over every thread's tasks at the present instant until one does no work, or
    /// until `budget` more frames have been transmitted (checked after each task run); returns
    /// whether the budget ran out.
    fn settle(&mut self, budget: u64) -> Result<bool, RunError> {
        platform::set_now_ns(self.now_ns);
        let until = self.transmitted_total().saturating_add(budget);
        let mut runs = 0u64;
        loop {
            self.bell.take();
            let mut worked = false;
            for thread in 0..self.graph.thread_count() {
                for &task in self.graph.thread_tasks(thread) {
                    worked |= self.graph.run_task(task as usize, thread, &self.wake);
                    runs += 1;
                    self.task_runs = self.task_runs.saturating_add(1);
                    if self.transmitted_total() >= until {
                        self.note_wake();
                        return Ok(true);
                    }
                }
            }
            self.note_wake();
            if !worked && !self.bell.take() {
                return Ok(false);
            }
            if runs >= MAX_RUNS_PER_INSTANT {
                return Err(RunError::Endless { at_ns: self.now_ns });
            }
        }
    }

    fn note_wake(&mut self) {
        if let Some(at) = self.wake.take() {
            self.next_wake = Some(self.next_wake.map_or(at, |next| next.min(at)));
        }
    }

    /// Runs, in virtual-time order, every task with work and every timer due at or before
    /// `until_ns` (which may be `u64::MAX`), until nothing more is due by then or `budget` frames
    /// have been transmitted.
    pub fn run(&mut self, until_ns: u64, budget: u64) -> Result<Stopped, RunError> {
        if until_ns < self.now_ns {
            return Err(RunError::Backwards { at_ns: until_ns, now_ns: self.now_ns });
        }
        let until_tx = self.transmitted_total().saturating_add(budget);
        loop {
            let left = until_tx.saturating_sub(self.transmitted_total());
            if left == 0 || self.settle(left)? {
                return Ok(Stopped::Budget { now_ns: self.now_ns });
            }
            match self.next_wake {
                Some(at) if at <= until_ns => {
                    self.next_wake = None;
                    self.now_ns = self.now_ns.max(at);
                }
                Some(_) => {
                    self.now_ns = until_ns;
                    return Ok(Stopped::Reached);
                }
                None => return Ok(Stopped::Idle { now_ns: self.now_ns }),
            }
        }
    }

    /// Moves virtual time to `time_ns`, running every task and timer due on the way.
    pub fn advance_to(&mut self, time_ns: u64) -> Result<(), RunError> {
        self.run(time_ns, u64::MAX)?;
        self.now_ns = time_ns;
        self.settle(u64::MAX).map(|_| ())
    }

    /// A frame arrives on `device` at `time_ns`: time moves there first (what is due on the
    /// way runs, with no budget), then the frame is queued for FromDevice. The graph handles it
    /// at the next [`Engine::run`] (or `advance_to`, or the next `receive`), still at
    /// `time_ns`: a run's budget then counts what it causes. Returns whether the device's queue
    /// took it.
    pub fn receive(&mut self, device: &str, frame: &[u8], time_ns: u64) -> Result<bool, RunError> {
        let device = self.device(device)?.clone();
        self.advance_to(time_ns)?;
        Ok(device.arrive(frame))
    }

    /// Takes what `device` transmitted so far, oldest first, with the virtual times.
    pub fn take_transmitted(&mut self, device: &str) -> Result<Vec<(u64, Vec<u8>)>, RunError> {
        Ok(self.device(device)?.take_transmitted())
    }

    /// Lines the graph's elements logged (Print) since the last call.
    pub fn take_log(&mut self) -> Vec<String> {
        platform::take_log()
    }

    /// Reads handler `element.handler` as the kernel would answer `HANDLER_READ`.
    pub fn read_handler(&self, element: &str, handler: &str) -> Result<String, HandlerError> {
        platform::set_now_ns(self.now_ns);
        let mut out = Reply(String::new());
        self.graph.read_handler(element.as_bytes(), handler, &mut out)?;
        Ok(out.0)
    }

    /// Writes handler `element.handler`, as the tenant would (root-owned elements refuse).
    pub fn write_handler(&mut self, element: &str, handler: &str, value: &str) -> Result<(), HandlerError> {
        platform::set_now_ns(self.now_ns);
        self.graph.write_handler(element.as_bytes(), handler, value, true)
    }
}

/// A handler reply, bounded as in the kernel.
pub(crate) struct Reply(pub(crate) String);

impl fmt::Write for Reply {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.0.len() + s.len() > MAX_HANDLER_TEXT {
            return Err(fmt::Error);
        }
        self.0.push_str(s);
        Ok(())
    }
}
