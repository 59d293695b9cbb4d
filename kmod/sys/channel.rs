//! The tenant channel device `/dev/vdp` (`vdp_channel.c`): its registration, the file's C side
//! as the bound channel sees it ([`FileRef`]), the ring memory ([`SharedRegion`], a
//! [`RawRegion`] that the portable ring code checks and works on), and the functions the C file
//! operations call.
//!
//! What a bind makes, and everything the rings do, is decided above this layer, by the type
//! implementing [`ChannelFile`] (`crate::tenant::Channel`); `docs/channel.md` gives the
//! interface.

use crate::portable::channel::RawRegion;
use crate::portable::uapi::channel::Bind;
use core::ptr::NonNull;
use core::sync::atomic::AtomicU32;
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::sync::Arc;

/// `struct vdp_chan` (one per open file); opaque to Rust.
#[repr(C)]
pub(crate) struct RawChan {
    _opaque: [u8; 0],
}

extern "C" {
    fn vdp_channel_register() -> c_int;
    fn vdp_channel_unregister();
    fn vdp_chan_get(chan: *mut RawChan);
    fn vdp_chan_put(chan: *mut RawChan);
    fn vdp_chan_wake(chan: *mut RawChan);
    fn vdp_chan_hangup(chan: *mut RawChan);
    fn vdp_region_alloc(size: usize) -> *mut c_void;
    fn vdp_region_free(region: *mut c_void);
}

/// The registered misc device. Dropping it unregisters the device; files already open keep
/// the module (their file operations' owner) until they are closed, so they outlive this.
///
/// # Invariants
///
/// Exists only while the device is registered.
pub(crate) struct Device {
    _private: (),
}

impl Device {
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: the miscdevice and its fops are statics of vdp_channel.c, registered once here
        // (module init) and unregistered in `drop`.
        to_result(unsafe { vdp_channel_register() })?;
        Ok(Device { _private: () })
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        // SAFETY: registered in `register` (type invariant); unregistered only here.
        unsafe { vdp_channel_unregister() };
    }
}

/// A counted reference to an open file's C side, to wake its pollers; it may outlive the file.
///
/// # Invariants
///
/// `raw` holds one reference of the `struct vdp_chan`, taken in [`FileRef::new`] and dropped
/// in `drop`.
pub(crate) struct FileRef {
    raw: NonNull<RawChan>,
}

// SAFETY: the C side's reference count, wait queue and flag are safe to use from any thread.
unsafe impl Send for FileRef {}
// SAFETY: as above; shared use only wakes.
unsafe impl Sync for FileRef {}

impl FileRef {
    /// # Safety
    ///
    /// `raw` must be a live `struct vdp_chan` (one C holds a reference to for the call).
    unsafe fn new(raw: NonNull<RawChan>) -> FileRef {
        // SAFETY: `raw` is live (the caller's contract); the new reference is this value's.
        unsafe { vdp_chan_get(raw.as_ptr()) };
        FileRef { raw }
    }

    /// Wakes the engine's poll: a down ring has packets for it.
    pub(crate) fn wake(&self) {
        // SAFETY: referenced (type invariant); waking is safe in any context.
        unsafe { vdp_chan_wake(self.raw.as_ptr()) };
    }

    /// Marks the file detached (poll reports `EPOLLHUP` from now on) and wakes its pollers.
    pub(crate) fn hangup(&self) {
        // SAFETY: referenced (type invariant).
        unsafe { vdp_chan_hangup(self.raw.as_ptr()) };
    }
}

impl Drop for FileRef {
    fn drop(&mut self) {
        // SAFETY: drops the one reference this value holds (type invariant).
        unsafe { vdp_chan_put(self.raw.as_ptr()) };
    }
}

/// The ring memory of one bound channel, shared with the tenant's container engine through
/// `mmap`. The engine is not trusted and may write any byte at any time, so this type never
/// hands out a plain reference to the memory: it is seen only as a slice of atomic words
/// ([`RawRegion::words`]), which the portable ring code (`kmod/core/channel.rs`) reads and writes
/// with bounds-checked atomic accesses, copying packet bytes a word at a time, and it validates
/// every value it reads back.
///
/// # Invariants
///
/// `ptr` is a live `vdp_region_alloc` allocation of at least `len` bytes, page-aligned, freed
/// only in `drop`; pages mapped into a process hold their own page references.
pub(crate) struct SharedRegion {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the memory is only reached through atomics and copies, which any thread may do.
unsafe impl Send for SharedRegion {}
// SAFETY: as above.
unsafe impl Sync for SharedRegion {}

impl SharedRegion {
    /// `len` zeroed bytes charged to the active memory cgroup (see `Memcg::charge`); `ENOMEM`
    /// when the cgroup or the machine has no room.
    pub(crate) fn alloc(len: usize) -> Result<SharedRegion> {
        if len == 0 {
            return Err(EINVAL);
        }
        // SAFETY: plain allocation; checked for NULL.
        let ptr = unsafe { vdp_region_alloc(len) };
        Ok(SharedRegion { ptr: NonNull::new(ptr.cast()).ok_or(ENOMEM)?, len })
    }

    /// The memory as C maps it: its start and length.
    fn raw(&self) -> (*mut c_void, usize) {
        (self.ptr.as_ptr().cast(), self.len)
    }
}

impl RawRegion for SharedRegion {
    fn words(&self) -> &[AtomicU32] {
        // SAFETY: `ptr` is a live, page-aligned allocation of `len` bytes for as long as `self`
        // is (type invariant), so it holds `len / 4` aligned words. AtomicU32 has the layout of
        // u32, and every access the kernel makes through this slice is atomic; the engine's
        // writes to the same memory can only change the values read.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr().cast::<AtomicU32>(), self.len / 4) }
    }
}

impl Drop for SharedRegion {
    fn drop(&mut self) {
        // SAFETY: allocated by `vdp_region_alloc` and freed only here (type invariant). Pages
        // still mapped by a process keep their own references and are freed at its munmap.
        unsafe { vdp_region_free(self.ptr.as_ptr().cast()) };
    }
}

/// What a bound file is, as its file operations see it.
pub(crate) trait ChannelFile: Send + Sync + Sized + 'static {
    /// `VDP_CHANNEL_BIND` on `file` (privilege already checked, once per file).
    fn bind(file: FileRef, request: &Bind) -> Result<Arc<Self>>;
    /// The memory `mmap` maps.
    fn region(&self) -> &SharedRegion;
    /// `poll`: whether a down ring holds packets the engine has not taken.
    fn readable(&self) -> bool;
    /// `VDP_CHANNEL_KICK`.
    fn kick(&self) -> Result;
    /// The file is closed: its reference goes.
    fn release(this: Arc<Self>);
}

/// The one implementation the module binds files to.
type Owner = crate::tenant::Channel;

/// # Safety
///
/// `owner` is a pointer [`vdp_rs_channel_bind`] returned, and C has not yet passed it to
/// [`vdp_rs_channel_release`]; the reference is good for as long as the file operation runs.
unsafe fn owner<'a>(owner: *mut c_void) -> Option<&'a Owner> {
    // SAFETY: `owner` came from `Arc::into_raw` and that reference is still held (the caller's
    // contract), so the object is alive.
    unsafe { owner.cast::<Owner>().cast_const().as_ref() }
}

/// `VDP_CHANNEL_BIND`, from `vdp_chan_bind` with the file's `bind_lock` held.
///
/// # Safety
///
/// `chan` is the open file's `struct vdp_chan`, `request` the request C copied in, and `out`
/// writable; the file is not bound yet.
#[no_mangle]
pub(crate) unsafe extern "C" fn vdp_rs_channel_bind(chan: *mut RawChan, request: *const Bind, out: *mut *mut c_void) -> c_int {
    let (Some(chan), Some(out)) = (NonNull::new(chan), NonNull::new(out)) else { return EINVAL.to_errno() };
    // SAFETY: C passes the request it copied from userspace, on its stack, for the call.
    let Some(request) = (unsafe { request.as_ref() }) else { return EINVAL.to_errno() };
    // SAFETY: `chan` is the file's, live for the ioctl.
    let file = unsafe { FileRef::new(chan) };
    match Owner::bind(file, request) {
        Ok(bound) => {
            // SAFETY: `out` is C's local; the raw reference is released by
            // `vdp_rs_channel_release`.
            unsafe { out.as_ptr().write(Arc::into_raw(bound).cast_mut().cast()) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// The file's release: its reference to the bound channel goes.
///
/// # Safety
///
/// `bound` is null or what [`vdp_rs_channel_bind`] returned for the file, passed here once.
#[no_mangle]
pub(crate) unsafe extern "C" fn vdp_rs_channel_release(bound: *mut c_void) {
    if bound.is_null() {
        return;
    }
    // SAFETY: the file's reference from `vdp_rs_channel_bind`, given back exactly once, at
    // release.
    let bound = unsafe { Arc::from_raw(bound.cast::<Owner>().cast_const()) };
    Owner::release(bound);
}

/// `VDP_CHANNEL_KICK`.
///
/// # Safety
///
/// As [`owner`]: `bound` is a bound file's channel, from an ioctl on the open file.
#[no_mangle]
pub(crate) unsafe extern "C" fn vdp_rs_channel_kick(bound: *mut c_void) -> c_int {
    // SAFETY: called by the ioctl of a bound, open file.
    match unsafe { owner(bound) } {
        Some(bound) => bound.kick().map_or_else(|e| e.to_errno(), |()| 0),
        None => EBADFD.to_errno(),
    }
}

/// `poll`: whether a down ring holds packets for the engine.
///
/// # Safety
///
/// As [`owner`]: `bound` is a bound file's channel, from poll on the open file.
#[no_mangle]
pub(crate) unsafe extern "C" fn vdp_rs_channel_readable(bound: *mut c_void) -> bool {
    // SAFETY: called by poll on a bound, open file.
    unsafe { owner(bound) }.is_some_and(|bound| bound.readable())
}

/// `mmap`: the region's start, its length in `size`.
///
/// # Safety
///
/// As [`owner`]: `bound` is a bound file's channel, from mmap on the open file; `size` is
/// writable.
#[no_mangle]
pub(crate) unsafe extern "C" fn vdp_rs_channel_region(bound: *mut c_void, size: *mut usize) -> *mut c_void {
    // SAFETY: called by mmap on a bound, open file.
    let Some(bound) = (unsafe { owner(bound) }) else { return core::ptr::null_mut() };
    let (ptr, len) = bound.region().raw();
    // SAFETY: `size` is C's local.
    if let Some(size) = unsafe { size.as_mut() } {
        *size = len;
    }
    ptr
}
