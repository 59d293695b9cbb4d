//! Packets: an owned `sk_buff` with Click's annotations.
//!
//! A [`Packet`] is the only owner of its `sk_buff` reference. Moving it hands the packet on,
//! [`Packet::consume`] ends its life normally, and dropping it frees it as a drop, so a packet can
//! be neither leaked nor freed twice without `unsafe`. Every packet inside the graph is linear, so
//! its bytes are always one slice.

use crate::sys::genl::ffi::sk_buff;
use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::prelude::*;

extern "C" {
    fn vdp_skb_alloc(headroom: c_uint, len: c_uint) -> *mut sk_buff;
    fn vdp_skb_drop(skb: *mut sk_buff);
    fn vdp_skb_consume(skb: *mut sk_buff);
    fn vdp_skb_clone(skb: *mut sk_buff) -> *mut sk_buff;
    fn vdp_skb_data(skb: *mut sk_buff, len: *mut c_uint) -> *mut u8;
    fn vdp_skb_make_writable(skb: *mut sk_buff) -> c_int;
    fn vdp_skb_linearize(skb: *mut sk_buff) -> c_int;
    fn vdp_skb_pull(skb: *mut sk_buff, len: c_uint) -> c_int;
    fn vdp_skb_push(skb: *mut sk_buff, len: c_uint) -> c_int;
    fn vdp_skb_trim(skb: *mut sk_buff, len: c_uint) -> c_int;
    fn vdp_skb_cb(skb: *mut sk_buff) -> *mut u8;
    fn vdp_skb_network_offset(skb: *mut sk_buff) -> c_int;
    fn vdp_skb_set_network_offset(skb: *mut sk_buff, offset: c_int);
    fn vdp_skb_claim(skb: *mut sk_buff) -> c_int;
    fn vdp_skb_pkt_type(skb: *mut sk_buff) -> u8;
    fn vdp_skb_set_pkt_type(skb: *mut sk_buff, pkt_type: u8);
    fn vdp_skb_copy_annotations(to: *mut sk_buff, from: *mut sk_buff);
    fn vdp_skb_tstamp(skb: *mut sk_buff) -> u64;
    fn vdp_skb_set_tstamp(skb: *mut sk_buff, ns: u64);
    fn vdp_skb_realign(skb: *mut sk_buff, modulus: c_uint, offset: c_uint) -> *mut sk_buff;
}

/// Where Click's annotations live in `skb->cb` (48 bytes, ours while the graph holds the packet).
const PAINT_ANNO: usize = 0;
/// Click's destination IP address annotation: 4 bytes, network order.
const DST_IP_ANNO: usize = 4;
/// Flags telling which annotations hold a value (cb starts zeroed).
const ANNO_FLAGS: usize = 8;
const FLAG_DST_IP: u8 = 0x01;
// Click's ICMP parameter-problem offset (1 byte) and its Fix IP Source annotation (a flag); the
// link-level packet type is the kernel's own `skb->pkt_type`.
const ICMP_PARAM_ANNO: usize = 1;
const FLAG_FIX_IP_SRC: u8 = 0x02;

/// Headroom given to packets the graph creates, enough for outer IPv4 + GRE + Ethernet.
pub(crate) const DEFAULT_HEADROOM: u32 = 64;

/// Invariant: `skb` is a valid, linear `sk_buff` that this value alone owns.
pub(crate) struct Packet {
    skb: NonNull<sk_buff>,
}

// SAFETY: an owned sk_buff may be handed to and freed on any CPU.
unsafe impl Send for Packet {}
// SAFETY: through `&Packet` only reads are possible (the data, the annotations in `cb`, the
// network offset); everything that writes the skb, cloning included, takes `&mut self`.
unsafe impl Sync for Packet {}

impl Packet {
    /// A zero-filled packet of `len` bytes, or `None` when memory is short.
    pub(crate) fn alloc(len: u32) -> Option<Packet> {
        Packet::alloc_with_headroom(DEFAULT_HEADROOM, len)
    }

    /// A zero-filled packet of `len` bytes after `headroom` free bytes, or `None` when memory is
    /// short (or the two do not add up in 32 bits).
    pub(crate) fn alloc_with_headroom(headroom: u32, len: u32) -> Option<Packet> {
        headroom.checked_add(len)?;
        // SAFETY: plain allocation; the result is checked for NULL.
        let skb = unsafe { vdp_skb_alloc(headroom, len) };
        Some(Packet { skb: NonNull::new(skb)? })
    }

    /// Takes ownership of an `sk_buff` from the kernel, making it linear.
    ///
    /// # Safety
    ///
    /// `skb` must be a valid `sk_buff` whose reference the caller hands over.
    #[allow(dead_code)] // the device layer hands packets in through here
    pub(crate) unsafe fn from_raw(skb: NonNull<sk_buff>) -> Option<Packet> {
        // SAFETY: the caller passes a valid skb it owns.
        if unsafe { vdp_skb_linearize(skb.as_ptr()) } != 0 {
            // SAFETY: we own it and drop it on failure.
            unsafe { vdp_skb_drop(skb.as_ptr()) };
            return None;
        }
        Some(Packet { skb })
    }

    /// Wraps an `sk_buff` that is already linear.
    ///
    /// # Safety
    ///
    /// `skb` must be a valid, linear `sk_buff` whose reference the caller hands over.
    pub(crate) unsafe fn from_owned_linear(skb: NonNull<sk_buff>) -> Packet {
        Packet { skb }
    }

    /// Forgets what the host stack knew about a received packet (route, checksum offload state,
    /// control block), which no longer describes it once vdp strips its outer headers.
    pub(crate) fn clear_stack_state(&mut self) -> Result {
        // SAFETY: `skb` is valid and owned (type invariant).
        to_result(unsafe { vdp_skb_claim(self.skb.as_ptr()) })
    }

    pub(crate) fn len(&self) -> usize {
        self.data().len()
    }

    pub(crate) fn data(&self) -> &[u8] {
        let mut len: c_uint = 0;
        // SAFETY: `skb` is valid and linear (type invariant), so `len` bytes at the returned
        // pointer are the whole packet; they live as long as `self` is borrowed.
        unsafe {
            let data = vdp_skb_data(self.skb.as_ptr(), &mut len);
            core::slice::from_raw_parts(data, len as usize)
        }
    }

    /// The packet's bytes for writing; unshares them first if a clone shares them.
    pub(crate) fn data_mut(&mut self) -> Result<&mut [u8]> {
        // SAFETY: `skb` is valid and owned (type invariant).
        to_result(unsafe { vdp_skb_make_writable(self.skb.as_ptr()) })?;
        let mut len: c_uint = 0;
        // SAFETY: the data is now private to this reference and linear; the slice is tied to the
        // exclusive borrow of `self`.
        Ok(unsafe {
            let data = vdp_skb_data(self.skb.as_ptr(), &mut len);
            core::slice::from_raw_parts_mut(data, len as usize)
        })
    }

    /// Removes `n` bytes from the front (Click's Strip).
    pub(crate) fn pull(&mut self, n: u32) -> Result {
        // SAFETY: `skb` is valid and owned; C checks `n` against the length.
        to_result(unsafe { vdp_skb_pull(self.skb.as_ptr(), n) })
    }

    /// Adds `n` bytes at the front (Click's Unstrip and the encapsulations).
    pub(crate) fn push(&mut self, n: u32) -> Result {
        // SAFETY: `skb` is valid and owned; C grows the headroom as needed.
        to_result(unsafe { vdp_skb_push(self.skb.as_ptr(), n) })
    }

    /// Shortens the packet to `len` bytes.
    #[allow(dead_code)] // used by elements that cut packets
    pub(crate) fn trim(&mut self, len: u32) -> Result {
        // SAFETY: `skb` is valid and owned.
        to_result(unsafe { vdp_skb_trim(self.skb.as_ptr(), len) })
    }

    /// A second reference to the same bytes (Tee); writers unshare through `data_mut`.
    pub(crate) fn clone_packet(&mut self) -> Option<Packet> {
        // SAFETY: `skb` is valid; the clone is a new reference that the new Packet owns.
        let skb = unsafe { vdp_skb_clone(self.skb.as_ptr()) };
        Some(Packet { skb: NonNull::new(skb)? })
    }

    pub(crate) fn paint(&self) -> u8 {
        // SAFETY: cb is 48 bytes inside the valid skb; PAINT_ANNO is in range.
        unsafe { *vdp_skb_cb(self.skb.as_ptr()).add(PAINT_ANNO) }
    }

    pub(crate) fn set_paint(&mut self, color: u8) {
        // SAFETY: as in `paint`; `&mut self` makes this the only access to this skb's cb. A clone
        // has its own cb.
        unsafe { *vdp_skb_cb(self.skb.as_ptr()).add(PAINT_ANNO) = color };
    }

    /// Ends the packet's life normally (it was delivered or deliberately discarded).
    pub(crate) fn consume(self) {
        let skb = self.skb.as_ptr();
        core::mem::forget(self);
        // SAFETY: ownership passes to consume_skb; `self` is forgotten so Drop does not free it.
        unsafe { vdp_skb_consume(skb) };
    }

    /// Gives up ownership, for handing the packet to the kernel (transmit).
    #[allow(dead_code)] // the device layer transmits through here
    pub(crate) fn into_raw(self) -> NonNull<sk_buff> {
        let skb = self.skb;
        core::mem::forget(self);
        skb
    }
}

impl Drop for Packet {
    fn drop(&mut self) {
        // SAFETY: `self` owns the reference (type invariant) and is being destroyed.
        unsafe { vdp_skb_drop(self.skb.as_ptr()) };
    }
}

/// The link-level packet type, the Fix IP Source flag and the ICMP parameter-problem offset, and
/// copying annotations from one packet to another.
impl Packet {
    /// `skb->pkt_type`, as the receive path set it (0, `PACKET_HOST`, for packets the graph made).
    pub(crate) fn pkt_type(&self) -> u8 {
        // SAFETY: `skb` is valid (type invariant); this reads one of its fields.
        unsafe { vdp_skb_pkt_type(self.skb.as_ptr()) }
    }

    pub(crate) fn set_pkt_type(&mut self, pkt_type: u8) {
        // SAFETY: `skb` is valid and owned; C keeps the value within the field's width.
        unsafe { vdp_skb_set_pkt_type(self.skb.as_ptr(), pkt_type) };
    }

    pub(crate) fn fix_ip_src(&self) -> bool {
        // SAFETY: cb is 48 bytes inside the valid skb; ANNO_FLAGS is in range.
        unsafe { *vdp_skb_cb(self.skb.as_ptr()).add(ANNO_FLAGS) & FLAG_FIX_IP_SRC != 0 }
    }

    pub(crate) fn set_fix_ip_src(&mut self, fix: bool) {
        // SAFETY: as in `fix_ip_src`; `&mut self` makes this the only access to this skb's cb.
        unsafe {
            let flags = vdp_skb_cb(self.skb.as_ptr()).add(ANNO_FLAGS);
            if fix {
                *flags |= FLAG_FIX_IP_SRC;
            } else {
                *flags &= !FLAG_FIX_IP_SRC;
            }
        }
    }

    pub(crate) fn icmp_param_offset(&self) -> u8 {
        // SAFETY: cb is 48 bytes inside the valid skb; ICMP_PARAM_ANNO is in range.
        unsafe { *vdp_skb_cb(self.skb.as_ptr()).add(ICMP_PARAM_ANNO) }
    }

    pub(crate) fn set_icmp_param_offset(&mut self, offset: u8) {
        // SAFETY: as in `icmp_param_offset`; `&mut self` makes this the only access to this
        // skb's cb.
        unsafe { *vdp_skb_cb(self.skb.as_ptr()).add(ICMP_PARAM_ANNO) = offset };
    }

    /// Gives this packet `from`'s annotations: its whole `cb` and its `pkt_type`.
    pub(crate) fn copy_annotations(&mut self, from: &Packet) {
        // SAFETY: both skbs are valid; `&mut self` and `&Packet` are distinct owned packets (one
        // cannot be borrowed both ways), and C only reads `from`.
        unsafe { vdp_skb_copy_annotations(self.skb.as_ptr(), from.skb.as_ptr()) };
    }
}

/// Annotations the IP elements use: where the IP header is, and the destination to route on.
impl Packet {
    /// Offset of the IP header from the start of the data, if an element marked one that is
    /// still inside the packet.
    pub(crate) fn network_offset(&self) -> Option<usize> {
        // SAFETY: `skb` is valid (type invariant); this reads two of its fields.
        let offset = unsafe { vdp_skb_network_offset(self.skb.as_ptr()) };
        usize::try_from(offset).ok().filter(|offset| *offset < self.len())
    }

    /// Marks the IP header `offset` bytes into the data; an offset outside the packet is ignored.
    pub(crate) fn set_network_offset(&mut self, offset: usize) {
        if offset >= self.len() {
            return;
        }
        let Ok(offset) = c_int::try_from(offset) else { return };
        // SAFETY: `skb` is valid and owned; the offset lies inside the linear data.
        unsafe { vdp_skb_set_network_offset(self.skb.as_ptr(), offset) };
    }

    pub(crate) fn dst_ip_anno(&self) -> Option<[u8; 4]> {
        let mut address = [0u8; 4];
        // SAFETY: cb is 48 bytes inside the valid skb; bytes DST_IP_ANNO..DST_IP_ANNO + 4 and
        // ANNO_FLAGS are within it, and `address` is a distinct 4-byte buffer.
        let flags = unsafe {
            let cb = vdp_skb_cb(self.skb.as_ptr());
            core::ptr::copy_nonoverlapping(cb.add(DST_IP_ANNO), address.as_mut_ptr(), 4);
            *cb.add(ANNO_FLAGS)
        };
        (flags & FLAG_DST_IP != 0).then_some(address)
    }

    /// Click's timestamp annotation: nanoseconds of the monotonic clock in `skb->tstamp`, 0 when
    /// unset (`vdp_skb.c` says why it never reaches the stack).
    pub(crate) fn timestamp_ns(&self) -> Option<u64> {
        // SAFETY: `skb` is valid (type invariant); this reads one field.
        let ns = unsafe { vdp_skb_tstamp(self.skb.as_ptr()) };
        (ns != 0).then_some(ns)
    }

    pub(crate) fn set_timestamp_ns(&mut self, ns: u64) {
        // SAFETY: `skb` is valid and owned; `&mut self` makes this the only access to it.
        unsafe { vdp_skb_set_tstamp(self.skb.as_ptr(), ns) };
    }

    /// Moves the packet into a fresh buffer whose data starts `offset` bytes past a
    /// `modulus`-byte boundary, with every annotation; the old buffer is released. `ENOMEM`
    /// leaves the packet as it was.
    pub(crate) fn realign(&mut self, modulus: u32, offset: u32) -> Result {
        // SAFETY: `skb` is valid; the C side only reads it and returns a new skb or NULL.
        let copy = unsafe { vdp_skb_realign(self.skb.as_ptr(), modulus, offset) };
        let copy = NonNull::new(copy).ok_or(ENOMEM)?;
        // The copy is linear (skb_copy_expand makes one linear buffer) and ours alone.
        let old = core::mem::replace(&mut self.skb, copy);
        // SAFETY: `old` was this packet's only reference and nothing refers to it any more; it
        // was copied, not lost, so it ends as consumed.
        unsafe { vdp_skb_consume(old.as_ptr()) };
        Ok(())
    }

    pub(crate) fn set_dst_ip_anno(&mut self, address: [u8; 4]) {
        // SAFETY: as in `dst_ip_anno`; `&mut self` makes this the only access to this skb's cb.
        unsafe {
            let cb = vdp_skb_cb(self.skb.as_ptr());
            core::ptr::copy_nonoverlapping(address.as_ptr(), cb.add(DST_IP_ANNO), 4);
            *cb.add(ANNO_FLAGS) |= FLAG_DST_IP;
        }
    }
}
