//! GRE headers (RFC 2784, with the key and sequence number of RFC 2890), as Linux's `gre` and
//! `gretap` devices send them.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |C|R|K|S|s|Recur|  Flags  | Ver |         Protocol Type         |
//! |      Checksum (optional)      |       Reserved1 (optional)    |
//! |                         Key (optional)                        |
//! |                 Sequence Number (optional)                    |
//! ```
//!
//! What is accepted: RFC 2784 says a receiver must discard a packet with any of bits 1–5 set
//! unless it implements RFC 1701. vdp implements K and S (bits 2 and 3, from RFC 2890), so it
//! rejects R (routing), s (strict source route) and the top recursion bit, and ignores bits 6–12
//! as RFC 2784 asks. A version other than 0 is rejected. Linux checks only R and the version;
//! every packet Linux sends passes both.

use super::checksum;
use super::{read_u16, read_u32, read_u8, sub, sub_mut, write_u16, write_u32, write_u8, Truncated};

mod flag {
    /// Flags in the first header byte.
    pub const CHECKSUM: u8 = 0x80;
    pub const ROUTING: u8 = 0x40;
    pub const KEY: u8 = 0x20;
    pub const SEQUENCE: u8 = 0x10;
    pub const STRICT_ROUTE: u8 = 0x08;
    /// Bit 5, the highest recursion-control bit; bits 6 and 7 are to be ignored.
    pub const RECURSION_HIGH: u8 = 0x04;
    pub const UNSUPPORTED: u8 = ROUTING | STRICT_ROUTE | RECURSION_HIGH;
    /// Version, in the second byte.
    pub const VERSION_MASK: u8 = 0x07;
}

/// Length of the mandatory part of the header.
pub const BASE_HEADER_LEN: usize = 4;
/// Length of the longest header vdp accepts (checksum, key and sequence number).
pub const MAX_HEADER_LEN: usize = 16;

/// Protocol type of an IPv4 payload.
pub const PROTOCOL_IPV4: u16 = 0x0800;
/// Protocol type of an Ethernet payload (Transparent Ethernet Bridging), as gretap sends.
pub const PROTOCOL_ETHERNET: u16 = 0x6558;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    Truncated,
    UnsupportedVersion,
    /// Routing, strict source route or recursion bits set.
    UnsupportedFlags,
    BadChecksum,
}

/// A view of a GRE header and its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view with no check; accessors on a short buffer read zeros.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// A view whose whole header, optional fields included, is inside the buffer.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Truncated> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    pub fn check_len(&self) -> Result<(), Truncated> {
        let len = self.buffer.as_ref().len();
        if len < BASE_HEADER_LEN || len < self.header_len() {
            return Err(Truncated);
        }
        Ok(())
    }

    /// Length and then version and flags; the checksum is left to `verify_checksum`, since
    /// it costs a pass over the payload.
    pub fn check(&self) -> Result<(), Error> {
        self.check_len().map_err(|_| Error::Truncated)?;
        if self.version() != 0 {
            return Err(Error::UnsupportedVersion);
        }
        if self.flags() & flag::UNSUPPORTED != 0 {
            return Err(Error::UnsupportedFlags);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn flags(&self) -> u8 {
        read_u8(self.buffer.as_ref(), 0)
    }

    pub fn checksum_present(&self) -> bool {
        self.flags() & flag::CHECKSUM != 0
    }

    pub fn routing_present(&self) -> bool {
        self.flags() & flag::ROUTING != 0
    }

    pub fn key_present(&self) -> bool {
        self.flags() & flag::KEY != 0
    }

    pub fn sequence_present(&self) -> bool {
        self.flags() & flag::SEQUENCE != 0
    }

    pub fn version(&self) -> u8 {
        read_u8(self.buffer.as_ref(), 1) & flag::VERSION_MASK
    }

    /// The EtherType of the payload.
    pub fn protocol_type(&self) -> u16 {
        read_u16(self.buffer.as_ref(), 2)
    }

    /// Header length implied by the C, K and S flags.
    pub fn header_len(&self) -> usize {
        header_len(self.checksum_present(), self.key_present(), self.sequence_present())
    }

    fn key_offset(&self) -> usize {
        if self.checksum_present() {
            8
        } else {
            4
        }
    }

    fn sequence_offset(&self) -> usize {
        if self.key_present() {
            self.key_offset() + 4
        } else {
            self.key_offset()
        }
    }

    pub fn checksum(&self) -> Option<u16> {
        self.checksum_present().then(|| read_u16(self.buffer.as_ref(), 4))
    }

    pub fn key(&self) -> Option<u32> {
        self.key_present().then(|| read_u32(self.buffer.as_ref(), self.key_offset()))
    }

    pub fn sequence(&self) -> Option<u32> {
        self.sequence_present()
            .then(|| read_u32(self.buffer.as_ref(), self.sequence_offset()))
    }

    /// True unless the C flag is set and the checksum over header and payload is wrong. The
    /// view must cover exactly the GRE packet: the outer IP payload, without link padding.
    pub fn verify_checksum(&self) -> bool {
        !self.checksum_present() || checksum::is_valid(self.buffer.as_ref())
    }

    pub fn payload(&self) -> &[u8] {
        let buffer = self.buffer.as_ref();
        sub(buffer, self.header_len(), buffer.len())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Recomputes the checksum over header and payload when the C flag is set.
    pub fn fill_checksum(&mut self) {
        if !self.checksum_present() {
            return;
        }
        write_u32(self.buffer.as_mut(), 4, 0);
        let sum = checksum::checksum(self.buffer.as_ref());
        write_u16(self.buffer.as_mut(), 4, sum);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        let buffer = self.buffer.as_mut();
        let end = buffer.len();
        sub_mut(buffer, start, end)
    }
}

/// Header length for a given set of optional fields.
pub const fn header_len(checksum: bool, key: bool, sequence: bool) -> usize {
    BASE_HEADER_LEN + 4 * (checksum as usize + key as usize + sequence as usize)
}

/// The fields of a GRE header vdp writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    pub protocol_type: u16,
    /// Send the C flag and a checksum.
    pub checksum: bool,
    pub key: Option<u32>,
    pub sequence: Option<u32>,
}

impl Repr {
    pub const fn header_len(&self) -> usize {
        header_len(self.checksum, self.key.is_some(), self.sequence.is_some())
    }

    /// Writes the header at the start of `buffer`. With `checksum` set, the checksum field is
    /// computed from `payload_sum`, the one's-complement sum of the payload that will follow
    /// (see [`checksum::Sum`]); the payload need not be in `buffer`. Returns the header length.
    pub fn emit(&self, buffer: &mut [u8], payload_sum: checksum::Sum) -> Result<usize, Truncated> {
        let len = self.header_len();
        let header = buffer.get_mut(..len).ok_or(Truncated)?;
        let mut flags = 0u8;
        if self.checksum {
            flags |= flag::CHECKSUM;
        }
        if self.key.is_some() {
            flags |= flag::KEY;
        }
        if self.sequence.is_some() {
            flags |= flag::SEQUENCE;
        }
        write_u8(header, 0, flags);
        write_u8(header, 1, 0);
        write_u16(header, 2, self.protocol_type);
        let mut at = BASE_HEADER_LEN;
        if self.checksum {
            write_u32(header, at, 0);
            at += 4;
        }
        if let Some(key) = self.key {
            write_u32(header, at, key);
            at += 4;
        }
        if let Some(sequence) = self.sequence {
            write_u32(header, at, sequence);
        }
        if self.checksum {
            let sum = checksum::Sum::ZERO.add_bytes(header).combine(payload_sum).finish();
            write_u16(header, 4, sum);
        }
        Ok(len)
    }
}
