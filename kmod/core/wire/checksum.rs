//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! Sums are kept unfolded in a `u64` while data is added: 16-bit words cannot overflow it for any
//! buffer that fits in memory, and folding once at the end is cheaper than folding per word.

/// A running one's-complement sum, not yet folded or complemented.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sum(u64);

impl Sum {
    pub const ZERO: Sum = Sum(0);

    /// Adds `data` as big-endian 16-bit words. An odd final byte is padded with a zero, so
    /// `data` must start on an even offset of the checksummed region (true of every header
    /// boundary vdp sums across).
    pub fn add_bytes(self, data: &[u8]) -> Sum {
        let mut total = self.0;
        let mut words = data.chunks_exact(2);
        for word in &mut words {
            let high = word.first().copied().unwrap_or(0);
            let low = word.get(1).copied().unwrap_or(0);
            total = total.wrapping_add(u64::from(u16::from_be_bytes([high, low])));
        }
        if let Some(last) = words.remainder().first() {
            total = total.wrapping_add(u64::from(*last) << 8);
        }
        Sum(total)
    }

    pub fn add_u16(self, word: u16) -> Sum {
        Sum(self.0.wrapping_add(u64::from(word)))
    }

    pub fn add_u32(self, word: u32) -> Sum {
        self.add_u16((word >> 16) as u16).add_u16(word as u16)
    }

    pub fn combine(self, other: Sum) -> Sum {
        Sum(self.0.wrapping_add(other.0))
    }

    /// The 16-bit one's-complement sum (not complemented).
    pub fn fold(self) -> u16 {
        let mut total = self.0;
        while total > 0xffff {
            total = (total & 0xffff).wrapping_add(total >> 16);
        }
        total as u16
    }

    /// The value to store in a checksum field.
    pub fn finish(self) -> u16 {
        !self.fold()
    }
}

/// The Internet checksum of `data`, ready to store in a header.
pub fn checksum(data: &[u8]) -> u16 {
    Sum::ZERO.add_bytes(data).finish()
}

/// True when `data`, checksum field included, sums to all ones: the receiver's check.
pub fn is_valid(data: &[u8]) -> bool {
    Sum::ZERO.add_bytes(data).fold() == 0xffff
}

/// The checksum after one 16-bit word of the covered data changed from `old` to `new`
/// (RFC 1624, equation 3: `HC' = ~(~HC + ~m + m')`). Unlike equation 2 it never produces
/// 0x0000 from a valid header, which the RFC shows is the correct behaviour.
pub fn update_u16(checksum: u16, old: u16, new: u16) -> u16 {
    Sum::ZERO.add_u16(!checksum).add_u16(!old).add_u16(new).finish()
}

/// [`update_u16`] for a 32-bit field such as an address.
pub fn update_u32(checksum: u16, old: u32, new: u32) -> u16 {
    let high = update_u16(checksum, (old >> 16) as u16, (new >> 16) as u16);
    update_u16(high, old as u16, new as u16)
}
