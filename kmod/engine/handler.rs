//! The kernel's handler reply buffer; why a handler call failed is portable (`element/handler.rs`).

use crate::sys::memcg::tenant_gfp;
use core::fmt;
use kernel::prelude::*;

pub(crate) use crate::portable::element::handler::MAX_HANDLER_TEXT;

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

pub(crate) use crate::portable::element::handler::HandlerError;
