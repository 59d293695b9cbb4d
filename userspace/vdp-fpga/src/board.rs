//! The board description: what `FromDevice(eth0)` means on a board. A TOML file lists the
//! board's devices with their ingress and egress stream ports, the size of the handler address
//! space and the memories; it is read strictly (unknown keys are errors) and every error
//! points at `file:line:col`.

use serde::Deserialize;
use std::collections::HashMap;
use toml::Spanned;
use vdp_click::source::{Diagnostic, Diagnostics, FileId, Span};

/// Most handler address bits a board may declare (32-bit words).
pub const MAX_ADDRESS_BITS: u32 = 24;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardFile {
    pub name: String,
    /// The handler address space holds 2^bits 32-bit registers.
    pub handler_address_bits: Spanned<u32>,
    /// Clock the designs are meant for, in MHz; reports use it.
    #[serde(default = "default_clock")]
    pub clock_mhz: u32,
    #[serde(default, rename = "memory")]
    pub memories: Vec<Memory>,
    #[serde(default, rename = "device")]
    pub devices: Vec<Device>,
    /// Streams from the FPGA to the host: where a partitioned graph's FPGA part hands packets
    /// to its software part.
    #[serde(default, rename = "host")]
    pub hosts: Vec<HostLink>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostLink {
    /// The device the host sees the stream as (`FromDevice(host0)` in the software part).
    pub name: Spanned<String>,
    /// The egress stream port that carries it.
    pub egress: Spanned<u16>,
}

fn default_clock() -> u32 {
    200
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MemoryKind {
    /// On-chip block RAM: packet buffers and queues go here.
    BlockRam,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Memory {
    pub name: String,
    pub kind: MemoryKind,
    /// Capacity in bits.
    pub bits: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    pub name: Spanned<String>,
    /// Stream port number of the device's receive side, if it has one.
    pub ingress: Option<Spanned<u16>>,
    /// Stream port number of the device's transmit side, if it has one.
    pub egress: Option<Spanned<u16>>,
    /// Largest frame in bytes the device carries (receive and transmit).
    #[serde(default = "default_max_frame")]
    pub max_frame: u32,
}

fn default_max_frame() -> u32 {
    1518
}

/// Largest frame any device may declare: the element buffers hold 2048 bytes.
pub const MAX_FRAME: u32 = 2048;

/// A checked board.
#[derive(Clone, Debug)]
pub struct Board {
    pub file: FileId,
    pub name: String,
    pub address_bits: u32,
    pub clock_mhz: u32,
    pub block_ram_bits: u64,
    pub devices: Vec<BoardDevice>,
    /// Number of ingress and egress stream ports (highest number + 1).
    pub ingress_ports: u16,
    pub egress_ports: u16,
}

#[derive(Clone, Debug)]
pub struct BoardDevice {
    pub name: String,
    pub ingress: Option<u16>,
    pub egress: Option<u16>,
    pub max_frame: u32,
    /// A host link: an egress stream to the host, used only by the partition's `ToHostLink`.
    pub host: bool,
}

impl Board {
    /// A device or host link of the board.
    pub fn device(&self, name: &str) -> Option<&BoardDevice> {
        self.devices.iter().find(|d| d.name == name)
    }

    /// The host links' names, in the file's order: boundary `k` of a partition uses the `k`-th.
    pub fn hosts(&self) -> Vec<String> {
        self.devices.iter().filter(|d| d.host).map(|d| d.name.clone()).collect()
    }
}

fn span(file: FileId, range: std::ops::Range<usize>) -> Span {
    Span::new(file, range.start, range.end)
}

fn check_name(name: &str, at: Span, diagnostics: &mut Diagnostics) {
    if name.is_empty() || name.len() > 15 || name.contains(['/', ':']) || !name.chars().all(|c| c.is_ascii_graphic()) {
        diagnostics.error(at, format!("device name '{name}' must be 1 to 15 printable characters without '/' or ':'"));
    }
}

/// Takes stream port `port` of one side for device `name`; a port out of range or taken twice
/// is an error at its place.
fn claim_port<'a>(file: FileId, name: &'a str, port: &Spanned<u16>, side: &str, used: &mut HashMap<u16, (&'a str, Span)>, diagnostics: &mut Diagnostics) {
    let at = span(file, port.span());
    if *port.get_ref() >= 64 {
        diagnostics.error(at, format!("{side} port {} is out of range (0 to 63)", port.get_ref()));
    }
    if let Some((other, _)) = used.insert(*port.get_ref(), (name, at)) {
        diagnostics.push(Diagnostic::error(at, format!("{side} port {} of device '{name}' overlaps device '{other}'", port.get_ref())));
    }
}

/// Reads a board from its text (already added to the sources as `file`).
pub fn parse(file: FileId, text: &str, diagnostics: &mut Diagnostics) -> Option<Board> {
    let parsed: BoardFile = match toml::from_str(text) {
        Ok(parsed) => parsed,
        Err(error) => {
            let at = error.span().map(|r| span(file, r));
            diagnostics.push(Diagnostic::error(at, format!("board: {}", error.message())));
            return None;
        }
    };
    let before = diagnostics.error_count();
    let bits = *parsed.handler_address_bits.get_ref();
    if bits == 0 || bits > MAX_ADDRESS_BITS {
        diagnostics.error(span(file, parsed.handler_address_bits.span()), format!("handler_address_bits must be 1 to {MAX_ADDRESS_BITS}"));
    }
    let mut names: HashMap<&str, Span> = HashMap::new();
    let mut ingress: HashMap<u16, (&str, Span)> = HashMap::new();
    let mut egress: HashMap<u16, (&str, Span)> = HashMap::new();
    for device in &parsed.devices {
        let name = device.name.get_ref().as_str();
        let name_span = span(file, device.name.span());
        check_name(name, name_span, diagnostics);
        if let Some(first) = names.insert(name, name_span) {
            let _ = first;
            diagnostics.error(name_span, format!("device '{name}' is declared twice"));
        }
        if device.ingress.is_none() && device.egress.is_none() {
            diagnostics.error(name_span, format!("device '{name}' has neither an ingress nor an egress port"));
        }
        if device.max_frame < 14 || device.max_frame > MAX_FRAME {
            diagnostics.error(name_span, format!("device '{name}': max_frame must be 14 to {MAX_FRAME}"));
        }
        for (port, used, side) in [(&device.ingress, &mut ingress, "ingress"), (&device.egress, &mut egress, "egress")] {
            if let Some(port) = port {
                claim_port(file, name, port, side, used, diagnostics);
            }
        }
    }
    for host in &parsed.hosts {
        let name = host.name.get_ref().as_str();
        let name_span = span(file, host.name.span());
        check_name(name, name_span, diagnostics);
        if names.insert(name, name_span).is_some() {
            diagnostics.error(name_span, format!("host link '{name}' has the name of another device or host link"));
        }
        claim_port(file, name, &host.egress, "egress", &mut egress, diagnostics);
    }
    if diagnostics.error_count() > before {
        return None;
    }
    let block_ram_bits = parsed.memories.iter().filter(|m| m.kind == MemoryKind::BlockRam).map(|m| m.bits).sum();
    let devices: Vec<BoardDevice> = parsed
        .devices
        .iter()
        .map(|d| BoardDevice {
            name: d.name.get_ref().clone(),
            ingress: d.ingress.as_ref().map(|p| *p.get_ref()),
            egress: d.egress.as_ref().map(|p| *p.get_ref()),
            max_frame: d.max_frame,
            host: false,
        })
        .chain(parsed.hosts.iter().map(|h| BoardDevice {
            name: h.name.get_ref().clone(),
            ingress: None,
            egress: Some(*h.egress.get_ref()),
            max_frame: MAX_FRAME,
            host: true,
        }))
        .collect();
    let ingress_ports = devices.iter().filter_map(|d| d.ingress).map(|p| p + 1).max().unwrap_or(0);
    let egress_ports = devices.iter().filter_map(|d| d.egress).map(|p| p + 1).max().unwrap_or(0);
    Some(Board { file, name: parsed.name, address_bits: bits, clock_mhz: parsed.clock_mhz, block_ram_bits, devices, ingress_ports, egress_ports })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vdp_click::source::Sources;

    fn check(text: &str) -> Result<Board, String> {
        let mut sources = Sources::new();
        let file = sources.add("board.toml", text);
        let mut diagnostics = Diagnostics::default();
        parse(file, text, &mut diagnostics).ok_or_else(|| sources.render_all(&diagnostics))
    }

    const GOOD: &str = "name = \"b\"\nhandler_address_bits = 12\n\n[[memory]]\nname = \"bram\"\nkind = \"block_ram\"\nbits = 1000000\n\n[[device]]\nname = \"eth0\"\ningress = 0\negress = 0\n\n[[device]]\nname = \"eth1\"\ningress = 1\negress = 1\n";

    #[test]
    fn reads_a_board() {
        let board = check(GOOD).unwrap();
        assert_eq!(board.address_bits, 12);
        assert_eq!(board.block_ram_bits, 1_000_000);
        assert_eq!(board.device("eth1").unwrap().egress, Some(1));
        assert_eq!((board.ingress_ports, board.egress_ports), (2, 2));
    }

    #[test]
    fn unknown_key_is_an_error_at_its_place() {
        let text = GOOD.replace("egress = 1\n", "egress = 1\nspeed = 10\n");
        let error = check(&text).unwrap_err();
        assert!(error.contains("board.toml:18:1"), "{error}");
        assert!(error.contains("unknown field `speed`"), "{error}");
    }

    #[test]
    fn overlapping_ports_are_errors_at_their_place() {
        let text = GOOD.replace("ingress = 1", "ingress = 0");
        let error = check(&text).unwrap_err();
        assert!(error.contains("board.toml:16:11"), "{error}");
        assert!(error.contains("ingress port 0 of device 'eth1' overlaps device 'eth0'"), "{error}");
    }

    #[test]
    fn host_links() {
        let text = format!("{GOOD}\n[[host]]\nname = \"host0\"\negress = 4\n\n[[host]]\nname = \"host1\"\negress = 5\n");
        let board = check(&text).unwrap();
        assert_eq!(board.hosts(), ["host0", "host1"]);
        assert!(board.device("host1").unwrap().host && !board.device("eth1").unwrap().host);
        assert_eq!(board.egress_ports, 6);
        let error = check(&text.replace("egress = 5", "egress = 1")).unwrap_err();
        assert!(error.contains("board.toml:25:10") && error.contains("egress port 1 of device 'host1' overlaps device 'eth1'"), "{error}");
        let error = check(&text.replace("\"host1\"", "\"eth0\"")).unwrap_err();
        assert!(error.contains("board.toml:24:8") && error.contains("host link 'eth0' has the name of another device"), "{error}");
        let error = check(&text.replace("egress = 5", "egress = 5\ningress = 3")).unwrap_err();
        assert!(error.contains("board.toml:26:1") && error.contains("unknown field `ingress`"), "{error}");
    }

    #[test]
    fn bad_address_bits() {
        let error = check(&GOOD.replace("= 12", "= 0")).unwrap_err();
        assert!(error.contains("board.toml:2:24"), "{error}");
    }
}
