//! TCP headers, as far as IPClassifier needs them: ports, flags and the header length.

use super::{read_u16, read_u32, read_u8, sub, write_u16, Truncated};

pub const MIN_HEADER_LEN: usize = 20;

/// Flag bits of the fourteenth header byte.
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// A view of a TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Packet<T>, Truncated> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// The fixed header fits and the data offset points inside the buffer, past the fixed part.
    pub fn check_len(&self) -> Result<(), Truncated> {
        let len = self.buffer.as_ref().len();
        let header_len = self.header_len();
        if len < MIN_HEADER_LEN || header_len < MIN_HEADER_LEN || header_len > len {
            return Err(Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn src_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), 0)
    }

    pub fn dst_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), 2)
    }

    pub fn seq_number(&self) -> u32 {
        read_u32(self.buffer.as_ref(), 4)
    }

    pub fn ack_number(&self) -> u32 {
        read_u32(self.buffer.as_ref(), 8)
    }

    /// Data offset × 4.
    pub fn header_len(&self) -> usize {
        usize::from(read_u8(self.buffer.as_ref(), 12) >> 4) * 4
    }

    /// The flag byte; test it with the constants in [`flags`].
    pub fn flags(&self) -> u8 {
        read_u8(self.buffer.as_ref(), 13)
    }

    pub fn window(&self) -> u16 {
        read_u16(self.buffer.as_ref(), 14)
    }

    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), 16)
    }

    pub fn payload(&self) -> &[u8] {
        let buffer = self.buffer.as_ref();
        sub(buffer, self.header_len(), buffer.len())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_src_port(&mut self, port: u16) {
        write_u16(self.buffer.as_mut(), 0, port);
    }

    pub fn set_dst_port(&mut self, port: u16) {
        write_u16(self.buffer.as_mut(), 2, port);
    }

    pub fn set_checksum(&mut self, checksum: u16) {
        write_u16(self.buffer.as_mut(), 16, checksum);
    }
}
