//! The element catalog: the single source of truth for every element class vdp supports.
//!
//! The coordinator checks tenant configurations against this table and the kernel module
//! re-validates compiled graphs against the very same table, so a class can never mean one thing
//! in userspace and another in the kernel. A class's id comes from its registry line, and ids
//! increase along [`CLASSES`]; ids are part of the compiled-graph format, so classes are only
//! ever appended, never renumbered or removed.
//!
//! Each class's description lives in its own file of the element library (`library/`), beside
//! its code; this file holds the types they are written in and the lookups.
//!
//! Port processing codes follow Click: `h` push, `l` pull, `a` agnostic; inputs and outputs are
//! separated by `/`, and the last letter of a side repeats for any further ports.

pub use crate::element::handler::{HandlerSet, HandlerSpec};

/// How a port moves packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Processing {
    /// The upstream element calls the downstream one.
    Push,
    /// The downstream element asks the upstream one for a packet.
    Pull,
    /// Takes whichever mode its neighbours impose; push if nothing does.
    Agnostic,
}

/// Marks an open upper bound in a [`PortRange`].
pub const UNBOUNDED: u16 = u16::MAX;

/// The most ports any element may have on one side; keeps port numbers small and tables bounded.
pub const MAX_PORTS: u16 = 1024;

/// Inclusive bounds on the number of ports of one side of an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub min: u16,
    pub max: u16,
}

impl PortRange {
    pub const fn exactly(n: u16) -> PortRange {
        PortRange { min: n, max: n }
    }
    pub const fn at_least(n: u16) -> PortRange {
        PortRange { min: n, max: UNBOUNDED }
    }
    pub const fn between(min: u16, max: u16) -> PortRange {
        PortRange { min, max }
    }
    pub fn contains(&self, n: u16) -> bool {
        n >= self.min && (self.max == UNBOUNDED || n <= self.max)
    }
}

/// What decides the number of output ports beyond the static range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputRule {
    /// The connections decide, within the class's range.
    ByUse,
    /// Exactly one output per repeated argument (a Classifier's patterns).
    OnePerRepeatedArgument,
    /// Exactly the value of the named integer argument, when it is given (`Tee(N)`).
    IntArgument(&'static str),
    /// More outputs than the highest port any route names (lookup tables).
    CoversRoutes,
}

/// When an element of the class is a schedulable task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskRule {
    Never,
    Always,
    /// Only when its input resolves to pull (a pulling `Discard` drains its input itself).
    WhenInputPull,
    /// Only when its output resolves to push (a pushing source generates packets itself).
    WhenOutputPush,
}

/// Where a packet that enters an element leaves it; task cost estimates depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketFlow {
    /// Each packet leaves by at most one output.
    OneOutput,
    /// Each packet leaves by every output (`Tee`).
    EveryOutput,
}

/// Who may instantiate a class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Tenant,
    /// Only the coordinator's merge step places these; tenants must not forge tunnel traffic.
    CoordinatorOnly,
}

/// The level an element of the class may run at (Keller's multi-level design): the kernel, or
/// the user-space engine in the tenant's container. The partitioner (`vdp-click`'s
/// `partition`) pins `Kernel` and `Container` elements and places `Any` ones by a minimum cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Runs at either level.
    Any,
    /// Must stay in the kernel: the tenant's devices live there, and the coordinator's own
    /// classes (boundaries, GRE) are trusted kernel code.
    Kernel,
    /// May never run in the kernel (a tenant's custom class, or one whose cost nobody bounds).
    Container,
}

/// The type of an argument value, with its bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// Decimal, `0x` hexadecimal or `0b` binary integer within inclusive bounds.
    Int { min: i64, max: i64 },
    /// `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`.
    Bool,
    /// Dotted quad.
    Ipv4Addr,
    /// `a.b.c.d/len`, `a.b.c.d/mask` or a bare address (length 32).
    Ipv4Prefix,
    /// Six colon-separated hex bytes.
    EtherAddr,
    /// Classifier pattern: `offset/value[%mask]` terms, `!` negation, or `-` for everything.
    ClassifierPattern,
    /// IPClassifier expression (tcpdump-like primitives joined by and/or/not).
    IpClassifierExpr,
    /// Bandwidth: number with optional k/M/G prefix and `bps`/`b/s` (bits) or `Bps`/`B/s`
    /// (bytes); stored in bytes/s.
    Bandwidth,
    /// Duration: number with optional fraction and unit `s`, `ms`, `us`, `ns`; stored in ns.
    Time,
    /// Click string: bare word or quoted, with escapes and `\<hex>` blocks; stored as bytes.
    String,
    /// Name of a network device as the tenant sees it.
    DeviceName,
    /// Name of another element in the same configuration.
    ElementRef,
    /// Lookup table entry: `addr/len [gateway] port`.
    Route,
    /// `ELEMENT THREAD` pair for `StaticThreadSched`.
    ThreadAssignment,
    /// `ELEMENT TICKETS` pair for `ScheduleInfo`; tickets as a decimal multiple of the default.
    TicketShare,
    /// Space-separated IPv4 prefixes.
    PrefixList,
    /// Space-separated IPv4 addresses.
    AddrList,
    /// IP protocol: number 0-255 or `icmp`, `igmp`, `ipip`, `tcp`, `udp`, `gre`, `esp`, `ah`.
    IpProtocol,
    /// ARPResponder entry: space-separated IPv4 prefixes (a bare address is a /32) and exactly
    /// one Ethernet address, in any order.
    ArpEntry,
    /// AddressInfo entry: `NAME ADDRESS [ADDRESS...]`. Only the front end reads it: it resolves
    /// the names in the other elements' arguments and removes the declaring element, so no
    /// compiled graph carries a value of this kind (the kernel refuses one).
    NamedAddresses,
    /// ICMP error type: 3, 4, 5, 11 or 12, or `unreachable`, `sourcequench`, `redirect`,
    /// `timeexceeded`, `parameterproblem`.
    IcmpErrorType,
    /// ICMP code: 0-255, or the name of a code of the type the class's [`ArgKind::IcmpErrorType`]
    /// argument gives (`needfrag` of `unreachable`, `transit` of `timeexceeded`, …).
    IcmpCode,
    /// A real number from 0 to 1 (`0.02`, `.5`, `1`), stored as a fraction of 65536 (Click's
    /// 16-bit fixed point), rounded to the nearest.
    Probability,
    /// Space-separated names of Storage elements (Queues, SimpleQueues) of the same
    /// configuration. When the argument is absent, the front end fills in the Storage elements
    /// nearest the element: downstream of output 0 when it pushes, upstream of input 0 when it
    /// pulls (Click's flow-based router context).
    StorageList,
}

/// Whether an argument may be given by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgMode {
    /// By position (in schema order) or by keyword.
    Positional,
    /// Only as `KEYWORD value`.
    KeywordOnly,
}

/// One argument of a class, declared Click style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgSpec {
    pub keyword: &'static str,
    pub kind: ArgKind,
    pub mode: ArgMode,
    pub required: bool,
    /// Text parsed with the same parser as user input when the argument is absent.
    pub default: Option<&'static str>,
}

/// Repeated trailing positional arguments (Classifier patterns, routes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RepeatedArgs {
    pub kind: ArgKind,
    pub min: u16,
    /// What one argument is called in messages ("pattern", "route").
    pub noun: &'static str,
}

/// The resource an argument or the repeated arguments consume, for system-config limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    None,
    /// The named integer argument is a queue capacity in packets.
    QueueCapacity(&'static str),
    /// The repeated arguments are table entries.
    TableEntries,
}

/// Everything vdp knows about one element class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElementClass {
    pub id: u16,
    pub name: &'static str,
    pub summary: &'static str,
    pub inputs: PortRange,
    pub outputs: PortRange,
    pub output_rule: OutputRule,
    pub processing: &'static str,
    pub args: &'static [ArgSpec],
    pub repeated: Option<RepeatedArgs>,
    /// The read and write handlers, from the class's handler enums ([`HandlerSet`]).
    pub read_handlers: &'static [HandlerSpec],
    pub write_handlers: &'static [HandlerSpec],
    pub task: TaskRule,
    pub flow: PacketFlow,
    /// Estimated cycles per packet.
    pub cost_cycles: u32,
    /// Extra cycles per table entry, for classes that scan their table.
    pub cost_per_entry: u32,
    /// Integer argument whose value adds to the cost (`Chew(CYCLES)`).
    pub cost_argument: Option<&'static str>,
    pub resource: Resource,
    pub audience: Audience,
    /// Where an element of the class may run.
    pub level: Level,
    /// What leaves the element is a new packet that the element itself would refuse to answer
    /// again (ICMPError never answers an ICMP error), so Click's configurations send it straight
    /// back into the graph it came from. The front end breaks a push-only cycle through such an
    /// element with a queue it inserts (`vdp-click`'s `feedback.rs`) instead of refusing it.
    pub feeds_back: bool,
}

pub const fn positional(keyword: &'static str, kind: ArgKind, default: Option<&'static str>) -> ArgSpec {
    ArgSpec { keyword, kind, mode: ArgMode::Positional, required: false, default }
}

pub const fn required(keyword: &'static str, kind: ArgKind) -> ArgSpec {
    ArgSpec { keyword, kind, mode: ArgMode::Positional, required: true, default: None }
}

pub const fn keyword(keyword: &'static str, kind: ArgKind, default: Option<&'static str>) -> ArgSpec {
    ArgSpec { keyword, kind, mode: ArgMode::KeywordOnly, required: false, default }
}

pub const fn int(min: i64, max: i64) -> ArgKind {
    ArgKind::Int { min, max }
}

/// Largest queue any configuration may ask for; the system config usually sets a lower limit.
pub const MAX_QUEUE_CAPACITY: i64 = 1 << 20;
/// Largest burst a task may process per run.
pub const MAX_BURST: i64 = 1024;
/// Bytes of headroom a packet buffer keeps; bounds Strip/Unstrip.
pub const MAX_HEADER_BYTES: i64 = 256;
/// Largest busy-work request, about a millisecond on the test machines.
pub const MAX_CHEW_CYCLES: i64 = 10_000_000;

/// A class description with Click's most common defaults (one agnostic input and output, no
/// arguments, not a task); a class file overrides what differs. The registry sets `id` and the
/// handler tables.
pub const fn base(name: &'static str, summary: &'static str) -> ElementClass {
    ElementClass {
        id: u16::MAX,
        name,
        summary,
        inputs: PortRange::exactly(1),
        outputs: PortRange::exactly(1),
        output_rule: OutputRule::ByUse,
        processing: "a/a",
        args: &[],
        repeated: None,
        read_handlers: &[],
        write_handlers: &[],
        task: TaskRule::Never,
        flow: PacketFlow::OneOutput,
        cost_cycles: 100,
        cost_per_entry: 0,
        cost_argument: None,
        resource: Resource::None,
        audience: Audience::Tenant,
        level: Level::Any,
        feeds_back: false,
    }
}

/// Every class, in id order, tenant library first: the registry's table (`library/mod.rs`).
pub static CLASSES: [ElementClass; crate::library::CLASS_TABLE.len()] = crate::library::CLASS_TABLE;

/// One past the highest library class id: the size of the id space a compiled graph's header
/// announces. The registry lists ids in ascending order; while classes are added on several
/// lines of work at once, an id may be missing below it, and no class has that id.
pub const CLASS_COUNT: u16 = match crate::library::CLASS_TABLE.last() {
    Some(class) => class.id + 1,
    None => 0,
};

/// Looks a class up by its id. Ids increase along the registry and normally equal their place
/// in it; the registry may also skip ids, so a class not found at its place is searched for.
pub fn class_by_id(id: u16) -> Option<&'static ElementClass> {
    // Ids are indices unless one is missing below; then the table is searched (it is sorted).
    match CLASSES.get(usize::from(id)) {
        Some(class) if class.id == id => Some(class),
        _ => CLASSES.binary_search_by_key(&id, |class| class.id).ok().and_then(|index| CLASSES.get(index)),
    }
}

/// Looks a class up by its Click name (case-sensitive, as in Click).
pub fn class_by_name(name: &str) -> Option<&'static ElementClass> {
    all_classes().find(|class| class.name == name)
}

/// Every class, tenant library first, in id order.
pub fn all_classes() -> impl Iterator<Item = &'static ElementClass> {
    CLASSES.iter()
}

/// First id of a custom class: custom classes are numbered from here in the order a [`Catalog`]
/// lists them. The kernel's catalog has none, so a blob naming such an id is refused there.
pub const CUSTOM_CLASS_BASE: u16 = 0x8000;

/// Most custom classes one catalog may hold.
pub const MAX_CUSTOM_CLASSES: usize = 256;

/// The classes a graph may use: the library, plus the custom classes of a tenant's container
/// engine (which never run in the kernel). A value, so each place that checks or builds a graph
/// says which catalog it means; the kernel always uses [`Catalog::LIBRARY`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Catalog {
    custom: &'static [ElementClass],
}

/// Why a list of custom classes cannot form a [`Catalog`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatalogError {
    /// More than [`MAX_CUSTOM_CLASSES`].
    TooMany,
    /// Custom class `index` does not carry the id its place gives it (`CUSTOM_CLASS_BASE + index`).
    WrongId { index: usize },
    /// Custom class `index` has the name of a library class.
    LibraryName { index: usize },
    /// Custom class `index` has the name of an earlier custom class.
    DuplicateName { index: usize },
}

impl core::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CatalogError::TooMany => write!(f, "more than {} custom classes", MAX_CUSTOM_CLASSES),
            CatalogError::WrongId { index } => write!(f, "custom class {} must have id {:#x}", index, usize::from(CUSTOM_CLASS_BASE) + index),
            CatalogError::LibraryName { index } => write!(f, "custom class {} has the name of a library class", index),
            CatalogError::DuplicateName { index } => write!(f, "custom class {} has the name of an earlier custom class", index),
        }
    }
}

impl Catalog {
    /// The library alone: what the kernel validates and builds against.
    pub const LIBRARY: Catalog = Catalog { custom: &[] };

    /// The library plus `custom`, whose class `i` must have id `CUSTOM_CLASS_BASE + i` and a
    /// name no library class and no earlier custom class has.
    pub fn new(custom: &'static [ElementClass]) -> Result<Catalog, CatalogError> {
        if custom.len() > MAX_CUSTOM_CLASSES {
            return Err(CatalogError::TooMany);
        }
        for (index, class) in custom.iter().enumerate() {
            if usize::from(class.id) != usize::from(CUSTOM_CLASS_BASE) + index {
                return Err(CatalogError::WrongId { index });
            }
            if class_by_name(class.name).is_some() {
                return Err(CatalogError::LibraryName { index });
            }
            if custom.get(..index).is_some_and(|earlier| earlier.iter().any(|c| c.name == class.name)) {
                return Err(CatalogError::DuplicateName { index });
            }
        }
        Ok(Catalog { custom })
    }

    /// The custom classes, in id order.
    pub fn custom(&self) -> &'static [ElementClass] {
        self.custom
    }

    pub fn class_by_id(&self, id: u16) -> Option<&'static ElementClass> {
        match id.checked_sub(CUSTOM_CLASS_BASE) {
            Some(index) => self.custom.get(usize::from(index)),
            None => class_by_id(id),
        }
    }

    pub fn class_by_name(&self, name: &str) -> Option<&'static ElementClass> {
        self.classes().find(|class| class.name == name)
    }

    /// Every class: the library in id order, then the custom classes.
    pub fn classes(&self) -> impl Iterator<Item = &'static ElementClass> {
        CLASSES.iter().chain(self.custom.iter())
    }
}

impl Default for Catalog {
    fn default() -> Catalog {
        Catalog::LIBRARY
    }
}

/// Processing of `port` on one side, from a Click processing code such as `"a/ah"`.
pub fn port_processing(code: &str, output: bool, port: u16) -> Processing {
    let side = match code.split_once('/') {
        Some((inputs, outputs)) => {
            if output {
                outputs
            } else {
                inputs
            }
        }
        None => code,
    };
    let bytes = side.as_bytes();
    let letter = match bytes.get(usize::from(port)) {
        Some(letter) => Some(*letter),
        None => bytes.last().copied(),
    };
    match letter {
        Some(b'h') => Processing::Push,
        Some(b'l') => Processing::Pull,
        _ => Processing::Agnostic,
    }
}

impl ElementClass {
    /// The schema entry for `keyword`, if the class has one.
    pub fn arg(&self, keyword: &str) -> Option<&'static ArgSpec> {
        self.args.iter().find(|spec| spec.keyword == keyword)
    }

    /// Index of `keyword` in the schema.
    pub fn arg_index(&self, keyword: &str) -> Option<usize> {
        self.args.iter().position(|spec| spec.keyword == keyword)
    }

    pub fn input_processing(&self, port: u16) -> Processing {
        port_processing(self.processing, false, port)
    }

    pub fn output_processing(&self, port: u16) -> Processing {
        port_processing(self.processing, true, port)
    }

    /// Whether the front end consumes the class's elements (AddressInfo: a declaration of
    /// names, found by its argument kind) so that they never reach a compiled graph.
    pub fn resolved_by_front_end(&self) -> bool {
        self.repeated.is_some_and(|r| r.kind == ArgKind::NamedAddresses)
    }

    pub fn has_handler(&self, name: &str, write: bool) -> bool {
        let list = if write { self.write_handlers } else { self.read_handlers };
        list.iter().any(|handler| handler.name == name)
    }
}

#[cfg(test)]
#[path = "../../userspace/vdp-core/unit/catalog.rs"]
mod tests;
