//! `ToHostLink(HOST)`: the FPGA side of a partition's boundary (docs/fpga.md, "Partitioning"). It
//! takes pushed packets and streams them to the board's host link `HOST`, which the software
//! part receives on as the device `HOST` (`FromDevice(HOST)`). The class exists only in the
//! FPGA part that the partition builds: it is not in the library and no tenant may write it, so
//! it is checked against a catalog of its own ([`catalog`]).

use vdp_core::catalog::{base, required, ArgKind, ArgSpec, Audience, Catalog, ElementClass, HandlerSpec, Level, PortRange, CUSTOM_CLASS_BASE};
use vdp_core::element::handler::ValueFormat;

pub use vdp_click::partition::fpga::TO_HOST;

const ARGS: &[ArgSpec] = &[required("HOST", ArgKind::DeviceName)];
const READ: &[HandlerSpec] = &[HandlerSpec { name: "count", format: ValueFormat::Integer }, HandlerSpec { name: "drops", format: ValueFormat::Integer }];
const WRITE: &[HandlerSpec] = &[HandlerSpec { name: "reset_counts", format: ValueFormat::Action }];

/// The class, as the FPGA part's check sees it.
pub static CLASSES: [ElementClass; 1] = [ElementClass {
    id: CUSTOM_CLASS_BASE,
    outputs: PortRange::exactly(0),
    processing: "h/",
    args: ARGS,
    read_handlers: READ,
    write_handlers: WRITE,
    audience: Audience::CoordinatorOnly,
    // Never in software: only the FPGA part holds it.
    level: Level::Container,
    ..base(TO_HOST, "Streams pushed packets to a host link of the FPGA board")
}];

/// The library and `ToHostLink`: what the FPGA part is checked against.
pub fn catalog() -> Catalog {
    // One class with the first custom id and a name of its own always makes a catalog; a unit
    // test holds it to that.
    Catalog::new(&CLASSES).unwrap_or(Catalog::LIBRARY)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_catalog_has_to_host() {
        assert!(super::catalog().class_by_name(super::TO_HOST).is_some());
    }
}
