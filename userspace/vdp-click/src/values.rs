//! Typed argument values, and the compilers from Classifier patterns and IPClassifier
//! expressions to the portable packet-match programs the kernel runs.

use serde::Serialize;
use vdp_core::catalog::ArgKind;
use vdp_core::click_value::{self as cv, Ipv4Prefix, Route, ValueError};
use vdp_core::packet_program::{Base, Compare, Insn, Test};

/// A parsed argument. Element references hold names here; the checker resolves them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ArgValue {
    Int(i64),
    Bool(bool),
    Ipv4(#[serde(serialize_with = "ser_ipv4")] [u8; 4]),
    Prefix(#[serde(serialize_with = "ser_prefix")] Ipv4Prefix),
    Ether(#[serde(serialize_with = "ser_ether")] [u8; 6]),
    Program(#[serde(skip)] Vec<Insn>),
    /// Bytes per second, or nanoseconds, as the schema says.
    Quantity(u64),
    Bytes(#[serde(serialize_with = "ser_bytes")] Vec<u8>),
    Name(String),
    Route(#[serde(serialize_with = "ser_route")] Route),
    /// `ELEMENT NUMBER`: a thread or a ticket share in 1/1024ths.
    ElementNumber(String, u32),
    Prefixes(#[serde(serialize_with = "ser_prefixes")] Vec<Ipv4Prefix>),
    Addresses(#[serde(serialize_with = "ser_addrs")] Vec<[u8; 4]>),
    /// An ARPResponder entry: its prefixes and the Ethernet address they answer with.
    ArpEntry(#[serde(serialize_with = "ser_prefixes")] Vec<Ipv4Prefix>, #[serde(serialize_with = "ser_ether")] [u8; 6]),
    /// A probability, as a fraction of 65536.
    Probability(#[serde(serialize_with = "ser_probability")] u32),
    /// Names of other elements (a Storage list); the checker resolves them.
    Names(Vec<String>),
}

fn ipv4_text(a: &[u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

fn prefix_text(p: &Ipv4Prefix) -> String {
    format!("{}/{}", ipv4_text(&p.addr), p.len)
}

fn ser_ipv4<S: serde::Serializer>(a: &[u8; 4], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&ipv4_text(a))
}
fn ser_prefix<S: serde::Serializer>(p: &Ipv4Prefix, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&prefix_text(p))
}
fn ser_ether<S: serde::Serializer>(e: &[u8; 6], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&e.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"))
}
#[allow(clippy::ptr_arg)]
fn ser_bytes<S: serde::Serializer>(b: &Vec<u8>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::args::quote(b))
}
fn ser_route<S: serde::Serializer>(r: &Route, s: S) -> Result<S::Ok, S::Error> {
    let gateway = r.gateway.map(|g| format!(" {}", ipv4_text(&g))).unwrap_or_default();
    s.serialize_str(&format!("{}{gateway} {}", prefix_text(&r.prefix), r.port))
}
#[allow(clippy::ptr_arg)]
fn ser_prefixes<S: serde::Serializer>(p: &Vec<Ipv4Prefix>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(p.iter().map(prefix_text))
}
fn ser_probability<S: serde::Serializer>(p: &u32, s: S) -> Result<S::Ok, S::Error> {
    let mut text = String::new();
    cv::write_fixed(&mut text, u64::from(*p), 16).map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}
#[allow(clippy::ptr_arg)]
fn ser_addrs<S: serde::Serializer>(a: &Vec<[u8; 4]>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(a.iter().map(ipv4_text))
}

fn value_error(error: ValueError) -> String {
    match error {
        ValueError::OutOfRange { min, max } => format!("must be between {min} and {max}"),
        other => other.describe().to_string(),
    }
}

/// The largest output port a route may name; the checker compares with the real output count.
pub const MAX_ROUTE_PORT: u16 = vdp_core::catalog::MAX_PORTS - 1;

/// Parses one argument according to its schema type.
pub fn parse_value(kind: ArgKind, text: &str) -> Result<ArgValue, String> {
    let plain = || -> Result<String, String> {
        let bytes = crate::args::unquote(text)?;
        String::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_string())
    };
    match kind {
        ArgKind::Int { min, max } => cv::parse_int_in(text, min, max).map(ArgValue::Int).map_err(value_error),
        ArgKind::Bool => cv::parse_bool(text).map(ArgValue::Bool).map_err(value_error),
        ArgKind::Ipv4Addr => cv::parse_ipv4(text).map(ArgValue::Ipv4).map_err(value_error),
        ArgKind::Ipv4Prefix => cv::parse_prefix(text).map(ArgValue::Prefix).map_err(value_error),
        ArgKind::EtherAddr => cv::parse_ether(text).map(ArgValue::Ether).map_err(value_error),
        ArgKind::ClassifierPattern => compile_classifier_pattern(text).map(ArgValue::Program),
        ArgKind::IpClassifierExpr => compile_ip_expression(text).map(ArgValue::Program),
        ArgKind::Bandwidth => cv::parse_bandwidth(text).map(ArgValue::Quantity).map_err(value_error),
        ArgKind::Time => cv::parse_time_ns(text).map(ArgValue::Quantity).map_err(value_error),
        ArgKind::String => crate::args::unquote(text).map(ArgValue::Bytes),
        ArgKind::DeviceName => {
            let name = plain()?;
            cv::check_device_name(&name).map_err(value_error)?;
            Ok(ArgValue::Name(name))
        }
        ArgKind::ElementRef => {
            let name = plain()?;
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err("expected an element name".into());
            }
            Ok(ArgValue::Name(name))
        }
        ArgKind::Route => cv::parse_route(text, MAX_ROUTE_PORT).map(ArgValue::Route).map_err(value_error),
        ArgKind::ThreadAssignment => {
            let (element, number) = element_and_number(text, "THREAD")?;
            let thread = cv::parse_int_in(number, 0, 255).map_err(|_| "thread must be 0 to 255".to_string())?;
            Ok(ArgValue::ElementNumber(element.to_string(), thread as u32))
        }
        ArgKind::TicketShare => {
            let (element, number) = element_and_number(text, "SHARE")?;
            // Tickets are kept in 1/1024ths of the default so a share needs no floating point.
            let tickets = cv::parse_time_ns(number)
                .ok()
                .map(|ns| ns / 1_000_000_000 * 1024 + (ns % 1_000_000_000) * 1024 / 1_000_000_000)
                .filter(|t| (1..=64 * 1024).contains(t))
                .ok_or("share must be a number from 0.001 to 64")?;
            Ok(ArgValue::ElementNumber(element.to_string(), tickets as u32))
        }
        ArgKind::PrefixList => text
            .split_whitespace()
            .map(|word| cv::parse_prefix(word).map_err(|e| format!("'{word}': {}", value_error(e))))
            .collect::<Result<Vec<_>, _>>()
            .map(ArgValue::Prefixes),
        ArgKind::AddrList => text
            .split_whitespace()
            .map(|word| cv::parse_ipv4(word).map_err(|e| format!("'{word}': {}", value_error(e))))
            .collect::<Result<Vec<_>, _>>()
            .map(ArgValue::Addresses),
        ArgKind::IpProtocol => cv::parse_ip_protocol(text).map(|p| ArgValue::Int(i64::from(p))).map_err(value_error),
        ArgKind::ArpEntry => {
            let mut prefixes = Vec::new();
            let ether = cv::parse_arp_entry(text, &mut |prefix| {
                prefixes.push(prefix);
                Ok(())
            })
            .map_err(value_error)?;
            if prefixes.len() > vdp_core::compiled_graph::MAX_LIST_ENTRIES {
                return Err(format!("an entry has at most {} prefixes", vdp_core::compiled_graph::MAX_LIST_ENTRIES));
            }
            Ok(ArgValue::ArpEntry(prefixes, ether))
        }
        ArgKind::NamedAddresses => crate::address_info::parse_entry(text).map(|(name, _)| ArgValue::Name(name)),
        ArgKind::IcmpErrorType => cv::parse_icmp_error_type(text).map(|t| ArgValue::Int(i64::from(t))).map_err(value_error),
        // A number stands alone; a name means what the element's ICMP type makes it mean, so the
        // checker resolves it once every argument is parsed (`check.rs`).
        ArgKind::IcmpCode => match cv::parse_int_in(text, 0, 255) {
            Ok(code) => Ok(ArgValue::Int(code)),
            Err(_) if cv::ICMP_ERROR_TYPES.iter().any(|(_, t)| cv::icmp_codes(*t).iter().any(|(name, _)| *name == text)) => {
                Ok(ArgValue::Name(text.to_string()))
            }
            Err(_) => Err(value_error(ValueError::NotIcmpCode)),
        },
        ArgKind::Probability => cv::parse_probability(text).map(ArgValue::Probability).map_err(value_error),
        ArgKind::StorageList => {
            let names: Vec<String> = plain()?.split_whitespace().map(str::to_string).collect();
            if names.is_empty() {
                return Err("expected the names of one or more Queues".into());
            }
            Ok(ArgValue::Names(names))
        }
    }
}

fn element_and_number<'t>(text: &'t str, what: &str) -> Result<(&'t str, &'t str), String> {
    let mut words = text.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(element), Some(number), None) => Ok((element, number)),
        _ => Err(format!("expected 'ELEMENT {what}'")),
    }
}

/// A boolean program under construction, in postfix order.
#[derive(Clone)]
struct Expr(Vec<Insn>);

impl Expr {
    fn truth(value: bool) -> Expr {
        Expr(vec![if value { Insn::True } else { Insn::False }])
    }
    fn test(base: Base, offset: u16, width: u8, mask: u32, compare: Compare, value: u32) -> Expr {
        Expr(vec![Insn::Test(Test { base, offset, width, mask, compare, value })])
    }
    fn field(base: Base, offset: u16, width: u8, compare: Compare, value: u32) -> Expr {
        let mask = if width == 4 { u32::MAX } else { (1u32 << (8 * u32::from(width))) - 1 };
        Expr::test(base, offset, width, mask, compare, value)
    }
    fn and(mut self, other: Expr) -> Expr {
        self.0.extend(other.0);
        self.0.push(Insn::And);
        self
    }
    fn or(mut self, other: Expr) -> Expr {
        self.0.extend(other.0);
        self.0.push(Insn::Or);
        self
    }
    fn not(mut self) -> Expr {
        self.0.push(Insn::Not);
        self
    }
}

/// Compiles a Classifier pattern: `-` matches everything; otherwise whitespace-separated terms
/// `[!]OFFSET/HEX[%MASK]`, where `?` in HEX matches any nibble, all of which must hold.
pub fn compile_classifier_pattern(text: &str) -> Result<Vec<Insn>, String> {
    let text = text.trim();
    if text == "-" {
        return Ok(vec![Insn::True]);
    }
    if text.is_empty() {
        return Err("empty pattern; write '-' to match every packet".into());
    }
    let mut result: Option<Expr> = None;
    for term in text.split_whitespace() {
        let (negated, term) = match term.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, term),
        };
        let (offset_text, rest) = term.split_once('/').ok_or_else(|| format!("term '{term}' must be OFFSET/VALUE"))?;
        let offset = cv::parse_int_in(offset_text, 0, 65535).map_err(|_| format!("offset '{offset_text}' must be 0 to 65535"))?;
        let (value_text, mask_text) = match rest.split_once('%') {
            Some((value, mask)) => (value, Some(mask)),
            None => (rest, None),
        };
        let (value, mut mask) = hex_nibbles(value_text)?;
        if let Some(mask_text) = mask_text {
            let (explicit, wild) = hex_nibbles(mask_text)?;
            if explicit.len() != value.len() || wild.iter().any(|m| *m != 0xff) {
                return Err(format!("mask '{mask_text}' must be as long as the value and use no '?'"));
            }
            for (m, e) in mask.iter_mut().zip(explicit) {
                *m &= e;
            }
        }
        if value.is_empty() {
            return Err(format!("term '{term}' has no value"));
        }
        let end = offset as usize + value.len();
        if end > 65536 {
            return Err(format!("term '{term}' reaches past offset 65535"));
        }
        // Tests are 1, 2 or 4 bytes wide: a 3-byte tail is a 2-byte and a 1-byte test, so that
        // no test reads a byte past the term's own (a packet that ends with the term matches).
        let mut term_expr: Option<Expr> = None;
        let mut at = 0usize;
        while at < value.len() {
            let width = match value.len() - at {
                1 => 1,
                2 | 3 => 2,
                _ => 4,
            };
            let number = |bytes: &[u8]| bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
            let mask_value = number(&mask[at..at + width]);
            let test = Expr::test(
                Base::Frame,
                (offset as usize + at) as u16,
                width as u8,
                mask_value,
                Compare::Eq,
                number(&value[at..at + width]) & mask_value,
            );
            term_expr = Some(match term_expr {
                None => test,
                Some(previous) => previous.and(test),
            });
            at += width;
        }
        let mut term_expr = term_expr.expect("a non-empty value gives at least one test");
        if negated {
            term_expr = term_expr.not();
        }
        result = Some(match result {
            None => term_expr,
            Some(previous) => previous.and(term_expr),
        });
    }
    Ok(result.expect("a non-empty pattern has at least one term").0)
}

/// Hex digits to bytes and per-byte masks; `?` is a wildcard nibble.
fn hex_nibbles(text: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    if text.len() % 2 != 0 {
        return Err(format!("'{text}' has an odd number of hex digits"));
    }
    let mut values = Vec::new();
    let mut masks = Vec::new();
    for pair in text.as_bytes().chunks(2) {
        let mut value = 0u8;
        let mut mask = 0u8;
        for nibble in pair {
            value <<= 4;
            mask <<= 4;
            if *nibble == b'?' {
                continue;
            }
            let digit = (*nibble as char).to_digit(16).ok_or_else(|| format!("'{text}' is not hexadecimal"))?;
            value |= digit as u8;
            mask |= 0xf;
        }
        values.push(value);
        masks.push(mask);
    }
    Ok((values, masks))
}

/// Compiles an IPClassifier expression. Primitives: `true`/`-`/`any`/`all`, `false`/`none`,
/// protocol names, `ip proto N`, `[src|dst] host ADDR`, `[src|dst] net PREFIX`, bare addresses
/// and prefixes, `[src|dst] [tcp|udp] port [OP] N`, `icmp type N`, `ip frag`/`ip unfrag`,
/// `ip tos N`, `ip ttl [OP] N`, `ip[OFFSET[:LEN]] [& MASK] OP VALUE`, and the same with `transp[...]`.
/// Join with `and`/`&&` (or nothing), `or`/`||`, `not`/`!`, and parentheses.
pub fn compile_ip_expression(text: &str) -> Result<Vec<Insn>, String> {
    let tokens = expression_tokens(text)?;
    if tokens.is_empty() {
        return Err("empty expression; write '-' to match every packet".into());
    }
    let mut parser = ExprParser { tokens, at: 0, depth: 0 };
    let expr = parser.or()?;
    if let Some(extra) = parser.tokens.get(parser.at) {
        return Err(format!("unexpected '{extra}' in expression"));
    }
    Ok(expr.0)
}

fn expression_tokens(text: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let two: String = chars[at..(at + 2).min(chars.len())].iter().collect();
        if c.is_whitespace() {
            at += 1;
        } else if ["&&", "||", "!=", "<=", ">=", "=="].contains(&two.as_str()) {
            tokens.push(two);
            at += 2;
        } else if "()[]!&<>=:|".contains(c) {
            tokens.push(c.to_string());
            at += 1;
        } else if c.is_ascii_alphanumeric() || c == '.' || c == '/' || c == '_' || c == '-' {
            let start = at;
            while at < chars.len() && (chars[at].is_ascii_alphanumeric() || matches!(chars[at], '.' | '/' | '_' | '-')) {
                at += 1;
            }
            tokens.push(chars[start..at].iter().collect());
        } else {
            return Err(format!("unexpected character {c:?} in expression"));
        }
    }
    Ok(tokens)
}

/// Deepest nesting of parentheses and `not`s an expression may have.
const MAX_EXPRESSION_DEPTH: usize = 32;

struct ExprParser {
    tokens: Vec<String>,
    at: usize,
    depth: usize,
}

const IP_PROTO: u16 = 9;
const IP_SRC: u16 = 12;
const IP_DST: u16 = 16;

fn proto_is(number: u32) -> Expr {
    Expr::field(Base::Network, IP_PROTO, 1, Compare::Eq, number)
}

fn unfragmented() -> Expr {
    Expr::test(Base::Network, 6, 2, 0x1fff, Compare::Eq, 0)
}

impl ExprParser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> Result<String, String> {
        let token = self.tokens.get(self.at).cloned().ok_or("expression ends too early")?;
        self.at += 1;
        Ok(token)
    }

    fn expect(&mut self, wanted: &str) -> Result<(), String> {
        let token = self.next()?;
        if token == wanted {
            Ok(())
        } else {
            Err(format!("expected '{wanted}', found '{token}'"))
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some("or") | Some("||")) {
            self.at += 1;
            left = left.or(self.and()?);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        loop {
            match self.peek() {
                Some("and") | Some("&&") => {
                    self.at += 1;
                }
                None | Some("or") | Some("||") | Some(")") => return Ok(left),
                Some(_) => {}
            }
            left = left.and(self.unary()?);
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_EXPRESSION_DEPTH {
            return Err("expression nests too deeply".into());
        }
        let result = match self.peek() {
            Some("not") | Some("!") => {
                self.at += 1;
                self.unary().map(Expr::not)
            }
            Some("(") => {
                self.at += 1;
                let inner = self.or()?;
                self.expect(")")?;
                Ok(inner)
            }
            _ => self.primitive(),
        };
        self.depth -= 1;
        result
    }

    fn comparison(&mut self) -> Compare {
        let compare = match self.peek() {
            Some("=") | Some("==") => Compare::Eq,
            Some("!=") => Compare::Ne,
            Some("<") => Compare::Lt,
            Some(">") => Compare::Gt,
            Some("<=") => Compare::Le,
            Some(">=") => Compare::Ge,
            _ => return Compare::Eq,
        };
        self.at += 1;
        compare
    }

    fn number(&mut self, max: u32, what: &str) -> Result<u32, String> {
        let token = self.next()?;
        match cv::parse_int_in(&token, 0, i64::from(max)) {
            Ok(value) => Ok(value as u32),
            Err(_) => Err(format!("{what} must be a number from 0 to {max}, not '{token}'")),
        }
    }

    fn primitive(&mut self) -> Result<Expr, String> {
        let word = self.next()?;
        let direction = match word.as_str() {
            "src" | "dst" => Some(word.clone()),
            _ => None,
        };
        let word = if direction.is_some() { self.next()? } else { word };
        let either = |src: Expr, dst: Expr| match direction.as_deref() {
            Some("src") => src,
            Some("dst") => dst,
            _ => src.or(dst),
        };
        match word.as_str() {
            "true" | "-" | "any" | "all" if direction.is_none() => Ok(Expr::truth(true)),
            "false" | "none" if direction.is_none() => Ok(Expr::truth(false)),
            "host" => {
                let token = self.next()?;
                let addr = cv::parse_ipv4(&token).map_err(|_| format!("'{token}' is not an IPv4 address"))?;
                let value = u32::from_be_bytes(addr);
                Ok(either(
                    Expr::field(Base::Network, IP_SRC, 4, Compare::Eq, value),
                    Expr::field(Base::Network, IP_DST, 4, Compare::Eq, value),
                ))
            }
            "net" => {
                let token = self.next()?;
                let prefix = cv::parse_prefix(&token).map_err(|e| format!("'{token}': {}", value_error(e)))?;
                Ok(either(self.net_test(IP_SRC, prefix), self.net_test(IP_DST, prefix)))
            }
            "port" | "tcp" | "udp" if word == "port" || self.peek() == Some("port") => {
                let protocol = match word.as_str() {
                    "tcp" => Some(6),
                    "udp" => Some(17),
                    _ => None,
                };
                if word != "port" {
                    self.expect("port")?;
                }
                let compare = self.comparison();
                let port = self.number(65535, "a port")?;
                let protocol_test = match protocol {
                    Some(number) => proto_is(number),
                    None => proto_is(6).or(proto_is(17)),
                };
                let ports = either(
                    Expr::field(Base::Transport, 0, 2, compare, port),
                    Expr::field(Base::Transport, 2, 2, compare, port),
                );
                Ok(protocol_test.and(unfragmented()).and(ports))
            }
            _ if direction.is_some() => {
                if let Ok(prefix) = cv::parse_prefix(&word) {
                    Ok(either(self.net_test(IP_SRC, prefix), self.net_test(IP_DST, prefix)))
                } else {
                    Err(format!("expected 'host', 'net', 'port' or an address after '{}', found '{word}'", direction.unwrap_or_default()))
                }
            }
            "icmp" if self.peek() == Some("type") => {
                self.at += 1;
                let compare = self.comparison();
                let kind = self.number(255, "an ICMP type")?;
                Ok(proto_is(1).and(unfragmented()).and(Expr::field(Base::Transport, 0, 1, compare, kind)))
            }
            "ip" => self.ip_primitive(),
            "transp" => {
                let (offset, width, mask) = self.field_reference()?;
                let compare = self.comparison();
                let value = self.number(mask, "the compared value")?;
                Ok(unfragmented().and(Expr::test(Base::Transport, offset, width, mask, compare, value)))
            }
            "proto" => {
                let token = self.next()?;
                let number = cv::parse_ip_protocol(&token).map_err(value_error)?;
                Ok(proto_is(u32::from(number)))
            }
            other => {
                if let Ok(number) = cv::parse_ip_protocol(other) {
                    if !other.starts_with(|c: char| c.is_ascii_digit()) {
                        return Ok(proto_is(u32::from(number)));
                    }
                }
                if let Ok(prefix) = cv::parse_prefix(other) {
                    return Ok(either(self.net_test(IP_SRC, prefix), self.net_test(IP_DST, prefix)));
                }
                Err(format!("unknown IPClassifier primitive '{other}'"))
            }
        }
    }

    fn net_test(&self, offset: u16, prefix: Ipv4Prefix) -> Expr {
        if prefix.len == 0 {
            return Expr::truth(true);
        }
        Expr::test(Base::Network, offset, 4, prefix.mask(), Compare::Eq, prefix.network())
    }

    /// `[OFFSET]` or `[OFFSET:LEN]`, then an optional `& MASK`.
    fn field_reference(&mut self) -> Result<(u16, u8, u32), String> {
        self.expect("[")?;
        let offset = self.number(65535, "an offset")? as u16;
        let width = if self.peek() == Some(":") {
            self.at += 1;
            match self.number(4, "a field length")? {
                width @ (1 | 2 | 4) => width as u8,
                other => return Err(format!("field length must be 1, 2 or 4, not {other}")),
            }
        } else {
            1
        };
        self.expect("]")?;
        let full = if width == 4 { u32::MAX } else { (1u32 << (8 * u32::from(width))) - 1 };
        let mask = if self.peek() == Some("&") {
            self.at += 1;
            self.number(full, "the mask")?
        } else {
            full
        };
        Ok((offset, width, mask))
    }

    fn ip_primitive(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some("[") => {
                let (offset, width, mask) = self.field_reference()?;
                let compare = self.comparison();
                let value = self.number(mask, "the compared value")?;
                if value & !mask != 0 {
                    return Err(format!("value {value} has bits outside the mask {mask:#x}"));
                }
                Ok(Expr::test(Base::Network, offset, width, mask, compare, value))
            }
            Some("proto") => {
                self.at += 1;
                let token = self.next()?;
                let number = cv::parse_ip_protocol(&token).map_err(value_error)?;
                Ok(proto_is(u32::from(number)))
            }
            Some("frag") => {
                self.at += 1;
                Ok(Expr::test(Base::Network, 6, 2, 0x3fff, Compare::Ne, 0))
            }
            Some("unfrag") => {
                self.at += 1;
                Ok(Expr::test(Base::Network, 6, 2, 0x3fff, Compare::Eq, 0))
            }
            Some("tos") => {
                self.at += 1;
                let compare = self.comparison();
                let tos = self.number(255, "the TOS")?;
                Ok(Expr::field(Base::Network, 1, 1, compare, tos))
            }
            Some("ttl") => {
                self.at += 1;
                let compare = self.comparison();
                let ttl = self.number(255, "the TTL")?;
                Ok(Expr::field(Base::Network, 8, 1, compare, ttl))
            }
            // A bare `ip` matches IPv4 packets; whatever follows is the next primitive.
            _ => Ok(Expr::test(Base::Network, 0, 1, 0xf0, Compare::Eq, 0x40)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vdp_core::packet_program::{validate, Headers};

    fn encode(insns: &[Insn]) -> Vec<u8> {
        insns.iter().flat_map(|i| i.encode()).collect()
    }

    fn udp_packet(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
        let mut packet = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0];
        packet.extend(src);
        packet.extend(dst);
        packet.extend(sport.to_be_bytes());
        packet.extend(dport.to_be_bytes());
        packet.extend([0, 8, 0, 0]);
        packet
    }

    fn ip_matches(expr: &str, packet: &[u8]) -> bool {
        let program = encode(&compile_ip_expression(expr).unwrap());
        validate(&program).unwrap().matches(packet, Headers { network: 0, transport: Some(20) })
    }

    #[test]
    fn ip_expressions() {
        let packet = udp_packet([10, 0, 0, 1], [192, 168, 1, 9], 5000, 53);
        assert!(ip_matches("udp", &packet));
        assert!(!ip_matches("tcp", &packet));
        assert!(ip_matches("src host 10.0.0.1 and dst port 53", &packet));
        assert!(ip_matches("udp port 53", &packet));
        assert!(!ip_matches("tcp port 53", &packet));
        assert!(ip_matches("dst net 192.168.0.0/16", &packet));
        assert!(!ip_matches("src net 192.168.0.0/16", &packet));
        assert!(ip_matches("not src net 192.168.0.0/16 && (tcp || udp)", &packet));
        assert!(ip_matches("ip[9] = 17", &packet));
        assert!(ip_matches("ip[12:4] & 0xff000000 = 0x0a000000", &packet));
        assert!(ip_matches("src port > 1023", &packet));
        assert!(ip_matches("10.0.0.1 udp", &packet));
        assert!(ip_matches("ip proto udp", &packet));
        assert!(ip_matches("ip unfrag", &packet));
        assert!(ip_matches("ip ttl >= 64", &packet));
        assert!(ip_matches("-", &packet));
        for bad in ["", "tcp and", "host", "host 1.2.3", "ip[1:3] = 0", "(udp", "port 70000", "frobnicate", "src tcp", "ip[0] = 256"] {
            assert!(compile_ip_expression(bad).is_err(), "{bad:?} should be rejected");
        }
        let deep = format!("{}udp{}", "(".repeat(40), ")".repeat(40));
        assert!(compile_ip_expression(&deep).is_err());
    }

    #[test]
    fn classifier_patterns() {
        let frame = [0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, 0x45];
        let run = |pattern: &str| {
            let program = encode(&compile_classifier_pattern(pattern).unwrap());
            validate(&program).unwrap().matches(&frame, Headers { network: 14, transport: None })
        };
        assert!(run("12/0800"));
        assert!(run("12/0800 14/45"));
        assert!(!run("12/0806"));
        assert!(run("!12/0806"));
        assert!(run("12/08??"));
        assert!(run("0/000102030405060708"));
        assert!(run("12/0900%f0ff"));
        assert!(run("-"));
        assert!(run("0/000102"));
        assert!(!run("14/4500"), "bytes past the end never match");
        // A term that ends with the packet matches, whatever its length: a 3-byte value (or
        // tail) reads no byte past its own.
        assert!(run("12/080045"), "a 3-byte term at the end of the frame");
        assert!(run("8/08090a0b080045"), "a 7-byte term (4 + 2 + 1 bytes) at the end of the frame");
        assert!(run("13/0045"));
        assert!(!run("13/004500"), "one byte past the end");
        for bad in ["", "12", "12/080", "x/08", "12/zz", "12/0800%ff", "70000/00"] {
            assert!(compile_classifier_pattern(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn typed_values() {
        assert_eq!(parse_value(ArgKind::Int { min: 0, max: 10 }, "0x0a"), Ok(ArgValue::Int(10)));
        assert_eq!(parse_value(ArgKind::Int { min: 0, max: 10 }, "11"), Err("must be between 0 and 10".into()));
        assert_eq!(parse_value(ArgKind::DeviceName, "\"eth1\""), Ok(ArgValue::Name("eth1".into())));
        assert_eq!(parse_value(ArgKind::TicketShare, "u 0.5"), Ok(ArgValue::ElementNumber("u".into(), 512)));
        assert_eq!(parse_value(ArgKind::ThreadAssignment, "u 1"), Ok(ArgValue::ElementNumber("u".into(), 1)));
        assert!(parse_value(ArgKind::ThreadAssignment, "u").is_err());
        assert!(parse_value(ArgKind::PrefixList, "10.0.0.1/24 1.2.3.4/40").is_err());
        assert_eq!(parse_value(ArgKind::IpProtocol, "gre"), Ok(ArgValue::Int(47)));
    }
}

#[cfg(test)]
mod catalog_tests {
    use super::parse_value;
    use vdp_core::catalog;

    #[test]
    fn every_catalog_default_parses() {
        for class in catalog::all_classes() {
            for spec in class.args {
                if let Some(default) = spec.default {
                    assert!(parse_value(spec.kind, default).is_ok(), "{}.{} default {default:?}", class.name, spec.keyword);
                }
            }
        }
    }
}
