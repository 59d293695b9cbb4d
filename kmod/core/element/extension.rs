//! Elements the platform supplies: custom classes, which only a tenant's container engine has.
//!
//! The library's classes are variants of `AnyElement`, known when vdp is built. A custom class
//! is written by a tenant against [`super::Element`] and compiled into the tenant's own engine,
//! so the graph engine reaches it through the platform's [`Platform::Extension`] type, built by
//! the [`Extensions`] factory passed to `Graph::build_with`. The kernel's extension type is
//! [`NoExtension`], which has no values: no kernel graph can hold a custom element, and the
//! kernel's factory ([`NoExtensions`]) refuses every class.

use super::class::{Build, ConstructError};
use super::graph::Cx;
use super::handler::HandlerError;
use super::platform::Platform;
use core::fmt;

/// An element of a class the platform supplies, reached through an object-like interface: the
/// same calls `AnyElement` makes on a library element, with handlers by name.
pub trait ExtensionElement<P: Platform>: Send + Sync + 'static {
    fn push(&self, cx: &Cx<'_, P>, port: u16, packet: P::Packet);
    fn pull(&self, cx: &Cx<'_, P>, port: u16) -> Option<P::Packet>;
    fn run_task(&self, cx: &Cx<'_, P>) -> bool;
    /// Reads the handler called `name` ([`HandlerError::NoSuchHandler`] if the class has none).
    fn read(&self, name: &str, out: &mut dyn fmt::Write) -> Result<(), HandlerError>;
    fn write(&self, name: &str, value: &str) -> Result<(), HandlerError>;
    /// Hotswap from `old`, an element of the same name and class id in the graph being replaced
    /// (see `Element::take_state`); must do nothing if `old` is of another class.
    fn take_state(&mut self, old: &Self);
}

/// Builds the elements of the classes a platform supplies.
pub trait Extensions<P: Platform> {
    /// Builds an element of `build.view.class`, a class of the catalog the graph was validated
    /// against that the library does not have.
    fn construct(&self, build: &Build<'_, P>) -> Result<P::Extension, ConstructError>;
}

/// The extension type of a platform that has no custom classes (the kernel): it has no values.
pub enum NoExtension {}

impl<P: Platform> ExtensionElement<P> for NoExtension {
    fn push(&self, _: &Cx<'_, P>, _: u16, _: P::Packet) {
        match *self {}
    }
    fn pull(&self, _: &Cx<'_, P>, _: u16) -> Option<P::Packet> {
        match *self {}
    }
    fn run_task(&self, _: &Cx<'_, P>) -> bool {
        match *self {}
    }
    fn read(&self, _: &str, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match *self {}
    }
    fn write(&self, _: &str, _: &str) -> Result<(), HandlerError> {
        match *self {}
    }
    fn take_state(&mut self, _: &Self) {
        match *self {}
    }
}

/// The factory of a place that supplies no classes: every construction fails.
pub struct NoExtensions;

impl<P: Platform> Extensions<P> for NoExtensions {
    fn construct(&self, _: &Build<'_, P>) -> Result<P::Extension, ConstructError> {
        Err(ConstructError::ContainerOnly)
    }
}
