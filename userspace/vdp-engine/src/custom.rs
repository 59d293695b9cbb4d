//! Custom element classes: classes a tenant writes against vdp's portable element interface
//! ([`Element`]) and builds into its own container engine. They never run in the kernel.
//!
//! A class is a [`CustomClass`]: its catalog entry (an [`ElementClass`] written with
//! `catalog::base(..)`, as a library class's is) and a constructor. [`custom_class`] makes one
//! from any `E: Element<User>`, taking the handler tables from `E::Read` and `E::Write` as the
//! registry does for the library, and wrapping the element in an object-safe box whose handler
//! calls go through `E::Read::find` and `E::Write::find`.
//!
//! [`CustomClasses`] is what an [`crate::Engine`] is built with: the stock engine's built-in
//! classes ([`builtin_classes`], ToDump) followed by the tenant's, numbered from
//! `catalog::CUSTOM_CLASS_BASE` in that order, with the [`Catalog`] the front end checks
//! configurations against. [`describe_json`] prints the same list's declarations, which is what
//! the coordinator checks a tenant's configuration against without running its code; the ids
//! the coordinator compiles agree with the engine's because both number the same list in the
//! same order.

use crate::platform::User;
use crate::to_dump;
use std::any::Any;
use std::fmt;
use vdp_click::decl::{self, ClassDecl, DeclError};
use vdp_core::catalog::{Catalog, ElementClass, CUSTOM_CLASS_BASE};
use vdp_core::element::{Build, ConstructError, Cx, Element, ExtensionElement, Extensions, HandlerError, HandlerSet};

/// What the graph engine calls on a custom element: [`Element`] without its associated types.
trait DynElement: Send + Sync + 'static {
    fn push(&self, cx: &Cx<'_, User>, port: u16, packet: <User as vdp_core::element::Platform>::Packet);
    fn pull(&self, cx: &Cx<'_, User>, port: u16) -> Option<<User as vdp_core::element::Platform>::Packet>;
    fn run_task(&self, cx: &Cx<'_, User>) -> bool;
    fn read(&self, name: &str, out: &mut dyn fmt::Write) -> Result<(), HandlerError>;
    fn write(&self, name: &str, value: &str) -> Result<(), HandlerError>;
    fn take_state(&mut self, old: &dyn Any);
    fn as_any(&self) -> &dyn Any;
}

struct Wrapped<E>(E);

impl<E: Element<User>> DynElement for Wrapped<E> {
    fn push(&self, cx: &Cx<'_, User>, port: u16, packet: crate::UserPacket) {
        self.0.push(cx, port, packet)
    }
    fn pull(&self, cx: &Cx<'_, User>, port: u16) -> Option<crate::UserPacket> {
        self.0.pull(cx, port)
    }
    fn run_task(&self, cx: &Cx<'_, User>) -> bool {
        self.0.run_task(cx)
    }
    fn read(&self, name: &str, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        self.0.read(E::Read::find(name).ok_or(HandlerError::NoSuchHandler)?, out)
    }
    fn write(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        self.0.write(E::Write::find(name).ok_or(HandlerError::NoSuchHandler)?, value)
    }
    fn take_state(&mut self, old: &dyn Any) {
        // The graph pairs elements of the same class id, hence the same type; anything else
        // keeps no state.
        if let Some(old) = old.downcast_ref::<Wrapped<E>>() {
            self.0.take_state(&old.0);
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A custom element in a graph: [`User`]'s extension type.
pub struct CustomElement(Box<dyn DynElement>);

impl ExtensionElement<User> for CustomElement {
    fn push(&self, cx: &Cx<'_, User>, port: u16, packet: crate::UserPacket) {
        self.0.push(cx, port, packet)
    }
    fn pull(&self, cx: &Cx<'_, User>, port: u16) -> Option<crate::UserPacket> {
        self.0.pull(cx, port)
    }
    fn run_task(&self, cx: &Cx<'_, User>) -> bool {
        self.0.run_task(cx)
    }
    fn read(&self, name: &str, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        self.0.read(name, out)
    }
    fn write(&self, name: &str, value: &str) -> Result<(), HandlerError> {
        self.0.write(name, value)
    }
    fn take_state(&mut self, old: &Self) {
        self.0.take_state(old.0.as_any())
    }
}

type Constructor = fn(&Build<'_, User>) -> Result<CustomElement, ConstructError>;

fn construct_boxed<E: Element<User>>(build: &Build<'_, User>) -> Result<CustomElement, ConstructError> {
    Ok(CustomElement(Box::new(Wrapped(E::construct(build)?))))
}

/// One custom class: its catalog entry and its constructor.
#[derive(Clone, Copy)]
pub struct CustomClass {
    class: ElementClass,
    construct: Constructor,
}

impl CustomClass {
    /// The class's catalog entry (its id is set when a [`CustomClasses`] numbers it).
    pub fn class(&self) -> &ElementClass {
        &self.class
    }
}

impl fmt::Debug for CustomClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomClass").field("name", &self.class.name).finish()
    }
}

/// The custom class of element type `E`, described by `class` (written with `catalog::base`;
/// its `id`, level and handler tables are ignored: the handler tables are `E::Read`'s and
/// `E::Write`'s, and a custom class runs only at the container level).
pub fn custom_class<E: Element<User>>(class: ElementClass) -> CustomClass {
    CustomClass {
        class: ElementClass { read_handlers: E::Read::SPECS, write_handlers: E::Write::SPECS, level: vdp_core::catalog::Level::Container, ..class },
        construct: construct_boxed::<E>,
    }
}

/// The classes every container engine has, before the tenant's own.
pub fn builtin_classes() -> Vec<CustomClass> {
    vec![to_dump::class()]
}

/// An engine's custom classes, numbered: the built-ins, then the tenant's.
#[derive(Clone, Debug)]
pub struct CustomClasses {
    classes: Vec<CustomClass>,
    catalog: Catalog,
}

impl CustomClasses {
    /// The built-in classes followed by `tenant`'s. Their declarations are checked as the
    /// coordinator checks them ([`vdp_click::decl`]), so a class the coordinator would refuse
    /// is refused here too, with the same message.
    pub fn new(tenant: &[CustomClass]) -> Result<CustomClasses, DeclError> {
        let classes: Vec<CustomClass> = builtin_classes().into_iter().chain(tenant.iter().copied()).collect();
        let decls: Vec<ClassDecl> = classes.iter().map(|c| ClassDecl::from_class(&c.class)).collect();
        let catalog = decl::catalog_from_decls(&decls)?;
        Ok(CustomClasses { classes, catalog })
    }

    /// The stock engine's: the built-in classes only.
    pub fn stock() -> Result<CustomClasses, DeclError> {
        CustomClasses::new(&[])
    }

    /// The library and these classes, for checking configurations and building graphs.
    pub fn catalog(&self) -> Catalog {
        self.catalog
    }

    /// The declarations as JSON, for `ENGINE describe`.
    pub fn describe_json(&self) -> String {
        decl::describe_classes(self.catalog.custom())
    }
}

impl Extensions<User> for CustomClasses {
    fn construct(&self, build: &Build<'_, User>) -> Result<CustomElement, ConstructError> {
        let class = build.view.class;
        let index = class.id.checked_sub(CUSTOM_CLASS_BASE).ok_or(ConstructError::BadArgument("class id"))?;
        let custom = self.classes.get(usize::from(index)).ok_or(ConstructError::BadArgument("class id"))?;
        // The graph was validated against this catalog; a mismatch means another catalog's blob.
        if custom.class.name != class.name {
            return Err(ConstructError::BadArgument("class id"));
        }
        (custom.construct)(build)
    }
}

/// The `describe` text of an engine with the built-in classes and `tenant`'s: what the
/// in-container `vdpctl install` sends the coordinator.
pub fn describe_json(tenant: &[CustomClass]) -> Result<String, DeclError> {
    Ok(CustomClasses::new(tenant)?.describe_json())
}
