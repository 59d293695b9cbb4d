//! Handlers as typed sets: each class declares its read and its write handlers once, with
//! [`handlers!`], as an enum plus the table the catalog shows. The engine turns a handler's name
//! into the enum in one place ([`HandlerSet::find`]); elements match on the enum, so a handler the
//! catalog lists and the element does not answer, or the reverse, does not compile.

use crate::click_value;
use core::fmt;

/// What a handler's value looks like, for `vdpctl classes` and for tools that generate values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueFormat {
    /// Takes or gives nothing (a write that is an action: `reset`).
    Action,
    /// A decimal integer (reads), or a Click integer (writes: decimal, `0x`, `0b`).
    Integer,
    /// `true` or `false` (writes also take Click's other spellings).
    Boolean,
    /// Bytes as lowercase hex (reads) or as the raw value (writes).
    Bytes,
    /// Free text, one entry a line.
    Lines,
    /// A rate: reads give bytes per second with a unit (`12500Bps`); writes take Click's
    /// bandwidth syntax (`10Mbps`, `1250000Bps`, or a bare number of bytes per second).
    Bandwidth,
}

/// One handler of a class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandlerSpec {
    pub name: &'static str,
    pub format: ValueFormat,
}

/// A class's read handlers or its write handlers, as an enum of its own.
pub trait HandlerSet: Copy + Send + Sync + 'static {
    /// The handlers in declaration order; a variant's index here is its number.
    const SPECS: &'static [HandlerSpec];
    /// The handler numbered `index` in [`HandlerSet::SPECS`].
    fn from_index(index: usize) -> Option<Self>;
    /// The handler called `name`.
    fn find(name: &str) -> Option<Self> {
        Self::from_index(Self::SPECS.iter().position(|spec| spec.name == name)?)
    }
}

/// The handler set of a class side that has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoHandlers {}

impl HandlerSet for NoHandlers {
    const SPECS: &'static [HandlerSpec] = &[];
    fn from_index(_: usize) -> Option<Self> {
        None
    }
}

/// Declares a handler set: `handlers! { pub enum CounterRead { Count = "count": Integer, … } }`
/// makes the enum and its [`HandlerSet`] table from the one list. Exported, so that custom
/// element crates (built into a tenant's container engine) declare their handlers the same way.
#[macro_export]
macro_rules! handlers {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident = $text:literal : $format:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name { $($variant),+ }

        impl $crate::element::handler::HandlerSet for $name {
            const SPECS: &'static [$crate::element::handler::HandlerSpec] = &[$(
                $crate::element::handler::HandlerSpec {
                    name: $text,
                    format: $crate::element::handler::ValueFormat::$format,
                }
            ),+];
            fn from_index(index: usize) -> Option<Self> {
                const ALL: &[$name] = &[$($name::$variant),+];
                ALL.get(index).copied()
            }
        }
    };
}
pub use crate::handlers;

/// The read handlers of a table that answers lookups: `table`, and `lookup ADDR`, whose IPv4
/// address is a parameter after the name (as in Click, a read with a parameter). The framework
/// passes a read nothing but the handler, so this set is written out by hand rather than with
/// [`handlers!`]: finding `lookup ADDR` parses the address into the variant. The IP lookup tables
/// and ARPResponder share it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableLookup {
    Table,
    /// The address, or `None` when the parameter is missing or is not an address.
    Lookup(Option<[u8; 4]>),
}

impl HandlerSet for TableLookup {
    const SPECS: &'static [HandlerSpec] = &[
        HandlerSpec { name: "table", format: ValueFormat::Lines },
        HandlerSpec { name: "lookup", format: ValueFormat::Lines },
    ];

    fn from_index(index: usize) -> Option<Self> {
        match index {
            0 => Some(TableLookup::Table),
            1 => Some(TableLookup::Lookup(None)),
            _ => None,
        }
    }

    fn find(name: &str) -> Option<Self> {
        // Everything after `lookup` is its parameter.
        if let Some(address) = name.strip_prefix("lookup") {
            return Some(TableLookup::Lookup(click_value::parse_ipv4(address.trim()).ok()));
        }
        Self::from_index(Self::SPECS.iter().position(|spec| spec.name == name)?)
    }
}

/// Why a handler call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandlerError {
    NoSuchElement,
    NoSuchHandler,
    /// The value does not parse; the text says what was expected.
    BadValue(&'static str),
    /// The handler refused for a reason of its own (a duplicate route, a missing one, …).
    Refused(&'static str),
    /// An allocation failed: the tenant's memory cgroup is at its limit, or the system is out
    /// of memory. The element is as it was before the write.
    NoMemory,
    /// A write on the tenant's behalf to an element the coordinator added for the root
    /// context (a bandwidth shaper, a split queue): the tenant may read it, not write it.
    RootOwned,
}

impl From<super::platform::NoMemory> for HandlerError {
    fn from(_: super::platform::NoMemory) -> Self {
        HandlerError::NoMemory
    }
}

/// Longest handler reply: in the kernel a reply must fit one netlink attribute, and the
/// user-level engine keeps the same bound so that both refuse the same reads.
pub const MAX_HANDLER_TEXT: usize = 60 * 1024;

/// What a read handler reports when its reply does not fit (the kernel's replies must fit one
/// netlink attribute).
pub const REPLY_TOO_LONG: HandlerError = HandlerError::Refused("reply too long");

/// Maps a formatting failure (the reply buffer is full) to [`REPLY_TOO_LONG`].
pub fn reply(result: fmt::Result) -> Result<(), HandlerError> {
    result.map_err(|_| REPLY_TOO_LONG)
}

/// Parses a handler value as an integer within bounds, Click style (decimal, 0x, 0b).
pub fn parse_int_in(value: &str, min: i64, max: i64) -> Result<i64, HandlerError> {
    click_value::parse_int_in(value.trim(), min, max).map_err(|_| HandlerError::BadValue("expected an integer in range"))
}

pub fn parse_bool(value: &str) -> Result<bool, HandlerError> {
    click_value::parse_bool(value.trim()).map_err(|_| HandlerError::BadValue("expected true or false"))
}

/// Writes `bytes` as lowercase hex.
pub fn write_hex(out: &mut dyn fmt::Write, bytes: &[u8]) -> Result<(), HandlerError> {
    reply(bytes.iter().try_for_each(|b| write!(out, "{:02x}", b)))
}
