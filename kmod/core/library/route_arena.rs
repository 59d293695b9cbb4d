//! Node storage for the route tables' tries: fixed-size blocks that are allocated outside the
//! table's lock (with the platform's sleeping allocator, charged to the tenant) and only linked
//! in under it, so a lookup never waits on an allocation and no allocation happens with the lock
//! held.

use crate::element::{NoMemory, Platform, Vector};
use crate::lpm::{ArenaFull, Node, NodeArena, NodeId, NIL};

/// Nodes per block: 4096 slots of 24 bytes, 96 KiB.
const BLOCK_SLOTS: usize = 4096;
/// Most routes one table holds; a table of `n` routes needs at most `2n - 1` nodes.
pub(super) const MAX_ROUTES: usize = 1 << 20;
pub(super) const MAX_BLOCKS: usize = (2 * MAX_ROUTES).div_ceil(BLOCK_SLOTS);

/// `next` of a slot that holds a live node.
const LIVE: u32 = u32::MAX - 1;

#[derive(Clone, Copy)]
struct Slot {
    node: Node,
    /// The next free slot while this one is free, or `LIVE`.
    next: u32,
}

/// One block of free slots, made ready outside the lock.
pub(super) struct Block<P: Platform>(Vector<P, Slot>);

impl<P: Platform> Block<P> {
    /// May sleep: never under the table's lock.
    pub(super) fn new() -> Result<Block<P>, NoMemory> {
        Ok(Block(Vector::filled(BLOCK_SLOTS, Slot { node: Node::EMPTY, next: NIL })?))
    }
}

pub(super) struct BlockArena<P: Platform> {
    /// Capacity for `MAX_BLOCKS` reserved at creation, so adding a block never allocates.
    blocks: Vector<P, Block<P>>,
    /// Slots below this index have been handed out at least once.
    high_water: u32,
    free_head: u32,
    live: usize,
}

impl<P: Platform> BlockArena<P> {
    /// May sleep: never under the table's lock.
    pub(super) fn new() -> Result<BlockArena<P>, NoMemory> {
        Ok(BlockArena { blocks: Vector::with_capacity(MAX_BLOCKS)?, high_water: 0, free_head: NIL, live: 0 })
    }

    /// Slots that `alloc` can still hand out without another block.
    pub(super) fn available(&self) -> usize {
        // Free-listed and never-used slots together are every slot not live.
        self.blocks.len().saturating_mul(BLOCK_SLOTS).saturating_sub(self.live)
    }

    /// Whether another block may be added.
    pub(super) fn can_grow(&self) -> bool {
        self.blocks.len() < MAX_BLOCKS
    }

    /// Links in a block made by `Block::new`; hands it back when the arena is at its limit.
    /// Never allocates, so it may be called under the table's lock.
    pub(super) fn add_block(&mut self, block: Block<P>) -> Result<(), Block<P>> {
        if !self.can_grow() {
            return Err(block);
        }
        self.blocks.push_within_capacity(block)
    }

    fn slot(&self, id: NodeId) -> Option<&Slot> {
        let index = id as usize;
        self.blocks.get(index / BLOCK_SLOTS)?.0.get(index % BLOCK_SLOTS)
    }

    fn slot_mut(&mut self, id: NodeId) -> Option<&mut Slot> {
        let index = id as usize;
        self.blocks.get_mut(index / BLOCK_SLOTS)?.0.get_mut(index % BLOCK_SLOTS)
    }
}

impl<P: Platform> NodeArena for BlockArena<P> {
    fn alloc(&mut self, node: Node) -> Result<NodeId, ArenaFull> {
        let id = if self.free_head != NIL {
            let id = self.free_head;
            self.free_head = self.slot(id).ok_or(ArenaFull)?.next;
            id
        } else if (self.high_water as usize) < self.blocks.len().saturating_mul(BLOCK_SLOTS) {
            let id = self.high_water;
            self.high_water = self.high_water.saturating_add(1);
            id
        } else {
            return Err(ArenaFull);
        };
        let slot = self.slot_mut(id).ok_or(ArenaFull)?;
        *slot = Slot { node, next: LIVE };
        self.live = self.live.saturating_add(1);
        Ok(id)
    }

    fn get(&self, id: NodeId) -> Option<&Node> {
        self.slot(id).filter(|slot| slot.next == LIVE).map(|slot| &slot.node)
    }

    fn get_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.slot_mut(id).filter(|slot| slot.next == LIVE).map(|slot| &mut slot.node)
    }

    fn free(&mut self, id: NodeId) {
        let free_head = self.free_head;
        if let Some(slot) = self.slot_mut(id).filter(|slot| slot.next == LIVE) {
            *slot = Slot { node: Node::EMPTY, next: free_head };
            self.free_head = id;
            self.live = self.live.saturating_sub(1);
        }
    }
}
