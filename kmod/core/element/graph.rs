//! The element graph engine: one tenant's graph, built from a validated compiled graph, run with
//! Click's push/pull semantics, on any [`Platform`].
//!
//! A graph is immutable once built; element state lives inside the elements behind atomics and
//! the platform's locks. Installing a new graph builds it completely beside the old one; the
//! kernel then swaps one `Arc`, so threads and handler calls always see either graph whole.

use super::class::{Build, ConstructError, DeviceBinder};
use super::extension::{Extensions, NoExtensions};
use super::handler::HandlerError;
use super::platform::{Doorbell, GraphDrop, NoMemory, PacketBuf, Platform};
use super::vector::Vector;
use crate::catalog::{self, ArgKind, Catalog};
use crate::compiled_graph::{self, ElementScratch, FormatError, MAX_CALL_DEPTH};
use crate::element_args::{ArgValue, ElementArgs};
use crate::library::AnyElement;
use crate::stride;
use crate::uapi::TENANT_THREADS_MAX;
use core::cell::Cell;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, Ordering};

/// Where an output port leads, or an input port comes from.
#[derive(Clone, Copy)]
struct PortLink {
    element: u32,
    port: u16,
}

/// One end of a connection, and the counter of the packets that crossed it.
///
/// Element counters are kept per connection, on the side that makes the call: a push output's
/// link counts the packets pushed through it, a pull input's link the packets pulled through
/// it. Every push output and every pull input has exactly one connection (the validator's
/// rule), so each hop bumps exactly one counter, and an element's packets in and out are sums
/// over its connections ([`Graph::element_counters`]), made only when someone asks.
///
/// Who can touch a counter at the same time: elements run only on the tenant's threads (the
/// device receive path in softirq only queues packets for FromDevice, docs/devices.md), but a
/// tenant runs up to [`TENANT_THREADS_MAX`] threads, and one connection can be crossed by tasks
/// of two threads at once (a Counter fed by FromDevices on two threads pushes through one link
/// from both; a Queue is pushed on one thread and pulled on another). One shared integer would
/// then need a locked read-modify-write on every hop (a relaxed `fetch_add`, `lock xadd` on
/// x86-64, which costs up to twice as much as these cells at user level, docs/netlink.md);
/// plain integers would be a data race and lose counts. So each counter has one cell per thread
/// of the graph ([`Counters`]): a thread only ever writes its own cell, with a relaxed load and
/// store (plain moves, no lock prefix, no lost update since it is the only writer), and the dump
/// sums the cells with relaxed loads. The cells are still atomics so that those concurrent reads are
/// defined, and a 64-bit atomic load does not tear. A u64 at one packet a nanosecond lasts 584
/// years; the additions saturate rather than wrap.
struct Link {
    to: PortLink,
    /// This link's counter in [`Graph::hops`].
    counter: u32,
}

/// Counters with one cell per thread of the graph, thread-major (each thread's cells are
/// contiguous, so two threads never write one cache line except at its edges).
struct Counters<P: Platform> {
    cells: Vector<P, AtomicU64>,
    /// Counters per thread.
    stride: usize,
}

impl<P: Platform> Counters<P> {
    fn new(counters: usize, threads: u32) -> Result<Self, NoMemory> {
        let total = counters.checked_mul(threads.max(1) as usize).ok_or(NoMemory)?;
        let mut cells = Vector::with_capacity(total)?;
        for _ in 0..total {
            cells.push_within_capacity(AtomicU64::new(0)).map_err(|_| NoMemory)?;
        }
        Ok(Counters { cells, stride: counters })
    }

    /// Adds one to `counter` for `thread`, which only that thread's task runs do. A thread the
    /// graph has no cells for (none runs tasks) would share thread 0's, with an atomic add.
    #[inline(always)]
    fn bump(&self, thread: u32, counter: u32) {
        let at = (thread as usize).checked_mul(self.stride).and_then(|base| base.checked_add(counter as usize));
        match at.and_then(|at| self.cells.get(at)) {
            Some(cell) => cell.store(cell.load(Ordering::Relaxed).saturating_add(1), Ordering::Relaxed),
            None => {
                if let Some(cell) = self.cells.get(counter as usize) {
                    cell.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// `counter` summed over the threads.
    fn sum(&self, counter: u32) -> u64 {
        self.cells
            .iter()
            .skip(counter as usize)
            .step_by(self.stride.max(1))
            .map(|cell| cell.load(Ordering::Relaxed))
            .fold(0, u64::saturating_add)
    }
}

struct Node<P: Platform> {
    name: Vector<P, u8>,
    class: &'static catalog::ElementClass,
    element: AnyElement<P>,
    /// Per output port: the downstream input it pushes to (a pull output pulled from several
    /// inputs keeps the last; only push outputs' counts are used).
    outputs: Vector<P, Option<Link>>,
    /// Per input port: the upstream output it pulls from (only pull inputs' counts are used).
    inputs: Vector<P, Option<Link>>,
    /// Every connection into this element: the source element and its output port. Its
    /// packets in are the counts of these links plus those of its own input links.
    sources: Vector<P, PortLink>,
    /// Every connection out of this element: the target element and its input port. Its
    /// packets out are the counts of these links plus those of its own output links.
    targets: Vector<P, PortLink>,
    /// Owned by the root context (the blob's owner byte): the tenant may not write its handlers.
    root: bool,
}

/// What [`Graph::element_counters`] reports for one element, counted since the graph was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ElementCounters {
    /// Packets that entered the element: pushed into one of its inputs, or returned to it by a
    /// pull on one of its inputs.
    pub packets_in: u64,
    /// Packets the element passed on: pushed out of one of its outputs into the next element,
    /// or returned by it to a pull on one of its outputs.
    pub packets_out: u64,
    /// Packets the element discarded rather than passing on (a full queue, a failed check
    /// without an output for it, Discard), and pushes the graph could not deliver for it (an
    /// output with no connection, the call-depth or hop bound).
    pub drops: u64,
    /// For an element that holds packets (Queue, SimpleQueue): the packets it holds now and
    /// how many it can hold.
    pub queue: Option<(u64, u64)>,
}

struct TaskSlot {
    element: u32,
    thread: u32,
    /// Stride-scheduling tickets: [`stride::DEFAULT_TICKETS`] unless a ScheduleInfo says else.
    tickets: u32,
}

/// One tenant's element graph.
pub struct Graph<P: Platform> {
    nodes: Vector<P, Node<P>>,
    tasks: Vector<P, TaskSlot>,
    /// Per thread of the tenant (at least one): the indices in `tasks` that it runs.
    thread_tasks: Vector<P, Vector<P, u32>>,
    /// Unique among the graphs built since the module was loaded (or the engine started), so a
    /// thread can tell that the graph it runs has changed without holding on to the old one.
    serial: u64,
    doorbell: P::Doorbell,
    /// Pushes dropped and pulls refused because the call chain had reached [`MAX_CALL_DEPTH`]
    /// elements or the task run had used up [`HOPS_PER_TASK_RUN`].
    depth_drops: AtomicU64,
    /// Per link ([`Link::counter`]): the packets that crossed it.
    hops: Counters<P>,
    /// Per element: the packets it discarded ([`Cx::drop_packet`], [`Cx::discard`]) and the
    /// pushes of its that the graph could not deliver.
    drops: Counters<P>,
    /// The tenant's id ([`DeviceBinder::tenant_id`]), for [`Platform::packet_dropped`].
    tenant_id: u32,
}

/// `count` ports with no connection yet.
fn unconnected<P: Platform>(count: u16) -> Result<Vector<P, Option<Link>>, NoMemory> {
    let mut links = Vector::with_capacity(usize::from(count))?;
    for _ in 0..count {
        links.push_within_capacity(None).map_err(|_| NoMemory)?;
    }
    Ok(links)
}

/// Serial numbers of built graphs.
static GRAPH_SERIALS: AtomicU64 = AtomicU64::new(1);

/// The earliest time any task run by one thread asked to be run again ([`Cx::wake_at`]),
/// collected over a pass; the thread sleeps no later than that when the pass did no work.
pub struct WakeAt(Cell<u64>);

impl Default for WakeAt {
    fn default() -> Self {
        Self::new()
    }
}

impl WakeAt {
    const NEVER: u64 = u64::MAX;

    pub fn new() -> Self {
        WakeAt(Cell::new(Self::NEVER))
    }

    fn request(&self, at_ns: u64) {
        if at_ns < self.0.get() {
            self.0.set(at_ns);
        }
    }

    /// The earliest requested time since the last call, if any task asked for one.
    pub fn take(&self) -> Option<u64> {
        Some(self.0.replace(Self::NEVER)).filter(|&at| at != Self::NEVER)
    }
}

/// Most push and pull calls one task run makes: the depth bound limits how deep a chain goes,
/// this limits how wide the run spreads. Without it a graph the validator accepts could still
/// multiply its work by the depth: a chain of `Tee(8)`s, each feeding all its outputs into the
/// next, pushes 8 to the power of its length packets, and a chain of pull-mode simple-action
/// elements each retrying 64 times makes 64 to the power of its length calls. A task run that
/// reaches it drops its further pushes and gets `None` from its further pulls, counted in
/// `DEPTH_DROPS`; ordinary runs (a burst of packets through a few dozen elements) make a few
/// thousand calls.
pub const HOPS_PER_TASK_RUN: u32 = 1 << 16;

/// An element's view of the graph while it handles a packet or runs as a task.
pub struct Cx<'g, P: Platform> {
    graph: &'g Graph<P>,
    element: u32,
    wake: &'g WakeAt,
    /// Elements on the call chain so far, this one included: 1 for a task.
    depth: u32,
    /// Push and pull calls this task run may still make, shared by every context of the run.
    hops_left: &'g Cell<u32>,
    /// The tenant thread the task runs on: whose counter cells the run writes.
    thread: u32,
}

impl<P: Platform> Cx<'_, P> {
    /// The context of the next element down the chain, or `None` (counted) when the chain
    /// already holds [`MAX_CALL_DEPTH`] elements or the run is out of hops: a graph that got
    /// past the validator with a deeper chain loses packets rather than the kernel stack.
    fn next(&self, element: u32) -> Option<Cx<'_, P>> {
        let hops = self.hops_left.get();
        if self.depth >= MAX_CALL_DEPTH || hops == 0 {
            self.graph.depth_drops.fetch_add(1, Ordering::Relaxed);
            self.graph.dropped(self.element, GraphDrop::Depth);
            return None;
        }
        self.hops_left.set(hops - 1);
        Some(Cx { graph: self.graph, element, wake: self.wake, depth: self.depth + 1, hops_left: self.hops_left, thread: self.thread })
    }

    /// Pushes `packet` out of output `port`; an unconnected output drops it, and so does a
    /// chain that is already [`MAX_CALL_DEPTH`] elements deep.
    pub fn push(&self, port: u16, packet: P::Packet) {
        let Some(link) = self.graph.output_link(self.element, port) else {
            self.drop_packet(packet);
            return;
        };
        let (Some(node), Some(cx)) = (self.graph.nodes.get(link.to.element as usize), self.next(link.to.element)) else {
            self.drop_packet(packet);
            return;
        };
        self.graph.hops.bump(self.thread, link.counter);
        let outer = P::entering_element(link.to.element);
        node.element.push(&cx, link.to.port, packet);
        P::left_element(outer);
    }

    /// Pulls a packet from input `port`; `None` also when the chain is already
    /// [`MAX_CALL_DEPTH`] elements deep.
    pub fn pull(&self, port: u16) -> Option<P::Packet> {
        let link = self.graph.input_link(self.element, port)?;
        let node = self.graph.nodes.get(link.to.element as usize)?;
        let cx = self.next(link.to.element)?;
        let outer = P::entering_element(link.to.element);
        let packet = node.element.pull(&cx, link.to.port);
        P::left_element(outer);
        if packet.is_some() {
            self.graph.hops.bump(self.thread, link.counter);
        }
        packet
    }

    /// Drops `packet` (it was lost: a full queue, a failed check), counted in this element's
    /// drops.
    pub fn drop_packet(&self, packet: P::Packet) {
        self.count_drop();
        drop(packet);
    }

    /// Ends `packet`'s life as deliberately discarded (Discard), counted in this element's
    /// drops: the element took it in and passed nothing on.
    pub fn discard(&self, packet: P::Packet) {
        self.graph.drops.bump(self.thread, self.element);
        self.graph.dropped(self.element, GraphDrop::Discarded);
        packet.consume();
    }

    /// Counts one packet this element lost without handing it to [`Cx::drop_packet`] (a simple
    /// action freed it already).
    pub(crate) fn count_drop(&self) {
        self.graph.drops.bump(self.thread, self.element);
        self.graph.dropped(self.element, GraphDrop::Lost);
    }

    /// Tells the tenant's threads that work is waiting (a queue became non-empty).
    pub fn wake_tasks(&self) {
        self.graph.doorbell.ring();
    }

    /// Asks for the running task to be run again by `at_ns` on the platform's clock
    /// ([`Platform::now_ns`]): the element can do nothing before then, e.g. until its rate
    /// allows the next packet. The thread sleeps until the earliest such time of a pass instead
    /// of polling.
    pub fn wake_at(&self, at_ns: u64) {
        self.wake.request(at_ns);
    }
}

/// What kind of failure a [`BuildError`] is; the kernel maps it to an errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildErrorKind {
    /// The blob or an element's configuration is invalid.
    Invalid,
    /// An element names a device the tenant does not have.
    NoSuchDevice,
    /// The blob asks for something not installed per tenant (shared elements).
    Unsupported,
    /// An element belongs to another tenant.
    NotPermitted,
    NoMemory,
}

/// Most bytes of a build error's text: more than an extack message holds (79 bytes), so the
/// kernel cuts it, and enough for `vdpctl run`'s whole message.
pub const BUILD_ERROR_TEXT: usize = 192;

/// Why a graph could not be built; the text names the element or rule at fault.
pub struct BuildError {
    pub kind: BuildErrorKind,
    text: [u8; BUILD_ERROR_TEXT],
    len: usize,
}

impl BuildError {
    pub fn new(kind: BuildErrorKind, args: fmt::Arguments<'_>) -> Self {
        let mut error = BuildError { kind, text: [0; BUILD_ERROR_TEXT], len: 0 };
        // A text too long for the buffer is cut, at a character boundary.
        let _ = error.write_fmt(args);
        error
    }

    pub fn text(&self) -> &str {
        let bytes = self.text.get(..self.len).unwrap_or(&[]);
        match core::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => core::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or(&[])).unwrap_or(""),
        }
    }
}

impl fmt::Write for BuildError {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let mut buffer = [0u8; 4];
            let encoded = c.encode_utf8(&mut buffer).as_bytes();
            let end = self.len + encoded.len();
            let Some(slot) = self.text.get_mut(self.len..end) else { return Err(fmt::Error) };
            slot.copy_from_slice(encoded);
            self.len = end;
        }
        Ok(())
    }
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.text())
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// What a failed allocation for a tenant reports: in the kernel its memory is charged to its
/// data plane's memory cgroup, whose `memory.max` is the usual reason. Short enough for an
/// extack message (79 bytes) with the element's name after it.
pub const OUT_OF_MEMORY: &str = "out of memory (the tenant's memory.max, or the system's)";

impl From<NoMemory> for BuildError {
    fn from(_: NoMemory) -> Self {
        BuildError::new(BuildErrorKind::NoMemory, format_args!("{}", OUT_OF_MEMORY))
    }
}

fn invalid_blob(e: FormatError) -> BuildError {
    BuildError::new(BuildErrorKind::Invalid, format_args!("invalid compiled graph: {:?}", e))
}

/// A validation error in words, naming the element at fault for call-chain errors.
fn invalid_graph(error: FormatError, blob: &[u8], elements: &[ElementScratch]) -> BuildError {
    match error {
        FormatError::PushCycle { .. } | FormatError::PullCycle { .. } | FormatError::ChainTooLong { .. } => {
            BuildError::new(BuildErrorKind::Invalid, format_args!("{}", compiled_graph::Explained { error, blob, elements }))
        }
        other => invalid_blob(other),
    }
}

fn construct_error(name: &str, class: &str, error: ConstructError) -> BuildError {
    match error {
        ConstructError::NoSuchDevice => {
            BuildError::new(BuildErrorKind::NoSuchDevice, format_args!("element '{}': the tenant has no device of that name", name))
        }
        ConstructError::BadArgument(what) => {
            BuildError::new(BuildErrorKind::Invalid, format_args!("element '{}' ({}): bad argument {}", name, class, what))
        }
        ConstructError::NoMemory => BuildError::new(BuildErrorKind::NoMemory, format_args!("{} building '{}'", OUT_OF_MEMORY, name)),
        ConstructError::ContainerOnly => BuildError::new(
            BuildErrorKind::Unsupported,
            format_args!("element '{}' ({}): custom classes run only in the tenant's container engine", name, class),
        ),
    }
}

/// Hands element `watcher` the queue lengths and names of the Storage elements `targets`
/// names ([`super::Element::link_storage`]); the names lose their `TENANT/` prefix. A target
/// that is no Storage element, or an empty list, refuses the graph.
fn link_storage<P: Platform>(nodes: &mut Vector<P, Node<P>>, watcher: u32, targets: &[u32], tenant: &[u8]) -> Result<(), BuildError> {
    fn text(name: &[u8]) -> &str {
        core::str::from_utf8(name).unwrap_or("?")
    }
    fn watcher_name<P: Platform>(nodes: &Vector<P, Node<P>>, watcher: u32) -> &str {
        nodes.get(watcher as usize).map_or("?", |node| text(&node.name))
    }
    if targets.is_empty() {
        return Err(BuildError::new(BuildErrorKind::Invalid, format_args!("element '{}': no Storage elements to watch", watcher_name(nodes, watcher))));
    }
    let mut lengths = Vector::with_capacity(targets.len())?;
    let mut names = Vector::new();
    for &target in targets {
        let node = nodes.get(target as usize);
        let Some((node, length)) = node.and_then(|node| Some((node, node.element.storage_length()?))) else {
            let target_name = node.map_or("?", |node| text(&node.name));
            return Err(BuildError::new(BuildErrorKind::Invalid, format_args!("element '{}': '{}' is not a Storage element", watcher_name(nodes, watcher), target_name)));
        };
        lengths.push(length)?;
        let name = &node.name[..];
        for byte in name.strip_prefix(tenant).and_then(|rest| rest.strip_prefix(b"/")).unwrap_or(name) {
            names.push(*byte)?;
        }
        names.push(b'\n')?;
    }
    if let Some(node) = nodes.get_mut(watcher as usize) {
        node.element.link_storage(lengths, names);
    }
    Ok(())
}

impl<P: Platform> Graph<P> {
    /// Validates `blob` and builds its graph for the tenant named `tenant`, binding device
    /// elements through `devices`. Tasks that no `StaticThreadSched` pins are spread
    /// round-robin, in task order, over `threads` threads (1 to [`TENANT_THREADS_MAX`]).
    pub fn build(blob: &[u8], tenant: &str, devices: &dyn DeviceBinder<P>, doorbell: P::Doorbell, threads: u32) -> Result<Self, BuildError> {
        Graph::build_with(Catalog::LIBRARY, &NoExtensions, blob, tenant, devices, doorbell, threads)
    }

    /// [`Graph::build`] against `catalog`, building the elements of its custom classes with
    /// `extensions` (a container engine's; the kernel has none and uses [`Graph::build`]).
    pub fn build_with(
        catalog: Catalog,
        extensions: &dyn Extensions<P>,
        blob: &[u8],
        tenant: &str,
        devices: &dyn DeviceBinder<P>,
        doorbell: P::Doorbell,
        threads: u32,
    ) -> Result<Self, BuildError> {
        let threads = threads.clamp(1, TENANT_THREADS_MAX);
        let sizes = compiled_graph::scratch_sizes(blob).map_err(invalid_blob)?;
        let mut scratch = Vector::<P, ElementScratch>::filled(sizes.elements, ElementScratch::default())?;
        let mut ports = Vector::<P, u16>::filled(sizes.ports, 0)?;
        let mut edges = Vector::<P, u32>::filled(sizes.edges, 0)?;
        let compiled = compiled_graph::validate_with(catalog, blob, &mut scratch, &mut ports, &mut edges)
            .map_err(|e| invalid_graph(e, blob, &scratch))?;

        // The blob may describe every tenant of the system; this install takes only the
        // elements of the tenant it is for, and refuses anyone else's.
        let own_index = compiled
            .tenants()
            .position(|info| info.name == tenant)
            .ok_or_else(|| BuildError::new(BuildErrorKind::Invalid, format_args!("graph has no tenant '{}'", tenant)))?;
        let mut nodes = Vector::with_capacity(sizes.elements)?;
        // (element, tickets) from every ticket-share directive, applied to the tasks below.
        let mut shares: Vector<P, (u32, u32)> = Vector::new();
        // Elements that watch queues (a StorageList argument), with the elements they name;
        // linked once every element exists.
        let mut watchers: Vector<P, (u32, Vector<P, u32>)> = Vector::new();
        for view in compiled.elements() {
            if view.tenant == compiled_graph::SHARED_TENANT {
                return Err(BuildError::new(BuildErrorKind::Unsupported, format_args!("element '{}': shared device elements are not installed per tenant", view.name)));
            }
            if usize::from(view.tenant) != own_index {
                let owner = compiled.tenants().nth(usize::from(view.tenant)).map_or("?", |t| t.name);
                return Err(BuildError::new(BuildErrorKind::NotPermitted, format_args!("element '{}' belongs to tenant '{}'", view.name, owner)));
            }
            let args = ElementArgs::decode(&view)
                .map_err(|e| BuildError::new(BuildErrorKind::Invalid, format_args!("element '{}': bad arguments ({:?})", view.name, e)))?;
            let element = AnyElement::construct(&Build { view: &view, args: &args, devices, extensions })
                .map_err(|e| construct_error(view.name, view.class.name, e))?;
            // Ticket shares (ScheduleInfo) are known by their argument kind, not by class name.
            if view.class.repeated.is_some_and(|r| r.kind == ArgKind::TicketShare) {
                for value in args.repeated() {
                    if let Ok(ArgValue::Thread { element, number }) = value {
                        shares.push((element, number))?;
                    }
                }
            }
            // Storage lists are known by their argument kind, not by class name.
            if let Some(spec) = view.class.args.iter().find(|spec| spec.kind == ArgKind::StorageList) {
                let mut targets = Vector::new();
                if let Some(ArgValue::StorageList { bytes, .. }) = args.value(spec.keyword) {
                    for index in bytes.chunks_exact(4) {
                        targets.push(u32::from_le_bytes([index[0], index[1], index[2], index[3]]))?;
                    }
                }
                // Lossless: the element count is a u32 in the compiled graph.
                watchers.push((nodes.len() as u32, targets))?;
            }
            let name = Vector::from_slice(view.name.as_bytes())?;
            let outputs = unconnected(view.outputs)?;
            let inputs = unconnected(view.inputs)?;
            let root = view.owner == compiled_graph::OWNER_ROOT;
            let (sources, targets) = (Vector::new(), Vector::new());
            nodes.push(Node { name, class: view.class, element, outputs, inputs, sources, targets, root })?;
        }
        // Two links a connection: its output's and its input's (only one of them ever counts).
        let mut links = 0u32;
        let mut link = |to: PortLink| {
            let counter = links;
            links = links.saturating_add(1);
            Some(Link { to, counter })
        };
        for connection in compiled.connections() {
            let bad = || BuildError::new(BuildErrorKind::Invalid, format_args!("connection {} -> {} is out of range", connection.from, connection.to));
            let target = PortLink { element: connection.to, port: connection.to_port };
            let source = PortLink { element: connection.from, port: connection.from_port };
            let from = nodes.get_mut(connection.from as usize).ok_or_else(bad)?;
            *from.outputs.get_mut(usize::from(connection.from_port)).ok_or_else(bad)? = link(target);
            from.targets.push(target)?;
            let to = nodes.get_mut(connection.to as usize).ok_or_else(bad)?;
            *to.inputs.get_mut(usize::from(connection.to_port)).ok_or_else(bad)? = link(source);
            to.sources.push(source)?;
        }
        for (watcher, targets) in watchers.iter() {
            link_storage(&mut nodes, *watcher, targets, tenant.as_bytes())?;
        }
        let mut tasks = Vector::with_capacity(compiled.task_count() as usize)?;
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
                let name = nodes.get(task.element as usize).map_or(&b"?"[..], |n| &n.name[..]);
                return Err(BuildError::new(BuildErrorKind::Invalid, format_args!(
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
            tasks.push(TaskSlot { element: task.element, thread, tickets })?;
        }
        let mut thread_tasks = Vector::with_capacity(thread_count as usize)?;
        for thread in 0..thread_count {
            let mut own = Vector::new();
            for (index, task) in tasks.iter().enumerate() {
                if task.thread == thread {
                    // Lossless: the task count is a u32 in the compiled graph.
                    own.push(index as u32)?;
                }
            }
            thread_tasks.push(own)?;
        }
        let serial = GRAPH_SERIALS.fetch_add(1, Ordering::Relaxed);
        let hops = Counters::new(links as usize, thread_count)?;
        let drops = Counters::new(nodes.len(), thread_count)?;
        Ok(Graph { nodes, tasks, thread_tasks, serial, doorbell, depth_drops: AtomicU64::new(0), hops, drops, tenant_id: devices.tenant_id() })
    }

    /// Hotswap: every element that has a namesake of the same class in `old` takes its state
    /// over (see [`super::Element::take_state`]). Infallible, so it runs after everything that
    /// can fail.
    pub fn adopt_state(&mut self, old: &Graph<P>) {
        for node in self.nodes.iter_mut() {
            if let Some(previous) = old.find(&node.name) {
                if previous.class.id == node.class.id {
                    node.element.take_state(&previous.element);
                }
            }
        }
    }

    fn output_link(&self, element: u32, port: u16) -> Option<&Link> {
        self.nodes.get(element as usize)?.outputs.get(usize::from(port))?.as_ref()
    }

    fn input_link(&self, element: u32, port: u16) -> Option<&Link> {
        self.nodes.get(element as usize)?.inputs.get(usize::from(port))?.as_ref()
    }

    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// How many threads the graph's tasks are placed on (1 to [`TENANT_THREADS_MAX`]).
    pub fn thread_count(&self) -> u32 {
        u32::try_from(self.thread_tasks.len()).unwrap_or(TENANT_THREADS_MAX).max(1)
    }

    /// Tells this graph from every other built since the module was loaded.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// Task `index`'s stride-scheduling tickets.
    pub fn task_tickets(&self, index: u32) -> u32 {
        self.tasks.get(index as usize).map_or(stride::DEFAULT_TICKETS, |task| task.tickets)
    }

    /// The tasks `thread` runs, as indices for [`Graph::run_task`]; none for a thread the graph
    /// does not use.
    pub fn thread_tasks(&self, thread: u32) -> &[u32] {
        self.thread_tasks.get(thread as usize).map_or(&[], |own| &own[..])
    }

    /// Runs task `index` once if it belongs to `thread`; returns whether it did work. Wake-up
    /// times it asks for are collected in `wake`.
    pub fn run_task(&self, index: usize, thread: u32, wake: &WakeAt) -> bool {
        let Some(task) = self.tasks.get(index) else { return false };
        if task.thread != thread {
            return false;
        }
        match self.nodes.get(task.element as usize) {
            Some(node) => {
                let hops_left = Cell::new(HOPS_PER_TASK_RUN);
                let outer = P::entering_element(task.element);
                let worked = node.element.run_task(&Cx { graph: self, element: task.element, wake, depth: 1, hops_left: &hops_left, thread });
                P::left_element(outer);
                worked
            }
            None => false,
        }
    }

    fn find(&self, name: &[u8]) -> Option<&Node<P>> {
        self.nodes.iter().find(|n| &n.name[..] == name)
    }

    pub fn element_count(&self) -> usize {
        self.nodes.len()
    }

    /// Element `index`'s name, catalog class and whether the root context owns it.
    pub fn element(&self, index: usize) -> Option<(&[u8], &'static catalog::ElementClass, bool)> {
        let node = self.nodes.get(index)?;
        Some((&node.name, node.class, node.root))
    }

    /// Element `index`'s packet counters (see [`ElementCounters`]); `None` past the last element.
    /// Sums the counts of the element's connections: a few loads per connection, no locks but
    /// a queue's own for its length.
    pub fn element_counters(&self, index: usize) -> Option<ElementCounters> {
        let node = self.nodes.get(index)?;
        let packets = |link: &Link| self.hops.sum(link.counter);
        let own = |links: &[Option<Link>]| links.iter().flatten().map(packets).fold(0u64, u64::saturating_add);
        // A link of the far end counts here only if it really leads to this element (a pull
        // output pulled by several inputs, a push input fed by several outputs, keep one link).
        let far = |ends: &[PortLink], outputs: bool| {
            ends.iter()
                .filter_map(|end| {
                    let node = self.nodes.get(end.element as usize)?;
                    let link = if outputs { node.outputs.get(usize::from(end.port)) } else { node.inputs.get(usize::from(end.port)) };
                    link?.as_ref().filter(|link| link.to.element as usize == index).map(packets)
                })
                .fold(0u64, u64::saturating_add)
        };
        Some(ElementCounters {
            packets_in: own(&node.inputs).saturating_add(far(&node.sources, true)),
            packets_out: own(&node.outputs).saturating_add(far(&node.targets, false)),
            drops: self.drops.sum(u32::try_from(index).unwrap_or(u32::MAX)),
            queue: node.element.occupancy(),
        })
    }

    /// Pushes dropped and pulls refused at the call-depth or hop bound since the graph was built.
    pub fn depth_drops(&self) -> u64 {
        self.depth_drops.load(Ordering::Relaxed)
    }

    /// Tells the platform that a drop was just counted at element `element`. The element's name
    /// is looked up only when the platform records drops ([`Platform::packet_drop_traced`]).
    #[inline(always)]
    fn dropped(&self, element: u32, reason: GraphDrop) {
        if !P::packet_drop_traced() {
            return;
        }
        let name = self.nodes.get(element as usize).map_or(&[][..], |node| &node.name[..]);
        P::packet_dropped(self.tenant_id, element, name, reason);
    }

    /// Whether `element` is a routing table, whose successful writes the events group announces.
    /// The catalog marks table classes by their resource; every write handler of one changes it.
    pub fn is_table(&self, element: &[u8]) -> bool {
        self.find(element).is_some_and(|node| node.class.resource == catalog::Resource::TableEntries)
    }

    pub fn read_handler(&self, element: &[u8], handler: &str, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        self.find(element).ok_or(HandlerError::NoSuchElement)?.element.read(handler, out)
    }

    /// Writes a handler; `as_tenant` for a request made on the tenant's behalf, which may not
    /// write an element the root context owns.
    pub fn write_handler(&self, element: &[u8], handler: &str, value: &str, as_tenant: bool) -> Result<(), HandlerError> {
        let node = self.find(element).ok_or(HandlerError::NoSuchElement)?;
        if as_tenant && node.root {
            return Err(HandlerError::RootOwned);
        }
        let result = node.element.write(handler, value);
        // A write may enable a task (ACTIVE true, a reset LIMIT): let the threads look again.
        self.doorbell.ring();
        result
    }

    /// The elements' names, in graph order (for listing handlers at user level).
    pub fn element_names(&self) -> impl Iterator<Item = &[u8]> {
        self.nodes.iter().map(|node| &node.name[..])
    }
}
