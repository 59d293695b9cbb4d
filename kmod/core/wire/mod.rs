//! Zero-copy views of the headers vdp parses and writes on the data path.
//!
//! Each protocol lives in its own file and follows one pattern: a view `Packet<T: AsRef<[u8]>>`
//! (or `Frame` for Ethernet) over a byte buffer, built with `new_checked` once the buffer has
//! been checked to hold the whole header, with getters for the fields and, when the buffer is
//! `AsMut<[u8]>`, setters. Every accessor goes through the bounds-checked helpers below, so even
//! a view built with `new_unchecked` over a short buffer reads zeros instead of panicking: the
//! kernel must never panic on what arrives from the network.

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod gre;
pub mod ipv4;
pub mod tcp;
pub mod udp;

// Short names for the views most users want; the module need not use every one of them.
#[allow(unused_imports)]
pub use ethernet::{Address as EthernetAddress, EtherType, Frame as EthernetFrame};
#[allow(unused_imports)]
pub use gre::Packet as GrePacket;
#[allow(unused_imports)]
pub use ipv4::{Address as Ipv4Address, Packet as Ipv4Packet, Protocol as IpProtocol};
#[allow(unused_imports)]
pub use tcp::Packet as TcpPacket;
#[allow(unused_imports)]
pub use udp::Packet as UdpPacket;

/// The buffer is too short for the header (or for the length the header claims).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncated;

/// `N` bytes at `at`, or zeros when they are not all inside `buffer`.
pub(crate) fn read_array<const N: usize>(buffer: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(source) = at.checked_add(N).and_then(|end| buffer.get(at..end)) {
        for (to, from) in out.iter_mut().zip(source) {
            *to = *from;
        }
    }
    out
}

pub(crate) fn read_u8(buffer: &[u8], at: usize) -> u8 {
    buffer.get(at).copied().unwrap_or(0)
}

pub(crate) fn read_u16(buffer: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(read_array(buffer, at))
}

pub(crate) fn read_u32(buffer: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(read_array(buffer, at))
}

/// Writes `bytes` at `at` if they fit entirely; a write that would not fit changes nothing.
pub(crate) fn write_bytes(buffer: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(target) = at.checked_add(bytes.len()).and_then(|end| buffer.get_mut(at..end)) {
        for (to, from) in target.iter_mut().zip(bytes) {
            *to = *from;
        }
    }
}

pub(crate) fn write_u8(buffer: &mut [u8], at: usize, value: u8) {
    if let Some(byte) = buffer.get_mut(at) {
        *byte = value;
    }
}

pub(crate) fn write_u16(buffer: &mut [u8], at: usize, value: u16) {
    write_bytes(buffer, at, &value.to_be_bytes());
}

pub(crate) fn write_u32(buffer: &mut [u8], at: usize, value: u32) {
    write_bytes(buffer, at, &value.to_be_bytes());
}

/// `buffer[start..end]`, or an empty slice when the range is not inside it.
pub(crate) fn sub(buffer: &[u8], start: usize, end: usize) -> &[u8] {
    buffer.get(start..end).unwrap_or(&[])
}

pub(crate) fn sub_mut(buffer: &mut [u8], start: usize, end: usize) -> &mut [u8] {
    match buffer.get_mut(start..end) {
        Some(slice) => slice,
        None => &mut [],
    }
}
