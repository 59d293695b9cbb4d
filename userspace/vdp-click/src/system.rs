//! The system config: physical devices, GRE tunnels, tenants and limits, in TOML.
//! `docs/system-config.md` describes every field.

use crate::check::Limits;
use crate::engines::{EngineDemand, Engines};
use crate::slices::{self, Allocation, Demand, SliceError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use vdp_core::click_value as cv;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub physical: Vec<PhysicalDevice>,
    #[serde(default)]
    pub tunnel: Vec<Tunnel>,
    #[serde(default)]
    pub tenant: Vec<Tenant>,
    /// The FPGA board, if the machine has one (the FPGA level, `docs/fpga.md`).
    #[serde(default)]
    pub fpga: Option<FpgaBoard>,
    /// The CPUs vdp's forwarding engines may use, and the share of each (`docs/pdp.md`).
    #[serde(default)]
    pub engines: Option<Engines>,
}

/// `[fpga]`: the board the FPGA level targets.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FpgaBoard {
    /// Path of the board description (TOML), relative to the system config's directory.
    pub board: String,
}

/// `[tenant.fpga]`: the tenant may use the FPGA level, within this chip area.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FpgaBudget {
    /// Look-up tables the tenant's FPGA part may use.
    pub luts: u64,
    /// Flip-flops.
    pub flip_flops: u64,
    /// Block RAMs (36 Kbit each).
    pub block_rams: u64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PhysicalDevice {
    pub name: String,
    /// The device's own Ethernet address, the source of outgoing tunnel frames. Absent: read
    /// from the host's interface when the config is applied; present: it must agree with it.
    #[serde(default)]
    pub mac: Option<String>,
    /// Packets the shared transmit queue holds.
    #[serde(default = "default_physical_queue")]
    pub queue_capacity: u32,
}

/// `queue_capacity` when the config gives none.
pub fn default_physical_queue() -> u32 {
    1000
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Carries {
    /// The tunnel carries IPv4 packets (GRE protocol 0x0800).
    Ip,
    /// The tunnel carries whole Ethernet frames (GRE protocol 0x6558).
    Ethernet,
}

impl Carries {
    pub fn gre_protocol(self) -> u16 {
        match self {
            Carries::Ip => 0x0800,
            Carries::Ethernet => 0x6558,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tunnel {
    pub name: String,
    pub physical: String,
    pub local: String,
    pub remote: String,
    #[serde(default)]
    pub key: Option<u32>,
    pub carries: Carries,
    /// Ethernet address of the next hop towards `remote`; there is no ARP in the data plane.
    /// Absent: resolved from the host's neighbour table when the config is applied.
    #[serde(default)]
    pub next_hop_mac: Option<String>,
    /// TTL of outer headers (default 64).
    #[serde(default)]
    pub ttl: Option<u8>,
    /// Set DF on outer headers (default true).
    #[serde(default)]
    pub dont_fragment: Option<bool>,
    /// Send GRE checksums (default false); received ones are always verified.
    #[serde(default)]
    pub checksum: Option<bool>,
    /// Largest outer IPv4 packet (default 1500); larger packets are dropped and counted.
    #[serde(default)]
    pub mtu: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub name: String,
    pub cgroup: String,
    /// Percent of one CPU.
    pub cpu_share: u32,
    /// Bandwidth each of the tenant's devices may send, e.g. "10Mbps"; absent means unlimited.
    /// The module holds every device to it on the transmit path (`kmod/core/tx_cap.rs`).
    #[serde(default)]
    pub bandwidth_cap: Option<String>,
    /// Bandwidth all of the tenant's devices may send together, e.g. "15Mbps"; absent means
    /// unlimited. Held by the module beside `bandwidth_cap`.
    #[serde(default)]
    pub aggregate_bandwidth_cap: Option<String>,
    /// Memory the tenant's data plane (graphs, tables, queues) may hold, e.g. "64MiB"; absent
    /// means unlimited. Becomes `memory.max` of the tenant's `dataplane` cgroup.
    #[serde(default)]
    pub memory_max: Option<String>,
    #[serde(default)]
    pub device: Vec<VirtualDevice>,
    /// The device through which the tenant's ToHost and FromHost reach the host: one of its
    /// own devices. Absent: the tenant may use neither.
    #[serde(default)]
    pub host_device: Option<String>,
    /// What of the tenant's graph may run in its container engine.
    #[serde(default)]
    pub container_level: ContainerLevel,
    /// Present when the tenant may place the FPGA-capable prefix of its graph on the board.
    #[serde(default)]
    pub fpga: Option<FpgaBudget>,
    /// Slots in each ring of the channel to the tenant's container engine; absent means
    /// [`CHANNEL_SLOTS_DEFAULT`].
    #[serde(default)]
    pub channel_slots: Option<u32>,
    /// The processing power the tenant requires, in engines; it gets slices of the engines of
    /// `[engines]` ([`SystemConfig::slices`]). Absent: none are set aside for it.
    #[serde(default)]
    pub engines: Option<EngineDemand>,
}

/// Slots per ring of a container engine's channel when the system config does not say.
pub const CHANNEL_SLOTS_DEFAULT: u32 = 256;

impl Tenant {
    /// `memory_max` in bytes; `None` when unlimited. Validated by [`SystemConfig::parse`].
    pub fn memory_max_bytes(&self) -> Option<u64> {
        self.memory_max.as_deref().and_then(|text| parse_memory_size(text).ok())
    }
}

/// Smallest and largest `memory_max`: below 1 MiB a memory cgroup cannot hold even a thread's
/// kernel stack and a small graph.
pub const MEMORY_MAX_MIN: u64 = 1 << 20;
pub const MEMORY_MAX_MAX: u64 = 1 << 40;

/// A size in bytes: a whole number with an optional binary suffix, `K`/`KiB`, `M`/`MiB`,
/// `G`/`GiB` (`"64MiB"`, `"512K"`, `"1048576"`).
pub fn parse_memory_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, suffix) = text.split_at(digits);
    let number: u64 = number.parse().map_err(|_| format!("'{text}' is not a size like 64MiB"))?;
    let unit: u64 = match suffix.trim() {
        "" | "B" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        other => return Err(format!("'{text}': unknown size unit '{other}' (use K, M or G, or KiB, MiB, GiB)")),
    };
    let bytes = number.checked_mul(unit).ok_or_else(|| format!("'{text}' is too large"))?;
    if !(MEMORY_MAX_MIN..=MEMORY_MAX_MAX).contains(&bytes) {
        return Err(format!("'{text}' is outside 1MiB..=1TiB"));
    }
    Ok(bytes)
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualDevice {
    /// The name the tenant's configuration uses; two tenants may both have `eth1`.
    pub name: String,
    pub tunnel: String,
    /// The device's internal address and prefix, e.g. "10.1.0.1/24".
    pub address: String,
    /// Ethernet address frames delivered to the tenant carry; derived when absent.
    #[serde(default)]
    pub mac: Option<String>,
}

/// What of a tenant's graph may run at the container level, in its own user-space engine
/// (`[[tenant]] container_level`; see `docs/system-config.md`).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ContainerLevel {
    /// No container engine: everything runs in the kernel, and a class that runs only in the
    /// container is an error.
    Never,
    /// Classes that run only in the container go there, with the free elements a minimum cut
    /// places beside them; tasks over the budget are split in the kernel, as always.
    #[default]
    Custom,
    /// As `custom`, and a task over the budget moves to the container instead of being split.
    Auto,
    /// Every task moves to the container, as under `auto` with a budget of 0: only what must
    /// stay in the kernel stays (the devices, what they pull from, the coordinator's elements).
    /// For comparing the two levels on one graph (`make bench-container`).
    All,
}

/// The kernel's rule, so that every tenant in a system config can be created in the module.
pub fn valid_tenant_name(name: &str) -> bool {
    vdp_core::uapi::valid_tenant_name(name.as_bytes())
}

/// Prefix of the coordinator's own elements; no tenant may take it.
pub const SHARED_PREFIX: &str = "phys";

impl SystemConfig {
    /// A system config with one tenant, `tenant`, whose devices are `devices`, each over its own
    /// tunnel that carries Ethernet frames (the system config has no default for `carries`; with
    /// `ethernet` the captures hold the very frames the graph sees). The tenant has all of one CPU,
    /// no bandwidth cap and no memory limit, and the config's limits are the defaults, so the
    /// configuration is checked as `vdpctl check FILE` checks it and `vdpctl run` runs it without
    /// `--system`. The addresses are the TEST-NET and private ones the format requires; a run
    /// over Ethernet devices does not use them. The error is `validate`'s list of problems.
    pub fn single_tenant(tenant: &str, devices: &[&str]) -> Result<SystemConfig, Vec<String>> {
        Self::single_tenant_with_host(tenant, devices, None)
    }

    /// [`SystemConfig::single_tenant`] whose tenant has `host` (one of `devices`) as its host
    /// device: what `vdpctl run` makes for a configuration whose FromHost or ToHost names one.
    pub fn single_tenant_with_host(tenant: &str, devices: &[&str], host: Option<&str>) -> Result<SystemConfig, Vec<String>> {
        let physical = "phys0";
        let config = SystemConfig {
            limits: Default::default(),
            physical: vec![PhysicalDevice {
                name: physical.to_string(),
                mac: Some("02:76:64:70:00:00".to_string()),
                queue_capacity: default_physical_queue(),
            }],
            tunnel: (0..devices.len())
                .map(|i| Tunnel {
                    name: format!("tunnel{i}"),
                    physical: physical.to_string(),
                    local: "192.0.2.1".to_string(),
                    remote: "192.0.2.2".to_string(),
                    key: Some(i as u32 + 1),
                    carries: Carries::Ethernet,
                    next_hop_mac: Some("02:76:64:70:00:01".to_string()),
                    ttl: None,
                    dont_fragment: None,
                    checksum: None,
                    mtu: None,
                })
                .collect(),
            tenant: vec![Tenant {
                name: tenant.to_string(),
                cgroup: format!("vdp/{tenant}"),
                cpu_share: 100,
                bandwidth_cap: None,
                aggregate_bandwidth_cap: None,
                memory_max: None,
                container_level: Default::default(),
                fpga: None,
                channel_slots: None,
                engines: None,
                host_device: host.map(str::to_string),
                device: devices
                    .iter()
                    .enumerate()
                    .map(|(i, name)| VirtualDevice {
                        name: name.to_string(),
                        tunnel: format!("tunnel{i}"),
                        address: format!("10.{}.{}.1/24", i / 256, i % 256),
                        mac: None,
                    })
                    .collect(),
            }],
            fpga: None,
            engines: None,
        };
        let problems = config.validate();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// The id a tenant has in the module: its position in the file, from 1.
    pub fn tenant_id(&self, name: &str) -> Option<u32> {
        let index = self.tenant.iter().position(|t| t.name == name)?;
        u32::try_from(index + 1).ok()
    }

    /// Parses and validates; every problem is listed.
    pub fn parse(text: &str) -> Result<SystemConfig, Vec<String>> {
        let config: SystemConfig = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
        let problems = config.validate();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// [`SystemConfig::parse`] of the file `file`: a bad transmit cap is reported at the
    /// `file:line:col` of its value.
    pub fn parse_file(file: &str, text: &str) -> Result<SystemConfig, Vec<String>> {
        let config: SystemConfig = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
        let spans: CapSpans = toml::from_str(text).unwrap_or_default();
        let at = |tenant: usize, key: &str| {
            let spans = spans.tenant.get(tenant)?;
            let span = match key {
                "bandwidth_cap" => spans.bandwidth_cap.as_ref()?.span(),
                _ => spans.aggregate_bandwidth_cap.as_ref()?.span(),
            };
            let (line, col) = line_col(text, span.start);
            Some(format!("{file}:{line}:{col}"))
        };
        let problems = config.validate_at(&at);
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// What of `tenant`'s graph may run in its container engine (`custom` for a tenant the
    /// config does not name).
    pub fn container_level(&self, tenant: &str) -> ContainerLevel {
        self.tenant(tenant).map_or_else(ContainerLevel::default, |t| t.container_level)
    }

    /// The device through which `tenant` reaches the host (ToHost, FromHost), if the config
    /// names one.
    pub fn host_device(&self, tenant: &str) -> Option<&str> {
        self.tenant(tenant)?.host_device.as_deref()
    }

    /// Slots in each ring of `tenant`'s container engine channel.
    pub fn channel_slots(&self, tenant: &str) -> u32 {
        self.tenant(tenant).and_then(|t| t.channel_slots).unwrap_or(CHANNEL_SLOTS_DEFAULT)
    }

    /// The FPGA area budget of `tenant`, if it may use the FPGA level (and the config names a
    /// board).
    pub fn fpga_budget(&self, tenant: &str) -> Option<FpgaBudget> {
        self.fpga.as_ref()?;
        self.tenant(tenant)?.fpga
    }

    /// The engines' slices for the tenants that require engines ([`slices::allocate`], in the
    /// config's order), or why they do not fit; `None` without `[engines]`.
    pub fn slices(&self) -> Option<Result<Allocation, SliceError>> {
        let engines = self.engines.as_ref()?;
        let demands: Vec<Demand> = self
            .tenant
            .iter()
            .filter_map(|t| t.engines.map(|e| Demand { tenant: t.name.clone(), units: e.0 }))
            .collect();
        Some(slices::allocate(&engines.cpus, slices::UNITS_PER_ENGINE, &demands))
    }

    pub fn tenant(&self, name: &str) -> Option<&Tenant> {
        self.tenant.iter().find(|t| t.name == name)
    }

    pub fn tunnel(&self, name: &str) -> Option<&Tunnel> {
        self.tunnel.iter().find(|t| t.name == name)
    }

    pub fn physical(&self, name: &str) -> Option<&PhysicalDevice> {
        self.physical.iter().find(|p| p.name == name)
    }

    /// Every problem with the config, as [`SystemConfig::parse`] lists them; for configs built
    /// in code rather than read from a file.
    pub fn validate(&self) -> Vec<String> {
        self.validate_at(&|_, _| None)
    }

    /// [`SystemConfig::validate`], with `at(tenant index, key)` giving the place of a tenant's
    /// key in its file, where known, to start the key's problems with.
    fn validate_at(&self, at: &dyn Fn(usize, &str) -> Option<String>) -> Vec<String> {
        let mut problems = Vec::new();
        let duplicates = |kind: &str, names: Vec<&str>, problems: &mut Vec<String>| {
            let mut seen = HashSet::new();
            for name in names {
                if !seen.insert(name) {
                    problems.push(format!("{kind} '{name}' is defined twice"));
                }
            }
        };
        duplicates("physical device", self.physical.iter().map(|p| p.name.as_str()).collect(), &mut problems);
        duplicates("tunnel", self.tunnel.iter().map(|t| t.name.as_str()).collect(), &mut problems);
        duplicates("tenant", self.tenant.iter().map(|t| t.name.as_str()).collect(), &mut problems);
        for physical in &self.physical {
            if cv::check_device_name(&physical.name).is_err() {
                problems.push(format!("physical device name '{}' is not a valid device name", physical.name));
            }
            if let Some(mac) = physical.mac.as_deref().filter(|mac| cv::parse_ether(mac).is_err()) {
                problems.push(format!("physical device '{}': mac '{mac}' is not an Ethernet address", physical.name));
            }
            if physical.queue_capacity == 0 || i64::from(physical.queue_capacity) > vdp_core::catalog::MAX_QUEUE_CAPACITY {
                problems.push(format!("physical device '{}': queue_capacity must be 1 to {}", physical.name, vdp_core::catalog::MAX_QUEUE_CAPACITY));
            }
        }
        let mut endpoints = HashSet::new();
        for tunnel in &self.tunnel {
            let context = format!("tunnel '{}'", tunnel.name);
            if self.physical(&tunnel.physical).is_none() {
                problems.push(format!("{context}: physical device '{}' is not defined", tunnel.physical));
            }
            for (field, value) in [("local", &tunnel.local), ("remote", &tunnel.remote)] {
                if cv::parse_ipv4(value).is_err() {
                    problems.push(format!("{context}: {field} '{value}' is not an IPv4 address"));
                }
            }
            if let Some(mtu) = tunnel.mtu {
                if !(vdp_core::uapi::TUNNEL_MTU_MIN..=65535).contains(&mtu) {
                    problems.push(format!("{context}: mtu {mtu} is outside {}..=65535", vdp_core::uapi::TUNNEL_MTU_MIN));
                }
            }
            if tunnel.ttl == Some(0) {
                problems.push(format!("{context}: ttl must be at least 1"));
            }
            if let Some(mac) = tunnel.next_hop_mac.as_deref().filter(|mac| cv::parse_ether(mac).is_err()) {
                problems.push(format!("{context}: next_hop_mac '{mac}' is not an Ethernet address"));
            }
            if !endpoints.insert((&tunnel.physical, &tunnel.local, &tunnel.remote, tunnel.key)) {
                problems.push(format!("{context}: another tunnel on '{}' has the same endpoints and key, so arriving packets could not be told apart", tunnel.physical));
            }
        }
        let mut used_tunnels = HashSet::new();
        let mut total_share = 0u64;
        for (index, tenant) in self.tenant.iter().enumerate() {
            let context = format!("tenant '{}'", tenant.name);
            if !valid_tenant_name(&tenant.name) || tenant.name == SHARED_PREFIX {
                problems.push(format!(
                    "{context}: names are a lower-case letter then up to {} of [a-z0-9_], and not '{SHARED_PREFIX}'",
                    vdp_core::uapi::TENANT_NAME_MAX - 1
                ));
            }
            if tenant.cgroup.is_empty() {
                problems.push(format!("{context}: cgroup must not be empty"));
            }
            if !(1..=100).contains(&tenant.cpu_share) {
                problems.push(format!("{context}: cpu_share is a percentage from 1 to 100"));
            }
            total_share += u64::from(tenant.cpu_share);
            for (key, cap) in [("bandwidth_cap", &tenant.bandwidth_cap), ("aggregate_bandwidth_cap", &tenant.aggregate_bandwidth_cap)] {
                if let Some(problem) = cap.as_deref().and_then(|cap| cap_problem(key, cap)) {
                    match at(index, key) {
                        Some(place) => problems.push(format!("{place}: {context}: {problem}")),
                        None => problems.push(format!("{context}: {problem}")),
                    }
                }
            }
            if let Some(size) = &tenant.memory_max {
                if let Err(e) = parse_memory_size(size) {
                    problems.push(format!("{context}: memory_max {e}"));
                }
            }
            if let Some(slots) = tenant.channel_slots {
                use vdp_core::channel::{MAX_SLOTS, MIN_SLOTS};
                if !(slots.is_power_of_two() && (MIN_SLOTS..=MAX_SLOTS).contains(&slots)) {
                    problems.push(format!("{context}: channel_slots is a power of two from {MIN_SLOTS} to {MAX_SLOTS}, not {slots}"));
                }
            }
            if let Some(host) = &tenant.host_device {
                if cv::check_device_name(host).is_err() {
                    problems.push(format!("{context}: host_device '{host}' is not a valid device name"));
                } else if !tenant.device.iter().any(|device| &device.name == host) {
                    let names: Vec<&str> = tenant.device.iter().map(|device| device.name.as_str()).collect();
                    let have = if names.is_empty() { "it has no devices".to_string() } else { format!("its devices are {}", names.join(", ")) };
                    problems.push(format!("{context}: host_device '{host}' is not one of the tenant's devices ({have})"));
                }
            }
            let mut names = HashSet::new();
            for device in &tenant.device {
                if !names.insert(&device.name) {
                    problems.push(format!("{context}: device '{}' is listed twice", device.name));
                }
                if cv::check_device_name(&device.name).is_err() {
                    problems.push(format!("{context}: '{}' is not a valid device name", device.name));
                }
                if cv::parse_prefix(&device.address).is_err() {
                    problems.push(format!("{context}: device '{}' address '{}' is not an IPv4 prefix", device.name, device.address));
                }
                if let Some(mac) = &device.mac {
                    if cv::parse_ether(mac).is_err() {
                        problems.push(format!("{context}: device '{}' mac '{mac}' is not an Ethernet address", device.name));
                    }
                }
                if self.tunnel(&device.tunnel).is_none() {
                    problems.push(format!("{context}: device '{}' uses tunnel '{}', which is not defined", device.name, device.tunnel));
                } else if !used_tunnels.insert(&device.tunnel) {
                    problems.push(format!("{context}: tunnel '{}' is already used by another device", device.tunnel));
                }
            }
        }
        if let (None, Some(tenant)) = (&self.fpga, self.tenant.iter().find(|t| t.fpga.is_some())) {
            problems.push(format!("tenant '{}': [tenant.fpga] needs a board ([fpga] board = \"BOARD.toml\")", tenant.name));
        }
        if self.fpga.as_ref().is_some_and(|f| f.board.trim().is_empty()) {
            problems.push("[fpga] board must name a board file".to_string());
        }
        if total_share > 100 {
            problems.push(format!("the tenants' cpu_share add up to {total_share}%, more than 100%"));
        }
        match (&self.engines, self.tenant.iter().find(|t| t.engines.is_some())) {
            (None, Some(tenant)) => problems.push(format!("tenant '{}': engines needs [engines] (the CPUs vdp may use: cpus = [0, 1])", tenant.name)),
            _ => {
                if let Some(Err(e)) = self.slices() {
                    problems.push(e.to_string());
                }
            }
        }
        problems
    }
}

/// What is wrong with a transmit cap's value, if anything: it must be a bandwidth above zero
/// and at most what the module accepts ([`vdp_core::tx_cap::RATE_MAX`] bytes per second).
fn cap_problem(key: &str, cap: &str) -> Option<String> {
    match cv::parse_bandwidth(cap) {
        Ok(0) => Some(format!("{key} '{cap}' is zero: leave the key out for no cap")),
        Ok(rate) if rate > vdp_core::tx_cap::RATE_MAX => {
            Some(format!("{key} '{cap}' is above the largest cap, {} bytes per second", vdp_core::tx_cap::RATE_MAX))
        }
        Ok(_) => None,
        Err(_) => Some(format!("{key} '{cap}' is not a bandwidth like 10Mbps (bits) or 2MBps (bytes)")),
    }
}

/// Where the transmit caps' values are in a system config's text (read beside the config
/// itself, which has no places).
#[derive(Default, Deserialize)]
struct CapSpans {
    #[serde(default)]
    tenant: Vec<TenantCapSpans>,
}

#[derive(Default, Deserialize)]
struct TenantCapSpans {
    #[serde(default)]
    bandwidth_cap: Option<toml::Spanned<String>>,
    #[serde(default)]
    aggregate_bandwidth_cap: Option<toml::Spanned<String>>,
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const SAMPLE: &str = r#"
[limits]
max_elements = 200
task_budget_cycles = 15000

[[physical]]
name = "eth0"
mac = "52:54:00:12:34:56"

[[tunnel]]
name = "a1"
physical = "eth0"
local = "192.0.2.1"
remote = "192.0.2.10"
key = 7
carries = "ip"
next_hop_mac = "52:54:00:aa:bb:cc"

[[tenant]]
name = "a"
cgroup = "vdp/a"
cpu_share = 40
bandwidth_cap = "10Mbps"
[[tenant.device]]
name = "eth1"
tunnel = "a1"
address = "10.1.0.1/24"
"#;

    #[test]
    fn parses_a_valid_config() {
        let config = SystemConfig::parse(SAMPLE).unwrap();
        assert_eq!(config.limits.max_elements, 200);
        assert_eq!(config.limits.max_queue_capacity, Limits::default().max_queue_capacity);
        assert_eq!(config.tenant[0].device[0].tunnel, "a1");
        assert_eq!(config.tunnel[0].carries, Carries::Ip);
        assert_eq!(config.physical[0].mac.as_deref(), Some("52:54:00:12:34:56"));
    }

    #[test]
    fn the_host_may_supply_the_macs() {
        let bare = SAMPLE.replace("mac = \"52:54:00:12:34:56\"\n", "").replace("next_hop_mac = \"52:54:00:aa:bb:cc\"\n", "");
        let config = SystemConfig::parse(&bare).unwrap();
        assert_eq!((config.physical[0].mac.as_deref(), config.tunnel[0].next_hop_mac.as_deref()), (None, None));
        let bad = SAMPLE.replace("\"52:54:00:12:34:56\"", "\"52:54:00\"").replace("\"52:54:00:aa:bb:cc\"", "\"nope\"");
        let problems = SystemConfig::parse(&bad).unwrap_err();
        assert_eq!(problems, [
            "physical device 'eth0': mac '52:54:00' is not an Ethernet address",
            "tunnel 'a1': next_hop_mac 'nope' is not an Ethernet address"
        ]);
    }

    #[test]
    fn lists_every_problem() {
        let bad = SAMPLE
            .replace("key = 7", "")
            .replace("\"192.0.2.10\"", "\"192.0.2.300\"")
            .replace("cpu_share = 40", "cpu_share = 0")
            .replace("tunnel = \"a1\"\naddress", "tunnel = \"zz\"\naddress")
            .replace("name = \"a\"", "name = \"phys\"");
        let problems = SystemConfig::parse(&bad).unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        let unknown = SystemConfig::parse("[limits]\nmax_elefants = 3\n").unwrap_err();
        assert!(unknown[0].contains("unknown field"), "{unknown:?}");
    }

    #[test]
    fn fpga_board_and_budgets() {
        let with = |extra: &str, tenant: &str| SystemConfig::parse(&format!("{extra}{}", SAMPLE.replace("bandwidth_cap = \"10Mbps\"\n", &format!("bandwidth_cap = \"10Mbps\"\n{tenant}")))).map(|c| c.fpga_budget("a"));
        let budget = "[tenant.fpga]\nluts = 5000\nflip_flops = 8000\nblock_rams = 4\n";
        let board = "[fpga]\nboard = \"boards/sim2.toml\"\n";
        assert_eq!(with(board, budget), Ok(Some(FpgaBudget { luts: 5000, flip_flops: 8000, block_rams: 4 })));
        assert_eq!(with(board, ""), Ok(None));
        let problems = with("", budget).unwrap_err();
        assert!(problems[0].contains("tenant 'a': [tenant.fpga] needs a board"), "{problems:?}");
        let problems = with(board, &budget.replace("luts", "lutz")).unwrap_err();
        assert!(problems[0].contains("unknown field `lutz`") && problems[0].contains("line"), "{problems:?}");
        let problems = with(board, &budget.replace("block_rams = 4\n", "")).unwrap_err();
        assert!(problems[0].contains("missing field `block_rams`"), "{problems:?}");
    }

    #[test]
    fn bad_caps_are_errors_at_their_place() {
        let text = SAMPLE.replace("bandwidth_cap = \"10Mbps\"", "bandwidth_cap = \"10Mbps\"\naggregate_bandwidth_cap = \"15Mbps\"");
        let config = SystemConfig::parse_file("s.toml", &text).unwrap();
        assert_eq!(config.tenant[0].aggregate_bandwidth_cap.as_deref(), Some("15Mbps"));
        let line = text.lines().position(|l| l.starts_with("aggregate_bandwidth_cap")).unwrap() + 1;
        for (bad, why) in [("fast", "is not a bandwidth"), ("0Mbps", "is zero"), ("9000000GBps", "is above the largest cap")] {
            let problems = SystemConfig::parse_file("s.toml", &text.replace("\"15Mbps\"", &format!("\"{bad}\""))).unwrap_err();
            assert_eq!(problems.len(), 1, "{problems:?}");
            let expected = format!("s.toml:{line}:27: tenant 'a': aggregate_bandwidth_cap '{bad}' {why}");
            assert!(problems[0].starts_with(&expected), "{problems:?} vs {expected}");
        }
        let problems = SystemConfig::parse_file("s.toml", &text.replace("\"10Mbps\"", "\"10 apples\"")).unwrap_err();
        assert!(problems[0].starts_with(&format!("s.toml:{}:17: tenant 'a': bandwidth_cap '10 apples'", line - 1)), "{problems:?}");
        // Without a file, the same problem without a place.
        let problems = SystemConfig::parse(&text.replace("\"15Mbps\"", "\"fast\"")).unwrap_err();
        assert!(problems[0].starts_with("tenant 'a': aggregate_bandwidth_cap 'fast'"), "{problems:?}");
    }

    #[test]
    fn host_devices_are_the_tenants_own() {
        let with = |line: &str| SystemConfig::parse(&SAMPLE.replace("cpu_share = 40", &format!("cpu_share = 40\n{line}")));
        let config = with("host_device = \"eth1\"").unwrap();
        assert_eq!(config.host_device("a"), Some("eth1"));
        assert_eq!(SystemConfig::parse(SAMPLE).unwrap().host_device("a"), None);
        let problems = with("host_device = \"eth9\"").unwrap_err();
        assert_eq!(problems, ["tenant 'a': host_device 'eth9' is not one of the tenant's devices (its devices are eth1)"]);
        let problems = with("host_device = \"a/b\"").unwrap_err();
        assert!(problems[0].contains("host_device 'a/b' is not a valid device name"), "{problems:?}");
    }

    /// SAMPLE with `[engines]` (`engines`, empty for none) before it and `line` added to its
    /// tenant.
    fn with_engines(engines: &str, line: &str) -> Result<SystemConfig, Vec<String>> {
        SystemConfig::parse(&format!("{engines}{}", SAMPLE.replace("cpu_share = 40", &format!("cpu_share = 40\n{line}"))))
    }

    #[test]
    fn engines_are_sliced() {
        let config = with_engines("[engines]\ncpus = [2, 3]\nshare = 75\n", "engines = 1.5").unwrap();
        let engines = config.engines.as_ref().unwrap();
        assert_eq!((engines.cpus.as_slice(), engines.share), (&[2, 3][..], 75));
        assert_eq!(config.tenant[0].engines, Some(EngineDemand(150)));
        let slices = config.slices().unwrap().unwrap();
        let got: Vec<(u32, u32)> = slices.tenants[0].slices.iter().map(|s| (s.cpu, s.units)).collect();
        assert_eq!(got, [(2, 100), (3, 50)]);
        assert_eq!(engines.cpu_hundredths(50), 3750);
        let whole = with_engines("[engines]\ncpus = [0]\n", "engines = 1").unwrap();
        assert_eq!((whole.engines.as_ref().unwrap().share, whole.tenant[0].engines), (100, Some(EngineDemand(100))));
        assert!(SystemConfig::parse(SAMPLE).unwrap().slices().is_none());
        let none = with_engines("[engines]\ncpus = [0]\n", "").unwrap();
        assert!(none.slices().unwrap().unwrap().tenants.is_empty());
    }

    #[test]
    fn bad_engine_values_are_placed() {
        // After the two lines of [engines] added before SAMPLE (which starts with an empty line),
        // the tenant's `engines` line is line 25.
        let cases = [
            ("cpus = [0]\nsahre = 50\n", "", "line 3, column 1", "unknown field `sahre`"),
            ("cpus = []\n", "", "line 2, column 8", "cpus must name at least one CPU"),
            ("cpus = [1, 1]\n", "", "line 2, column 8", "cpu 1 is listed twice"),
            ("cpus = [1024]\n", "", "line 2, column 8", "cpu 1024 is not a CPU number (0 to 1023)"),
            ("cpus = [-1]\n", "", "line 2, column 9", "invalid value"),
            ("cpus = [0]\nshare = 0\n", "", "line 3, column 9", "share is the percent of each CPU vdp may use, 1 to 100, not 0"),
            ("cpus = [0]\nshare = 101\n", "", "line 3, column 9", "not 101"),
            ("cpus = [0]\n", "engines = 0", "line 25, column 11", "engines is a number of engines above 0"),
            ("cpus = [0]\n", "engines = -1.5", "line 25, column 11", "not -1.5"),
            ("cpus = [0]\n", "engines = 1.234", "line 25, column 11", "to two decimals (1.5, 0.25), not 1.234"),
            ("cpus = [0]\n", "engines = \"1.5\"", "line 25, column 11", "expected a number of engines"),
            ("cpus = [0]\n", "engines = 1025", "line 25, column 11", "at most 1024"),
        ];
        for (engines, line, place, message) in cases {
            let problems = with_engines(&format!("[engines]\n{engines}"), line).unwrap_err();
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].contains(place) && problems[0].contains(message), "{engines} {line}: {problems:?}");
        }
    }

    #[test]
    fn engines_need_engines_and_must_fit() {
        let problems = with_engines("", "engines = 0.5").unwrap_err();
        assert_eq!(problems, ["tenant 'a': engines needs [engines] (the CPUs vdp may use: cpus = [0, 1])"]);
        let problems = with_engines("[engines]\ncpus = [0]\n", "engines = 1.25").unwrap_err();
        assert_eq!(problems, ["tenant 'a' needs 1.25 engines, which brings the tenants' total to 1.25 engines, more than the 1 [engines] gives (0.25 short)"]);
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_memory_size("1536K"), Ok(1536 << 10));
        assert_eq!(parse_memory_size("2G"), Ok(2 << 30));
        assert_eq!(parse_memory_size("1048576"), Ok(1 << 20));
        assert!(parse_memory_size("1000").unwrap_err().contains("outside"));
        assert!(parse_memory_size("64MB").unwrap_err().contains("unknown size unit"));
        assert!(parse_memory_size("lots").is_err());
        assert!(parse_memory_size("99999999999999999999G").is_err());
        let bad = SAMPLE.replace("cpu_share = 40", "cpu_share = 40\nmemory_max = \"12 parsecs\"");
        let problems = SystemConfig::parse(&bad).unwrap_err();
        assert!(problems[0].contains("memory_max"), "{problems:?}");
        let good = SAMPLE.replace("cpu_share = 40", "cpu_share = 40\nmemory_max = \"32MiB\"");
        assert_eq!(SystemConfig::parse(&good).unwrap().tenant[0].memory_max_bytes(), Some(32 << 20));
        for bad in ["0", "8", "100", "2048"] {
            let text = SAMPLE.replace("cpu_share = 40", &format!("cpu_share = 40\nchannel_slots = {bad}"));
            let problems = SystemConfig::parse(&text).unwrap_err();
            assert!(problems[0].contains(&format!("channel_slots is a power of two from 16 to 1024, not {bad}")), "{problems:?}");
        }
        let slots = SystemConfig::parse(&SAMPLE.replace("cpu_share = 40", "cpu_share = 40\nchannel_slots = 64")).unwrap();
        let first = slots.tenant[0].name.clone();
        assert_eq!(slots.channel_slots(&first), 64);
        assert_eq!(slots.channel_slots("nobody"), CHANNEL_SLOTS_DEFAULT);
    }
}
