//! The userspace node arena for `vdp_core::lpm`: a `Vec` with a free list, the same shape the
//! kernel gives its own vector type.

use vdp_core::lpm::{ArenaFull, Node, NodeArena, NodeId, NIL};

#[derive(Debug, Default)]
pub struct VecArena {
    slots: Vec<Option<Node>>,
    free: Vec<NodeId>,
    /// Refuse allocations beyond this many live nodes, to exercise `Full`.
    pub limit: Option<usize>,
}

impl VecArena {
    pub fn with_capacity(nodes: usize) -> VecArena {
        VecArena { slots: Vec::with_capacity(nodes), ..VecArena::default() }
    }

    pub fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

impl NodeArena for VecArena {
    fn alloc(&mut self, node: Node) -> Result<NodeId, ArenaFull> {
        if self.limit.is_some_and(|limit| self.live() >= limit) {
            return Err(ArenaFull);
        }
        if let Some(id) = self.free.pop() {
            self.slots[id as usize] = Some(node);
            return Ok(id);
        }
        let id = NodeId::try_from(self.slots.len()).map_err(|_| ArenaFull)?;
        if id == NIL {
            return Err(ArenaFull);
        }
        self.slots.push(Some(node));
        Ok(id)
    }

    fn get(&self, id: NodeId) -> Option<&Node> {
        self.slots.get(id as usize)?.as_ref()
    }

    fn get_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.slots.get_mut(id as usize)?.as_mut()
    }

    fn free(&mut self, id: NodeId) {
        let slot = self.slots.get_mut(id as usize).expect("free of an unknown id");
        assert!(slot.take().is_some(), "double free of node {id}");
        self.free.push(id);
    }
}
