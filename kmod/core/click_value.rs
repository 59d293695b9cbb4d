//! Parsers for single Click argument values that need no allocation.
//!
//! The coordinator uses them to check configurations, and the kernel uses the same code for text
//! it receives at run time through write handlers (`RadixIPLookup.add`, `Queue.capacity`), so a
//! value accepted on one side is accepted, with the same meaning, on the other. None of them can
//! panic on any input.

/// Why a value was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueError {
    Empty,
    NotInteger,
    OutOfRange { min: i64, max: i64 },
    NotBool,
    NotIpv4,
    BadPrefixLength,
    NonContiguousMask,
    NotEther,
    NotTime,
    NotBandwidth,
    TooLarge,
    BadDeviceName,
    NotProtocol,
    NotRoute,
    NotPort,
    NotArpEntry,
    ArpEntryEther,
    NotIcmpErrorType,
    NotIcmpCode,
    NotProbability,
}

impl ValueError {
    /// A sentence fragment saying what was expected.
    pub fn describe(&self) -> &'static str {
        match self {
            ValueError::Empty => "a value is required",
            ValueError::NotInteger => "expected an integer (decimal, 0x hex or 0b binary)",
            ValueError::OutOfRange { .. } => "integer out of range",
            ValueError::NotBool => "expected a boolean: true/false, yes/no, on/off or 1/0",
            ValueError::NotIpv4 => "expected an IPv4 address like 10.0.0.1",
            ValueError::BadPrefixLength => "prefix length must be 0 to 32",
            ValueError::NonContiguousMask => "netmask is not contiguous",
            ValueError::NotEther => "expected an Ethernet address like 00:1a:2b:3c:4d:5e",
            ValueError::NotTime => "expected a duration like 10ms, 1.5s or 250us",
            ValueError::NotBandwidth => "expected a bandwidth like 10Mbps, 1.5MBps or 125000",
            ValueError::TooLarge => "value too large",
            ValueError::BadDeviceName => {
                "device names are 1 to 15 characters, without '/', ':', whitespace or quotes"
            }
            ValueError::NotProtocol => {
                "expected an IP protocol number 0-255 or one of icmp, igmp, ipip, tcp, udp, gre, esp, ah"
            }
            ValueError::NotRoute => "expected a route: ADDR/LEN [GATEWAY] OUTPUT",
            ValueError::NotPort => "expected an output port number",
            ValueError::NotArpEntry => "expected IP/MASK [IP/MASK...] ETH: IPv4 prefixes or addresses and an Ethernet address",
            ValueError::ArpEntryEther => "an entry needs exactly one Ethernet address",
            ValueError::NotIcmpErrorType => {
                "expected an ICMP error type: unreachable (3), sourcequench (4), redirect (5), timeexceeded (11) or parameterproblem (12)"
            }
            ValueError::NotIcmpCode => "expected an ICMP code 0-255, or the name of one of the ICMP type's codes",
            ValueError::NotProbability => "expected a probability from 0 to 1, like 0.02",
        }
    }
}

/// Parses an integer: optional sign, then decimal, `0x` hex or `0b` binary digits.
pub fn parse_int(text: &str) -> Result<i64, ValueError> {
    let (negative, digits) = match text.as_bytes().first() {
        None => return Err(ValueError::Empty),
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        Some(_) => (false, text),
    };
    let (radix, digits) = if let Some(rest) = digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
        (16, rest)
    } else if let Some(rest) = digits.strip_prefix("0b").or(digits.strip_prefix("0B")) {
        (2, rest)
    } else {
        (10, digits)
    };
    if digits.is_empty() {
        return Err(ValueError::NotInteger);
    }
    let mut magnitude: u64 = 0;
    for byte in digits.bytes() {
        let digit = match (byte as char).to_digit(radix) {
            Some(digit) => u64::from(digit),
            None if byte == b'_' => continue,
            None => return Err(ValueError::NotInteger),
        };
        magnitude = magnitude
            .checked_mul(u64::from(radix))
            .and_then(|m| m.checked_add(digit))
            .ok_or(ValueError::TooLarge)?;
    }
    if negative {
        if magnitude > (i64::MAX as u64) + 1 {
            return Err(ValueError::TooLarge);
        }
        Ok((magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).map_err(|_| ValueError::TooLarge)
    }
}

/// Parses an integer and checks inclusive bounds.
pub fn parse_int_in(text: &str, min: i64, max: i64) -> Result<i64, ValueError> {
    match parse_int(text) {
        Ok(value) if value >= min && value <= max => Ok(value),
        Ok(_) | Err(ValueError::TooLarge) => Err(ValueError::OutOfRange { min, max }),
        Err(other) => Err(other),
    }
}

/// Parses a Click boolean.
pub fn parse_bool(text: &str) -> Result<bool, ValueError> {
    match text {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        "" => Err(ValueError::Empty),
        _ => Err(ValueError::NotBool),
    }
}

/// Parses a dotted-quad IPv4 address into network-order bytes.
pub fn parse_ipv4(text: &str) -> Result<[u8; 4], ValueError> {
    let mut bytes = [0u8; 4];
    let mut parts = text.split('.');
    for slot in bytes.iter_mut() {
        let part = parts.next().ok_or(ValueError::NotIpv4)?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValueError::NotIpv4);
        }
        let mut value: u16 = 0;
        for digit in part.bytes() {
            value = value * 10 + u16::from(digit - b'0');
        }
        *slot = u8::try_from(value).map_err(|_| ValueError::NotIpv4)?;
    }
    if parts.next().is_some() {
        return Err(ValueError::NotIpv4);
    }
    Ok(bytes)
}

/// An IPv4 prefix; `addr` keeps any host bits the user wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Prefix {
    pub addr: [u8; 4],
    pub len: u8,
}

impl Ipv4Prefix {
    /// The netmask as a host-order integer.
    pub fn mask(&self) -> u32 {
        prefix_mask(self.len)
    }
    /// The address with host bits cleared, host order.
    pub fn network(&self) -> u32 {
        u32::from_be_bytes(self.addr) & self.mask()
    }
}

/// Netmask for a prefix length (lengths above 32 count as 32).
pub fn prefix_mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

/// Parses `addr/len`, `addr/netmask` or a bare address (a /32).
pub fn parse_prefix(text: &str) -> Result<Ipv4Prefix, ValueError> {
    let (addr_text, len_text) = match text.split_once('/') {
        Some((addr, len)) => (addr, Some(len)),
        None => (text, None),
    };
    let addr = parse_ipv4(addr_text)?;
    let len = match len_text {
        None => 32,
        Some(len) if len.contains('.') => {
            let mask = u32::from_be_bytes(parse_ipv4(len)?);
            let ones = mask.leading_ones();
            if mask.checked_shl(ones).unwrap_or(0) != 0 {
                return Err(ValueError::NonContiguousMask);
            }
            ones as u8
        }
        Some(len) => match parse_int(len) {
            Ok(value) if (0..=32).contains(&value) => value as u8,
            _ => return Err(ValueError::BadPrefixLength),
        },
    };
    Ok(Ipv4Prefix { addr, len })
}

/// Parses an Ethernet address: six colon-separated groups of one or two hex digits.
pub fn parse_ether(text: &str) -> Result<[u8; 6], ValueError> {
    let mut bytes = [0u8; 6];
    let mut parts = text.split(|c| c == ':' || c == '-');
    for slot in bytes.iter_mut() {
        let part = parts.next().ok_or(ValueError::NotEther)?;
        if part.is_empty() || part.len() > 2 {
            return Err(ValueError::NotEther);
        }
        *slot = u8::from_str_radix(part, 16).map_err(|_| ValueError::NotEther)?;
    }
    if parts.next().is_some() {
        return Err(ValueError::NotEther);
    }
    Ok(bytes)
}

/// Splits `12.5ms` into the decimal number and its unit suffix.
fn split_number(text: &str) -> (&str, &str) {
    let end = text.bytes().position(|b| !(b.is_ascii_digit() || b == b'.')).unwrap_or(text.len());
    (text.get(..end).unwrap_or(""), text.get(end..).unwrap_or(""))
}

/// Multiplies a decimal number given as text by `scale`, exactly, without floating point.
/// Fractions finer than one unit of the result are rounded down.
fn scale_decimal(number: &str, scale: u64) -> Option<u64> {
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (number, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: u64 = 0;
    for digit in whole.bytes() {
        value = value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
    }
    let mut result = value.checked_mul(scale)?;
    let mut place = scale;
    for digit in fraction.bytes() {
        place /= 10;
        if place == 0 {
            break;
        }
        result = result.checked_add(u64::from(digit - b'0').checked_mul(place)?)?;
    }
    Some(result)
}

/// Parses a duration into nanoseconds; a number without unit is in seconds, as in Click.
pub fn parse_time_ns(text: &str) -> Result<u64, ValueError> {
    let (number, unit) = split_number(text);
    let scale: u64 = match unit {
        "" | "s" | "sec" => 1_000_000_000,
        "ms" | "msec" => 1_000_000,
        "us" | "usec" => 1_000,
        "ns" | "nsec" => 1,
        "min" => 60_000_000_000,
        "h" | "hr" => 3_600_000_000_000,
        _ => return Err(ValueError::NotTime),
    };
    scale_decimal(number, scale).ok_or(ValueError::NotTime)
}

/// Parses a bandwidth into bytes per second. `bps` counts bits and `Bps` bytes; a bare number is
/// bytes per second, as in Click's BandwidthShaper.
pub fn parse_bandwidth(text: &str) -> Result<u64, ValueError> {
    let (number, unit) = split_number(text);
    // Click writes `bps` and `b/s` for bits, `Bps` and `B/s` for bytes.
    let (prefix, base) = if let Some(prefix) = unit.strip_suffix("bps").or_else(|| unit.strip_suffix("b/s")) {
        (prefix, 1u64)
    } else if let Some(prefix) = unit.strip_suffix("Bps").or_else(|| unit.strip_suffix("B/s")) {
        (prefix, 8u64)
    } else if unit.is_empty() {
        ("", 8u64)
    } else {
        return Err(ValueError::NotBandwidth);
    };
    let multiplier: u64 = match prefix {
        "" => 1,
        "k" | "K" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        _ => return Err(ValueError::NotBandwidth),
    };
    let bits = scale_decimal(number, multiplier.checked_mul(base).ok_or(ValueError::TooLarge)?)
        .ok_or(ValueError::NotBandwidth)?;
    Ok(bits / 8)
}

/// A probability of 1 in Click's 16-bit fixed point ([`parse_probability`]).
pub const PROBABILITY_ONE: u32 = 1 << 16;

/// Parses a real number from 0 to 1 (`0.02`, `.5`, `1`, `1.0`) into a fraction of
/// [`PROBABILITY_ONE`], rounded to the nearest (halves up), as Click reads a 16-bit fixed-point
/// argument. Fraction digits past the ninth are ignored.
pub fn parse_probability(text: &str) -> Result<u32, ValueError> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits_ok = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits_ok(whole) || !digits_ok(fraction) {
        return Err(ValueError::NotProbability);
    }
    let whole_value = whole.bytes().try_fold(0u64, |v, b| v.checked_mul(10)?.checked_add(u64::from(b - b'0'))).ok_or(ValueError::NotProbability)?;
    // The fraction as numerator / 10^digits; at most 10^9 * 2^16, well inside u64.
    let mut numerator: u64 = 0;
    let mut denominator: u64 = 1;
    for digit in fraction.bytes().take(9) {
        numerator = numerator * 10 + u64::from(digit - b'0');
        denominator *= 10;
    }
    let one = u64::from(PROBABILITY_ONE);
    let fraction_value = (numerator * one + denominator / 2).checked_div(denominator).unwrap_or(0);
    let scaled = whole_value.saturating_mul(one).saturating_add(fraction_value);
    u32::try_from(scaled).ok().filter(|&value| value <= PROBABILITY_ONE).ok_or(ValueError::NotProbability)
}

/// Writes a fixed-point number with `bits` fraction bits (at most 16) as a decimal: the integer
/// part, then the fewest fraction digits that read back as the same fixed-point value, as
/// Click prints its fixed-point reals (1311/65536 is `0.02`, 28160/1024 is `27.5`).
pub fn write_fixed(out: &mut dyn core::fmt::Write, value: u64, bits: u32) -> core::fmt::Result {
    let bits = bits.min(16);
    let one = 1u64 << bits;
    write!(out, "{}", value >> bits)?;
    let fraction = value & (one - 1);
    if fraction == 0 {
        return Ok(());
    }
    // The shortest decimal d / 10^n whose nearest fixed-point value is `fraction`. Five digits
    // always read back exactly (10^5 > 2^16); the products stay below 2^40.
    let mut power: u64 = 1;
    for digits in 1..=6usize {
        power *= 10;
        let decimal = (fraction * power + one / 2) >> bits;
        if decimal < power && (decimal * one + power / 2).checked_div(power) == Some(fraction) {
            return write!(out, ".{:0width$}", decimal, width = digits);
        }
    }
    Ok(())
}

/// Writes a duration in nanoseconds as Click writes an interval: under a second as whole
/// milliseconds (`10ms`), microseconds (`250us`) or nanoseconds (`1500ns`); from a second up as
/// seconds with six decimals (`1.500000s`), or nine when the microseconds are not whole.
pub fn write_interval(out: &mut dyn core::fmt::Write, ns: u64) -> core::fmt::Result {
    let (seconds, rest) = (ns / 1_000_000_000, ns % 1_000_000_000);
    if seconds == 0 {
        if rest % 1_000_000 == 0 {
            write!(out, "{}ms", rest / 1_000_000)
        } else if rest % 1_000 == 0 {
            write!(out, "{}us", rest / 1_000)
        } else {
            write!(out, "{}ns", rest)
        }
    } else if rest % 1_000 == 0 {
        write!(out, "{}.{:06}s", seconds, rest / 1_000)
    } else {
        write!(out, "{}.{:09}s", seconds, rest)
    }
}

/// Longest device name Linux allows (IFNAMSIZ less the NUL).
pub const MAX_DEVICE_NAME: usize = 15;

/// Checks a device name the way Linux's `dev_valid_name` does, plus no quotes.
pub fn check_device_name(text: &str) -> Result<(), ValueError> {
    let ok = !text.is_empty()
        && text.len() <= MAX_DEVICE_NAME
        && text != "."
        && text != ".."
        && text.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'/' | b':' | b'"' | b'\''));
    if ok {
        Ok(())
    } else {
        Err(ValueError::BadDeviceName)
    }
}

/// Parses an IP protocol number or name.
pub fn parse_ip_protocol(text: &str) -> Result<u8, ValueError> {
    let number = match text {
        "icmp" => 1,
        "igmp" => 2,
        "ipip" => 4,
        "tcp" => 6,
        "udp" => 17,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        _ => return parse_int_in(text, 0, 255).map(|v| v as u8).map_err(|_| ValueError::NotProtocol),
    };
    Ok(number)
}

/// The ICMP error types by name (RFC 792, with Click's names): the only types ICMPError sends.
pub const ICMP_ERROR_TYPES: &[(&str, u8)] =
    &[("unreachable", 3), ("sourcequench", 4), ("redirect", 5), ("timeexceeded", 11), ("parameterproblem", 12)];

/// The named codes of ICMP error type `icmp_type` (Click's names; RFC 792, 1122, 1812).
pub fn icmp_codes(icmp_type: u8) -> &'static [(&'static str, u8)] {
    match icmp_type {
        3 => &[
            ("net", 0),
            ("host", 1),
            ("protocol", 2),
            ("port", 3),
            ("needfrag", 4),
            ("srcroutefail", 5),
            ("netunknown", 6),
            ("hostunknown", 7),
            ("isolated", 8),
            ("netprohibited", 9),
            ("hostprohibited", 10),
            ("tosnet", 11),
            ("toshost", 12),
            ("filterprohibited", 13),
            ("hostprecedence", 14),
            ("precedencecutoff", 15),
        ],
        5 => &[("net", 0), ("host", 1), ("tosnet", 2), ("toshost", 3)],
        11 => &[("transit", 0), ("reassembly", 1)],
        12 => &[("erroratptr", 0), ("missingopt", 1), ("length", 2)],
        _ => &[],
    }
}

pub fn is_icmp_error_type(icmp_type: u8) -> bool {
    ICMP_ERROR_TYPES.iter().any(|(_, number)| *number == icmp_type)
}

/// Parses an ICMP error type: one of [`ICMP_ERROR_TYPES`] by name or number.
pub fn parse_icmp_error_type(text: &str) -> Result<u8, ValueError> {
    let number = match ICMP_ERROR_TYPES.iter().find(|(name, _)| *name == text) {
        Some((_, number)) => *number,
        None => parse_int_in(text, 0, 255).map(|v| v as u8).map_err(|_| ValueError::NotIcmpErrorType)?,
    };
    if is_icmp_error_type(number) {
        Ok(number)
    } else {
        Err(ValueError::NotIcmpErrorType)
    }
}

/// Parses an ICMP code of type `icmp_type`: 0-255, or one of that type's names.
pub fn parse_icmp_code(icmp_type: u8, text: &str) -> Result<u8, ValueError> {
    match icmp_codes(icmp_type).iter().find(|(name, _)| *name == text) {
        Some((_, code)) => Ok(*code),
        None => parse_int_in(text, 0, 255).map(|v| v as u8).map_err(|_| ValueError::NotIcmpCode),
    }
}

/// A lookup-table route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub prefix: Ipv4Prefix,
    pub gateway: Option<[u8; 4]>,
    pub port: u16,
}

/// Parses `ADDR/LEN [GATEWAY] OUTPUT`, as `RadixIPLookup` and its write handlers take it.
pub fn parse_route(text: &str, max_port: u16) -> Result<Route, ValueError> {
    let mut words = text.split_ascii_whitespace();
    let prefix = parse_prefix(words.next().ok_or(ValueError::NotRoute)?)?;
    let second = words.next().ok_or(ValueError::NotRoute)?;
    let (gateway, port_text) = match words.next() {
        Some(port) => (Some(parse_ipv4(second)?), port),
        None => (None, second),
    };
    if words.next().is_some() {
        return Err(ValueError::NotRoute);
    }
    let port = parse_int_in(port_text, 0, i64::from(max_port)).map_err(|_| ValueError::NotPort)?;
    Ok(Route { prefix, gateway, port: port as u16 })
}

/// Parses an ARPResponder entry, `IP/MASK [IP/MASK...] ETH` (words in any order; a bare address
/// is a /32): hands each prefix to `prefix` in order and returns the one Ethernet address.
/// Nothing is allocated, so the kernel parses handler text with it too.
pub fn parse_arp_entry(text: &str, prefix: &mut dyn FnMut(Ipv4Prefix) -> Result<(), ValueError>) -> Result<[u8; 6], ValueError> {
    let mut ether = None;
    let mut prefixes = 0usize;
    for word in text.split_ascii_whitespace() {
        if let Ok(parsed) = parse_prefix(word) {
            prefix(parsed)?;
            prefixes += 1;
        } else if let Ok(address) = parse_ether(word) {
            if ether.replace(address).is_some() {
                return Err(ValueError::ArpEntryEther);
            }
        } else {
            return Err(ValueError::NotArpEntry);
        }
    }
    if prefixes == 0 {
        return Err(ValueError::NotArpEntry);
    }
    ether.ok_or(ValueError::ArpEntryEther)
}

/// Whether `text` is a Click keyword: an upper-case letter, then upper-case letters, digits or `_`.
pub fn is_keyword(text: &str) -> bool {
    let mut bytes = text.bytes();
    matches!(bytes.next(), Some(b'A'..=b'Z'))
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
#[path = "../../userspace/vdp-core/unit/click_value.rs"]
mod tests;
