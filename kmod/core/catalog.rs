//! The element catalog: the single source of truth for every element class vdp supports.
//!
//! The coordinator checks tenant configurations against this table and the kernel module
//! re-validates compiled graphs against the very same table, so a class can never mean one thing
//! in userspace and another in the kernel. A class id is its index in [`CLASSES`]; ids are part of
//! the compiled-graph format, so classes are only ever appended, never reordered or removed.
//!
//! Port processing codes follow Click: `h` push, `l` pull, `a` agnostic; inputs and outputs are
//! separated by `/`, and the last letter of a side repeats for any further ports.

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
    /// Bandwidth: number with optional k/M/G prefix and `bps` or `Bps`; stored in bytes/s.
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
    pub read_handlers: &'static [&'static str],
    pub write_handlers: &'static [&'static str],
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
}

const fn positional(keyword: &'static str, kind: ArgKind, default: Option<&'static str>) -> ArgSpec {
    ArgSpec { keyword, kind, mode: ArgMode::Positional, required: false, default }
}

const fn required(keyword: &'static str, kind: ArgKind) -> ArgSpec {
    ArgSpec { keyword, kind, mode: ArgMode::Positional, required: true, default: None }
}

const fn keyword(keyword: &'static str, kind: ArgKind, default: Option<&'static str>) -> ArgSpec {
    ArgSpec { keyword, kind, mode: ArgMode::KeywordOnly, required: false, default }
}

const fn int(min: i64, max: i64) -> ArgKind {
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

const NO_HANDLERS: &[&str] = &[];

const fn base(id: u16, name: &'static str, summary: &'static str) -> ElementClass {
    ElementClass {
        id,
        name,
        summary,
        inputs: PortRange::exactly(1),
        outputs: PortRange::exactly(1),
        output_rule: OutputRule::ByUse,
        processing: "a/a",
        args: &[],
        repeated: None,
        read_handlers: NO_HANDLERS,
        write_handlers: NO_HANDLERS,
        task: TaskRule::Never,
        flow: PacketFlow::OneOutput,
        cost_cycles: 100,
        cost_per_entry: 0,
        cost_argument: None,
        resource: Resource::None,
        audience: Audience::Tenant,
    }
}

const DEVICE_ARGS_IN: &[ArgSpec] = &[
    required("DEVNAME", ArgKind::DeviceName),
    keyword("PROMISC", ArgKind::Bool, Some("false")),
    keyword("SNIFFER", ArgKind::Bool, Some("false")),
    keyword("BURST", int(1, MAX_BURST), Some("8")),
];
const DEVICE_ARGS_OUT: &[ArgSpec] =
    &[required("DEVNAME", ArgKind::DeviceName), keyword("BURST", int(1, MAX_BURST), Some("16"))];
const QUEUE_ARGS: &[ArgSpec] = &[positional("CAPACITY", int(1, MAX_QUEUE_CAPACITY), Some("1000"))];
const QUEUE_READ: &[&str] = &["length", "highwater_length", "capacity", "drops"];
const QUEUE_WRITE: &[&str] = &["capacity", "reset", "reset_counts"];
const ROUTES: Option<RepeatedArgs> =
    Some(RepeatedArgs { kind: ArgKind::Route, min: 0, noun: "route" });
const LOOKUP_READ: &[&str] = &["table", "lookup"];
const LOOKUP_WRITE: &[&str] = &["add", "remove", "set", "flush"];
const SOURCE_READ: &[&str] = &["count", "active", "limit", "burst", "data"];
const SOURCE_WRITE: &[&str] = &["reset", "active", "limit", "burst", "data"];

/// Every supported class, indexed by id.
pub static CLASSES: [ElementClass; 36] = [
    ElementClass {
        inputs: PortRange::exactly(0),
        processing: "/h",
        args: DEVICE_ARGS_IN,
        read_handlers: &["count", "drops", "burst", "queue_length", "stats"],
        write_handlers: &["reset_counts", "burst"],
        task: TaskRule::Always,
        cost_cycles: 800,
        ..base(0, "FromDevice", "Receives packets from a device and pushes them out")
    },
    ElementClass {
        outputs: PortRange::exactly(0),
        processing: "l/",
        args: DEVICE_ARGS_OUT,
        read_handlers: &["count", "drops", "burst", "stats"],
        write_handlers: &["reset_counts", "burst"],
        task: TaskRule::Always,
        cost_cycles: 800,
        ..base(1, "ToDevice", "Pulls packets from its input and sends them on a device")
    },
    ElementClass {
        processing: "h/l",
        args: QUEUE_ARGS,
        read_handlers: QUEUE_READ,
        write_handlers: QUEUE_WRITE,
        cost_cycles: 150,
        resource: Resource::QueueCapacity("CAPACITY"),
        ..base(2, "Queue", "Stores pushed packets until they are pulled; drops when full")
    },
    ElementClass {
        processing: "h/l",
        args: QUEUE_ARGS,
        read_handlers: QUEUE_READ,
        write_handlers: QUEUE_WRITE,
        cost_cycles: 120,
        resource: Resource::QueueCapacity("CAPACITY"),
        ..base(3, "SimpleQueue", "Queue without the thread-safety of Queue")
    },
    ElementClass {
        processing: "l/h",
        args: &[
            positional("BURST", int(1, MAX_BURST), Some("1")),
            keyword("ACTIVE", ArgKind::Bool, Some("true")),
        ],
        read_handlers: &["count", "burst", "active"],
        write_handlers: &["reset", "burst", "active"],
        task: TaskRule::Always,
        cost_cycles: 100,
        ..base(4, "Unqueue", "Task that pulls packets from its input and pushes them out")
    },
    ElementClass {
        read_handlers: &["count", "byte_count", "rate", "bit_rate", "byte_rate"],
        write_handlers: &["reset"],
        cost_cycles: 700,
        ..base(5, "Counter", "Counts packets and bytes passing through")
    },
    ElementClass {
        outputs: PortRange::exactly(0),
        processing: "a/",
        read_handlers: &["count"],
        write_handlers: &["reset_counts"],
        task: TaskRule::WhenInputPull,
        cost_cycles: 50,
        ..base(6, "Discard", "Drops every packet; pulls them itself when its input is pull")
    },
    ElementClass {
        outputs: PortRange::at_least(1),
        output_rule: OutputRule::IntArgument("N"),
        processing: "h/h",
        args: &[positional("N", int(1, MAX_PORTS as i64), None)],
        flow: PacketFlow::EveryOutput,
        cost_cycles: 200,
        ..base(7, "Tee", "Pushes a copy of each packet out of every output")
    },
    ElementClass {
        inputs: PortRange::at_least(0),
        outputs: PortRange::at_least(0),
        cost_cycles: 0,
        ..base(8, "Idle", "Never emits packets and drops what it receives")
    },
    ElementClass {
        outputs: PortRange::at_least(1),
        output_rule: OutputRule::OnePerRepeatedArgument,
        processing: "h/h",
        repeated: Some(RepeatedArgs { kind: ArgKind::ClassifierPattern, min: 1, noun: "pattern" }),
        cost_cycles: 300,
        cost_per_entry: 20,
        resource: Resource::TableEntries,
        ..base(9, "Classifier", "Sends each packet to the output of the first pattern it matches")
    },
    ElementClass {
        outputs: PortRange::at_least(1),
        output_rule: OutputRule::OnePerRepeatedArgument,
        processing: "h/h",
        repeated: Some(RepeatedArgs {
            kind: ArgKind::IpClassifierExpr,
            min: 1,
            noun: "expression",
        }),
        cost_cycles: 400,
        cost_per_entry: 30,
        resource: Resource::TableEntries,
        ..base(10, "IPClassifier", "Classifies IP packets by tcpdump-like expressions")
    },
    ElementClass {
        args: &[required("LENGTH", int(0, MAX_HEADER_BYTES))],
        cost_cycles: 50,
        ..base(11, "Strip", "Removes LENGTH bytes from the front of each packet")
    },
    ElementClass {
        args: &[required("LENGTH", int(0, MAX_HEADER_BYTES))],
        cost_cycles: 50,
        ..base(12, "Unstrip", "Restores LENGTH bytes previously stripped")
    },
    ElementClass {
        args: &[
            required("ETHERTYPE", int(0, 0xffff)),
            required("SRC", ArgKind::EtherAddr),
            required("DST", ArgKind::EtherAddr),
        ],
        cost_cycles: 150,
        ..base(13, "EtherEncap", "Prepends an Ethernet header")
    },
    ElementClass {
        cost_cycles: 100,
        ..base(14, "EtherMirror", "Swaps the Ethernet source and destination addresses")
    },
    ElementClass {
        outputs: PortRange::between(1, 2),
        processing: "a/ah",
        args: &[
            positional("BADSRC", ArgKind::AddrList, None),
            keyword("OFFSET", int(0, MAX_HEADER_BYTES), Some("0")),
            keyword("INTERFACES", ArgKind::PrefixList, None),
            keyword("VERBOSE", ArgKind::Bool, Some("false")),
            keyword("CHECKSUM", ArgKind::Bool, Some("true")),
        ],
        read_handlers: &["drops"],
        cost_cycles: 400,
        ..base(15, "CheckIPHeader", "Drops or diverts packets with invalid IP headers")
    },
    ElementClass {
        outputs: PortRange::between(1, 2),
        processing: "a/ah",
        cost_cycles: 200,
        ..base(16, "DecIPTTL", "Decrements the IP TTL; expired packets go to output 1")
    },
    ElementClass {
        cost_cycles: 300,
        ..base(17, "SetIPChecksum", "Recomputes the IP header checksum")
    },
    ElementClass {
        args: &[
            required("PROTO", ArgKind::IpProtocol),
            required("SRC", ArgKind::Ipv4Addr),
            required("DST", ArgKind::Ipv4Addr),
            keyword("TOS", int(0, 255), Some("0")),
            keyword("TTL", int(1, 255), Some("250")),
            keyword("DF", ArgKind::Bool, Some("false")),
        ],
        cost_cycles: 300,
        ..base(18, "IPEncap", "Prepends an IP header")
    },
    ElementClass {
        args: &[required("OFFSET", int(0, MAX_HEADER_BYTES))],
        cost_cycles: 50,
        ..base(19, "GetIPAddress", "Copies the IP address at OFFSET into the destination annotation")
    },
    ElementClass {
        outputs: PortRange::at_least(1),
        output_rule: OutputRule::CoversRoutes,
        processing: "h/h",
        repeated: ROUTES,
        read_handlers: LOOKUP_READ,
        write_handlers: LOOKUP_WRITE,
        cost_cycles: 1000,
        resource: Resource::TableEntries,
        ..base(20, "RadixIPLookup", "Longest-prefix-match routing with a radix trie")
    },
    ElementClass {
        outputs: PortRange::at_least(1),
        output_rule: OutputRule::CoversRoutes,
        processing: "h/h",
        repeated: ROUTES,
        read_handlers: LOOKUP_READ,
        write_handlers: LOOKUP_WRITE,
        cost_cycles: 200,
        cost_per_entry: 40,
        resource: Resource::TableEntries,
        ..base(21, "LinearIPLookup", "Longest-prefix-match routing by a linear scan")
    },
    ElementClass {
        outputs: PortRange::at_least(1),
        output_rule: OutputRule::CoversRoutes,
        processing: "h/h",
        repeated: ROUTES,
        read_handlers: &["table", "lookup"],
        cost_cycles: 200,
        cost_per_entry: 40,
        resource: Resource::TableEntries,
        ..base(22, "StaticIPLookup", "LinearIPLookup whose table cannot be changed at run time")
    },
    ElementClass {
        args: &[required("COLOR", int(0, 255))],
        read_handlers: &["color"],
        write_handlers: &["color"],
        cost_cycles: 50,
        ..base(23, "Paint", "Sets the paint annotation to COLOR")
    },
    ElementClass {
        outputs: PortRange::between(1, 256),
        processing: "h/h",
        cost_cycles: 100,
        ..base(24, "PaintSwitch", "Sends each packet to the output numbered by its paint")
    },
    ElementClass {
        outputs: PortRange::at_least(1),
        processing: "h/h",
        args: &[required("OFFSET", int(0, 1500)), required("LENGTH", int(1, 64))],
        cost_cycles: 450,
        ..base(25, "HashSwitch", "Chooses an output by hashing LENGTH bytes at OFFSET")
    },
    ElementClass {
        outputs: PortRange::at_least(1),
        processing: "h/h",
        cost_cycles: 100,
        ..base(26, "RoundRobinSwitch", "Sends packets to its outputs in turn")
    },
    ElementClass {
        outputs: PortRange::between(1, 2),
        processing: "a/ah",
        args: &[required("LENGTH", int(0, 65535))],
        read_handlers: &["length"],
        write_handlers: &["length"],
        cost_cycles: 400,
        ..base(27, "CheckLength", "Packets longer than LENGTH go to output 1 or are dropped")
    },
    ElementClass {
        processing: "l/l",
        args: &[required("RATE", ArgKind::Bandwidth)],
        read_handlers: &["rate"],
        write_handlers: &["rate"],
        cost_cycles: 200,
        ..base(28, "BandwidthShaper", "Lets packets be pulled at no more than RATE bytes/s")
    },
    ElementClass {
        processing: "l/h",
        args: &[
            required("RATE", int(1, 100_000_000)),
            keyword("ACTIVE", ArgKind::Bool, Some("true")),
        ],
        read_handlers: &["rate", "active", "count"],
        write_handlers: &["rate", "active", "reset"],
        task: TaskRule::Always,
        cost_cycles: 150,
        ..base(29, "RatedUnqueue", "Task that pulls RATE packets per second and pushes them")
    },
    ElementClass {
        inputs: PortRange::exactly(0),
        processing: "/a",
        args: &[
            positional("DATA", ArgKind::String, None),
            positional("LIMIT", int(-1, i32::MAX as i64), Some("-1")),
            positional("BURST", int(1, MAX_BURST), Some("1")),
            positional("ACTIVE", ArgKind::Bool, Some("true")),
            keyword("STOP", ArgKind::Bool, Some("false")),
            keyword("LENGTH", int(0, 65535), Some("0")),
        ],
        read_handlers: SOURCE_READ,
        write_handlers: SOURCE_WRITE,
        task: TaskRule::WhenOutputPush,
        cost_cycles: 300,
        ..base(30, "InfiniteSource", "Generates copies of DATA, as fast as allowed")
    },
    ElementClass {
        inputs: PortRange::exactly(0),
        processing: "/a",
        args: &[
            positional("DATA", ArgKind::String, None),
            positional("RATE", int(1, 100_000_000), Some("10")),
            positional("LIMIT", int(-1, i32::MAX as i64), Some("-1")),
            positional("ACTIVE", ArgKind::Bool, Some("true")),
            keyword("STOP", ArgKind::Bool, Some("false")),
            keyword("LENGTH", int(0, 65535), Some("0")),
        ],
        read_handlers: &["count", "active", "limit", "rate", "data"],
        write_handlers: &["reset", "active", "limit", "rate", "data"],
        task: TaskRule::WhenOutputPush,
        cost_cycles: 300,
        ..base(31, "RatedSource", "Generates copies of DATA at RATE packets per second")
    },
    ElementClass {
        inputs: PortRange::exactly(0),
        outputs: PortRange::exactly(0),
        processing: "/",
        repeated: Some(RepeatedArgs { kind: ArgKind::ThreadAssignment, min: 1, noun: "assignment" }),
        cost_cycles: 0,
        ..base(32, "StaticThreadSched", "Pins tasks to threads: ELEMENT THREAD, ...")
    },
    ElementClass {
        inputs: PortRange::exactly(0),
        outputs: PortRange::exactly(0),
        processing: "/",
        repeated: Some(RepeatedArgs { kind: ArgKind::TicketShare, min: 1, noun: "share" }),
        cost_cycles: 0,
        ..base(33, "ScheduleInfo", "Sets task tickets relative to the default: ELEMENT SHARE, ...")
    },
    ElementClass {
        args: &[
            positional("LABEL", ArgKind::String, Some("\"\"")),
            keyword("MAXLENGTH", int(0, 1500), Some("24")),
            keyword("RATE", int(1, 1000), Some("10")),
        ],
        read_handlers: &["active"],
        write_handlers: &["active"],
        cost_cycles: 2000,
        ..base(34, "Print", "Logs packet contents, at most RATE lines per second")
    },
    ElementClass {
        args: &[required("CYCLES", int(0, MAX_CHEW_CYCLES))],
        read_handlers: &["cycles"],
        write_handlers: &["cycles"],
        cost_cycles: 20,
        cost_argument: Some("CYCLES"),
        ..base(35, "Chew", "Spends CYCLES cycles of busy work on each packet")
    },
];

/// Classes the coordinator adds; appended after the tenant library so tenant ids stay put.
pub static COORDINATOR_CLASSES: [ElementClass; 1] = [ElementClass {
    args: &[required("PROTOCOL", int(0, 0xffff)), keyword("KEY", int(0, u32::MAX as i64), None)],
    cost_cycles: 150,
    audience: Audience::CoordinatorOnly,
    ..base(36, "GREEncap", "Prepends a GRE header carrying PROTOCOL and, if given, KEY")
}];

/// Number of class ids in use.
pub const CLASS_COUNT: u16 = 37;

/// Looks a class up by its id.
pub fn class_by_id(id: u16) -> Option<&'static ElementClass> {
    let index = usize::from(id);
    match CLASSES.get(index) {
        Some(class) => Some(class),
        None => COORDINATOR_CLASSES.get(index.checked_sub(CLASSES.len())?),
    }
}

/// Looks a class up by its Click name (case-sensitive, as in Click).
pub fn class_by_name(name: &str) -> Option<&'static ElementClass> {
    all_classes().find(|class| class.name == name)
}

/// Every class, tenant library first, in id order.
pub fn all_classes() -> impl Iterator<Item = &'static ElementClass> {
    CLASSES.iter().chain(COORDINATOR_CLASSES.iter())
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

    pub fn has_handler(&self, name: &str, write: bool) -> bool {
        let list = if write { self.write_handlers } else { self.read_handlers };
        list.iter().any(|handler| *handler == name)
    }
}

#[cfg(test)]
#[path = "../../userspace/vdp-core/unit/catalog.rs"]
mod tests;
