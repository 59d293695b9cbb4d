//! The address map written next to the Verilog (`map.json`): each tenant's window, each
//! element's block and handlers, and which element each board port serves. `vdpctl fpga
//! read|write` finds a handler's registers through it.

use crate::classes::HandlerKind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Map {
    pub board: String,
    /// The handler space holds 2^bits 32-bit registers.
    pub address_bits: u32,
    pub tenants: Vec<Window>,
    pub elements: Vec<Element>,
    pub ingress: Vec<Port>,
    pub egress: Vec<Port>,
    /// The merges in front of push inputs with several connections.
    #[serde(default)]
    pub merges: Vec<Merge>,
}

/// A `vdp_merge` in `vdp_top`: several connections into one input of a tenant's element.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    pub tenant: String,
    /// The element whose input it feeds, and the input.
    pub element: String,
    pub input: u16,
    /// Its module (`vdp_merge_N` for N connections) and instance.
    pub module: String,
    pub instance: String,
}

/// A tenant's window: its elements' blocks all lie inside it, and no other tenant's do.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub name: String,
    pub base: u64,
    pub words: u64,
    /// Address bits the decoder compares to find the window.
    pub prefix_bits: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Element {
    pub tenant: String,
    /// The element's name in its tenant's configuration.
    pub name: String,
    pub class: String,
    /// The Verilog module it is an instance of, and the instance's name in `vdp_top`.
    pub module: String,
    pub instance: String,
    /// Its block: absent when it has no handlers.
    pub block: Option<Block>,
    pub outputs: u16,
    /// Route-table entries (lookup classes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<u64>,
    pub handlers: Vec<Handler>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Block {
    pub base: u64,
    /// Words of the decoder's window (the block rounded up, or more).
    pub words: u64,
    /// Address bits the decoder compares for this element, the tenant's included.
    pub prefix_bits: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Handler {
    pub name: String,
    pub read: bool,
    pub write: bool,
    pub kind: HandlerKind,
    pub offset: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Port {
    pub port: u16,
    pub device: String,
    pub tenant: String,
    pub element: String,
}

impl Map {
    pub fn element(&self, tenant: &str, name: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.tenant == tenant && e.name == name)
    }

    pub fn window(&self, tenant: &str) -> Option<&Window> {
        self.tenants.iter().find(|t| t.name == tenant)
    }
}
