//! Generic netlink: registering the `vdp` family, reading requests and building replies.

use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::prelude::*;

/// Opaque C types. Declaring them here, rather than using the full bindgen layouts, keeps the
/// FFI signatures simple: Rust never looks inside them.
pub(crate) mod ffi {
    #[repr(C)]
    pub(crate) struct genl_info {
        _opaque: [u8; 0],
    }
    #[repr(C)]
    pub(crate) struct sk_buff {
        _opaque: [u8; 0],
    }
    #[repr(C)]
    pub(crate) struct nlattr {
        _opaque: [u8; 0],
    }
}
use ffi as bindings;

// The C half, kmod/sys/vdp_genl.c.
extern "C" {
    fn vdp_genl_register() -> c_int;
    fn vdp_genl_unregister();
    fn vdp_reply_new(info: *mut bindings::genl_info) -> *mut bindings::sk_buff;
    fn vdp_reply_new_sized(info: *mut bindings::genl_info, payload: usize) -> *mut bindings::sk_buff;
    fn vdp_put_binary(msg: *mut bindings::sk_buff, attr_type: c_int, data: *const c_void, len: usize) -> c_int;
    fn vdp_reply_send(msg: *mut bindings::sk_buff, info: *mut bindings::genl_info) -> c_int;
    fn vdp_reply_free(msg: *mut bindings::sk_buff);
    fn vdp_put_u32(msg: *mut bindings::sk_buff, attr_type: c_int, value: u32) -> c_int;
    fn vdp_put_string(
        msg: *mut bindings::sk_buff,
        attr_type: c_int,
        s: *const c_char,
        len: usize,
    ) -> c_int;
    fn vdp_nest_start(msg: *mut bindings::sk_buff, attr_type: c_int) -> *mut bindings::nlattr;
    fn vdp_nest_end(msg: *mut bindings::sk_buff, nest: *mut bindings::nlattr);
    fn vdp_nest_cancel(msg: *mut bindings::sk_buff, nest: *mut bindings::nlattr);
    fn vdp_set_err_msg(info: *mut bindings::genl_info, msg: *const c_char);
    fn vdp_set_err_text(info: *mut bindings::genl_info, text: *const c_char, len: usize);
    fn vdp_set_err_attr(info: *mut bindings::genl_info, attr_type: c_int, msg: *const c_char);
    fn vdp_attr_missing(info: *mut bindings::genl_info, attr_type: c_int) -> bool;
    fn vdp_attr(info: *mut bindings::genl_info, attr_type: c_int) -> *const bindings::nlattr;
    fn vdp_attr_u32(attr: *const bindings::nlattr) -> u32;
    fn vdp_attr_data(attr: *const bindings::nlattr, len: *mut c_int) -> *const c_void;
}

/// The registered `vdp` family. Dropping it unregisters the family, which waits for requests
/// already inside a handler to finish.
///
/// Invariant: at most one `Family` exists, because the C family table is a single static; only
/// module init creates one.
pub(crate) struct Family(());

impl Family {
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: the family table is a static in this module; registering it once from module
        // init, before any other use, is what genl_register_family expects.
        to_result(unsafe { vdp_genl_register() })?;
        Ok(Family(()))
    }
}

impl Drop for Family {
    fn drop(&mut self) {
        // SAFETY: the family was registered in `register` (type invariant) and is unregistered
        // exactly once, here.
        unsafe { vdp_genl_unregister() };
    }
}

/// One request, borrowed from genetlink for the duration of a `doit` callback.
pub(crate) struct Request<'a> {
    info: NonNull<bindings::genl_info>,
    _callback: PhantomData<&'a bindings::genl_info>,
}

impl<'a> Request<'a> {
    /// # Safety
    ///
    /// `info` must be the `genl_info` genetlink passed to the running `doit` callback; it stays
    /// valid for `'a`, which must not outlive that callback.
    pub(crate) unsafe fn from_raw(info: *mut bindings::genl_info) -> Option<Self> {
        Some(Request { info: NonNull::new(info)?, _callback: PhantomData })
    }

    /// Attaches a human-readable reason to the error this request is about to return.
    pub(crate) fn set_error_message(&self, msg: &'static CStr) {
        // SAFETY: `info` is valid (type invariant) and `msg` is static, as extack requires.
        unsafe { vdp_set_err_msg(self.info.as_ptr(), msg.as_ptr().cast()) };
    }

    /// Sets an error message built at run time (extack copies it; at most 79 bytes are kept).
    pub(crate) fn set_error_text(&self, text: &str) {
        // SAFETY: `info` is valid (type invariant); C copies at most `len` bytes of `text`.
        unsafe { vdp_set_err_text(self.info.as_ptr(), text.as_ptr().cast(), text.len()) };
    }

    /// Like [`Self::set_error_message`], and also points the error at attribute `attr_type`.
    pub(crate) fn set_attr_error(&self, attr_type: u16, msg: &'static CStr) {
        // SAFETY: `info` is valid (type invariant) and `msg` is static, as extack requires.
        unsafe { vdp_set_err_attr(self.info.as_ptr(), c_int::from(attr_type), msg.as_ptr().cast()) };
    }

    fn attr(&self, attr_type: u16) -> Option<NonNull<bindings::nlattr>> {
        // SAFETY: `info` is valid (type invariant); the C side bounds `attr_type` by the
        // command's policy.
        NonNull::new(unsafe { vdp_attr(self.info.as_ptr(), c_int::from(attr_type)) }.cast_mut())
    }

    /// Fails with `EINVAL`, and an extack naming the attribute, when it is absent.
    pub(crate) fn require(&self, attr_type: u16) -> Result {
        // SAFETY: `info` is valid (type invariant).
        if unsafe { vdp_attr_missing(self.info.as_ptr(), c_int::from(attr_type)) } {
            self.set_error_message(missing_attr_message(attr_type));
            return Err(EINVAL);
        }
        Ok(())
    }

    /// A u32 attribute, which the command's policy has already checked for type and range.
    pub(crate) fn u32_attr(&self, attr_type: u16) -> Result<u32> {
        self.require(attr_type)?;
        let attr = self.attr(attr_type).ok_or(EINVAL)?;
        // SAFETY: the policy validated this attribute as NLA_U32, so it holds 4 bytes.
        Ok(unsafe { vdp_attr_u32(attr.as_ptr()) })
    }

    /// A string attribute without its terminating NUL; the policy has checked that it is
    /// NUL-terminated and bounded in length.
    pub(crate) fn str_attr(&self, attr_type: u16) -> Result<&'a [u8]> {
        let bytes = self.binary_attr(attr_type)?;
        Ok(bytes.split(|b| *b == 0).next().unwrap_or(bytes))
    }

    /// A binary attribute's payload, which the policy has bounded in length.
    pub(crate) fn binary_attr(&self, attr_type: u16) -> Result<&'a [u8]> {
        self.require(attr_type)?;
        self.optional_binary_attr(attr_type).ok_or(EINVAL)
    }

    /// Like [`Self::binary_attr`] for an attribute the command may go without.
    pub(crate) fn optional_binary_attr(&self, attr_type: u16) -> Option<&'a [u8]> {
        let attr = self.attr(attr_type)?;
        let mut len: c_int = 0;
        // SAFETY: `attr` is a validated attribute of this request.
        let data = unsafe { vdp_attr_data(attr.as_ptr(), &mut len) };
        let len = usize::try_from(len).ok()?;
        // SAFETY: the attribute's payload is `len` readable bytes inside the request message,
        // which lives for the whole callback (`'a`).
        Some(unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len) })
    }

    /// Starts a reply with room for `payload` bytes of attributes.
    pub(crate) fn reply_sized(&self, payload: usize) -> Result<Reply<'_>> {
        // SAFETY: `info` is valid (type invariant).
        let msg = unsafe { vdp_reply_new_sized(self.info.as_ptr(), payload) };
        let msg = NonNull::new(msg).ok_or(ENOMEM)?;
        Ok(Reply { msg, request: self })
    }

    /// Starts the reply to this request.
    pub(crate) fn reply(&self) -> Result<Reply<'_>> {
        // SAFETY: `info` is valid (type invariant).
        let msg = unsafe { vdp_reply_new(self.info.as_ptr()) };
        let msg = NonNull::new(msg).ok_or(ENOMEM)?;
        Ok(Reply { msg, request: self })
    }
}

/// The extack text for a missing attribute; extack keeps only static strings.
fn missing_attr_message(attr_type: u16) -> &'static CStr {
    use crate::portable::uapi::attr;
    match attr_type {
        attr::TENANT_ID => c"missing attribute TENANT_ID",
        attr::TENANT_NAME => c"missing attribute TENANT_NAME",
        attr::TASKS_PER_YIELD => c"missing attribute TASKS_PER_YIELD",
        attr::GRAPH => c"missing attribute GRAPH",
        attr::ELEMENT => c"missing attribute ELEMENT",
        attr::HANDLER => c"missing attribute HANDLER",
        _ => c"missing a required attribute",
    }
}

/// A reply message being built. It owns its `sk_buff`: sending consumes it, dropping frees it,
/// so a reply is never leaked nor freed twice.
pub(crate) struct Reply<'r> {
    msg: NonNull<bindings::sk_buff>,
    request: &'r Request<'r>,
}

impl Reply<'_> {
    pub(crate) fn put_u32(&mut self, attr_type: u16, value: u32) -> Result {
        // SAFETY: `msg` is a live genetlink message owned by `self`.
        to_result(unsafe { vdp_put_u32(self.msg.as_ptr(), c_int::from(attr_type), value) })
    }

    pub(crate) fn put_binary(&mut self, attr_type: u16, value: &[u8]) -> Result {
        // SAFETY: `msg` is owned by `self`; `value` is valid for `value.len()` bytes.
        to_result(unsafe {
            vdp_put_binary(self.msg.as_ptr(), c_int::from(attr_type), value.as_ptr().cast(), value.len())
        })
    }

    pub(crate) fn put_str(&mut self, attr_type: u16, value: &str) -> Result {
        // SAFETY: `msg` is owned by `self`; `value` is valid for `value.len()` bytes.
        to_result(unsafe {
            vdp_put_string(
                self.msg.as_ptr(),
                c_int::from(attr_type),
                value.as_ptr().cast(),
                value.len(),
            )
        })
    }

    /// Writes a nested attribute whose contents `fill` produces. If `fill` fails, the partial nest
    /// is removed again.
    pub(crate) fn nest(&mut self, attr_type: u16, fill: impl FnOnce(&mut Self) -> Result) -> Result {
        // SAFETY: `msg` is owned by `self`.
        let nest = unsafe { vdp_nest_start(self.msg.as_ptr(), c_int::from(attr_type)) };
        if nest.is_null() {
            return Err(EMSGSIZE);
        }
        match fill(self) {
            Ok(()) => {
                // SAFETY: `nest` was started on this message just above and not yet closed.
                unsafe { vdp_nest_end(self.msg.as_ptr(), nest) };
                Ok(())
            }
            Err(e) => {
                // SAFETY: as above; cancelling trims the message back to before the nest.
                unsafe { vdp_nest_cancel(self.msg.as_ptr(), nest) };
                Err(e)
            }
        }
    }

    /// Sends the reply to the requester.
    pub(crate) fn send(self) -> Result {
        let msg = self.msg.as_ptr();
        let info = self.request.info.as_ptr();
        core::mem::forget(self);
        // SAFETY: ownership of `msg` passes to genlmsg_reply, which frees it in every case; `self`
        // was forgotten so Drop will not free it again. `info` is valid (Request invariant).
        to_result(unsafe { vdp_reply_send(msg, info) })
    }
}

impl Drop for Reply<'_> {
    fn drop(&mut self) {
        // SAFETY: the message is still owned by `self` (send() forgets `self` before handing it
        // off), so this is its only free.
        unsafe { vdp_reply_free(self.msg.as_ptr()) };
    }
}
