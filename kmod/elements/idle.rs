//! Idle: never emits a packet and drops whatever it is pushed.

use super::{boxed, ConstructError};
use crate::engine::Element;
use crate::portable::compiled_graph::ElementView;
use crate::portable::element_args::ElementArgs;
use kernel::prelude::*;

struct Idle;

// The trait's defaults are exactly Idle: pushes are dropped, pulls return nothing.
impl Element for Idle {}

pub(super) fn construct(_: &ElementView<'_>, _: &ElementArgs<'_>) -> Result<KBox<dyn Element>, ConstructError> {
    boxed(Idle)
}
