//! The uniform element interface, and what a constructor sees.

use super::graph::Cx;
use super::handler::{HandlerError, HandlerSet};
use super::platform::{NoMemory, Platform};
use super::vector::Vector;
use crate::compiled_graph::ElementView;
use crate::element_args::{ArgValue, ElementArgs};
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

/// What every element class implements, once, for every platform. Ports and modes are fixed by
/// the validated graph, so `push` is called only on push inputs and `pull` only on pull outputs.
///
/// A class's description (ports, arguments, task rule, cost) is its `catalog::ElementClass`,
/// declared in the same file; its handlers are [`Element::Read`] and [`Element::Write`], whose
/// tables the catalog shows (the registry, `library/mod.rs`, joins the two).
pub trait Element<P: Platform>: Sized + Send + Sync + 'static {
    type Read: HandlerSet;
    type Write: HandlerSet;

    /// Builds the element from its validated configuration.
    fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError>;

    /// A packet arrives on push input `port`.
    fn push(&self, cx: &Cx<'_, P>, port: u16, packet: P::Packet) {
        let _ = (cx, port);
        drop(packet);
    }

    /// Downstream asks for a packet on pull output `port`.
    fn pull(&self, cx: &Cx<'_, P>, port: u16) -> Option<P::Packet> {
        let _ = (cx, port);
        None
    }

    /// Runs the element as a task once; returns whether it did any work. A task with nothing to
    /// do until some time (a rate's next token) says so with [`Cx::wake_at`], so that its thread
    /// may sleep until then; one that waits for an event relies on the doorbell instead.
    fn run_task(&self, cx: &Cx<'_, P>) -> bool {
        let _ = cx;
        false
    }

    /// Reads a handler into `out`, which refuses to grow past what one reply may hold.
    fn read(&self, handler: Self::Read, out: &mut dyn fmt::Write) -> Result<(), HandlerError>;

    fn write(&self, handler: Self::Write, value: &str) -> Result<(), HandlerError>;

    /// Hotswap: `self` is an element of a graph being installed, and `old` the element of the
    /// same name and class in the graph it replaces. Called once, after the new graph is
    /// completely built and cannot fail any more, while the old graph is still running; the new
    /// graph is not yet visible to anyone, hence `&mut self`.
    ///
    /// Implementations carry their state over, usually by sharing it: the new element adopts
    /// the old one's shared state, so whatever the old graph still does with it until the swap
    /// lands in the same place, and nothing is lost or counted twice. This must not fail,
    /// allocate or sleep. The default keeps no state.
    fn take_state(&mut self, old: &Self) {
        let _ = old;
    }

    /// Click's Storage interface, as far as other elements use it: the element's queue length,
    /// for elements that watch queues (RED). Queues give theirs; others have none.
    fn storage_length(&self) -> Option<StorageLength<P>> {
        None
    }

    /// For an element that holds packets: how many it holds now and how many it can hold, as
    /// the STATS dump reports them. Called from handler context, never on the packet path.
    /// Queues give theirs; the default holds none.
    fn occupancy(&self) -> Option<(u64, u64)> {
        None
    }

    /// Once the whole graph is built, an element with a `StorageList` argument gets the queue
    /// lengths of the Storage elements it names, in its order, and their names, one a line
    /// (see `Graph::build_with`). Must not fail; the default keeps nothing.
    fn link_storage(&mut self, queues: Vector<P, StorageLength<P>>, names: Vector<P, u8>) {
        drop((queues, names));
    }
}

/// A Storage element's queue length, shared with the elements that watch it and readable
/// without the queue's lock. A queue keeps it with its ring, so it follows the packets across a
/// hotswap.
pub struct StorageLength<P: Platform>(P::Shared<AtomicU64>);

impl<P: Platform> StorageLength<P> {
    pub fn new() -> Result<Self, NoMemory> {
        Ok(StorageLength(P::shared(AtomicU64::new(0))?))
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self, length: u64) {
        self.0.store(length, Ordering::Relaxed);
    }
}

impl<P: Platform> Clone for StorageLength<P> {
    fn clone(&self) -> Self {
        StorageLength(self.0.clone())
    }
}

/// Why an element could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstructError {
    /// FromDevice/ToDevice name a device the tenant does not have.
    NoSuchDevice,
    BadArgument(&'static str),
    NoMemory,
    /// The class is not one this platform can run (a custom class, outside a container engine).
    ContainerOnly,
}

impl From<NoMemory> for ConstructError {
    fn from(_: NoMemory) -> Self {
        ConstructError::NoMemory
    }
}

/// Binds device elements to the building tenant's devices; another tenant's device of the same
/// name is never visible through it.
pub trait DeviceBinder<P: Platform> {
    fn bind(&self, name: &str) -> Option<P::Device>;

    /// The building tenant's id, which its graph reports with its drops
    /// ([`super::Platform::packet_dropped`]); 0 where tenants have no ids.
    fn tenant_id(&self) -> u32 {
        0
    }

    /// Binds one end of boundary `index` of the building tenant's channel to its container
    /// engine (`library/boundary.rs`). A platform binds only the ends that live on it; the
    /// default binds none, so a graph with boundaries builds only where they are supported.
    fn bind_boundary(&self, end: BoundaryEnd, index: u16) -> Option<P::Device> {
        let _ = (end, index);
        None
    }
}

/// One end of a boundary between a tenant's kernel part and its container part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundaryEnd {
    /// Kernel side, kernel to container (`ToContainer`).
    ToContainer,
    /// Kernel side, container to kernel (`FromContainer`).
    FromContainer,
    /// Container side, kernel to container (`FromKernel`).
    FromKernel,
    /// Container side, container to kernel (`ToKernel`).
    ToKernel,
}

/// What a constructor sees: the element's record in the compiled graph, its decoded arguments,
/// the tenant's devices, and the platform's factory of custom elements.
pub struct Build<'a, P: Platform> {
    pub view: &'a ElementView<'a>,
    pub args: &'a ElementArgs<'a>,
    pub devices: &'a dyn DeviceBinder<P>,
    /// Builds elements of classes the library does not have ([`super::Extensions`]).
    pub extensions: &'a dyn super::Extensions<P>,
}

impl<P: Platform> Build<'_, P> {
    /// A required or defaulted integer argument.
    pub fn int(&self, keyword: &'static str) -> Result<i64, ConstructError> {
        self.args.int(keyword).ok_or(ConstructError::BadArgument(keyword))
    }

    /// An integer argument that must fit `T` (sizes, counts, bursts).
    pub fn int_as<T: TryFrom<i64>>(&self, keyword: &'static str) -> Result<T, ConstructError> {
        T::try_from(self.int(keyword)?).map_err(|_| ConstructError::BadArgument(keyword))
    }

    pub fn bool(&self, keyword: &'static str) -> Result<bool, ConstructError> {
        self.args.bool(keyword).ok_or(ConstructError::BadArgument(keyword))
    }

    pub fn value(&self, keyword: &'static str) -> Option<ArgValue<'_>> {
        self.args.value(keyword)
    }

    /// The element's number of outputs in this graph.
    pub fn outputs(&self) -> u16 {
        self.view.outputs
    }

    pub fn inputs(&self) -> u16 {
        self.view.inputs
    }
}
