//! Packets at user level: a shared byte buffer with headroom, and Click's annotations.
//!
//! They behave as the kernel's `sk_buff`s do for the element library: a clone shares the bytes
//! until one side writes (`data_mut` copies then), `pull` and `push` move the start within the
//! buffer so that an Unstrip after a Strip gives back the very bytes stripped, a `push` beyond
//! the headroom moves the data into a larger buffer (with the old headroom, so the stripped
//! bytes are still in front of it), and the network-header mark moves with the data.

use std::sync::Arc;
use vdp_core::element::{LinkPacketType, NoMemory, PacketBuf, PacketError};

/// Headroom of packets the engine creates, as in the kernel (`DEFAULT_HEADROOM`): room for an
/// outer IPv4, GRE and Ethernet header.
pub const HEADROOM: usize = 64;

#[derive(Clone, Debug)]
pub struct UserPacket {
    buf: Arc<Vec<u8>>,
    start: usize,
    end: usize,
    paint: u8,
    dst_ip: Option<[u8; 4]>,
    /// Where the network header starts, as an index into `buf`.
    network: Option<usize>,
    /// The annotations `copy_annotations` copies besides paint and destination.
    more: MoreAnnotations,
    /// Click's timestamp annotation, nanoseconds on the engine's clock.
    timestamp: Option<u64>,
}

/// The link-level packet type, Fix IP Source flag and ICMP parameter-problem offset.
#[derive(Clone, Copy, Debug)]
struct MoreAnnotations {
    link_type: LinkPacketType,
    fix_ip_src: bool,
    icmp_param_offset: u8,
}

impl MoreAnnotations {
    /// What a fresh packet has, as in the kernel's zeroed `cb` and `pkt_type`.
    const FRESH: MoreAnnotations = MoreAnnotations { link_type: LinkPacketType::Host, fix_ip_src: false, icmp_param_offset: 0 };
}

impl UserPacket {
    /// A packet holding `bytes`, with [`HEADROOM`] bytes of headroom.
    pub fn from_bytes(bytes: &[u8]) -> Option<UserPacket> {
        let mut packet = UserPacket::alloc(bytes.len())?;
        packet.data_mut().ok()?.copy_from_slice(bytes);
        Some(packet)
    }
}

impl PacketBuf for UserPacket {
    fn alloc(len: usize) -> Option<Self> {
        UserPacket::alloc_with_headroom(HEADROOM, len)
    }

    fn alloc_with_headroom(headroom: usize, len: usize) -> Option<Self> {
        let end = headroom.checked_add(len)?;
        let mut buf = Vec::new();
        buf.try_reserve_exact(end).ok()?;
        buf.resize(end, 0);
        Some(UserPacket { buf: Arc::new(buf), start: headroom, end, paint: 0, dst_ip: None, network: None, more: MoreAnnotations::FRESH, timestamp: None })
    }

    fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    fn data_mut(&mut self) -> Result<&mut [u8], NoMemory> {
        let (start, end) = (self.start, self.end);
        Arc::make_mut(&mut self.buf).get_mut(start..end).ok_or(NoMemory)
    }

    fn pull(&mut self, n: usize) -> Result<(), PacketError> {
        if n > self.end - self.start {
            return Err(PacketError);
        }
        self.start += n;
        Ok(())
    }

    fn push(&mut self, n: usize) -> Result<(), PacketError> {
        if n <= self.start {
            self.start -= n;
            return Ok(());
        }
        // Not enough headroom: move the buffer into one with room for `n` bytes and the
        // default headroom in front of the data, as the kernel's skb_cow_head grows the head.
        // The old headroom moves along with the data, as pskb_expand_head copies it, so the
        // bytes an earlier Strip took off are still there for an Unstrip.
        let grow = HEADROOM.checked_add(n).ok_or(PacketError)? - self.start;
        let kept = self.buf.get(..self.end).ok_or(PacketError)?;
        let mut buf = Vec::new();
        buf.try_reserve_exact(grow.checked_add(kept.len()).ok_or(PacketError)?).map_err(|_| PacketError)?;
        buf.resize(grow, 0);
        buf.extend_from_slice(kept);
        self.network = self.network.and_then(|at| at.checked_add(grow));
        self.buf = Arc::new(buf);
        // The data moved `grow` bytes on, and the push takes `n` of them: HEADROOM are left.
        self.start = HEADROOM;
        self.end += grow;
        Ok(())
    }

    fn trim(&mut self, len: usize) -> Result<(), PacketError> {
        if len < self.end - self.start {
            self.end = self.start + len;
        }
        Ok(())
    }

    fn clone_packet(&mut self) -> Option<Self> {
        Some(self.clone())
    }

    fn paint(&self) -> u8 {
        self.paint
    }

    fn set_paint(&mut self, color: u8) {
        self.paint = color;
    }

    fn dst_ip_anno(&self) -> Option<[u8; 4]> {
        self.dst_ip
    }

    fn set_dst_ip_anno(&mut self, address: [u8; 4]) {
        self.dst_ip = Some(address);
    }

    fn network_offset(&self) -> Option<usize> {
        self.network.and_then(|at| at.checked_sub(self.start)).filter(|offset| *offset < self.len())
    }

    fn set_network_offset(&mut self, offset: usize) {
        if offset < self.len() {
            self.network = Some(self.start + offset);
        }
    }

    fn link_packet_type(&self) -> LinkPacketType {
        self.more.link_type
    }

    fn set_link_packet_type(&mut self, kind: LinkPacketType) {
        self.more.link_type = kind;
    }

    fn fix_ip_src(&self) -> bool {
        self.more.fix_ip_src
    }

    fn set_fix_ip_src(&mut self, fix: bool) {
        self.more.fix_ip_src = fix;
    }

    fn icmp_param_offset(&self) -> u8 {
        self.more.icmp_param_offset
    }

    fn set_icmp_param_offset(&mut self, offset: u8) {
        self.more.icmp_param_offset = offset;
    }

    fn copy_annotations(&mut self, from: &Self) {
        self.paint = from.paint;
        self.dst_ip = from.dst_ip;
        self.more = from.more;
        self.timestamp = from.timestamp;
    }

    fn timestamp_anno(&self) -> Option<u64> {
        self.timestamp
    }

    fn set_timestamp_anno(&mut self, ns: u64) {
        self.timestamp = (ns != 0).then_some(ns);
    }

    /// A fresh buffer of the old one's size plus `modulus` spare bytes, the whole old buffer
    /// (headroom, data and what lies behind it) copied in at the shift that puts the data where
    /// it is asked; the network mark moves with it.
    fn realign(&mut self, modulus: usize, offset: usize) -> Result<(), NoMemory> {
        if !matches!(modulus, 2 | 4 | 8) || offset >= modulus {
            return Err(NoMemory);
        }
        let mut buf: Vec<u8> = Vec::new();
        buf.try_reserve_exact(self.buf.len().checked_add(modulus).ok_or(NoMemory)?).map_err(|_| NoMemory)?;
        // The buffer does not move from here on: its capacity is reserved.
        let data_at = buf.as_ptr() as usize + self.start;
        let shift = (offset + modulus - data_at % modulus) % modulus;
        buf.resize(shift, 0);
        buf.extend_from_slice(&self.buf);
        self.network = self.network.map(|at| at + shift);
        self.start += shift;
        self.end += shift;
        self.buf = Arc::new(buf);
        Ok(())
    }

    fn consume(self) {}
}
