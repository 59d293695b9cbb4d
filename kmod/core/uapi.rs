//! The `vdp` generic netlink family: names and numbers shared by the module and `vdpctl`.
//!
//! `docs/netlink.md` describes the protocol; `kmod/sys/vdp_genl.h` repeats these numbers for the
//! C policy tables, and a userspace test checks that the two agree.

/// Generic netlink family name.
pub const FAMILY_NAME: &str = "vdp";
/// Family version carried in every `genlmsghdr`.
pub const FAMILY_VERSION: u8 = 1;

/// Commands (`genlmsghdr.cmd`).
pub mod cmd {
    /// Read the module version, the element classes it implements and the tenant count.
    pub const GET_INFO: u8 = 1;
}

/// Top-level attributes.
pub mod attr {
    /// Module version, NUL-terminated string (reply only).
    pub const VERSION: u16 = 1;
    /// Number of tenants, u32 (reply only).
    pub const TENANT_COUNT: u16 = 2;
    /// One implemented element class, nested [`class_attr`] (reply only, repeated).
    pub const CLASS: u16 = 3;
    /// Highest top-level attribute number.
    pub const MAX: u16 = 3;
}

/// Attributes nested inside [`attr::CLASS`].
pub mod class_attr {
    /// Class id, u32: the index the compiled graph format uses.
    pub const ID: u16 = 1;
    /// Class name as written in Click configurations, NUL-terminated string.
    pub const NAME: u16 = 2;
    /// Highest attribute number in the nest.
    pub const MAX: u16 = 2;
}
