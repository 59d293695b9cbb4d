//! The element graph engine: one tenant's graph, built from a validated compiled graph, run with
//! Click's push/pull semantics.
//!
//! A graph is immutable once built; element state lives inside the elements behind atomics and
//! locks. Installing a new graph builds it completely beside the old one and then swaps one
//! `Arc`, so threads and handler calls always see either the old or the new graph whole.

pub(crate) mod handler;

use crate::sys::memcg::tenant_gfp;
use crate::elements;
use crate::packet::Packet;
use crate::portable::catalog;
use crate::portable::compiled_graph::{self, ElementScratch, FormatError, MAX_CALL_DEPTH};
use crate::portable::element_args::{ArgValue, ElementArgs};
use crate::portable::stride;
use crate::sys::thread::Doorbell;
use core::any::Any;
use core::cell::Cell;
use core::sync::atomic::{AtomicU64, Ordering};
use handler::{HandlerError, HandlerText};
use kernel::prelude::*;
use kernel::sync::Arc;

/// What every element class implements. Ports and modes are fixed by the validated graph, so
/// `push` is called only on push inputs and `pull` only on pull outputs.
///
/// `Any` is a supertrait so that [`Element::take_state`] can recognise its own class behind a
/// `&dyn Element` ([`same_class`]).
pub(crate) trait Element: Any + Send + Sync {
    /// A packet arrives on push input `port`.
    fn push(&self, cx: &Cx<'_>, port: u16, packet: Packet) {
        let _ = (cx, port);
        drop(packet);
    }

    /// Downstream asks for a packet on pull output `port`.
    fn pull(&self, cx: &Cx<'_>, port: u16) -> Option<Packet> {
        let _ = (cx, port);
        None
    }

    /// Runs the element as a task once; returns whether it did any work. A task with nothing to
    /// do until some time (a rate's next token) says so with [`Cx::wake_at`], so that its thread
    /// may sleep until then; one that waits for an event relies on the doorbell instead.
    fn run_task(&self, cx: &Cx<'_>) -> bool {
        let _ = cx;
        false
    }

    fn read_handler(&self, name: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        let _ = (name, out);
        Err(HandlerError::NoSuchHandler)
    }

    fn write_handler(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        let _ = (name, value);
        Err(HandlerError::NoSuchHandler)
    }

    /// Hotswap: `self` is an element of a graph being installed, and `old` the element of the
    /// same name and class in the graph it replaces. Called once, after the new graph is
    /// completely built and cannot fail any more, while the old graph is still running; the new
    /// graph is not yet visible to anyone, hence `&mut self`.
    ///
    /// Implementations carry their state over, usually by sharing it: the new element adopts
    /// the old one's `Arc`ed state, so whatever the old graph still does with it until the swap
    /// (and during the pass a thread may be finishing on it) lands in the same place, and
    /// nothing is lost or counted twice. This must not fail, allocate or sleep. Use
    /// [`same_class`] to reach `old` as the concrete type. The default keeps no state.
    fn take_state(&mut self, old: &dyn Element) {
        let _ = old;
    }
}

/// `element` as the concrete class `T`, or `None` when it is another class.
pub(crate) fn same_class<T: Element>(element: &dyn Element) -> Option<&T> {
    let element: &dyn Any = element;
    element.downcast_ref::<T>()
}

/// Where an output port leads, or an input port comes from.
#[derive(Clone, Copy)]
struct PortLink {
    element: u32,
    port: u16,
}

struct Node {
    name: KVec<u8>,
    /// Catalog class id: hotswap carries state only between elements of the same name and class.
    class: u16,
    element: KBox<dyn Element>,
    /// Per output port: the downstream input it pushes to.
    outputs: KVec<Option<PortLink>>,
    /// Per input port: the upstream output it pulls from.
    inputs: KVec<Option<PortLink>>,
    /// Owned by the root context (the blob's owner byte): the tenant may not write its handlers.
    root: bool,
}

struct TaskSlot {
    element: u32,
    thread: u32,
    /// Stride-scheduling tickets: [`stride::DEFAULT_TICKETS`] unless a ScheduleInfo says else.
    tickets: u32,
}

/// Most threads one tenant runs: `StaticThreadSched` may name threads 0 to 7. The compiled
/// format allows up to [`compiled_graph::MAX_THREAD`]; each thread is a kthread, so the kernel
/// bounds them per tenant more tightly than the format does.
pub(crate) const TENANT_THREADS_MAX: u32 = crate::portable::uapi::TENANT_THREADS_MAX;

pub(crate) struct Graph {
    nodes: KVec<Node>,
    tasks: KVec<TaskSlot>,
    /// Per thread of the tenant (at least one): the indices in `tasks` that it runs.
    thread_tasks: KVec<KVec<u32>>,
    /// Unique among the graphs built since the module was loaded, so a thread can tell that the
    /// graph it runs has changed without holding on to the old one.
    serial: u64,
    doorbell: Arc<Doorbell>,
    /// Pushes dropped and pulls refused because the call chain had reached [`MAX_CALL_DEPTH`]
    /// elements (the validator refuses such graphs; this is the second line of defence).
    depth_drops: AtomicU64,
}

/// Serial numbers of built graphs.
static GRAPH_SERIALS: AtomicU64 = AtomicU64::new(1);

/// The earliest time any task run by one thread asked to be run again ([`Cx::wake_at`]),
/// collected over a pass; the thread sleeps no later than that when the pass did no work.
pub(crate) struct WakeAt(Cell<u64>);

impl WakeAt {
    const NEVER: u64 = u64::MAX;

    pub(crate) fn new() -> Self {
        WakeAt(Cell::new(Self::NEVER))
    }

    fn request(&self, at_ns: u64) {
        if at_ns < self.0.get() {
            self.0.set(at_ns);
        }
    }

    /// The earliest requested time since the last call, if any task asked for one.
    pub(crate) fn take(&self) -> Option<u64> {
        Some(self.0.replace(Self::NEVER)).filter(|&at| at != Self::NEVER)
    }
}

/// An element's view of the graph while it handles a packet or runs as a task.
pub(crate) struct Cx<'g> {
    graph: &'g Graph,
    element: u32,
    wake: &'g WakeAt,
    /// Elements on the call chain so far, this one included: 1 for a task.
    depth: u32,
    /// Push and pull calls this task run may still make, shared by every context of the run.
    hops_left: &'g Cell<u32>,
}

/// Most push and pull calls one task run makes: the depth bound limits how deep a chain goes,
/// this limits how wide the run spreads. Without it a graph the validator accepts could still
/// multiply its work by the depth: a chain of `Tee(8)`s, each feeding all its outputs into the
/// next, pushes 8 to the power of its length packets, and a chain of pull-mode simple-action
/// elements each retrying 64 times makes 64 to the power of its length calls. A task run that
/// reaches it drops its further pushes and gets `None` from its further pulls, counted in
/// `DEPTH_DROPS`; ordinary runs (a burst of packets through a few dozen elements) make a few
/// thousand calls.
pub(crate) const HOPS_PER_TASK_RUN: u32 = 1 << 16;

impl Cx<'_> {
    /// The context of the next element down the chain, or `None` (counted) when the chain
    /// already holds [`MAX_CALL_DEPTH`] elements: a graph that got past the validator with a
    /// deeper chain loses packets rather than the kernel stack.
    fn next(&self, element: u32) -> Option<Cx<'_>> {
        let hops = self.hops_left.get();
        if self.depth >= MAX_CALL_DEPTH || hops == 0 {
            self.graph.depth_drops.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        self.hops_left.set(hops - 1);
        Some(Cx { graph: self.graph, element, wake: self.wake, depth: self.depth + 1, hops_left: self.hops_left })
    }

    /// Pushes `packet` out of output `port`; an unconnected output drops it, and so does a
    /// chain that is already [`MAX_CALL_DEPTH`] elements deep.
    pub(crate) fn push(&self, port: u16, packet: Packet) {
        let Some(link) = self.graph.output_link(self.element, port) else {
            drop(packet);
            return;
        };
        let (Some(node), Some(cx)) = (self.graph.nodes.get(link.element as usize), self.next(link.element)) else {
            drop(packet);
            return;
        };
        node.element.push(&cx, link.port, packet);
    }

    /// Pulls a packet from input `port`; `None` also when the chain is already
    /// [`MAX_CALL_DEPTH`] elements deep.
    pub(crate) fn pull(&self, port: u16) -> Option<Packet> {
        let link = self.graph.input_link(self.element, port)?;
        let node = self.graph.nodes.get(link.element as usize)?;
        node.element.pull(&self.next(link.element)?, link.port)
    }

    /// Tells the tenant's threads that work is waiting (a queue became non-empty).
    pub(crate) fn wake_tasks(&self) {
        self.graph.doorbell.ring();
    }

    /// Asks for the running task to be run again by `at_ns` on the monotonic clock
    /// ([`crate::sys::time::now_ns`]): the element can do nothing before then, e.g. until its
    /// rate allows the next packet. The thread sleeps until the earliest such time of a pass
    /// instead of polling.
    pub(crate) fn wake_at(&self, at_ns: u64) {
        self.wake.request(at_ns);
    }
}

/// Why a graph could not be built; the text names the element or rule at fault.
pub(crate) struct BuildError {
    pub(crate) errno: Error,
    pub(crate) text: KVec<u8>,
}

impl BuildError {
    pub(crate) fn new(errno: Error, args: core::fmt::Arguments<'_>) -> Self {
        let mut text = HandlerText::new();
        let _ = core::fmt::Write::write_fmt(&mut text, args);
        BuildError { errno, text: text.into_bytes() }
    }
}

/// What a failed allocation for a tenant reports: its memory is charged to its data plane's
/// memory cgroup (`kmod/sys/memcg.rs`), whose `memory.max` is the usual reason. Short enough
/// for an extack message (79 bytes) with the element's name after it.
pub(crate) const OUT_OF_MEMORY: &str = "out of memory (the tenant's memory.max, or the system's)";

impl From<kernel::alloc::AllocError> for BuildError {
    fn from(_: kernel::alloc::AllocError) -> Self {
        BuildError::new(ENOMEM, format_args!("{}", OUT_OF_MEMORY))
    }
}

fn invalid_blob(e: FormatError) -> BuildError {
    BuildError::new(EINVAL, format_args!("invalid compiled graph: {:?}", e))
}

/// A validation error in words, naming the element at fault for call-chain errors.
fn invalid_graph(error: FormatError, blob: &[u8], elements: &[ElementScratch]) -> BuildError {
    match error {
        FormatError::PushCycle { .. } | FormatError::PullCycle { .. } | FormatError::ChainTooLong { .. } => {
            BuildError::new(EINVAL, format_args!("{}", compiled_graph::Explained { error, blob, elements }))
        }
        other => invalid_blob(other),
    }
}

impl Graph {
    /// Validates `blob` and builds its graph for the tenant named `tenant`. Tasks that no
    /// `StaticThreadSched` pins are spread round-robin, in task order, over `threads` threads
    /// (the tenant's `THREADS` knob, 1 to [`TENANT_THREADS_MAX`]).
    pub(crate) fn build(blob: &[u8], tenant: &str, tenant_id: u32, doorbell: Arc<Doorbell>, threads: u32) -> Result<Graph, BuildError> {
        let threads = threads.clamp(1, TENANT_THREADS_MAX);
        let sizes = compiled_graph::scratch_sizes(blob).map_err(invalid_blob)?;
        let element_count = sizes.elements;
        let mut scratch = KVVec::with_capacity(element_count, tenant_gfp())?;
        scratch.resize(element_count, ElementScratch::default(), tenant_gfp())?;
        let mut ports = KVVec::with_capacity(sizes.ports, tenant_gfp())?;
        ports.resize(sizes.ports, 0u16, tenant_gfp())?;
        let mut edges = KVVec::with_capacity(sizes.edges, tenant_gfp())?;
        edges.resize(sizes.edges, 0u32, tenant_gfp())?;
        let compiled = compiled_graph::validate(blob, &mut scratch, &mut ports, &mut edges)
            .map_err(|e| invalid_graph(e, blob, &scratch))?;

        // The blob may describe every tenant of the system; this install takes only the
        // elements of the tenant it is for, and refuses anyone else's.
        let own_index = compiled
            .tenants()
            .position(|info| info.name == tenant)
            .ok_or_else(|| BuildError::new(EINVAL, format_args!("graph has no tenant '{}'", tenant)))?;
        let mut nodes = KVec::with_capacity(element_count, tenant_gfp())?;
        // (element, tickets) from every ScheduleInfo, applied to the tasks below.
        let mut shares: KVec<(u32, u32)> = KVec::new();
        for (index, view) in compiled.elements().enumerate() {
            if view.tenant == compiled_graph::SHARED_TENANT {
                return Err(BuildError::new(EOPNOTSUPP, format_args!("element '{}': shared device elements are not installed per tenant", view.name)));
            }
            if usize::from(view.tenant) != own_index {
                let owner = compiled.tenants().nth(usize::from(view.tenant)).map_or("?", |t| t.name);
                return Err(BuildError::new(EPERM, format_args!("element '{}' belongs to tenant '{}'", view.name, owner)));
            }
            let args = ElementArgs::decode(&view)
                .map_err(|e| BuildError::new(EINVAL, format_args!("element '{}': bad arguments ({:?})", view.name, e)))?;
            let element = elements::construct(&view, &args, tenant_id).map_err(|e| match e {
                elements::ConstructError::NoSuchDevice => BuildError::new(ENODEV, format_args!("element '{}': the tenant has no device of that name", view.name)),
                elements::ConstructError::NotImplemented => BuildError::new(EOPNOTSUPP, format_args!("element '{}': class {} is not implemented in the kernel", view.name, view.class.name)),
                elements::ConstructError::BadArgument(what) => BuildError::new(EINVAL, format_args!("element '{}': bad argument {}", view.name, what)),
                elements::ConstructError::NoMemory => BuildError::new(ENOMEM, format_args!("{} building '{}'", OUT_OF_MEMORY, view.name)),
            })?;
            let _ = index;
            if view.class.name == "ScheduleInfo" {
                for value in args.repeated() {
                    if let Ok(ArgValue::Thread { element, number }) = value {
                        shares.push((element, number), tenant_gfp())?;
                    }
                }
            }
            let mut name = KVec::with_capacity(view.name.len(), tenant_gfp())?;
            name.extend_from_slice(view.name.as_bytes(), tenant_gfp())?;
            let mut outputs = KVec::with_capacity(usize::from(view.outputs), tenant_gfp())?;
            outputs.resize(usize::from(view.outputs), None, tenant_gfp())?;
            let mut inputs = KVec::with_capacity(usize::from(view.inputs), tenant_gfp())?;
            inputs.resize(usize::from(view.inputs), None, tenant_gfp())?;
            let root = view.owner == compiled_graph::OWNER_ROOT;
            nodes.push(Node { name, class: view.class.id, element, outputs, inputs, root }, tenant_gfp())?;
        }
        for connection in compiled.connections() {
            let bad = || BuildError::new(EINVAL, format_args!("connection {} -> {} is out of range", connection.from, connection.to));
            let from = nodes.get_mut(connection.from as usize).ok_or_else(bad)?;
            *from.outputs.get_mut(usize::from(connection.from_port)).ok_or_else(bad)? =
                Some(PortLink { element: connection.to, port: connection.to_port });
            let to = nodes.get_mut(connection.to as usize).ok_or_else(bad)?;
            *to.inputs.get_mut(usize::from(connection.to_port)).ok_or_else(bad)? =
                Some(PortLink { element: connection.from, port: connection.from_port });
        }
        let mut tasks = KVec::with_capacity(compiled.task_count() as usize, tenant_gfp())?;
        // max(knob, highest pinned thread + 1): a knob above the task count still gives the
        // tenant that many threads, as asked.
        let mut thread_count = threads;
        let mut unpinned = 0u32;
        for task in compiled.tasks() {
            let thread = if task.thread == compiled_graph::UNPINNED {
                // checked_rem: no division-by-zero panic path, though `threads` is at least 1.
                let thread = unpinned.checked_rem(threads).unwrap_or(0);
                unpinned = unpinned.wrapping_add(1);
                thread
            } else {
                task.thread
            };
            if thread >= TENANT_THREADS_MAX {
                let name = nodes.get(task.element as usize).map_or(&b"?"[..], |n| n.name.as_slice());
                return Err(BuildError::new(EINVAL, format_args!(
                    "element '{}': thread {} is beyond a tenant's {} threads",
                    core::str::from_utf8(name).unwrap_or("?"), thread, TENANT_THREADS_MAX)));
            }
            thread_count = thread_count.max(thread + 1);
            // As in Click, a later ScheduleInfo entry for the same element wins.
            let tickets = shares
                .iter()
                .rev()
                .find(|(element, _)| *element == task.element)
                .map_or(stride::DEFAULT_TICKETS, |(_, tickets)| *tickets);
            tasks.push(TaskSlot { element: task.element, thread, tickets }, tenant_gfp())?;
        }
        let mut thread_tasks = KVec::with_capacity(thread_count as usize, tenant_gfp())?;
        for thread in 0..thread_count {
            let mut own = KVec::new();
            for (index, task) in tasks.iter().enumerate() {
                if task.thread == thread {
                    // Lossless: the task count is a u32 in the compiled graph.
                    own.push(index as u32, tenant_gfp())?;
                }
            }
            thread_tasks.push(own, tenant_gfp())?;
        }
        let serial = GRAPH_SERIALS.fetch_add(1, Ordering::Relaxed);
        Ok(Graph { nodes, tasks, thread_tasks, serial, doorbell, depth_drops: AtomicU64::new(0) })
    }

    /// Hotswap: every element that has a namesake of the same class in `old` takes its state
    /// over (see [`Element::take_state`]). Infallible, so it runs after everything that can fail.
    pub(crate) fn adopt_state(&mut self, old: &Graph) {
        for node in self.nodes.iter_mut() {
            if let Some(previous) = old.find(&node.name) {
                if previous.class == node.class {
                    node.element.take_state(&*previous.element);
                }
            }
        }
    }

    fn output_link(&self, element: u32, port: u16) -> Option<PortLink> {
        *self.nodes.get(element as usize)?.outputs.get(usize::from(port))?
    }

    fn input_link(&self, element: u32, port: u16) -> Option<PortLink> {
        *self.nodes.get(element as usize)?.inputs.get(usize::from(port))?
    }

    pub(crate) fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// How many threads the graph's tasks are placed on (1 to [`TENANT_THREADS_MAX`]).
    pub(crate) fn thread_count(&self) -> u32 {
        u32::try_from(self.thread_tasks.len()).unwrap_or(TENANT_THREADS_MAX).max(1)
    }

    /// Tells this graph from every other built since the module was loaded.
    pub(crate) fn serial(&self) -> u64 {
        self.serial
    }

    /// Task `index`'s stride-scheduling tickets.
    pub(crate) fn task_tickets(&self, index: u32) -> u32 {
        self.tasks.get(index as usize).map_or(stride::DEFAULT_TICKETS, |task| task.tickets)
    }

    /// The tasks `thread` runs, as indices for [`Graph::run_task`]; none for a thread the graph
    /// does not use.
    pub(crate) fn thread_tasks(&self, thread: u32) -> &[u32] {
        self.thread_tasks.get(thread as usize).map_or(&[], |own| own.as_slice())
    }

    /// Runs task `index` once if it belongs to `thread`; returns whether it did work. Wake-up
    /// times it asks for are collected in `wake`.
    pub(crate) fn run_task(&self, index: usize, thread: u32, wake: &WakeAt) -> bool {
        let Some(task) = self.tasks.get(index) else { return false };
        if task.thread != thread {
            return false;
        }
        match self.nodes.get(task.element as usize) {
            Some(node) => {
                let hops_left = Cell::new(HOPS_PER_TASK_RUN);
                node.element.run_task(&Cx { graph: self, element: task.element, wake, depth: 1, hops_left: &hops_left })
            }
            None => false,
        }
    }

    fn find(&self, name: &[u8]) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name.as_slice() == name)
    }

    pub(crate) fn element_count(&self) -> usize {
        self.nodes.len()
    }

    /// Element `index`'s name, catalog class and whether the root context owns it, for STATS.
    pub(crate) fn element(&self, index: usize) -> Option<(&[u8], &'static catalog::ElementClass, bool)> {
        let node = self.nodes.get(index)?;
        Some((&node.name, catalog::class_by_id(node.class)?, node.root))
    }

    /// Pushes dropped and pulls refused at the call-depth bound since the graph was built.
    pub(crate) fn depth_drops(&self) -> u64 {
        self.depth_drops.load(Ordering::Relaxed)
    }

    /// Whether `element` is a routing table, whose successful writes the events group announces.
    /// The catalog marks table classes by their resource; every write handler of one changes it.
    pub(crate) fn is_table(&self, element: &[u8]) -> bool {
        self.find(element)
            .and_then(|node| catalog::class_by_id(node.class))
            .is_some_and(|class| class.resource == catalog::Resource::TableEntries)
    }

    pub(crate) fn read_handler(&self, element: &[u8], handler: &str, out: &mut HandlerText) -> Result<(), HandlerError> {
        self.find(element).ok_or(HandlerError::NoSuchElement)?.element.read_handler(handler, out)
    }

    /// Writes a handler; `as_tenant` for a request made on the tenant's behalf, which may not
    /// write an element the root context owns.
    pub(crate) fn write_handler(&self, element: &[u8], handler: &str, value: &str, as_tenant: bool) -> Result<(), HandlerError> {
        let node = self.find(element).ok_or(HandlerError::NoSuchElement)?;
        if as_tenant && node.root {
            return Err(HandlerError::RootOwned);
        }
        let result = node.element.write_handler(handler, value);
        // A write may enable a task (ACTIVE true, a reset LIMIT): let the threads look again.
        self.doorbell.ring();
        result
    }
}
