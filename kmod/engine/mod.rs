//! The kernel's side of the element engine: the portable engine (`element/graph.rs`) over the
//! kernel platform (`platform.rs`), with build errors as errnos.

pub(crate) mod handler;

use crate::platform::{Kernel, TenantDevices};
use crate::portable::element::graph::{self, BuildErrorKind};
use crate::sys::thread::Doorbell;
use crate::tenant::TenantChannel;
use kernel::prelude::*;
use kernel::sync::Arc;

pub(crate) use crate::portable::element::graph::{WakeAt, OUT_OF_MEMORY};

/// One tenant's graph in the kernel.
pub(crate) type Graph = graph::Graph<Kernel>;

/// Most threads one tenant runs: `StaticThreadSched` may name threads 0 to 7. The compiled
/// format allows up to `compiled_graph::MAX_THREAD`; each thread is a kthread, so the kernel
/// bounds them per tenant more tightly than the format does.
pub(crate) const TENANT_THREADS_MAX: u32 = crate::portable::uapi::TENANT_THREADS_MAX;

/// Why a graph could not be built (or a tenant's threads started); the text names the element
/// or rule at fault.
pub(crate) struct BuildError {
    pub(crate) errno: Error,
    pub(crate) text: KVec<u8>,
}

impl BuildError {
    pub(crate) fn new(errno: Error, args: core::fmt::Arguments<'_>) -> Self {
        let mut text = handler::HandlerText::new();
        let _ = core::fmt::Write::write_fmt(&mut text, args);
        BuildError { errno, text: text.into_bytes() }
    }
}

impl From<graph::BuildError> for BuildError {
    fn from(e: graph::BuildError) -> Self {
        let errno = match e.kind {
            BuildErrorKind::Invalid => EINVAL,
            BuildErrorKind::NoSuchDevice => ENODEV,
            BuildErrorKind::Unsupported => EOPNOTSUPP,
            BuildErrorKind::NotPermitted => EPERM,
            BuildErrorKind::NoMemory => ENOMEM,
        };
        BuildError::new(errno, format_args!("{}", e.text()))
    }
}

impl From<kernel::alloc::AllocError> for BuildError {
    fn from(_: kernel::alloc::AllocError) -> Self {
        BuildError::new(ENOMEM, format_args!("{}", OUT_OF_MEMORY))
    }
}

/// Validates `blob` and builds its graph for tenant `tenant` (id `tenant_id`, whose devices its
/// FromDevice and ToDevice bind to, and whose `channel` its boundary elements bind to), over
/// `threads` threads.
pub(crate) fn build(blob: &[u8], tenant: &str, tenant_id: u32, channel: &Arc<TenantChannel>, doorbell: Arc<Doorbell>, threads: u32) -> Result<Graph, BuildError> {
    Ok(Graph::build(blob, tenant, &TenantDevices { id: tenant_id, channel }, doorbell, threads)?)
}
