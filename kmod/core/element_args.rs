//! Reading an element's arguments out of a validated compiled graph, with the catalog's defaults
//! filled in, so that every element constructor (in the kernel and in tests) sees typed values.
//!
//! The byte layout is the one `compiled_graph::validate` checks; this reader runs only on
//! elements of a graph that passed validation, yet still never panics on any input.

use crate::catalog::{ArgKind, ArgSpec, ElementClass};
use crate::click_value;
use crate::compiled_graph::ElementView;
use crate::packet_program;

/// Most declared (non-repeated) arguments any class has.
pub const MAX_DECLARED_ARGS: usize = 16;

/// One argument value, borrowing from the blob where it is variable-length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgValue<'a> {
    Int(i64),
    Bool(bool),
    Ipv4([u8; 4]),
    Prefix { addr: [u8; 4], len: u8 },
    Ether([u8; 6]),
    /// Encoded packet-match program (`packet_program` instructions).
    Program(&'a [u8]),
    /// Bytes per second.
    Bandwidth(u64),
    /// Nanoseconds.
    Time(u64),
    Bytes(&'a [u8]),
    Device(&'a str),
    Element(u32),
    Route { addr: [u8; 4], len: u8, gateway: Option<[u8; 4]>, port: u16 },
    Thread { element: u32, number: u32 },
    /// `count` prefixes of 5 bytes each (address, length).
    PrefixList { count: u16, bytes: &'a [u8] },
    /// `count` addresses of 4 bytes each.
    AddrList { count: u16, bytes: &'a [u8] },
    Protocol(u8),
    /// `count` prefixes of 5 bytes each (address, length), and the Ethernet address they map to.
    ArpEntry { count: u16, bytes: &'a [u8], ether: [u8; 6] },
    /// A fraction of 65536 (0 to 65536 inclusive).
    Probability(u32),
    /// `count` element indices of 4 bytes each (little-endian).
    StorageList { count: u16, bytes: &'a [u8] },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgsError {
    /// The encoded arguments end early or hold a value the layout does not allow.
    Malformed,
    /// The class declares more arguments than [`MAX_DECLARED_ARGS`].
    TooManyArguments,
    /// A catalog default does not parse: a catalog bug, caught by the catalog's own tests.
    BadDefault,
}

struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ArgsError> {
        let (head, tail) = (self.bytes.get(..n), self.bytes.get(n..));
        match (head, tail) {
            (Some(head), Some(tail)) => {
                self.bytes = tail;
                Ok(head)
            }
            _ => Err(ArgsError::Malformed),
        }
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ArgsError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, ArgsError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, ArgsError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, ArgsError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, ArgsError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
}

fn read_value<'a>(c: &mut Cursor<'a>, kind: ArgKind) -> Result<ArgValue<'a>, ArgsError> {
    Ok(match kind {
        ArgKind::Int { .. } => ArgValue::Int(c.u64()? as i64),
        ArgKind::Bool => ArgValue::Bool(c.u8()? == 1),
        ArgKind::Ipv4Addr => ArgValue::Ipv4(c.array()?),
        ArgKind::Ipv4Prefix => ArgValue::Prefix { addr: c.array()?, len: c.u8()? },
        ArgKind::EtherAddr => ArgValue::Ether(c.array()?),
        ArgKind::ClassifierPattern | ArgKind::IpClassifierExpr => {
            let count = c.u32()? as usize;
            let len = count.checked_mul(packet_program::INSN_BYTES).ok_or(ArgsError::Malformed)?;
            ArgValue::Program(c.take(len)?)
        }
        ArgKind::Bandwidth => ArgValue::Bandwidth(c.u64()?),
        ArgKind::Time => ArgValue::Time(c.u64()?),
        ArgKind::String => {
            let len = c.u32()? as usize;
            ArgValue::Bytes(c.take(len)?)
        }
        ArgKind::DeviceName => {
            let len = usize::from(c.u16()?);
            let name = core::str::from_utf8(c.take(len)?).map_err(|_| ArgsError::Malformed)?;
            ArgValue::Device(name)
        }
        ArgKind::ElementRef => ArgValue::Element(c.u32()?),
        ArgKind::Route => {
            let addr = c.array()?;
            let len = c.u8()?;
            let has_gateway = c.u8()? == 1;
            let gateway: [u8; 4] = c.array()?;
            let port = c.u16()?;
            ArgValue::Route { addr, len, gateway: has_gateway.then_some(gateway), port }
        }
        ArgKind::ThreadAssignment | ArgKind::TicketShare => {
            ArgValue::Thread { element: c.u32()?, number: c.u32()? }
        }
        ArgKind::PrefixList => {
            let count = c.u16()?;
            ArgValue::PrefixList { count, bytes: c.take(usize::from(count) * 5)? }
        }
        ArgKind::AddrList => {
            let count = c.u16()?;
            ArgValue::AddrList { count, bytes: c.take(usize::from(count) * 4)? }
        }
        ArgKind::IpProtocol => ArgValue::Protocol(c.u8()?),
        ArgKind::ArpEntry => {
            let count = c.u16()?;
            let bytes = c.take(usize::from(count) * 5)?;
            ArgValue::ArpEntry { count, bytes, ether: c.array()? }
        }
        ArgKind::NamedAddresses => return Err(ArgsError::Malformed),
        ArgKind::IcmpErrorType | ArgKind::IcmpCode => ArgValue::Int(i64::from(c.u8()?)),
        ArgKind::Probability => ArgValue::Probability(c.u32()?),
        ArgKind::StorageList => {
            let count = c.u16()?;
            ArgValue::StorageList { count, bytes: c.take(usize::from(count) * 4)? }
        }
    })
}

/// The value a catalog default text stands for. Only scalar kinds carry defaults.
fn default_value(spec: &ArgSpec, text: &'static str) -> Result<ArgValue<'static>, ArgsError> {
    let bad = |_| ArgsError::BadDefault;
    Ok(match spec.kind {
        ArgKind::Int { .. } => ArgValue::Int(click_value::parse_int(text).map_err(bad)?),
        ArgKind::Bool => ArgValue::Bool(click_value::parse_bool(text).map_err(bad)?),
        ArgKind::Ipv4Addr => ArgValue::Ipv4(click_value::parse_ipv4(text).map_err(bad)?),
        ArgKind::EtherAddr => ArgValue::Ether(click_value::parse_ether(text).map_err(bad)?),
        ArgKind::Bandwidth => ArgValue::Bandwidth(click_value::parse_bandwidth(text).map_err(bad)?),
        ArgKind::Time => ArgValue::Time(click_value::parse_time_ns(text).map_err(bad)?),
        ArgKind::String => ArgValue::Bytes(text.as_bytes()),
        ArgKind::IpProtocol => ArgValue::Protocol(click_value::parse_ip_protocol(text).map_err(bad)?),
        ArgKind::IcmpErrorType => ArgValue::Int(i64::from(click_value::parse_icmp_error_type(text).map_err(bad)?)),
        // A default code is a number: a name would need the type.
        ArgKind::IcmpCode => ArgValue::Int(click_value::parse_int_in(text, 0, 255).map_err(bad)?),
        ArgKind::Probability => ArgValue::Probability(click_value::parse_probability(text).map_err(bad)?),
        _ => return Err(ArgsError::BadDefault),
    })
}

/// An element's declared arguments (given or defaulted) and its repeated ones.
pub struct ElementArgs<'a> {
    class: &'static ElementClass,
    declared: [Option<ArgValue<'a>>; MAX_DECLARED_ARGS],
    repeated_count: u32,
    repeated: &'a [u8],
}

impl<'a> ElementArgs<'a> {
    pub fn decode(view: &ElementView<'a>) -> Result<Self, ArgsError> {
        let class = view.class;
        if class.args.len() > MAX_DECLARED_ARGS {
            return Err(ArgsError::TooManyArguments);
        }
        let mut c = Cursor { bytes: view.args };
        let mut declared = [None; MAX_DECLARED_ARGS];
        for (slot, spec) in declared.iter_mut().zip(class.args.iter()) {
            *slot = match c.u8()? {
                1 => Some(read_value(&mut c, spec.kind)?),
                0 => spec.default.map(|text| default_value(spec, text)).transpose()?,
                _ => return Err(ArgsError::Malformed),
            };
        }
        let repeated_count = c.u32()?;
        Ok(ElementArgs { class, declared, repeated_count, repeated: c.bytes })
    }

    fn get(&self, keyword: &str) -> Option<ArgValue<'a>> {
        let index = self.class.args.iter().position(|spec| spec.keyword == keyword)?;
        self.declared.get(index).copied().flatten()
    }

    pub fn int(&self, keyword: &str) -> Option<i64> {
        match self.get(keyword)? {
            ArgValue::Int(v) => Some(v),
            _ => None,
        }
    }

    pub fn bool(&self, keyword: &str) -> Option<bool> {
        match self.get(keyword)? {
            ArgValue::Bool(v) => Some(v),
            _ => None,
        }
    }

    pub fn bytes(&self, keyword: &str) -> Option<&'a [u8]> {
        match self.get(keyword)? {
            ArgValue::Bytes(v) => Some(v),
            _ => None,
        }
    }

    pub fn value(&self, keyword: &str) -> Option<ArgValue<'a>> {
        self.get(keyword)
    }

    pub fn repeated_count(&self) -> u32 {
        self.repeated_count
    }

    /// The repeated arguments, in order.
    pub fn repeated(&self) -> RepeatedArgs<'a> {
        RepeatedArgs {
            kind: self.class.repeated.map(|r| r.kind),
            cursor: Cursor { bytes: self.repeated },
            left: self.repeated_count,
        }
    }
}

pub struct RepeatedArgs<'a> {
    kind: Option<ArgKind>,
    cursor: Cursor<'a>,
    left: u32,
}

impl<'a> Iterator for RepeatedArgs<'a> {
    type Item = Result<ArgValue<'a>, ArgsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let kind = self.kind?;
        Some(read_value(&mut self.cursor, kind))
    }
}
