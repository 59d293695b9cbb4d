//! The text of route-table handlers (`RadixIPLookup.add`, `remove`, `set`, `table`, `lookup`),
//! shared by the kernel and by tests so both read and print routes the same way Click does.
//!
//! A write value holds one route per line (commas also separate routes, as in a configuration),
//! so one handler write can carry thousands of routes. Blank lines are skipped.

use crate::click_value::{self, ValueError};
use crate::lpm::{Prefix, Route};
use crate::wire::ipv4::Address;
use core::fmt;

/// The routes of one write value, one per non-blank line or comma-separated item.
pub fn entries(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c| c == '\n' || c == ',').map(str::trim).filter(|line| !line.is_empty())
}

/// An `add` or `set` entry: `ADDR/LEN [GATEWAY] OUTPUT`, with OUTPUT below `outputs`.
pub fn parse_add(text: &str, outputs: u16) -> Result<(Prefix, Route), ValueError> {
    let max_port = outputs.checked_sub(1).ok_or(ValueError::NotPort)?;
    let parsed = click_value::parse_route(text, max_port)?;
    let prefix = Prefix::new(Address(parsed.prefix.addr), parsed.prefix.len)
        .map_err(|_| ValueError::BadPrefixLength)?;
    Ok((prefix, Route { gateway: parsed.gateway.map(Address), port: parsed.port }))
}

/// A `remove` entry: `ADDR/LEN [GATEWAY] [OUTPUT]`. The optional parts, when given, must agree
/// with the route removed (Click's rule), so a stale remove cannot take out a newer route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoveEntry {
    pub prefix: Prefix,
    pub gateway: Option<Address>,
    pub port: Option<u16>,
}

impl RemoveEntry {
    /// Whether `route` is the one this entry names.
    pub fn matches(&self, route: &Route) -> bool {
        self.port.is_none_or(|port| port == route.port)
            && self.gateway.is_none_or(|gateway| route.gateway == Some(gateway))
    }
}

pub fn parse_remove(text: &str) -> Result<RemoveEntry, ValueError> {
    let mut words = text.split_ascii_whitespace();
    let parsed = click_value::parse_prefix(words.next().ok_or(ValueError::NotRoute)?)?;
    let prefix = Prefix::new(Address(parsed.addr), parsed.len).map_err(|_| ValueError::BadPrefixLength)?;
    let rest: [Option<&str>; 3] = [words.next(), words.next(), words.next()];
    let (gateway, port) = match rest {
        [None, _, _] => (None, None),
        [Some(only), None, _] if only.contains('.') => (Some(click_value::parse_ipv4(only)?), None),
        [Some(only), None, _] => (None, Some(only)),
        [Some(gateway), Some(port), None] => (Some(click_value::parse_ipv4(gateway)?), Some(port)),
        _ => return Err(ValueError::NotRoute),
    };
    let port = match port {
        Some(text) => Some(
            click_value::parse_int_in(text, 0, i64::from(u16::MAX)).map_err(|_| ValueError::NotPort)? as u16,
        ),
        None => None,
    };
    Ok(RemoveEntry { prefix, gateway: gateway.map(Address), port })
}

/// One line of the `table` handler, Click's layout: `ADDR/LEN <tab> GATEWAY or - <tab> OUTPUT`.
pub struct TableLine(pub Prefix, pub Route);

impl fmt::Display for TableLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TableLine(prefix, route) = self;
        match route.gateway {
            Some(gateway) => writeln!(f, "{}\t{}\t{}", prefix, gateway, route.port),
            None => writeln!(f, "{}\t-\t{}", prefix, route.port),
        }
    }
}

/// The answer of `lookup ADDR`, as Click gives it: `OUTPUT`, `OUTPUT GATEWAY`, or `-1` when no
/// route matches.
pub struct LookupAnswer(pub Option<Route>);

impl fmt::Display for LookupAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => write!(f, "-1"),
            Some(Route { gateway: Some(gateway), port }) => write!(f, "{} {}", port, gateway),
            Some(Route { gateway: None, port }) => write!(f, "{}", port),
        }
    }
}
