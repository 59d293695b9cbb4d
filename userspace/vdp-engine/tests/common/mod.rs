//! Shared by the engine's integration tests: configurations compiled through the front end as
//! `vdpctl compile` (and `vdpctl run`) compile them, an engine made from the blob, packet
//! builders, and the small reference computations the property tests compare against.
#![allow(dead_code)]

use vdp_click::check::CheckOptions;
use vdp_click::source::{Diagnostics, Sources};
use vdp_click::system::SystemConfig;
use vdp_click::TenantSource;
use vdp_core::tunnel::{InnerKind, TunnelSpec};
use vdp_core::wire::ipv4::Address;
use vdp_core::catalog::Catalog;
use vdp_engine::{CustomClasses, DeviceSetup, Engine, RunError, Stopped};

/// The tenant every test configuration belongs to.
pub const TENANT: &str = "t";

/// A configuration compiled for [`TENANT`]: the blob, the devices its FromDevice and ToDevice
/// elements name (in the order they first appear), and the merged graph's elements with their
/// classes.
pub struct Compiled {
    pub blob: Vec<u8>,
    pub devices: Vec<String>,
    pub elements: Vec<(String, &'static str)>,
}

/// A system config with the one tenant [`TENANT`], whose devices are `devices`: what `vdpctl
/// run` makes for a configuration given without `--system`.
pub fn single_tenant_system(devices: &[String]) -> SystemConfig {
    single_tenant_system_with_host(devices, None)
}

/// [`single_tenant_system`] whose tenant has `host` (one of `devices`) as its host device, as
/// `vdpctl run` makes it for a configuration whose FromHost or ToHost names one.
pub fn single_tenant_system_with_host(devices: &[String], host: Option<&str>) -> SystemConfig {
    let names: Vec<&str> = devices.iter().map(String::as_str).collect();
    SystemConfig::single_tenant_with_host(TENANT, &names, host).unwrap_or_else(|problems| panic!("test system config: {problems:?}"))
}

/// The devices a configuration's device elements name, after `vdpctl check`'s own check of the
/// text (panics, with the diagnostics, when it has errors), and the one a FromHost or ToHost
/// names, if any.
fn devices_named(text: &str, options: &CheckOptions) -> (Vec<String>, Option<String>) {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let (_, checked) = vdp_click::check_text(&mut sources, "test.click", text, options, &mut diagnostics);
    assert!(!diagnostics.has_errors(), "check refused:\n{}\n{text}", sources.render_all(&diagnostics));
    let mut devices: Vec<String> = Vec::new();
    for device in checked.elements.iter().filter_map(|e| e.device()) {
        if !devices.iter().any(|d| d == device) {
            devices.push(device.to_string());
        }
    }
    let host = checked.elements.iter().filter(|e| vdp_click::check::HOST_CLASSES.contains(&e.class.name)).find_map(|e| e.device());
    (devices, host.map(str::to_string))
}

/// Compiles a tenant configuration as `vdpctl compile --system S t=FILE` does (and `vdpctl
/// run FILE` without `--system`): checked against the tenant's devices, merged, tasks split,
/// compiled and validated (`frontend.rs`, `compile_tenant`).
pub fn compile(text: &str) -> Compiled {
    let (devices, host) = devices_named(text, &CheckOptions::default());
    let system = single_tenant_system_with_host(&devices, host.as_deref());
    compile_for(text, &system, devices)
}

/// Compiles `text` for [`TENANT`] of `system` (whose devices include `devices`, what the
/// engine is given).
pub fn compile_for(text: &str, system: &SystemConfig, devices: Vec<String>) -> Compiled {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let inputs = [TenantSource { tenant: TENANT.to_string(), file_name: "test.click".to_string(), text: text.to_string(), catalog: vdp_core::catalog::Catalog::LIBRARY }];
    let merged = vdp_click::merge_tenants(&mut sources, system, &inputs, &mut diagnostics)
        .unwrap_or_else(|| panic!("merge refused:\n{}\n{text}", sources.render_all(&diagnostics)));
    let blob = vdp_click::compile::compile(&merged.checked, system).expect("compiles");
    vdp_click::compile::validate(&blob).expect("the compiled graph validates");
    let elements = merged.checked.elements.iter().map(|e| (e.name.clone(), e.class.name)).collect();
    Compiled { blob, devices, elements }
}

/// Compiles a merged graph (element names `t/NAME`), as `vdpctl check --merged --system S`
/// checks one: the coordinator's classes are allowed. Then the task analysis and the compiler
/// of `vdpctl compile`.
pub fn compile_merged(text: &str, devices: &[&str]) -> Compiled {
    compile_merged_in(Catalog::LIBRARY, text, devices)
}

/// [`compile_merged`] against `catalog` (an engine's, with its custom classes).
pub fn compile_merged_in(catalog: Catalog, text: &str, devices: &[&str]) -> Compiled {
    let devices: Vec<String> = devices.iter().map(|d| d.to_string()).collect();
    let system = single_tenant_system(&devices);
    let options = CheckOptions { catalog, ..vdp_click::merged_options(&system) };
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let (mut flat, _) = vdp_click::check_text(&mut sources, "merged.click", text, &options, &mut diagnostics);
    assert!(!diagnostics.has_errors(), "check --merged refused:\n{}\n{text}", sources.render_all(&diagnostics));
    let (checked, _) = vdp_click::tasks::analyze_and_split(&mut flat, &options, system.limits.task_budget_cycles)
        .unwrap_or_else(|found| panic!("task analysis refused: {:?}", found.items.len()));
    let blob = vdp_click::compile::compile(&checked, &system).expect("compiles");
    vdp_click::compile::validate_in(catalog, &blob).expect("the compiled graph validates");
    let elements = checked.elements.iter().map(|e| (e.name.clone(), e.class.name)).collect();
    Compiled { blob, devices, elements }
}

/// An Ethernet device's setup for the engine (the addresses matter only to IPv4 devices).
pub fn ethernet_device(name: &str) -> DeviceSetup {
    let spec = TunnelSpec::new(Address([192, 0, 2, 1]), Address([192, 0, 2, 2]), None, InnerKind::Ethernet);
    DeviceSetup { name: name.to_string(), spec, mac: [2, 0, 0, 0, 0, 1], peer_mac: [2, 0, 0, 0, 0, 2] }
}

/// An engine running a compiled configuration, with the helpers the tests use.
pub struct Run {
    pub engine: Engine,
    pub compiled: Compiled,
}

impl Run {
    pub fn new(compiled: Compiled) -> Run {
        Run::with_threads(compiled, 1)
    }

    /// The engine places the tasks on `threads` threads, as the kernel would (it runs them
    /// all in turn on this one).
    pub fn with_threads(compiled: Compiled, threads: u32) -> Run {
        Run::with_classes(compiled, threads, CustomClasses::stock().expect("the built-in classes"))
    }

    /// An engine with `classes` (built-ins and custom classes).
    pub fn with_classes(compiled: Compiled, threads: u32, classes: CustomClasses) -> Run {
        let devices = compiled.devices.iter().map(|d| ethernet_device(d)).collect();
        let engine = Engine::with_classes(classes, &compiled.blob, TENANT, devices, threads)
            .unwrap_or_else(|e| panic!("engine refused the graph: {e}"));
        Run { engine, compiled }
    }

    /// Compiles `text` as a tenant configuration and builds it.
    pub fn config(text: &str) -> Run {
        Run::new(compile(text))
    }

    /// Whether the merged graph holds an element of `class`.
    pub fn has_class(&self, class: &str) -> bool {
        self.compiled.elements.iter().any(|(_, c)| *c == class)
    }

    /// Frame `frame` arrives on `device` now; the graph then runs until it is idle at this
    /// instant (and no later: timers in the future are left).
    pub fn send(&mut self, device: &str, frame: &[u8]) {
        let now = self.engine.now_ns();
        self.send_at(device, frame, now);
    }

    /// A frame shorter than an Ethernet header never reaches the graph: the device drops it on
    /// receive, as the kernel's does (`rx_inner_truncated`). Every other frame must be queued.
    pub fn send_at(&mut self, device: &str, frame: &[u8], time_ns: u64) {
        let queued = self.engine.receive(device, frame, time_ns).expect("receive");
        assert_eq!(queued, frame.len() >= 14, "the device took a {}-byte frame: {queued}", frame.len());
        self.engine.advance_to(time_ns).expect("advance");
    }

    /// Runs until nothing is left to do (or the deadline).
    pub fn run_until(&mut self, until_ns: u64) -> Stopped {
        self.engine.run(until_ns, u64::MAX).expect("run")
    }

    pub fn try_run_until(&mut self, until_ns: u64) -> Result<Stopped, RunError> {
        self.engine.run(until_ns, u64::MAX)
    }

    /// The frames `device` transmitted since the last call, without their times.
    pub fn take(&mut self, device: &str) -> Vec<Vec<u8>> {
        self.engine.take_transmitted(device).expect("device").into_iter().map(|(_, frame)| frame).collect()
    }

    pub fn take_timed(&mut self, device: &str) -> Vec<(u64, Vec<u8>)> {
        self.engine.take_transmitted(device).expect("device")
    }

    /// Reads handler `element.handler` of the tenant's element `element`.
    pub fn read(&self, element: &str, handler: &str) -> String {
        self.engine
            .read_handler(&format!("{TENANT}/{element}"), handler)
            .unwrap_or_else(|e| panic!("read {element}.{handler}: {e:?}"))
    }

    pub fn read_int(&self, element: &str, handler: &str) -> u64 {
        let text = self.read(element, handler);
        text.trim().parse().unwrap_or_else(|_| panic!("{element}.{handler} is not an integer: {text:?}"))
    }

    pub fn write(&mut self, element: &str, handler: &str, value: &str) -> Result<(), vdp_core::element::HandlerError> {
        self.engine.write_handler(&format!("{TENANT}/{element}"), handler, value)
    }
}

// ---------------------------------------------------------------------------------------------
// Packets.

pub const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];
pub const MAC_A: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 1];
pub const MAC_B: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 2];

/// An Ethernet frame from MAC_A to MAC_B with `ethertype` around `payload`.
pub fn ether(ethertype: [u8; 2], payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(14 + payload.len());
    frame.extend_from_slice(&MAC_B);
    frame.extend_from_slice(&MAC_A);
    frame.extend_from_slice(&ethertype);
    frame.extend_from_slice(payload);
    frame
}

/// The Internet checksum as RFC 1071 describes it: the one's-complement sum of the 16-bit
/// words (an odd last byte padded with zero), carries folded back in, complemented. Written
/// independently of `vdp_core::wire::checksum`, as the reference the tests check against.
pub fn rfc1071(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut i = 0;
    while i + 1 < data.len() {
        sum += u32::from(data[i]) << 8 | u32::from(data[i + 1]);
        i += 2;
    }
    if i < data.len() {
        sum += u32::from(data[i]) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Fields of an IPv4 header the tests build packets from.
#[derive(Clone, Debug)]
pub struct Ip {
    pub tos: u8,
    pub ident: u16,
    /// Flags and fragment offset, as the 16-bit field.
    pub frag: u16,
    pub ttl: u8,
    pub proto: u8,
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub options: Vec<u8>,
}

impl Ip {
    pub fn new(proto: u8, src: [u8; 4], dst: [u8; 4]) -> Ip {
        Ip { tos: 0, ident: 1, frag: 0, ttl: 64, proto, src, dst, options: Vec::new() }
    }

    /// A well-formed packet: this header (options padded to a multiple of 4), a correct total
    /// length and checksum, then `payload`.
    pub fn packet(&self, payload: &[u8]) -> Vec<u8> {
        let mut options = self.options.clone();
        options.resize(options.len().div_ceil(4) * 4, 0);
        let header_len = 20 + options.len();
        let total = header_len + payload.len();
        let mut p = vec![0x40 | (header_len / 4) as u8, self.tos];
        p.extend_from_slice(&(total as u16).to_be_bytes());
        p.extend_from_slice(&self.ident.to_be_bytes());
        p.extend_from_slice(&self.frag.to_be_bytes());
        p.extend_from_slice(&[self.ttl, self.proto, 0, 0]);
        p.extend_from_slice(&self.src);
        p.extend_from_slice(&self.dst);
        p.extend_from_slice(&options);
        let sum = rfc1071(&p);
        p[10..12].copy_from_slice(&sum.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }
}

/// A UDP or TCP header's first bytes: the ports, then filler up to `len` bytes.
pub fn ports(src: u16, dst: u16, len: usize) -> Vec<u8> {
    let mut t = Vec::with_capacity(len.max(4));
    t.extend_from_slice(&src.to_be_bytes());
    t.extend_from_slice(&dst.to_be_bytes());
    t.resize(len.max(4), 0x5a);
    t
}

/// An IPv4-in-Ethernet frame with a UDP (17) payload.
pub fn udp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
    ether(ETHERTYPE_IPV4, &Ip::new(17, src, dst).packet(&ports(sport, dport, 8)))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn ipv4_text(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// Proptest case counts: `VDP_PROPTEST_CASES` overrides the test's own, as in vdp-core's tests.
pub fn cases(default: u32) -> u32 {
    std::env::var("VDP_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub const ETHERTYPE_ARP: [u8; 2] = [0x08, 0x06];
pub const ARP_REQUEST: u16 = 1;
pub const ARP_REPLY: u16 = 2;

/// An Ethernet frame holding an ARP message for IPv4 over Ethernet, field by field as RFC 826
/// lays it out: hardware type 1, protocol 0x0800, lengths 6 and 4, the operation, then the
/// sender's and the target's hardware and protocol addresses.
pub fn arp_frame(eth_dst: [u8; 6], eth_src: [u8; 6], operation: u16, sender: ([u8; 6], [u8; 4]), target: ([u8; 6], [u8; 4])) -> Vec<u8> {
    let mut frame = Vec::with_capacity(42);
    frame.extend_from_slice(&eth_dst);
    frame.extend_from_slice(&eth_src);
    frame.extend_from_slice(&ETHERTYPE_ARP);
    frame.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4]);
    frame.extend_from_slice(&operation.to_be_bytes());
    frame.extend_from_slice(&sender.0);
    frame.extend_from_slice(&sender.1);
    frame.extend_from_slice(&target.0);
    frame.extend_from_slice(&target.1);
    frame
}

/// `mac` as Click prints an Ethernet address: upper-case hex joined by `-`.
pub fn click_mac(mac: [u8; 6]) -> String {
    mac.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join("-")
}
