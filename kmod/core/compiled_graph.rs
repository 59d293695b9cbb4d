//! The compiled graph: the binary form of a merged configuration that the kernel installs.
//!
//! `docs/compiled-graph.md` specifies the format. The coordinator writes it; the kernel runs
//! [`validate`] on every blob before using any of it, because it never trusts userspace. The
//! validator needs no allocation: the caller provides scratch space sized from the header
//! ([`scratch_sizes`]). Every read is bounds-checked and no input can make it panic.

use crate::call_depth::{self, CallError, CallNode, PULL_EDGE};
use crate::catalog::{self, ArgKind, Catalog, ElementClass, OutputRule, Processing, TaskRule};
use crate::click_value;
use crate::packet_program;

pub const MAGIC: [u8; 4] = *b"VDPG";
/// Bumped whenever the layout changes; the kernel rejects versions it does not know.
pub const FORMAT_VERSION: u16 = 2;
pub const HEADER_BYTES: usize = 32;
/// Tenant index of elements the coordinator owns (receivers, demux, shared queues).
pub const SHARED_TENANT: u16 = 0xffff;
/// Owner byte of an element the tenant wrote: the tenant may write its handlers.
pub const OWNER_TENANT: u8 = 0;
/// Owner byte of an element the coordinator added on the root's behalf (a bandwidth shaper, a
/// split queue, a shared element): the tenant may read its handlers and write none.
pub const OWNER_ROOT: u8 = 1;
/// Thread value of a task that is not pinned.
pub const UNPINNED: u32 = u32::MAX;

pub const MAX_TENANTS: u32 = 256;
pub const MAX_ELEMENTS: u32 = 4096;
pub const MAX_CONNECTIONS: u32 = 16384;
pub const MAX_PORTS_TOTAL: u32 = 65536;
pub const MAX_NAME_BYTES: usize = 255;
pub const MAX_STRING_BYTES: usize = 65535;
pub const MAX_LIST_ENTRIES: usize = 1024;
pub const MAX_REPEATED: u32 = 1 << 20;
pub const MAX_THREAD: u32 = 255;
pub const MAX_TICKETS: u32 = 64 * 1024;
/// Most elements on one nested push or pull call chain, the task's own element included (see
/// `docs/compiled-graph.md`, "Call depth"). Each hop nests one `Cx::push` or `Cx::pull` frame and
/// the element's own: at most 192 bytes on the debug kernel (`scripts/call-frames.py`), so 32
/// hops take at most 6 KiB, under half of a 16 KiB kernel stack; the rest is left to the
/// thread's own frames and to what the last element calls (a device transmit). The validator
/// refuses deeper graphs and the runtime drops what would go deeper.
pub const MAX_CALL_DEPTH: u32 = 32;

/// Why a blob was rejected; offsets are byte positions in the blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    Truncated { offset: usize },
    BadMagic,
    UnsupportedVersion(u16),
    ClassTableMismatch { blob: u16, kernel: u16 },
    LengthMismatch,
    TooMany { what: &'static str },
    BadName { offset: usize },
    DuplicateName { element: u32 },
    BadTenant { element: u32 },
    UnknownClass { element: u32, class: u16 },
    BadPortCount { element: u32 },
    BadProcessing { element: u32, port: u16 },
    BadPresence { element: u32, arg: u16 },
    MissingArgument { element: u32, arg: u16 },
    BadValue { element: u32, arg: u16, offset: usize },
    BadProgram { element: u32, arg: u16, error: packet_program::ProgramError },
    BadConnection { connection: u32 },
    ModeMismatch { connection: u32 },
    PortUnused { element: u32 },
    PortOverused { element: u32 },
    BadTask { task: u32 },
    TaskMismatch { element: u32 },
    BadOwner { element: u32 },
    /// A push-only cycle passes through this element: a push would recurse forever.
    PushCycle { element: u32 },
    /// A pull-only cycle passes through this element.
    PullCycle { element: u32 },
    /// The nested call chain this element starts is `depth` elements long, over
    /// [`MAX_CALL_DEPTH`]; `pull` when it starts with pulls.
    ChainTooLong { element: u32, depth: u32, pull: bool },
    ScratchTooSmall,
    TrailingBytes,
}

/// What the validator remembers about each element; the caller provides the array.
#[derive(Clone, Copy, Debug, Default)]
pub struct ElementScratch {
    pub class_id: u16,
    pub inputs: u16,
    pub outputs: u16,
    /// Index of the element's first port in the port scratch; inputs come first.
    pub first_port: u32,
    /// Offset of the per-port mode bytes in the blob.
    pub modes_offset: u32,
    pub name_offset: u32,
    pub name_len: u16,
    pub task_listed: bool,
    pub owner: u8,
    /// The call-chain search's state for this element.
    pub call: CallNode,
}

/// Scratch a blob needs, read from its header: one [`ElementScratch`] per element, one `u16`
/// per port and one `u32` per connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScratchSizes {
    pub elements: usize,
    pub ports: usize,
    pub edges: usize,
}

pub fn scratch_sizes(blob: &[u8]) -> Result<ScratchSizes, FormatError> {
    let header = Header::read(blob)?;
    Ok(ScratchSizes {
        elements: header.element_count as usize,
        ports: header.port_count as usize,
        edges: header.connection_count as usize,
    })
}

/// The name of element `index` of a blob that [`validate`] has read up to that element (always
/// so for the elements its errors name after the element records), for messages.
pub fn element_name<'a>(blob: &'a [u8], elements: &[ElementScratch], index: u32) -> &'a str {
    elements
        .get(index as usize)
        .and_then(|e| blob.get(e.name_offset as usize..(e.name_offset as usize).saturating_add(usize::from(e.name_len))))
        .and_then(|bytes| core::str::from_utf8(bytes).ok())
        .unwrap_or("?")
}

/// A validation error in words, naming elements where it can; for the kernel's extack and for
/// `vdpctl`.
pub struct Explained<'a, 'b> {
    pub error: FormatError,
    pub blob: &'a [u8],
    pub elements: &'b [ElementScratch],
}

impl core::fmt::Display for Explained<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let name = |index: u32| element_name(self.blob, self.elements, index);
        match self.error {
            // Short: the kernel's extack keeps 79 bytes.
            FormatError::PushCycle { element } => {
                write!(f, "push cycle through element '{}' (nested pushes without end)", name(element))
            }
            FormatError::PullCycle { element } => {
                write!(f, "pull cycle through element '{}' (nested pulls without end)", name(element))
            }
            FormatError::ChainTooLong { element, depth, pull } => write!(
                f,
                "{} chain from '{}' is {} elements deep, over {}",
                if pull { "pull" } else { "push" },
                name(element),
                depth,
                MAX_CALL_DEPTH
            ),
            FormatError::BadOwner { element } => write!(f, "element '{}': bad owner byte", name(element)),
            other => write!(f, "{:?}", other),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Header {
    tenant_count: u32,
    element_count: u32,
    port_count: u32,
    connection_count: u32,
    task_count: u32,
}

struct Reader<'a> {
    blob: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        let end = self.at.checked_add(n).ok_or(FormatError::Truncated { offset: self.at })?;
        let slice = self.blob.get(self.at..end).ok_or(FormatError::Truncated { offset: self.at })?;
        self.at = end;
        Ok(slice)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, FormatError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, FormatError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
}

impl Header {
    fn read(blob: &[u8]) -> Result<Header, FormatError> {
        let mut r = Reader { blob, at: 0 };
        if r.array::<4>()? != MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = r.u16()?;
        if version != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let classes = r.u16()?;
        if classes > catalog::CLASS_COUNT {
            return Err(FormatError::ClassTableMismatch { blob: classes, kernel: catalog::CLASS_COUNT });
        }
        let total = r.u32()?;
        if total as usize != blob.len() {
            return Err(FormatError::LengthMismatch);
        }
        let header = Header {
            tenant_count: r.u32()?,
            element_count: r.u32()?,
            port_count: r.u32()?,
            connection_count: r.u32()?,
            task_count: r.u32()?,
        };
        for (value, limit, what) in [
            (header.tenant_count, MAX_TENANTS, "tenants"),
            (header.element_count, MAX_ELEMENTS, "elements"),
            (header.port_count, MAX_PORTS_TOTAL, "ports"),
            (header.connection_count, MAX_CONNECTIONS, "connections"),
            (header.task_count, MAX_ELEMENTS, "tasks"),
        ] {
            if value > limit {
                return Err(FormatError::TooMany { what });
            }
        }
        Ok(header)
    }
}

fn read_name<'a>(r: &mut Reader<'a>, len: usize, max: usize) -> Result<&'a str, FormatError> {
    let offset = r.at;
    let bytes = r.bytes(len)?;
    if len == 0 || len > max {
        return Err(FormatError::BadName { offset });
    }
    core::str::from_utf8(bytes).map_err(|_| FormatError::BadName { offset })
}

/// A validated compiled graph. Its accessors walk the blob again; they cannot fail.
#[derive(Clone, Copy, Debug)]
pub struct CompiledGraph<'a> {
    blob: &'a [u8],
    /// What the class ids were validated against.
    catalog: Catalog,
    header: Header,
    elements_offset: usize,
    connections_offset: usize,
    tasks_offset: usize,
}

/// One tenant entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantInfo<'a> {
    pub name: &'a str,
    pub cgroup: &'a str,
    pub cpu_share: u32,
    /// Bytes per second; 0 means no cap.
    pub bandwidth_cap: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connection {
    pub from: u32,
    pub from_port: u16,
    pub to: u32,
    pub to_port: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Task {
    pub element: u32,
    pub cost: u32,
    pub thread: u32,
}

/// One element record, after validation.
#[derive(Clone, Copy, Debug)]
pub struct ElementView<'a> {
    pub class: &'static ElementClass,
    pub tenant: u16,
    /// [`OWNER_TENANT`] or [`OWNER_ROOT`].
    pub owner: u8,
    pub name: &'a str,
    pub inputs: u16,
    pub outputs: u16,
    /// One byte per port, inputs first: 0 push, 1 pull.
    pub modes: &'a [u8],
    /// The encoded arguments, in schema order, then the repeated ones.
    pub args: &'a [u8],
}

const CONNECTION_BYTES: usize = 12;
const TASK_BYTES: usize = 12;

fn read_tenant<'a>(r: &mut Reader<'a>) -> Result<TenantInfo<'a>, FormatError> {
    let name_len = usize::from(r.u16()?);
    let name = read_name(r, name_len, 32)?;
    let cgroup_len = usize::from(r.u16()?);
    let cgroup = read_name(r, cgroup_len, 4096)?;
    let cpu_share = r.u32()?;
    let bandwidth_cap = r.u64()?;
    if cpu_share == 0 || cpu_share > 100 {
        return Err(FormatError::BadValue { element: u32::MAX, arg: 0, offset: r.at });
    }
    Ok(TenantInfo { name, cgroup, cpu_share, bandwidth_cap })
}

/// Facts an argument value contributes to the element-level checks.
#[derive(Default)]
struct ArgFacts {
    highest_route_port: Option<u16>,
}

fn read_value(r: &mut Reader<'_>, kind: ArgKind, element: u32, arg: u16, element_count: u32, facts: &mut ArgFacts) -> Result<(), FormatError> {
    let offset = r.at;
    let bad = FormatError::BadValue { element, arg, offset };
    let element_ref = |index: u32| if index < element_count { Ok(()) } else { Err(bad) };
    match kind {
        ArgKind::Int { min, max } => {
            let value = r.i64()?;
            if value < min || value > max {
                return Err(bad);
            }
        }
        ArgKind::Bool => {
            if r.u8()? > 1 {
                return Err(bad);
            }
        }
        ArgKind::Ipv4Addr => {
            r.bytes(4)?;
        }
        ArgKind::Ipv4Prefix => {
            r.bytes(4)?;
            if r.u8()? > 32 {
                return Err(bad);
            }
        }
        ArgKind::EtherAddr => {
            r.bytes(6)?;
        }
        ArgKind::ClassifierPattern | ArgKind::IpClassifierExpr => {
            let count = r.u32()? as usize;
            if count > packet_program::MAX_INSNS {
                return Err(bad);
            }
            let program = r.bytes(count.saturating_mul(packet_program::INSN_BYTES))?;
            packet_program::validate(program).map_err(|error| FormatError::BadProgram { element, arg, error })?;
        }
        ArgKind::Bandwidth | ArgKind::Time => {
            r.u64()?;
        }
        ArgKind::String => {
            let len = r.u32()? as usize;
            if len > MAX_STRING_BYTES {
                return Err(bad);
            }
            r.bytes(len)?;
        }
        ArgKind::DeviceName => {
            let len = usize::from(r.u16()?);
            let name = read_name(r, len, click_value::MAX_DEVICE_NAME)?;
            click_value::check_device_name(name).map_err(|_| bad)?;
        }
        ArgKind::ElementRef => element_ref(r.u32()?)?,
        ArgKind::Route => {
            r.bytes(4)?;
            if r.u8()? > 32 {
                return Err(bad);
            }
            let has_gateway = r.u8()?;
            r.bytes(4)?;
            if has_gateway > 1 {
                return Err(bad);
            }
            let port = r.u16()?;
            facts.highest_route_port = Some(facts.highest_route_port.map_or(port, |p| p.max(port)));
        }
        ArgKind::ThreadAssignment | ArgKind::TicketShare => {
            element_ref(r.u32()?)?;
            let number = r.u32()?;
            let ok = if kind == ArgKind::ThreadAssignment { number <= MAX_THREAD } else { (1..=MAX_TICKETS).contains(&number) };
            if !ok {
                return Err(bad);
            }
        }
        ArgKind::PrefixList => {
            let count = usize::from(r.u16()?);
            if count > MAX_LIST_ENTRIES {
                return Err(bad);
            }
            for _ in 0..count {
                r.bytes(4)?;
                if r.u8()? > 32 {
                    return Err(bad);
                }
            }
        }
        ArgKind::AddrList => {
            let count = usize::from(r.u16()?);
            if count > MAX_LIST_ENTRIES {
                return Err(bad);
            }
            r.bytes(count * 4)?;
        }
        ArgKind::IpProtocol | ArgKind::IcmpCode => {
            r.u8()?;
        }
        ArgKind::ArpEntry => {
            let count = usize::from(r.u16()?);
            if count == 0 || count > MAX_LIST_ENTRIES {
                return Err(bad);
            }
            for _ in 0..count {
                r.bytes(4)?;
                if r.u8()? > 32 {
                    return Err(bad);
                }
            }
            r.bytes(6)?;
        }
        // The front end resolves AddressInfo's names and never encodes its entries.
        ArgKind::NamedAddresses => return Err(bad),
        ArgKind::IcmpErrorType => {
            if !click_value::is_icmp_error_type(r.u8()?) {
                return Err(bad);
            }
        }
        ArgKind::Probability => {
            if r.u32()? > click_value::PROBABILITY_ONE {
                return Err(bad);
            }
        }
        ArgKind::StorageList => {
            let count = usize::from(r.u16()?);
            if count > MAX_LIST_ENTRIES {
                return Err(bad);
            }
            for _ in 0..count {
                element_ref(r.u32()?)?;
            }
        }
    }
    Ok(())
}

/// Validates a blob completely. `elements`, `ports` and `edges` must be at least as long as
/// [`scratch_sizes`] says.
pub fn validate<'a>(blob: &'a [u8], elements: &mut [ElementScratch], ports: &mut [u16], edges: &mut [u32]) -> Result<CompiledGraph<'a>, FormatError> {
    validate_with(Catalog::LIBRARY, blob, elements, ports, edges)
}

/// [`validate`] against `catalog`: the kernel always passes [`Catalog::LIBRARY`], so a custom
/// class's id is an unknown class there; a container engine passes its own catalog.
pub fn validate_with<'a>(
    catalog: Catalog,
    blob: &'a [u8],
    elements: &mut [ElementScratch],
    ports: &mut [u16],
    edges: &mut [u32],
) -> Result<CompiledGraph<'a>, FormatError> {
    let header = Header::read(blob)?;
    if elements.len() < header.element_count as usize
        || ports.len() < header.port_count as usize
        || edges.len() < header.connection_count as usize
    {
        return Err(FormatError::ScratchTooSmall);
    }
    let mut r = Reader { blob, at: HEADER_BYTES };
    for _ in 0..header.tenant_count {
        read_tenant(&mut r)?;
    }
    let elements_offset = r.at;
    let mut next_port: u32 = 0;
    for index in 0..header.element_count {
        let class_id = r.u16()?;
        let class = catalog.class_by_id(class_id).ok_or(FormatError::UnknownClass { element: index, class: class_id })?;
        let tenant = r.u16()?;
        if tenant != SHARED_TENANT && u32::from(tenant) >= header.tenant_count {
            return Err(FormatError::BadTenant { element: index });
        }
        // The coordinator's shared elements belong to the root context.
        let owner = r.u8()?;
        if owner > OWNER_ROOT || (tenant == SHARED_TENANT && owner != OWNER_ROOT) {
            return Err(FormatError::BadOwner { element: index });
        }
        let inputs = r.u16()?;
        let outputs = r.u16()?;
        if !class.inputs.contains(inputs) || !class.outputs.contains(outputs) || inputs > catalog::MAX_PORTS || outputs > catalog::MAX_PORTS {
            return Err(FormatError::BadPortCount { element: index });
        }
        let name_len = r.u16()?;
        let name_offset = r.at;
        read_name(&mut r, usize::from(name_len), MAX_NAME_BYTES)?;
        let modes_offset = r.at;
        let modes = r.bytes(usize::from(inputs) + usize::from(outputs))?;
        for (position, mode) in modes.iter().enumerate() {
            let output = position >= usize::from(inputs);
            let port = if output { position - usize::from(inputs) } else { position } as u16;
            let declared = catalog::port_processing(class.processing, output, port);
            let ok = match (declared, *mode) {
                (Processing::Push, 0) | (Processing::Pull, 1) => true,
                (Processing::Agnostic, 0 | 1) => true,
                _ => false,
            };
            if !ok {
                return Err(FormatError::BadProcessing { element: index, port });
            }
        }
        // Agnostic ports of one element share one mode (Click's default flow).
        let mut agnostic_mode = None;
        for (position, mode) in modes.iter().enumerate() {
            let output = position >= usize::from(inputs);
            let port = if output { position - usize::from(inputs) } else { position } as u16;
            if catalog::port_processing(class.processing, output, port) == Processing::Agnostic {
                if agnostic_mode.is_some_and(|m| m != *mode) {
                    return Err(FormatError::BadProcessing { element: index, port });
                }
                agnostic_mode = Some(*mode);
            }
        }
        let mut facts = ArgFacts::default();
        let mut int_values = [None::<i64>; 8];
        for (arg_index, spec) in class.args.iter().enumerate() {
            let arg = arg_index as u16;
            match r.u8()? {
                0 if spec.required => return Err(FormatError::MissingArgument { element: index, arg }),
                0 => {}
                1 => {
                    if let (ArgKind::Int { .. }, Some(slot)) = (spec.kind, int_values.get_mut(arg_index)) {
                        let mut peek = Reader { blob, at: r.at };
                        *slot = Some(peek.i64()?);
                    }
                    read_value(&mut r, spec.kind, index, arg, header.element_count, &mut facts)?;
                }
                _ => return Err(FormatError::BadPresence { element: index, arg }),
            }
        }
        let repeated_count = r.u32()?;
        match class.repeated {
            Some(repeat) => {
                if repeated_count > MAX_REPEATED || repeated_count < u32::from(repeat.min) {
                    return Err(FormatError::BadPortCount { element: index });
                }
                for _ in 0..repeated_count {
                    read_value(&mut r, repeat.kind, index, class.args.len() as u16, header.element_count, &mut facts)?;
                }
            }
            None if repeated_count != 0 => return Err(FormatError::BadPortCount { element: index }),
            None => {}
        }
        let outputs_ok = match class.output_rule {
            OutputRule::ByUse => true,
            OutputRule::OnePerRepeatedArgument => u32::from(outputs) == repeated_count,
            OutputRule::IntArgument(name) => match class.arg_index(name).and_then(|i| int_values.get(i).copied().flatten()) {
                Some(n) => i64::from(outputs) == n,
                None => true,
            },
            OutputRule::CoversRoutes => facts.highest_route_port.is_none_or(|p| p < outputs),
        };
        if !outputs_ok {
            return Err(FormatError::BadPortCount { element: index });
        }
        let slot = elements.get_mut(index as usize).ok_or(FormatError::ScratchTooSmall)?;
        *slot = ElementScratch {
            class_id,
            inputs,
            outputs,
            first_port: next_port,
            modes_offset: modes_offset as u32,
            name_offset: name_offset as u32,
            name_len,
            task_listed: false,
            owner,
            call: CallNode::default(),
        };
        next_port = next_port.checked_add(u32::from(inputs) + u32::from(outputs)).ok_or(FormatError::TooMany { what: "ports" })?;
        if next_port > header.port_count {
            return Err(FormatError::TooMany { what: "ports" });
        }
    }
    if next_port != header.port_count {
        return Err(FormatError::LengthMismatch);
    }
    let elements = elements.get_mut(..header.element_count as usize).ok_or(FormatError::ScratchTooSmall)?;
    let name_of = |e: &ElementScratch| blob.get(e.name_offset as usize..e.name_offset as usize + usize::from(e.name_len)).unwrap_or(&[]);
    for (index, element) in elements.iter().enumerate() {
        if elements.iter().take(index).any(|other| name_of(other) == name_of(element)) {
            return Err(FormatError::DuplicateName { element: index as u32 });
        }
    }
    let ports = ports.get_mut(..header.port_count as usize).ok_or(FormatError::ScratchTooSmall)?;
    ports.fill(0);
    let connections_offset = r.at;
    for connection in 0..header.connection_count {
        let from = r.u32()?;
        let from_port = r.u16()?;
        let to = r.u32()?;
        let to_port = r.u16()?;
        let bad = FormatError::BadConnection { connection };
        let source = elements.get(from as usize).ok_or(bad)?;
        let target = elements.get(to as usize).ok_or(bad)?;
        if from_port >= source.outputs || to_port >= target.inputs {
            return Err(bad);
        }
        let out_mode = blob.get(source.modes_offset as usize + usize::from(source.inputs) + usize::from(from_port)).ok_or(bad)?;
        let in_mode = blob.get(target.modes_offset as usize + usize::from(to_port)).ok_or(bad)?;
        if out_mode != in_mode {
            return Err(FormatError::ModeMismatch { connection });
        }
        for port_index in [source.first_port + u32::from(source.inputs) + u32::from(from_port), target.first_port + u32::from(to_port)] {
            let count = ports.get_mut(port_index as usize).ok_or(bad)?;
            *count = count.saturating_add(1);
        }
    }
    // Every port is connected; a push output and a pull input each exactly once.
    for (index, element) in elements.iter().enumerate() {
        for position in 0..u32::from(element.inputs) + u32::from(element.outputs) {
            let uses = ports.get((element.first_port + position) as usize).copied().unwrap_or(0);
            let mode = blob.get(element.modes_offset as usize + position as usize).copied().unwrap_or(0);
            let output = position >= u32::from(element.inputs);
            if uses == 0 {
                return Err(FormatError::PortUnused { element: index as u32 });
            }
            if uses > 1 && ((output && mode == 0) || (!output && mode == 1)) {
                return Err(FormatError::PortOverused { element: index as u32 });
            }
        }
    }
    check_calls(blob, connections_offset, header.connection_count, elements, edges)?;
    let tasks_offset = r.at;
    for task in 0..header.task_count {
        let element = r.u32()?;
        let _cost = r.u32()?;
        let thread = r.u32()?;
        let slot = elements.get_mut(element as usize).ok_or(FormatError::BadTask { task })?;
        if slot.task_listed || (thread != UNPINNED && thread > MAX_THREAD) {
            return Err(FormatError::BadTask { task });
        }
        slot.task_listed = true;
    }
    for (index, element) in elements.iter().enumerate() {
        let class = catalog.class_by_id(element.class_id).ok_or(FormatError::UnknownClass { element: index as u32, class: element.class_id })?;
        let first_input = blob.get(element.modes_offset as usize).copied();
        let first_output = blob.get(element.modes_offset as usize + usize::from(element.inputs)).copied();
        let is_task = match class.task {
            TaskRule::Never => false,
            TaskRule::Always => true,
            TaskRule::WhenInputPull => element.inputs > 0 && first_input == Some(1),
            TaskRule::WhenOutputPush => element.outputs > 0 && first_output == Some(0),
        };
        if is_task != element.task_listed {
            return Err(FormatError::TaskMismatch { element: index as u32 });
        }
    }
    if r.at != blob.len() {
        return Err(FormatError::TrailingBytes);
    }
    Ok(CompiledGraph { blob, catalog, header, elements_offset, connections_offset, tasks_offset })
}

impl call_depth::CallNodes for [ElementScratch] {
    fn count(&self) -> usize {
        self.len()
    }
    fn node(&self, index: usize) -> Option<&CallNode> {
        self.get(index).map(|e| &e.call)
    }
    fn node_mut(&mut self, index: usize) -> Option<&mut CallNode> {
        self.get_mut(index).map(|e| &mut e.call)
    }
}

/// Refuses push and pull cycles and call chains deeper than [`MAX_CALL_DEPTH`], over connection
/// records already checked (`call_depth` has the rule).
fn check_calls(blob: &[u8], connections_offset: usize, connection_count: u32, elements: &mut [ElementScratch], edges: &mut [u32]) -> Result<(), FormatError> {
    // Each connection is one call: a push output's element calls its target, a pull input's
    // element calls its source. Both ends have the same mode (checked above).
    let pair = |elements: &[ElementScratch], index: usize| -> Option<(u32, u32)> {
        let mut r = Reader { blob, at: connections_offset.checked_add(index.checked_mul(CONNECTION_BYTES)?)? };
        let from = r.u32().ok()?;
        let from_port = r.u16().ok()?;
        let to = r.u32().ok()?;
        let source = elements.get(from as usize)?;
        let mode = blob.get(source.modes_offset as usize + usize::from(source.inputs) + usize::from(from_port))?;
        Some(if *mode == 1 { (to, from | PULL_EDGE) } else { (from, to) })
    };
    let edges = edges.get_mut(..connection_count as usize).ok_or(FormatError::ScratchTooSmall)?;
    let calls = |e: CallError| match e {
        CallError::PushCycle { element } => FormatError::PushCycle { element },
        CallError::PullCycle { element } => FormatError::PullCycle { element },
        CallError::Inconsistent => FormatError::ScratchTooSmall,
    };
    call_depth::build_callees(elements, edges, connection_count as usize, pair).map_err(calls)?;
    let deepest = call_depth::analyze(elements, edges).map_err(calls)?;
    if deepest.depth > MAX_CALL_DEPTH {
        return Err(FormatError::ChainTooLong { element: deepest.element, depth: deepest.depth, pull: deepest.pull });
    }
    Ok(())
}

impl<'a> CompiledGraph<'a> {
    pub fn tenant_count(&self) -> u32 {
        self.header.tenant_count
    }
    pub fn element_count(&self) -> u32 {
        self.header.element_count
    }
    pub fn connection_count(&self) -> u32 {
        self.header.connection_count
    }
    pub fn task_count(&self) -> u32 {
        self.header.task_count
    }

    /// The records the module runs, elements, connections and tasks, without the header and
    /// the tenant table (which are checked, not run): two blobs with the same program run the
    /// same graph, whatever the other tenants of their system configs were.
    pub fn program(&self) -> &'a [u8] {
        self.blob.get(self.elements_offset..).unwrap_or(&[])
    }

    pub fn tenants(&self) -> impl Iterator<Item = TenantInfo<'a>> + 'a {
        let mut r = Reader { blob: self.blob, at: HEADER_BYTES };
        (0..self.header.tenant_count).map_while(move |_| read_tenant(&mut r).ok())
    }

    pub fn elements(&self) -> impl Iterator<Item = ElementView<'a>> + 'a {
        let mut r = Reader { blob: self.blob, at: self.elements_offset };
        let count = self.header.element_count;
        let catalog = self.catalog;
        (0..count).map_while(move |_| read_element(catalog, &mut r, count).ok())
    }

    pub fn connections(&self) -> impl Iterator<Item = Connection> + 'a {
        let blob = self.blob;
        let start = self.connections_offset;
        (0..self.header.connection_count as usize).map_while(move |i| {
            let mut r = Reader { blob, at: start + i * CONNECTION_BYTES };
            Some(Connection { from: r.u32().ok()?, from_port: r.u16().ok()?, to: r.u32().ok()?, to_port: r.u16().ok()? })
        })
    }

    pub fn tasks(&self) -> impl Iterator<Item = Task> + 'a {
        let blob = self.blob;
        let start = self.tasks_offset;
        (0..self.header.task_count as usize).map_while(move |i| {
            let mut r = Reader { blob, at: start + i * TASK_BYTES };
            Some(Task { element: r.u32().ok()?, cost: r.u32().ok()?, thread: r.u32().ok()? })
        })
    }
}

/// Re-reads one element record of an already validated blob.
fn read_element<'a>(catalog: Catalog, r: &mut Reader<'a>, element_count: u32) -> Result<ElementView<'a>, FormatError> {
    let class_id = r.u16()?;
    let class = catalog.class_by_id(class_id).ok_or(FormatError::UnknownClass { element: 0, class: class_id })?;
    let tenant = r.u16()?;
    let owner = r.u8()?;
    let inputs = r.u16()?;
    let outputs = r.u16()?;
    let name_len = usize::from(r.u16()?);
    let name = read_name(r, name_len, MAX_NAME_BYTES)?;
    let modes = r.bytes(usize::from(inputs) + usize::from(outputs))?;
    let args_start = r.at;
    let mut facts = ArgFacts::default();
    for (index, spec) in class.args.iter().enumerate() {
        if r.u8()? == 1 {
            read_value(r, spec.kind, 0, index as u16, element_count, &mut facts)?;
        }
    }
    let repeated = r.u32()?;
    if let Some(repeat) = class.repeated {
        for _ in 0..repeated {
            read_value(r, repeat.kind, 0, 0, element_count, &mut facts)?;
        }
    }
    let args = r.blob.get(args_start..r.at).unwrap_or(&[]);
    Ok(ElementView { class, tenant, owner, name, inputs, outputs, modes, args })
}

#[cfg(test)]
#[path = "../../userspace/vdp-core/unit/compiled_graph.rs"]
mod tests;
