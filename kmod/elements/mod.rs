//! The in-kernel element library: one file per class, built from the shared catalog's classes.

mod agnostic;
mod check_length;
mod chew;
mod classifier;
mod counter;
mod device;
mod discard;
mod ether;
mod idle;
mod infinite_source;
mod ip;
mod ip_lookup;
mod paint;
mod paint_switch;
mod print;
mod queue;
mod rated;
mod route_arena;
mod sched_info;
mod strip;
mod switch;
mod tee;
mod unqueue;

use crate::sys::memcg::tenant_gfp;
use crate::engine::Element;
use crate::portable::catalog;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use kernel::prelude::*;

pub(crate) enum ConstructError {
    NotImplemented,
    /// FromDevice/ToDevice name a device the tenant does not have.
    NoSuchDevice,
    BadArgument(&'static str),
    NoMemory,
}

impl From<Error> for ConstructError {
    fn from(_: Error) -> Self {
        // Constructors fail with kernel errors only when memory runs out.
        ConstructError::NoMemory
    }
}

impl From<kernel::alloc::AllocError> for ConstructError {
    fn from(_: kernel::alloc::AllocError) -> Self {
        ConstructError::NoMemory
    }
}

type Constructor = fn(&ElementView<'_>, &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError>;

/// Classes the kernel implements, by catalog name. `GET_INFO` announces exactly these.
const LIBRARY: &[(&str, Constructor)] = &[
    ("Queue", queue::construct),
    ("SimpleQueue", queue::construct),
    ("Unqueue", unqueue::construct),
    ("Counter", counter::construct),
    ("Discard", discard::construct),
    ("Tee", tee::construct),
    ("Idle", idle::construct),
    ("Strip", strip::construct_strip),
    ("Unstrip", strip::construct_unstrip),
    ("Paint", paint::construct),
    ("PaintSwitch", paint_switch::construct),
    ("CheckLength", check_length::construct),
    ("InfiniteSource", infinite_source::construct),
    ("Classifier", classifier::construct),
    ("IPClassifier", classifier::construct),
    ("EtherEncap", ether::construct_encap),
    ("EtherMirror", ether::construct_mirror),
    ("CheckIPHeader", ip::construct_check_ip_header),
    ("DecIPTTL", ip::construct_dec_ip_ttl),
    ("SetIPChecksum", ip::construct_set_ip_checksum),
    ("IPEncap", ip::construct_ip_encap),
    ("GetIPAddress", ip::construct_get_ip_address),
    ("RadixIPLookup", ip_lookup::construct_radix),
    ("LinearIPLookup", ip_lookup::construct_linear),
    ("StaticIPLookup", ip_lookup::construct_static),
    ("HashSwitch", switch::construct_hash),
    ("RoundRobinSwitch", switch::construct_round_robin),
    ("BandwidthShaper", rated::construct_shaper),
    ("RatedUnqueue", rated::construct_unqueue),
    ("RatedSource", rated::construct_source),
    ("StaticThreadSched", sched_info::construct),
    ("ScheduleInfo", sched_info::construct),
    ("Print", print::construct),
    ("Chew", chew::construct),
];

/// Classes bound to the building tenant's devices, so built with its id.
type DeviceConstructor = fn(&ElementArgs<'_>, u32) -> Result<KBox<dyn Element>, ConstructError>;

const DEVICE_LIBRARY: &[(&str, DeviceConstructor)] =
    &[("FromDevice", device::construct_from), ("ToDevice", device::construct_to)];

/// The implemented classes with their catalog ids.
pub(crate) fn implemented() -> impl Iterator<Item = &'static catalog::ElementClass> {
    let names = Iterator::chain(DEVICE_LIBRARY.iter().map(|(name, _)| name), LIBRARY.iter().map(|(name, _)| name));
    names.filter_map(|name| catalog::class_by_name(name))
}

/// Builds one element of `tenant`'s graph.
pub(crate) fn construct(view: &ElementView<'_>, args: &ElementArgs<'_>, tenant: u32) -> Result<KBox<dyn Element>, ConstructError> {
    if let Some((_, constructor)) = DEVICE_LIBRARY.iter().find(|(name, _)| *name == view.class.name) {
        return constructor(args, tenant);
    }
    let (_, constructor) = LIBRARY
        .iter()
        .find(|(name, _)| *name == view.class.name)
        .ok_or(ConstructError::NotImplemented)?;
    constructor(view, args)
}

/// Boxes an element as a trait object.
fn boxed<E: Element + 'static>(element: E) -> Result<KBox<dyn Element>, ConstructError> {
    Ok(KBox::new(element, tenant_gfp())? as KBox<dyn Element>)
}

/// Reads a required or defaulted integer argument.
fn int_arg(args: &ElementArgs<'_>, keyword: &'static str) -> Result<i64, ConstructError> {
    args.int(keyword).ok_or(ConstructError::BadArgument(keyword))
}
