//! IPv4 longest-prefix match for `RadixIPLookup` and `LinearIPLookup`.
//!
//! Semantics follow Click's route tables: a route is `addr/len [gateway] port`; adding a prefix
//! already present is an error, removing one that is absent is an error, `set` adds or replaces,
//! and a lookup answers the route of the longest prefix containing the address, or nothing.
//! Host bits written after the prefix length are cleared, so `10.1.2.3/8` is `10.0.0.0/8`.
//!
//! The structure is a path-compressed binary trie (PATRICIA). Every node holds a prefix; a node
//! either carries a route or is a "glue" node that joins exactly two subtrees where their
//! prefixes diverge. Two properties follow and are kept by every operation:
//!
//! - **Bounded memory.** An add creates at most two nodes (the route and one glue), and a remove
//!   deletes its node and any glue left with a single child, so a table of `n` routes never
//!   holds more than `2n - 1` nodes of [`NODE_BYTES`] bytes each.
//! - **Bounded lookup.** Prefix lengths strictly grow along any path, so a lookup visits at most
//!   33 nodes, however many routes there are.
//!
//! Compared with DIR-24-8 (32 MiB of tables before the first route) this spends memory only in
//! proportion to the routes, which matters with one table per tenant.
//!
//! The core cannot allocate, so nodes live in storage the caller provides through
//! [`NodeArena`]: the kernel backs it with its own vector type, userspace with a `Vec`, and
//! [`SliceArena`] serves any fixed buffer.

use super::wire::ipv4::Address;
use core::fmt;

/// Index of a node in its arena.
pub type NodeId = u32;

/// The id no node has: the empty link. Arenas must never hand it out.
pub const NIL: NodeId = u32::MAX;

/// The arena has no room for another node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArenaFull;

/// Storage for trie nodes.
pub trait NodeArena {
    /// Stores `node` and returns its id, which must not be [`NIL`].
    fn alloc(&mut self, node: Node) -> Result<NodeId, ArenaFull>;
    /// The node stored under `id`, or `None` for an id that is not live.
    fn get(&self, id: NodeId) -> Option<&Node>;
    fn get_mut(&mut self, id: NodeId) -> Option<&mut Node>;
    /// Releases `id`; the table never uses it again until `alloc` returns it.
    fn free(&mut self, id: NodeId);
}

/// What a matching route tells the caller: where to send the packet, and through whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    pub gateway: Option<Address>,
    pub port: u16,
}

/// A network prefix with its host bits cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix {
    network: u32,
    len: u8,
}

/// A prefix length above 32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadPrefixLength;

impl Prefix {
    /// `address/len` with the host bits of `address` cleared.
    pub fn new(address: Address, len: u8) -> Result<Prefix, BadPrefixLength> {
        if len > 32 {
            return Err(BadPrefixLength);
        }
        Ok(Prefix { network: address.to_u32() & mask(len), len })
    }

    pub const fn network(self) -> Address {
        Address::from_u32(self.network)
    }

    /// The prefix length; a prefix is never "empty", so there is no `is_empty`.
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(self) -> u8 {
        self.len
    }

    pub fn mask(self) -> Address {
        Address::from_u32(mask(self.len))
    }

    pub fn contains(self, address: Address) -> bool {
        (address.to_u32() ^ self.network) & mask(self.len) == 0
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.len)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpmError {
    /// `add` of a prefix that already has a route.
    Exists,
    /// `remove` of a prefix that has no route.
    NotFound,
    /// The arena refused a node; the table is unchanged.
    Full,
    /// The arena lost a node the table links to. Only a faulty arena causes this.
    Corrupt,
}

impl LpmError {
    pub const fn describe(self) -> &'static str {
        match self {
            LpmError::Exists => "route already exists",
            LpmError::NotFound => "no such route",
            LpmError::Full => "route table is full",
            LpmError::Corrupt => "route table storage is inconsistent",
        }
    }
}

const FLAG_ROUTE: u8 = 0x01;
const FLAG_GATEWAY: u8 = 0x02;
/// Marks a slot of [`SliceArena`] that is on the free list.
const FLAG_FREE: u8 = 0x80;

/// One trie node: 20 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
    key: u32,
    gateway: u32,
    children: [NodeId; 2],
    port: u16,
    len: u8,
    flags: u8,
}

/// Size of one node, the unit of the table's memory use.
pub const NODE_BYTES: usize = core::mem::size_of::<Node>();

impl Node {
    /// An unused node, for arenas that need a value to fill their slots with.
    pub const EMPTY: Node = Node { key: 0, gateway: 0, children: [NIL, NIL], port: 0, len: 0, flags: 0 };

    fn glue(key: u32, len: u8) -> Node {
        Node { key, len, ..Node::EMPTY }
    }

    fn with_route(key: u32, len: u8, route: Route) -> Node {
        let mut node = Node::glue(key, len);
        node.set_route(route);
        node
    }

    fn set_route(&mut self, route: Route) {
        self.flags = FLAG_ROUTE | if route.gateway.is_some() { FLAG_GATEWAY } else { 0 };
        self.gateway = route.gateway.map_or(0, Address::to_u32);
        self.port = route.port;
    }

    fn has_route(&self) -> bool {
        self.flags & FLAG_ROUTE != 0
    }

    fn route(&self) -> Option<Route> {
        self.has_route().then(|| Route {
            gateway: (self.flags & FLAG_GATEWAY != 0).then(|| Address::from_u32(self.gateway)),
            port: self.port,
        })
    }

    fn child(&self, side: usize) -> NodeId {
        self.children.get(side).copied().unwrap_or(NIL)
    }

    fn set_child(&mut self, side: usize, id: NodeId) {
        if let Some(child) = self.children.get_mut(side) {
            *child = id;
        }
    }

    fn prefix(&self) -> Prefix {
        Prefix { network: self.key, len: self.len }
    }

    fn matches(&self, address: u32) -> bool {
        (address ^ self.key) & mask(self.len) == 0
    }
}

/// Netmask of a prefix length; lengths above 32 count as 32.
fn mask(len: u8) -> u32 {
    u32::MAX.checked_shl(32u32.saturating_sub(u32::from(len))).unwrap_or(0)
}

/// Bit `index` of `key`, counting from the most significant: the side to descend at a node of
/// that length.
fn bit(key: u32, index: u8) -> usize {
    (key.checked_shr(31u32.saturating_sub(u32::from(index))).unwrap_or(0) & 1) as usize
}

/// Length of the longest prefix two prefixes share.
fn common_len(a: u32, a_len: u8, b: u32, b_len: u8) -> u8 {
    let differing = (a ^ b).leading_zeros().min(32) as u8;
    differing.min(a_len).min(b_len)
}

/// Where a node hangs: the table's root, or one side of a parent.
#[derive(Clone, Copy, Debug)]
enum Link {
    Root,
    Child(NodeId, usize),
}

/// Deepest path through a trie: one node per prefix length 0 to 32.
const MAX_DEPTH: usize = 33;

/// A longest-prefix-match table over a node arena.
#[derive(Debug)]
pub struct Lpm<A: NodeArena> {
    arena: A,
    root: NodeId,
    routes: usize,
    nodes: usize,
}

impl<A: NodeArena> Lpm<A> {
    /// An empty table; `arena` should be empty too, as the table frees only nodes it made.
    pub const fn new(arena: A) -> Lpm<A> {
        Lpm { arena, root: NIL, routes: 0, nodes: 0 }
    }

    pub fn arena(&self) -> &A {
        &self.arena
    }

    /// The arena, for giving it more room. Nodes must be neither changed nor freed through it:
    /// the table owns every node it linked.
    pub fn arena_mut(&mut self) -> &mut A {
        &mut self.arena
    }

    pub fn into_arena(self) -> A {
        self.arena
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes
    }

    pub fn is_empty(&self) -> bool {
        self.routes == 0
    }

    /// Number of nodes in use, at most `2 * len() - 1`.
    pub fn node_count(&self) -> usize {
        self.nodes
    }

    /// Bytes of node storage in use.
    pub fn memory_bytes(&self) -> usize {
        self.nodes.saturating_mul(NODE_BYTES)
    }

    fn node(&self, id: NodeId) -> Result<Node, LpmError> {
        self.arena.get(id).copied().ok_or(LpmError::Corrupt)
    }

    fn node_mut(&mut self, id: NodeId) -> Result<&mut Node, LpmError> {
        self.arena.get_mut(id).ok_or(LpmError::Corrupt)
    }

    fn alloc(&mut self, node: Node) -> Result<NodeId, LpmError> {
        let id = self.arena.alloc(node).map_err(|_| LpmError::Full)?;
        self.nodes = self.nodes.saturating_add(1);
        Ok(id)
    }

    fn release(&mut self, id: NodeId) {
        self.arena.free(id);
        self.nodes = self.nodes.saturating_sub(1);
    }

    fn set_link(&mut self, link: Link, id: NodeId) -> Result<(), LpmError> {
        match link {
            Link::Root => self.root = id,
            Link::Child(parent, side) => self.node_mut(parent)?.set_child(side, id),
        }
        Ok(())
    }

    /// Adds a route; an existing route for the same prefix is an error.
    pub fn add(&mut self, prefix: Prefix, route: Route) -> Result<(), LpmError> {
        self.insert(prefix, route, false).map(|_| ())
    }

    /// Adds a route or replaces the one the prefix has; returns the replaced route.
    pub fn set(&mut self, prefix: Prefix, route: Route) -> Result<Option<Route>, LpmError> {
        self.insert(prefix, route, true)
    }

    fn insert(&mut self, prefix: Prefix, route: Route, replace: bool) -> Result<Option<Route>, LpmError> {
        let (key, len) = (prefix.network, prefix.len);
        let mut link = Link::Root;
        let mut current = self.root;
        for _ in 0..=MAX_DEPTH {
            if current == NIL {
                let id = self.alloc(Node::with_route(key, len, route))?;
                self.set_link(link, id)?;
                self.routes = self.routes.saturating_add(1);
                return Ok(None);
            }
            let node = self.node(current)?;
            let common = common_len(key, len, node.key, node.len);
            if common < node.len {
                // The new prefix leaves this node's path above it: either it is an ancestor of
                // the node, or a glue node must join the two where they diverge.
                let top = if common == len {
                    let mut above = Node::with_route(key, len, route);
                    above.set_child(bit(node.key, len), current);
                    self.alloc(above)?
                } else {
                    let leaf = self.alloc(Node::with_route(key, len, route))?;
                    let mut glue = Node::glue(key & mask(common), common);
                    glue.set_child(bit(key, common), leaf);
                    glue.set_child(bit(node.key, common), current);
                    match self.alloc(glue) {
                        Ok(id) => id,
                        Err(error) => {
                            self.release(leaf);
                            return Err(error);
                        }
                    }
                };
                self.set_link(link, top)?;
                self.routes = self.routes.saturating_add(1);
                return Ok(None);
            }
            if node.len == len {
                let previous = node.route();
                if previous.is_some() && !replace {
                    return Err(LpmError::Exists);
                }
                self.node_mut(current)?.set_route(route);
                if previous.is_none() {
                    self.routes = self.routes.saturating_add(1);
                }
                return Ok(previous);
            }
            let side = bit(key, node.len);
            link = Link::Child(current, side);
            current = node.child(side);
        }
        Err(LpmError::Corrupt)
    }

    /// Removes the route of exactly this prefix and returns it.
    pub fn remove(&mut self, prefix: Prefix) -> Result<Route, LpmError> {
        let (key, len) = (prefix.network, prefix.len);
        let mut link = Link::Root;
        let mut parent: Option<(NodeId, Link)> = None;
        let mut current = self.root;
        for _ in 0..=MAX_DEPTH {
            if current == NIL {
                return Err(LpmError::NotFound);
            }
            let node = self.node(current)?;
            if node.len > len || !node.matches(key) {
                return Err(LpmError::NotFound);
            }
            if node.len < len {
                let side = bit(key, node.len);
                parent = Some((current, link));
                link = Link::Child(current, side);
                current = node.child(side);
                continue;
            }
            let route = node.route().ok_or(LpmError::NotFound)?;
            let (left, right) = (node.child(0), node.child(1));
            match (left != NIL, right != NIL) {
                (true, true) => self.node_mut(current)?.flags = 0,
                (true, false) | (false, true) => {
                    self.set_link(link, if left != NIL { left } else { right })?;
                    self.release(current);
                }
                (false, false) => {
                    self.set_link(link, NIL)?;
                    self.release(current);
                    if let Some((parent_id, parent_link)) = parent {
                        let parent_node = self.node(parent_id)?;
                        if !parent_node.has_route() {
                            // A glue node joins two subtrees; with one gone it has no purpose.
                            let survivor = if parent_node.child(0) != NIL {
                                parent_node.child(0)
                            } else {
                                parent_node.child(1)
                            };
                            self.set_link(parent_link, survivor)?;
                            self.release(parent_id);
                        }
                    }
                }
            }
            self.routes = self.routes.saturating_sub(1);
            return Ok(route);
        }
        Err(LpmError::Corrupt)
    }

    /// The route of exactly this prefix.
    pub fn get(&self, prefix: Prefix) -> Option<Route> {
        let mut current = self.root;
        while let Some(node) = self.arena.get(current) {
            if node.len > prefix.len || !node.matches(prefix.network) {
                return None;
            }
            if node.len == prefix.len {
                return node.route();
            }
            current = node.child(bit(prefix.network, node.len));
        }
        None
    }

    /// The route of the longest prefix containing `address`.
    pub fn lookup(&self, address: Address) -> Option<Route> {
        self.lookup_entry(address).map(|(_, route)| route)
    }

    /// [`Lpm::lookup`], also naming the matching prefix.
    pub fn lookup_entry(&self, address: Address) -> Option<(Prefix, Route)> {
        let address = address.to_u32();
        let mut best = None;
        let mut current = self.root;
        // Each step moves to a strictly longer prefix, so the loop ends after 33 nodes even if
        // the arena is corrupt (a cycle would need a shorter prefix below a longer one).
        let mut last_len: Option<u8> = None;
        while let Some(node) = self.arena.get(current) {
            if last_len.is_some_and(|last| node.len <= last) || !node.matches(address) {
                break;
            }
            if let Some(route) = node.route() {
                best = Some((node.prefix(), route));
            }
            if node.len >= 32 {
                break;
            }
            last_len = Some(node.len);
            current = node.child(bit(address, node.len));
        }
        best
    }

    /// Calls `visit` for every route, in address order, shorter prefixes first.
    pub fn for_each<F: FnMut(Prefix, Route)>(&self, mut visit: F) {
        let mut stack = [NIL; 2 * MAX_DEPTH];
        let mut depth = 0usize;
        let mut current = self.root;
        loop {
            if let Some(node) = self.arena.get(current) {
                if let Some(route) = node.route() {
                    visit(node.prefix(), route);
                }
                let right = node.child(1);
                if right != NIL {
                    if let Some(slot) = stack.get_mut(depth) {
                        *slot = right;
                        depth = depth.saturating_add(1);
                    }
                }
                current = node.child(0);
                continue;
            }
            match depth.checked_sub(1) {
                Some(top) => {
                    depth = top;
                    current = stack.get(top).copied().unwrap_or(NIL);
                }
                None => return,
            }
        }
    }

    /// Removes every route and returns every node to the arena.
    pub fn clear(&mut self) {
        let mut stack = [NIL; 2 * MAX_DEPTH];
        let mut depth = 0usize;
        let mut current = self.root;
        loop {
            if let Some(node) = self.arena.get(current).copied() {
                self.release(current);
                let right = node.child(1);
                if right != NIL {
                    if let Some(slot) = stack.get_mut(depth) {
                        *slot = right;
                        depth = depth.saturating_add(1);
                    }
                }
                current = node.child(0);
                continue;
            }
            match depth.checked_sub(1) {
                Some(top) => {
                    depth = top;
                    current = stack.get(top).copied().unwrap_or(NIL);
                }
                None => break,
            }
        }
        self.root = NIL;
        self.routes = 0;
        self.nodes = 0;
    }
}

/// An arena over a caller's fixed buffer of nodes, with a free list threaded through the
/// released slots.
#[derive(Debug)]
pub struct SliceArena<'a> {
    slots: &'a mut [Node],
    /// Slots below this index have been handed out at least once.
    high_water: u32,
    free_head: NodeId,
    live: usize,
}

impl<'a> SliceArena<'a> {
    pub fn new(slots: &'a mut [Node]) -> SliceArena<'a> {
        SliceArena { slots, high_water: 0, free_head: NIL, live: 0 }
    }

    pub fn capacity(&self) -> usize {
        self.slots.len().min(NIL as usize)
    }

    /// Nodes currently allocated.
    pub fn live(&self) -> usize {
        self.live
    }
}

impl NodeArena for SliceArena<'_> {
    fn alloc(&mut self, node: Node) -> Result<NodeId, ArenaFull> {
        let id = if self.free_head != NIL {
            let id = self.free_head;
            let slot = self.slots.get(id as usize).ok_or(ArenaFull)?;
            self.free_head = slot.child(0);
            id
        } else if (self.high_water as usize) < self.capacity() {
            let id = self.high_water;
            self.high_water = self.high_water.saturating_add(1);
            id
        } else {
            return Err(ArenaFull);
        };
        let slot = self.slots.get_mut(id as usize).ok_or(ArenaFull)?;
        *slot = node;
        self.live = self.live.saturating_add(1);
        Ok(id)
    }

    fn get(&self, id: NodeId) -> Option<&Node> {
        self.slots
            .get(id as usize)
            .filter(|node| node.flags & FLAG_FREE == 0 && id < self.high_water)
    }

    fn get_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        let high_water = self.high_water;
        self.slots
            .get_mut(id as usize)
            .filter(|node| node.flags & FLAG_FREE == 0 && id < high_water)
    }

    fn free(&mut self, id: NodeId) {
        let free_head = self.free_head;
        if let Some(slot) = self.get_mut(id) {
            *slot = Node { flags: FLAG_FREE, ..Node::EMPTY };
            slot.set_child(0, free_head);
            self.free_head = id;
            self.live = self.live.saturating_sub(1);
        }
    }
}
