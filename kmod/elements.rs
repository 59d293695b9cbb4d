//! The in-kernel element library.

/// An element class the engine can run, as announced by `GET_INFO`.
pub(crate) struct ImplementedClass {
    /// The class id of the shared catalog and of the compiled graph format.
    pub(crate) id: u16,
    pub(crate) name: &'static str,
}

/// Classes the engine implements. The graph engine has not landed yet, so the kernel announces
/// none and userspace must not try to install a graph.
pub(crate) const IMPLEMENTED: &[ImplementedClass] = &[];
