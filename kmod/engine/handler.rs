//! Handler plumbing: the text buffer read handlers fill, and why a handler call failed.

use crate::sys::memcg::tenant_gfp;
use core::fmt::{self, Write};
use kernel::prelude::*;
use kernel::sync::SpinLock;

/// Longest handler reply; a reply must fit one netlink attribute.
pub(crate) const MAX_HANDLER_TEXT: usize = 60 * 1024;

/// Growable text that refuses to grow past [`MAX_HANDLER_TEXT`] or when memory is short.
pub(crate) struct HandlerText {
    bytes: KVec<u8>,
    overflowed: bool,
}

impl HandlerText {
    pub(crate) fn new() -> Self {
        HandlerText { bytes: KVec::new(), overflowed: false }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn into_bytes(self) -> KVec<u8> {
        self.bytes
    }

    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed
    }
}

impl fmt::Write for HandlerText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.bytes.len().saturating_add(s.len()) > MAX_HANDLER_TEXT
            || self.bytes.extend_from_slice(s.as_bytes(), tenant_gfp()).is_err()
        {
            self.overflowed = true;
            return Err(fmt::Error);
        }
        Ok(())
    }
}

/// Writes the bytes a spinlock guards as hex (the sources' `data` handlers). Formatting grows
/// `out`, and growing allocates, which must not happen under a spinlock: the bytes are copied out
/// first, with an atomic allocation, and formatted after the lock is released.
pub(crate) fn write_locked_hex(out: &mut HandlerText, data: &SpinLock<KVec<u8>>) -> Result<(), HandlerError> {
    let copy = {
        let data = data.lock();
        let mut copy = KVec::new();
        copy.extend_from_slice(&data, GFP_ATOMIC).map_err(|_| HandlerError::NoMemory)?;
        copy
    };
    copy.iter().try_for_each(|b| write!(out, "{:02x}", b)).map_err(|_| HandlerError::Refused("reply too long"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandlerError {
    NoSuchElement,
    NoSuchHandler,
    /// The value does not parse; the text says what was expected.
    BadValue(&'static str),
    /// The handler refused for a reason of its own (a duplicate route, a missing one, …).
    Refused(&'static str),
    /// An allocation failed: the tenant's memory cgroup is at its limit, or the system is out
    /// of memory. The element is as it was before the write.
    NoMemory,
    /// A write on the tenant's behalf to an element the coordinator added for the root
    /// context (a bandwidth shaper, a split queue): the tenant may read it, not write it.
    RootOwned,
}

/// Parses a handler value as an integer within bounds, Click style (decimal, 0x, 0b).
pub(crate) fn parse_int_in(value: &str, min: i64, max: i64) -> Result<i64, HandlerError> {
    crate::portable::click_value::parse_int_in(value.trim(), min, max)
        .map_err(|_| HandlerError::BadValue("expected an integer in range"))
}

pub(crate) fn parse_bool(value: &str) -> Result<bool, HandlerError> {
    crate::portable::click_value::parse_bool(value.trim()).map_err(|_| HandlerError::BadValue("expected true or false"))
}
