//! The portable element framework: what an element is ([`Element`]), what it may ask of the
//! place it runs in ([`Platform`]), its handlers as typed sets ([`handler`]), and the engine
//! that runs a graph of them ([`graph`]). The classes themselves are in `library/`.

pub mod agnostic;
pub mod class;
pub mod extension;
pub mod graph;
pub mod handler;
pub mod platform;
pub mod vector;

pub use class::{BoundaryEnd, Build, ConstructError, DeviceBinder, Element, StorageLength};
pub use extension::{ExtensionElement, Extensions, NoExtension, NoExtensions};
pub use graph::{BuildError, BuildErrorKind, Cx, ElementCounters, Graph, WakeAt};
pub use handler::{HandlerError, HandlerSet, HandlerSpec, NoHandlers, ValueFormat};
pub use platform::{take_each, DeviceEnd, Direction, Doorbell, GraphDrop, LinkPacketType, NoMemory, PacketBuf, PacketError, Platform};
pub use vector::Vector;
