//! The container engine's loop: the container part of a tenant's graph, compiled from Click
//! text, built over the channel, and run on the real monotonic clock until a signal stops it.
//!
//! Each pass runs every task once, under the watchdog. When a pass did no work, the engine
//! waits on the channel until the earliest time a timed element asked for, a packet from the
//! kernel, or a signal. Between passes it writes what elements logged (Print) to stderr, the
//! tenant's log, rings the kernel's doorbell if a packet it sent found the kernel's side
//! asleep, and answers handler requests on the control socket, if it has one.

use super::channel::{Channel, Woken};
use super::control::Control;
use super::watchdog::Watch;
use crate::device::UserDevice;
use crate::platform::{self, Bell, User};
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vdp_click::check::CheckOptions;
use vdp_click::source::{Diagnostics, Sources};
use vdp_click::system::{SystemConfig, Tenant};
use crate::custom::CustomClasses;
use vdp_core::element::{BoundaryEnd, BuildErrorKind, DeviceBinder, Graph, WakeAt};

/// Checks and compiles a container part: the piece of the tenant's configuration the
/// coordinator's partitioner cut off (the tenant's own element names, boundary classes
/// allowed, no devices), with the engine's classes, as `vdpctl check --merged` checks a merged
/// graph; then merges it alone, so its elements are named `TENANT/NAME` as in the kernel; then
/// the task analysis and the compiler. `Err` holds the rendered diagnostics.
pub fn compile_container_part(file_name: &str, text: &str, tenant: &str, classes: &CustomClasses) -> Result<Vec<u8>, String> {
    let system = SystemConfig {
        limits: Default::default(),
        physical: Vec::new(),
        tunnel: Vec::new(),
        tenant: vec![Tenant {
            name: tenant.to_string(),
            cgroup: format!("vdp/{tenant}"),
            cpu_share: 100,
            bandwidth_cap: None,
            aggregate_bandwidth_cap: None,
            memory_max: None,
            device: Vec::new(),
            container_level: Default::default(),
            fpga: None,
            channel_slots: None,
            engines: None,
            host_device: None,
        }],
        fpga: None,
        engines: None,
    };
    let problems = system.validate();
    if !problems.is_empty() {
        return Err(format!("tenant '{tenant}': {}", problems.join("; ")));
    }
    let options = CheckOptions { catalog: classes.catalog(), ..vdp_click::merged_options(&system) };
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let (part, _) = vdp_click::check_text(&mut sources, file_name, text, &options, &mut diagnostics);
    if diagnostics.has_errors() {
        return Err(sources.render_all(&diagnostics));
    }
    // Named as the merged graph names the tenant's elements (`TENANT/NAME`), references
    // included, so the compiled graph is the tenant's.
    let mut flat = vdp_click::merge::merge(&system, &[vdp_click::merge::TenantGraph { tenant, graph: &part }])
        .map_err(|problems| format!("{file_name}: {}", problems.join("; ")))?;
    let (checked, _) = match vdp_click::tasks::analyze_and_split(&mut flat, &options, system.limits.task_budget_cycles) {
        Ok(done) => done,
        Err(found) => {
            diagnostics.extend(found);
            return Err(sources.render_all(&diagnostics));
        }
    };
    let blob = vdp_click::compile::compile(&checked, &system).map_err(|e| format!("{file_name}: cannot compile: {e:?}"))?;
    vdp_click::compile::validate_in(classes.catalog(), &blob).map_err(|e| format!("{file_name}: the compiled graph does not validate: {e:?}"))?;
    Ok(blob)
}

/// Binds the container part's boundary elements to the channel; it has no devices.
struct Binder<'a>(&'a Arc<Channel>);

impl DeviceBinder<User> for Binder<'_> {
    fn bind(&self, _name: &str) -> Option<UserDevice> {
        None
    }

    fn bind_boundary(&self, end: BoundaryEnd, index: u16) -> Option<UserDevice> {
        self.0.bind(end, index).map(UserDevice::Boundary)
    }
}

/// How a run ended, other than by a signal.
#[derive(Debug)]
pub enum Failure {
    /// The graph could not be built on the channel.
    Build(String),
    /// An element panicked.
    Trap(String),
    /// The channel went away: replaced by a newer bind, or the tenant was deleted.
    HungUp,
    Io(String),
}

/// A container part built over its channel, ready to run.
pub struct Runner {
    graph: Graph<User>,
    channel: Arc<Channel>,
    bell: Bell,
    wake: WakeAt,
    next_wake: Option<u64>,
    clock: Instant,
}

impl Runner {
    /// Builds the compiled container part `blob` of `tenant` over `channel`. The clock starts
    /// now, in real time.
    pub fn new(blob: &[u8], tenant: &str, channel: Arc<Channel>, classes: &CustomClasses) -> Result<Runner, Failure> {
        let clock = Instant::now();
        platform::follow_real_time(clock);
        let bell = Bell::default();
        let graph = Graph::build_with(classes.catalog(), classes, blob, tenant, &Binder(&channel), bell.clone(), 1).map_err(|e| {
            Failure::Build(match e.kind {
                // The container part has no devices: only a boundary fails to bind this way.
                BuildErrorKind::NoSuchDevice => format!(
                    "{}: a boundary element whose ring the channel does not have ({} a direction), one bound twice, or a device element",
                    e.text(),
                    channel.geometry().rings()
                ),
                _ => e.text().to_string(),
            })
        })?;
        Ok(Runner { graph, channel, bell, wake: WakeAt::new(), next_wake: None, clock })
    }

    pub fn graph(&self) -> &Graph<User> {
        &self.graph
    }

    pub fn clock(&self) -> Instant {
        self.clock
    }

    /// The graph's elements as (name, class), by index, for the watchdog's messages.
    pub fn elements(&self) -> Vec<(String, &'static str)> {
        (0..self.graph.element_count())
            .filter_map(|i| self.graph.element(i))
            .map(|(name, class, _)| (String::from_utf8_lossy(name).into_owned(), class.name))
            .collect()
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.clock.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// One pass over every task; returns whether any did work.
    fn pass(&mut self, watch: &Watch) -> Result<bool, Failure> {
        self.bell.take();
        let mut worked = false;
        for thread in 0..self.graph.thread_count() {
            for &task in self.graph.thread_tasks(thread) {
                watch.begin();
                let ran = catch_unwind(AssertUnwindSafe(|| self.graph.run_task(task as usize, thread, &self.wake)));
                let ran = ran.map_err(|_| Failure::Trap(format!("{} trapped: {}", watch.element_text(), watch.trap_message())));
                watch.end();
                worked |= ran?;
            }
        }
        if let Some(at) = self.wake.take() {
            self.next_wake = Some(self.next_wake.map_or(at, |next| next.min(at)));
        }
        // The tenant's log going away must not stop the engine: lines that cannot be written
        // are lost.
        let mut log = std::io::stderr().lock();
        for line in platform::take_log() {
            let _ = writeln!(log, "{line}");
        }
        drop(log);
        self.channel.flush_kick().map_err(|e| Failure::Io(format!("cannot kick the kernel side of the channel: {e}")))?;
        Ok(worked || self.bell.take())
    }

    /// Runs until `stop` is set (a signal; `interrupt` is the signals' self-pipe, readable
    /// then) or something fails, serving `control`'s handler requests between passes.
    pub fn run(&mut self, watch: &Watch, stop: &AtomicBool, interrupt: &UnixStream, mut control: Option<&mut Control>) -> Result<(), Failure> {
        // The handler socket and the signals' pipe are looked at when the wait says one of them
        // is readable (and while a handler client is connected), not on every pass: under
        // traffic each look would be a system call per packet.
        let mut look_around = true;
        while !stop.load(Relaxed) {
            if let Some(control) = control.as_deref_mut() {
                if look_around || control.has_clients() {
                    control.serve(&self.graph, watch);
                }
            }
            look_around = false;
            if self.pass(watch)? {
                continue;
            }
            let now = self.now_ns();
            let timeout = match self.next_wake {
                Some(at) if at <= now => {
                    self.next_wake = None;
                    continue;
                }
                Some(at) => Some(Duration::from_nanos(at - now)),
                None => None,
            };
            let mut also = vec![interrupt.as_fd()];
            if let Some(control) = control.as_deref() {
                also.extend(control.fds());
            }
            match self.channel.wait(timeout, &also) {
                Ok(Woken::Look) => {}
                Ok(Woken::Others) => {
                    // Drain the self-pipe: the stop flag says what the signal meant.
                    let mut sink = [0u8; 64];
                    let _ = std::io::Read::read(&mut &*interrupt, &mut sink);
                    look_around = true;
                }
                Ok(Woken::HungUp) => return Err(Failure::HungUp),
                Err(e) => return Err(Failure::Io(format!("cannot wait on the channel: {e}"))),
            }
        }
        Ok(())
    }
}
