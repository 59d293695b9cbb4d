//! AddressInfo: names for addresses, `AddressInfo(NAME ADDRESS [ADDRESS...], ...)`, that the
//! other elements of the configuration may use wherever an IPv4 address, an IPv4 prefix or an
//! Ethernet address is expected (also as `NAME:ip`, `NAME:ipnet`, `NAME:eth`, `NAME:bcast` and
//! `NAME:gw`).
//!
//! It has no ports and does nothing with packets: the front end (`vdp-click`'s
//! `address_info.rs`) replaces each name by its address when it checks the configuration, within
//! the compound the declaration is in, and removes the AddressInfo element. The class is in the
//! catalog so that tools list it and parse its entries; no compiled graph holds one (the
//! validator refuses its entries' kind), and this constructor refuses it too.

use crate::catalog::{base, ArgKind, ElementClass, PortRange, RepeatedArgs};
use crate::element::handler::{HandlerError, NoHandlers};
use crate::element::{Build, ConstructError, Element, Platform};
use core::fmt;

/// AddressInfo's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    inputs: PortRange::exactly(0),
    outputs: PortRange::exactly(0),
    processing: "/",
    repeated: Some(RepeatedArgs { kind: ArgKind::NamedAddresses, min: 0, noun: "entry" }),
    cost_cycles: 0,
    ..base("AddressInfo", "Names addresses for the configuration's other elements: NAME ADDRESS..., ...")
};

/// Never built: the front end resolves AddressInfo and leaves no element of it.
pub enum AddressInfo {}

impl<P: Platform> Element<P> for AddressInfo {
    type Read = NoHandlers;
    type Write = NoHandlers;

    fn construct(_: &Build<'_, P>) -> Result<Self, ConstructError> {
        Err(ConstructError::BadArgument("entries: AddressInfo is resolved by the front end, never installed"))
    }

    fn read(&self, handler: NoHandlers, _: &mut dyn fmt::Write) -> Result<(), HandlerError> {
        match handler {}
    }

    fn write(&self, handler: NoHandlers, _: &str) -> Result<(), HandlerError> {
        match handler {}
    }
}
