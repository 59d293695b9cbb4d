//! ARP for IPv4 over Ethernet (RFC 826): the 28-byte message after an Ethernet header, as
//! ARPQuerier sends and reads it and ARPResponder answers it.

use super::ethernet::{self, Address as EtherAddress, EtherType};
use super::ipv4::Address as Ipv4Address;
use super::{read_array, read_u16, read_u8, write_bytes, write_u16, write_u8, Truncated};

/// Length of an Ethernet/IPv4 ARP message.
pub const MESSAGE_LEN: usize = 28;
/// An Ethernet header and an ARP message: the shortest frame ARP elements act on, and the
/// length of the frames they make.
pub const FRAME_LEN: usize = ethernet::HEADER_LEN + MESSAGE_LEN;

/// The hardware type of Ethernet.
pub const HARDWARE_ETHERNET: u16 = 1;
/// The protocol type of IPv4 (its EtherType).
pub const PROTOCOL_IPV4: u16 = 0x0800;

/// What an ARP message asks or answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Request,
    Reply,
    Unknown(u16),
}

impl From<u16> for Operation {
    fn from(value: u16) -> Operation {
        match value {
            1 => Operation::Request,
            2 => Operation::Reply,
            other => Operation::Unknown(other),
        }
    }
}

impl From<Operation> for u16 {
    fn from(value: Operation) -> u16 {
        match value {
            Operation::Request => 1,
            Operation::Reply => 2,
            Operation::Unknown(other) => other,
        }
    }
}

mod field {
    pub const HARDWARE: usize = 0;
    pub const PROTOCOL: usize = 2;
    pub const HARDWARE_LEN: usize = 4;
    pub const PROTOCOL_LEN: usize = 5;
    pub const OPERATION: usize = 6;
    pub const SENDER_HARDWARE: usize = 8;
    pub const SENDER_PROTOCOL: usize = 14;
    pub const TARGET_HARDWARE: usize = 18;
    pub const TARGET_PROTOCOL: usize = 24;
}

/// A view of an ARP message (the bytes after the Ethernet header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view with no length check; accessors on a short buffer read zeros.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Packet<T>, Truncated> {
        if buffer.as_ref().len() < MESSAGE_LEN {
            return Err(Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn hardware_type(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::HARDWARE)
    }

    pub fn protocol_type(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::PROTOCOL)
    }

    pub fn hardware_len(&self) -> u8 {
        read_u8(self.buffer.as_ref(), field::HARDWARE_LEN)
    }

    pub fn protocol_len(&self) -> u8 {
        read_u8(self.buffer.as_ref(), field::PROTOCOL_LEN)
    }

    pub fn operation(&self) -> Operation {
        Operation::from(read_u16(self.buffer.as_ref(), field::OPERATION))
    }

    pub fn sender_hardware_addr(&self) -> EtherAddress {
        EtherAddress(read_array(self.buffer.as_ref(), field::SENDER_HARDWARE))
    }

    pub fn sender_protocol_addr(&self) -> Ipv4Address {
        Ipv4Address(read_array(self.buffer.as_ref(), field::SENDER_PROTOCOL))
    }

    pub fn target_hardware_addr(&self) -> EtherAddress {
        EtherAddress(read_array(self.buffer.as_ref(), field::TARGET_HARDWARE))
    }

    pub fn target_protocol_addr(&self) -> Ipv4Address {
        Ipv4Address(read_array(self.buffer.as_ref(), field::TARGET_PROTOCOL))
    }

    /// Ethernet hardware and IPv4 protocol types, the only pair vdp's ARP elements handle (the
    /// two length fields are not looked at, as in Click).
    pub fn is_ethernet_ipv4(&self) -> bool {
        self.hardware_type() == HARDWARE_ETHERNET && self.protocol_type() == PROTOCOL_IPV4
    }
}

/// The fields of an Ethernet/IPv4 ARP frame to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRepr {
    pub eth_dst: EtherAddress,
    pub eth_src: EtherAddress,
    pub operation: Operation,
    pub sender_hardware: EtherAddress,
    pub sender_protocol: Ipv4Address,
    pub target_hardware: EtherAddress,
    pub target_protocol: Ipv4Address,
}

impl FrameRepr {
    /// Writes the frame into the first [`FRAME_LEN`] bytes of `buffer`; a shorter buffer is
    /// refused and left as it was.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<(), Truncated> {
        let frame = buffer.get_mut(..FRAME_LEN).ok_or(Truncated)?;
        let mut ether = ethernet::Frame::new_checked(&mut *frame)?;
        ether.set_dst_addr(self.eth_dst);
        ether.set_src_addr(self.eth_src);
        ether.set_ethertype(EtherType::Arp);
        let message = ether.payload_mut();
        write_u16(message, field::HARDWARE, HARDWARE_ETHERNET);
        write_u16(message, field::PROTOCOL, PROTOCOL_IPV4);
        write_u8(message, field::HARDWARE_LEN, 6);
        write_u8(message, field::PROTOCOL_LEN, 4);
        write_u16(message, field::OPERATION, self.operation.into());
        write_bytes(message, field::SENDER_HARDWARE, &self.sender_hardware.0);
        write_bytes(message, field::SENDER_PROTOCOL, &self.sender_protocol.0);
        write_bytes(message, field::TARGET_HARDWARE, &self.target_hardware.0);
        write_bytes(message, field::TARGET_PROTOCOL, &self.target_protocol.0);
        Ok(())
    }
}
