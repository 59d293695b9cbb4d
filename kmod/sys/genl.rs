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
    #[repr(C)]
    pub(crate) struct netlink_callback {
        _opaque: [u8; 0],
    }
}
use ffi as bindings;

/// What a genetlink callback returns to C: 0 or a negative errno (a dump: the length filled).
pub(crate) type CallbackResult = c_int;

/// Runs `handler` on the request of a `doit` callback and maps its result to an errno.
///
/// # Safety
///
/// `info` must be the `genl_info` genetlink passed to the `doit` callback that is running.
pub(crate) unsafe fn run_doit(info: *mut bindings::genl_info, handler: fn(&Request<'_>) -> Result) -> c_int {
    // SAFETY: the caller passes the running callback's `genl_info`; `request` lives only for
    // this call, inside the callback.
    let Some(request) = (unsafe { Request::from_raw(info) }) else {
        return EINVAL.to_errno();
    };
    match handler(&request) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Runs `handler` on one call of a `dumpit` callback; it returns the length it filled (0 ends the
/// dump).
///
/// # Safety
///
/// `skb` and `cb` must be what netlink passed to the `dumpit` callback that is running.
pub(crate) unsafe fn run_dumpit(
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    handler: fn(&mut Dump<'_>) -> Result<u32>,
) -> c_int {
    // SAFETY: the caller passes the running callback's skb and state; `dump` lives only for this
    // call, inside the callback.
    let Some(mut dump) = (unsafe { Dump::from_raw(skb, cb) }) else {
        return EINVAL.to_errno();
    };
    match handler(&mut dump) {
        Ok(len) => c_int::try_from(len).unwrap_or(c_int::MAX),
        Err(e) => e.to_errno(),
    }
}

/// `genl_doit!(vdp_rs_NAME => HANDLER);` defines the C-callable `doit` callback `vdp_rs_NAME`
/// that the family's operation table (`vdp_genl.c`) names, running the safe
/// `HANDLER: fn(&Request<'_>) -> Result` on its request.
macro_rules! genl_doit {
    ($name:ident => $handler:expr) => {
        #[no_mangle]
        pub(crate) extern "C" fn $name(
            _skb: *mut $crate::sys::genl::ffi::sk_buff,
            info: *mut $crate::sys::genl::ffi::genl_info,
        ) -> $crate::sys::genl::CallbackResult {
            // SAFETY: genetlink calls a `doit` callback with the request's `genl_info`.
            unsafe { $crate::sys::genl::run_doit(info, $handler) }
        }
    };
}
pub(crate) use genl_doit;

/// `genl_dumpit!(vdp_rs_NAME => HANDLER);`: the same for a `dumpit` callback, with
/// `HANDLER: fn(&mut Dump<'_>) -> Result<u32>`.
macro_rules! genl_dumpit {
    ($name:ident => $handler:expr) => {
        #[no_mangle]
        pub(crate) extern "C" fn $name(
            skb: *mut $crate::sys::genl::ffi::sk_buff,
            cb: *mut $crate::sys::genl::ffi::netlink_callback,
        ) -> $crate::sys::genl::CallbackResult {
            // SAFETY: netlink calls a `dumpit` callback with the skb to fill and the dump's state.
            unsafe { $crate::sys::genl::run_dumpit(skb, cb, $handler) }
        }
    };
}
pub(crate) use genl_dumpit;

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
    fn vdp_put_u64(msg: *mut bindings::sk_buff, attr_type: c_int, value: u64) -> c_int;
    fn vdp_put_u64_pad(msg: *mut bindings::sk_buff, attr_type: c_int, value: u64, pad: c_int) -> c_int;
    fn vdp_dump_msg_start(skb: *mut bindings::sk_buff, cb: *mut bindings::netlink_callback, cmd: u8) -> *mut c_void;
    fn vdp_msg_end(skb: *mut bindings::sk_buff, hdr: *mut c_void);
    fn vdp_msg_cancel(skb: *mut bindings::sk_buff, hdr: *mut c_void);
    fn vdp_skb_len(skb: *const bindings::sk_buff) -> c_uint;
    fn vdp_dump_cursor(cb: *mut bindings::netlink_callback, index: c_uint) -> c_long;
    fn vdp_dump_set_cursor(cb: *mut bindings::netlink_callback, index: c_uint, value: c_long);
    fn vdp_dump_attr(cb: *mut bindings::netlink_callback, attr_type: c_int) -> *const bindings::nlattr;
    fn vdp_dump_set_err_attr(cb: *mut bindings::netlink_callback, attr_type: c_int, msg: *const c_char);
    fn vdp_events_wanted() -> bool;
    fn vdp_event_new(cmd: u8, payload: usize) -> *mut bindings::sk_buff;
    fn vdp_event_send(msg: *mut bindings::sk_buff);
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
    unsafe fn from_raw(info: *mut bindings::genl_info) -> Option<Self> {
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

    /// [`Self::set_error_text`] of a message formatted on the stack (cut at 79 bytes, as
    /// extack keeps, at a character boundary).
    pub(crate) fn set_error_text_fmt(&self, args: core::fmt::Arguments<'_>) {
        let mut text = ErrorText { bytes: [0; ERROR_TEXT_MAX], len: 0 };
        // A message too long is cut, which `write_str` reports as an error to stop formatting.
        let _ = core::fmt::Write::write_fmt(&mut text, args);
        self.set_error_text(core::str::from_utf8(text.bytes.get(..text.len).unwrap_or(&[])).unwrap_or(""));
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

    /// Whether a flag attribute (`NLA_FLAG` in the command's policy) is present.
    pub(crate) fn flag(&self, attr_type: u16) -> bool {
        self.attr(attr_type).is_some()
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

    /// Like [`Self::u32_attr`] for an attribute the command may go without.
    pub(crate) fn optional_u32_attr(&self, attr_type: u16) -> Option<u32> {
        let attr = self.attr(attr_type)?;
        // SAFETY: the policy validated this attribute as NLA_U32, so it holds 4 bytes.
        Some(unsafe { vdp_attr_u32(attr.as_ptr()) })
    }

    /// An optional u64 attribute (type and range checked by the policy: `NLA_U64`, exactly 8
    /// bytes in a strictly validated family).
    pub(crate) fn optional_u64_attr(&self, attr_type: u16) -> Option<u64> {
        let bytes: [u8; 8] = self.optional_binary_attr(attr_type)?.get(..8)?.try_into().ok()?;
        Some(u64::from_ne_bytes(bytes))
    }

    /// An optional u8 attribute (type and range checked by the policy).
    pub(crate) fn optional_u8_attr(&self, attr_type: u16) -> Option<u8> {
        self.optional_binary_attr(attr_type)?.first().copied()
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
        attr::IFNAME => c"missing attribute IFNAME",
        attr::VDEV_NAME => c"missing attribute VDEV_NAME",
        attr::LOCAL => c"missing attribute LOCAL",
        attr::REMOTE => c"missing attribute REMOTE",
        attr::CARRIES => c"missing attribute CARRIES",
        attr::PEER_MAC => c"missing attribute PEER_MAC",
        _ => c"missing a required attribute",
    }
}

/// Writes attributes into a netlink message that someone else owns (a [`Reply`], one message of a
/// [`Dump`], an [`Event`]); `'m` keeps it from outliving that owner.
pub(crate) struct Attrs<'m> {
    msg: NonNull<bindings::sk_buff>,
    _owner: PhantomData<&'m mut bindings::sk_buff>,
}

impl Attrs<'_> {
    /// # Safety
    ///
    /// `msg` must be a live netlink message that stays valid, and is written by nobody else,
    /// for the lifetime chosen.
    unsafe fn new<'m>(msg: NonNull<bindings::sk_buff>) -> Attrs<'m> {
        Attrs { msg, _owner: PhantomData }
    }

    pub(crate) fn put_u32(&mut self, attr_type: u16, value: u32) -> Result {
        // SAFETY: `msg` is a live message this writer may write (type invariant).
        to_result(unsafe { vdp_put_u32(self.msg.as_ptr(), c_int::from(attr_type), value) })
    }

    /// A u64 attribute, padded to 8-byte alignment with `PAD` attributes as the kernel does.
    pub(crate) fn put_u64(&mut self, attr_type: u16, value: u64) -> Result {
        // SAFETY: as in `put_u32`.
        to_result(unsafe { vdp_put_u64(self.msg.as_ptr(), c_int::from(attr_type), value) })
    }

    /// A u64 inside a nest whose attribute space pads with `pad`.
    pub(crate) fn put_u64_padded(&mut self, attr_type: u16, value: u64, pad: u16) -> Result {
        // SAFETY: as in `put_u32`.
        to_result(unsafe { vdp_put_u64_pad(self.msg.as_ptr(), c_int::from(attr_type), value, c_int::from(pad)) })
    }

    pub(crate) fn put_u8(&mut self, attr_type: u16, value: u8) -> Result {
        self.put_binary(attr_type, &[value])
    }

    pub(crate) fn put_binary(&mut self, attr_type: u16, value: &[u8]) -> Result {
        // SAFETY: as in `put_u32`; `value` is valid for `value.len()` bytes.
        to_result(unsafe {
            vdp_put_binary(self.msg.as_ptr(), c_int::from(attr_type), value.as_ptr().cast(), value.len())
        })
    }

    pub(crate) fn put_str(&mut self, attr_type: u16, value: &str) -> Result {
        self.put_str_bytes(attr_type, value.as_bytes())
    }

    /// A string attribute from bytes (which must hold no NUL; the C side appends one).
    pub(crate) fn put_str_bytes(&mut self, attr_type: u16, value: &[u8]) -> Result {
        // SAFETY: as in `put_u32`; `value` is valid for `value.len()` bytes.
        to_result(unsafe {
            vdp_put_string(self.msg.as_ptr(), c_int::from(attr_type), value.as_ptr().cast(), value.len())
        })
    }

    /// Writes a nested attribute whose contents `fill` produces. If `fill` fails, the partial nest
    /// is removed again.
    pub(crate) fn nest(&mut self, attr_type: u16, fill: impl FnOnce(&mut Self) -> Result) -> Result {
        // SAFETY: as in `put_u32`.
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
}

/// A reply message being built. It owns its `sk_buff`: sending consumes it, dropping frees it,
/// so a reply is never leaked nor freed twice.
pub(crate) struct Reply<'r> {
    msg: NonNull<bindings::sk_buff>,
    request: &'r Request<'r>,
}

impl Reply<'_> {
    /// The writer for this reply's attributes.
    pub(crate) fn attrs(&mut self) -> Attrs<'_> {
        // SAFETY: the message is owned by `self`, which the returned writer borrows mutably.
        unsafe { Attrs::new(self.msg) }
    }

    pub(crate) fn put_u32(&mut self, attr_type: u16, value: u32) -> Result {
        self.attrs().put_u32(attr_type, value)
    }

    pub(crate) fn put_binary(&mut self, attr_type: u16, value: &[u8]) -> Result {
        self.attrs().put_binary(attr_type, value)
    }

    pub(crate) fn put_str(&mut self, attr_type: u16, value: &str) -> Result {
        self.attrs().put_str(attr_type, value)
    }

    /// See [`Attrs::nest`].
    pub(crate) fn nest(&mut self, attr_type: u16, fill: impl FnOnce(&mut Attrs<'_>) -> Result) -> Result {
        self.attrs().nest(attr_type, fill)
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

/// One call of a `dumpit` callback: the skb to fill and the dump's state between calls.
pub(crate) struct Dump<'a> {
    skb: NonNull<bindings::sk_buff>,
    cb: NonNull<bindings::netlink_callback>,
    _callback: PhantomData<&'a mut bindings::netlink_callback>,
}

impl<'a> Dump<'a> {
    /// # Safety
    ///
    /// `skb` and `cb` must be what netlink passed to the running `dumpit` callback; they stay valid
    /// for `'a`, which must not outlive that callback.
    unsafe fn from_raw(skb: *mut bindings::sk_buff, cb: *mut bindings::netlink_callback) -> Option<Self> {
        Some(Dump { skb: NonNull::new(skb)?, cb: NonNull::new(cb)?, _callback: PhantomData })
    }

    /// Saved position `index` (0..6); zero at the start of a dump.
    pub(crate) fn cursor(&self, index: u32) -> i64 {
        // SAFETY: `cb` is valid (type invariant); C bounds `index`.
        let value = unsafe { vdp_dump_cursor(self.cb.as_ptr(), index) };
        i64::try_from(value).unwrap_or(0)
    }

    pub(crate) fn set_cursor(&mut self, index: u32, value: i64) {
        let value = c_long::try_from(value).unwrap_or(0);
        // SAFETY: as in `cursor`.
        unsafe { vdp_dump_set_cursor(self.cb.as_ptr(), index, value) };
    }

    /// A u32 attribute of the dump request, which the policy has checked; `None` when absent.
    pub(crate) fn u32_attr(&self, attr_type: u16) -> Option<u32> {
        // SAFETY: `cb` is valid (type invariant); C bounds `attr_type` by the policy.
        let attr = NonNull::new(unsafe { vdp_dump_attr(self.cb.as_ptr(), c_int::from(attr_type)) }.cast_mut())?;
        // SAFETY: the policy validated this attribute as NLA_U32.
        Some(unsafe { vdp_attr_u32(attr.as_ptr()) })
    }

    /// Points the dump's error at request attribute `attr_type`, with a reason.
    pub(crate) fn set_attr_error(&self, attr_type: u16, msg: &'static CStr) {
        // SAFETY: `cb` is valid (type invariant) and `msg` is static, as extack requires.
        unsafe { vdp_dump_set_err_attr(self.cb.as_ptr(), c_int::from(attr_type), msg.as_ptr().cast()) };
    }

    /// Bytes written into this call's skb so far (what `dumpit` returns to go on).
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { vdp_skb_len(self.skb.as_ptr()) }
    }

    /// Starts a message of command `cmd`, or `None` when the skb has no room for one more.
    /// Dropping the message without [`DumpMessage::end`] removes it again.
    pub(crate) fn message(&mut self, cmd: u8) -> Option<DumpMessage<'_>> {
        // SAFETY: `skb` and `cb` are valid (type invariant).
        let hdr = NonNull::new(unsafe { vdp_dump_msg_start(self.skb.as_ptr(), self.cb.as_ptr(), cmd) })?;
        Some(DumpMessage { skb: self.skb, hdr, _dump: PhantomData })
    }
}

/// One message of a dump, open for attributes.
pub(crate) struct DumpMessage<'d> {
    skb: NonNull<bindings::sk_buff>,
    hdr: NonNull<c_void>,
    _dump: PhantomData<&'d mut ()>,
}

impl DumpMessage<'_> {
    pub(crate) fn attrs(&mut self) -> Attrs<'_> {
        // SAFETY: the skb belongs to the dump this message borrows mutably; only this message
        // writes it now.
        unsafe { Attrs::new(self.skb) }
    }

    /// Closes the message, keeping it in the skb.
    pub(crate) fn end(self) {
        // SAFETY: `hdr` was started in `skb` by `Dump::message` and is still open.
        unsafe { vdp_msg_end(self.skb.as_ptr(), self.hdr.as_ptr()) };
        core::mem::forget(self);
    }
}

impl Drop for DumpMessage<'_> {
    fn drop(&mut self) {
        // SAFETY: `hdr` is still open (`end` forgets `self`); cancelling trims the skb to before it.
        unsafe { vdp_msg_cancel(self.skb.as_ptr(), self.hdr.as_ptr()) };
    }
}

/// A notification for the `events` multicast group. Owns its `sk_buff` like [`Reply`].
pub(crate) struct Event {
    msg: NonNull<bindings::sk_buff>,
}

impl Event {
    /// Whether anyone listens; callers skip building events nobody would receive.
    pub(crate) fn wanted() -> bool {
        // SAFETY: reads the family's listener state; the family is registered while any command
        // runs.
        unsafe { vdp_events_wanted() }
    }

    /// Starts a notification of command `cmd` with room for `payload` bytes of attributes.
    pub(crate) fn new(cmd: u8, payload: usize) -> Result<Self> {
        // SAFETY: allocates a fresh message; no preconditions.
        let msg = unsafe { vdp_event_new(cmd, payload) };
        Ok(Event { msg: NonNull::new(msg).ok_or(ENOMEM)? })
    }

    pub(crate) fn attrs(&mut self) -> Attrs<'_> {
        // SAFETY: the message is owned by `self`, which the writer borrows mutably.
        unsafe { Attrs::new(self.msg) }
    }

    /// Multicasts the notification to the group's listeners.
    pub(crate) fn send(self) {
        let msg = self.msg.as_ptr();
        core::mem::forget(self);
        // SAFETY: ownership of `msg` passes to the C side, which frees it in every case; `self`
        // was forgotten so Drop will not free it again.
        unsafe { vdp_event_send(msg) };
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: the message is still owned by `self` (send() forgets `self`).
        unsafe { vdp_reply_free(self.msg.as_ptr()) };
    }
}

/// Bytes of an error message extack keeps.
const ERROR_TEXT_MAX: usize = 79;

/// A formatted error message on the stack.
struct ErrorText {
    bytes: [u8; ERROR_TEXT_MAX],
    len: usize,
}

impl core::fmt::Write for ErrorText {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = ERROR_TEXT_MAX.saturating_sub(self.len);
        // The longest prefix of `s` that fits and ends at a character boundary.
        let take = (0..=room.min(s.len())).rev().find(|n| s.is_char_boundary(*n)).unwrap_or(0);
        if let (Some(dst), Some(src)) = (self.bytes.get_mut(self.len..self.len + take), s.as_bytes().get(..take)) {
            dst.copy_from_slice(src);
            self.len += take;
        }
        if take < s.len() { Err(core::fmt::Error) } else { Ok(()) }
    }
}
