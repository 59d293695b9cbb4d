//! `vdpctl port …`, `vdpctl vdev …` and `vdpctl system apply`: physical devices, tenants'
//! virtual devices (GRE tunnels), and bringing the module in line with a system config.

use crate::attrs::{self, CounterAttr, DeviceAttr, VdpAttr};
use crate::netlink::{NlError, VdpMessage, VdpSocket};
use crate::output::Output;
use crate::tenant_ref::{parse_tenant_ref, resolve, TenantRef};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vdp_click::system::{Carries, SystemConfig};
use vdp_core::click_value;
use vdp_core::uapi::{self, cmd};

#[derive(Subcommand)]
pub enum PortCommand {
    /// Hook vdp onto a physical device: GRE packets of configured tunnels are claimed from then
    /// on, everything else still reaches the host.
    #[command(visible_alias = "attach")]
    Add {
        /// The physical device (e.g. eth0).
        ifname: String,
    },
    /// Let go of a physical device; its tunnels stay configured.
    #[command(visible_alias = "detach")]
    Del {
        /// The physical device.
        ifname: String,
    },
    /// Show the physical devices vdp knows, with their drop counters.
    #[command(visible_alias = "list")]
    Show,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CarriesArg {
    /// The tunnel carries IPv4 packets (GRE protocol 0x0800).
    Ip,
    /// The tunnel carries Ethernet frames (transparent Ethernet bridging, 0x6558).
    Ethernet,
}

#[derive(Subcommand)]
pub enum VdevCommand {
    /// Create a tenant's virtual device: a GRE tunnel over an attached physical device.
    Add(VdevAddArgs),
    /// Delete a tenant's virtual device (refused while its graph uses it).
    Del {
        /// The tenant: its id or its name.
        #[arg(long, value_parser = parse_tenant_ref)]
        tenant: TenantRef,
        /// The device's name in the tenant's configuration.
        name: String,
    },
    /// Show a tenant's virtual devices and their counters.
    #[command(visible_alias = "list")]
    Show {
        /// The tenant: its id or its name.
        #[arg(long, value_parser = parse_tenant_ref)]
        tenant: TenantRef,
        /// Only this device [default: all of the tenant's].
        name: Option<String>,
    },
    /// Set a transmit cap in the module (root only): a device's own, or with no device the
    /// tenant's aggregate over all its devices. The coordinator sets them from the system
    /// config, and sets them back at its next sync of the tenant; inside a container the
    /// request goes to the coordinator, which refuses it.
    Shape {
        /// The tenant: its id or its name (not inside a container).
        #[arg(long, value_parser = parse_tenant_ref)]
        tenant: Option<TenantRef>,
        /// The device [default: the tenant's aggregate cap].
        name: Option<String>,
        /// The rate, e.g. 10Mbps or 2MBps; 0 lifts the cap.
        #[arg(long)]
        rate: String,
        /// The burst in bytes, passed to the module as given [default: 100 ms of the rate].
        #[arg(long)]
        burst: Option<u64>,
    },
}

#[derive(Args)]
pub struct VdevAddArgs {
    /// The tenant: its id or its name.
    #[arg(long, value_parser = parse_tenant_ref)]
    tenant: TenantRef,
    /// The name the tenant's configuration uses, e.g. eth1.
    name: String,
    /// The physical device the tunnel runs over.
    #[arg(long)]
    port: String,
    /// The tunnel's local IPv4 address (the outer source).
    #[arg(long)]
    local: Ipv4Addr,
    /// The tunnel's remote IPv4 address (the outer destination).
    #[arg(long)]
    remote: Ipv4Addr,
    /// The GRE key [default: none].
    #[arg(long)]
    key: Option<u32>,
    /// What the tunnel carries.
    #[arg(long, value_enum)]
    carries: CarriesArg,
    /// Ethernet address of the next hop towards the remote end [default: the host's neighbour
    /// table's, resolved through the port].
    #[arg(long)]
    peer_mac: Option<String>,
    /// The device's own Ethernet address (derived when absent).
    #[arg(long)]
    mac: Option<String>,
    /// The outer headers' TTL [default: 64].
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..))]
    ttl: Option<u8>,
    /// Leave DF clear on outer headers.
    #[arg(long)]
    no_df: bool,
    /// Send GRE checksums.
    #[arg(long)]
    checksum: bool,
    /// The largest outer packet; larger ones are dropped and counted [default: 1500].
    #[arg(long, value_parser = clap::value_parser!(u32).range(uapi::TUNNEL_MTU_MIN as i64..=65535))]
    mtu: Option<u32>,
}

#[derive(Subcommand)]
pub enum SystemCommand {
    /// Create the config's tenants, attach its physical devices and create every tenant's
    /// virtual devices; what already exists is left as it is.
    Apply {
        /// The system config (TOML).
        file: PathBuf,
    },
    /// Check a system config and show how its forwarding engines ([engines]) are sliced among
    /// the tenants that require engines (PdP's best fit; docs/pdp.md). Reads neither the module
    /// nor the host. Exit 0 when the config is valid, 1 when it is not (a config whose
    /// tenants' engines do not fit is not).
    Show {
        /// The system config (TOML).
        file: PathBuf,
    },
}

fn mac_bytes(text: &str) -> Result<[u8; 6]> {
    click_value::parse_ether(text).map_err(|_| anyhow::anyhow!("`{text}` is not an Ethernet address"))
}

/// Everything `VDEV_NEW` needs, from either the command line or a system config.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceSpec {
    pub tenant: u32,
    pub name: String,
    pub port: String,
    pub local: Ipv4Addr,
    pub remote: Ipv4Addr,
    pub key: Option<u32>,
    pub carries: Carries,
    pub peer_mac: String,
    pub mac: Option<String>,
    pub ttl: Option<u8>,
    pub dont_fragment: Option<bool>,
    pub checksum: Option<bool>,
    pub mtu: Option<u32>,
}

impl DeviceSpec {
    fn attrs(&self) -> Result<Vec<VdpAttr>> {
        let mut attrs = vec![
            VdpAttr::TenantId(self.tenant),
            VdpAttr::VdevName(String::from(&self.name)),
            VdpAttr::Ifname(String::from(&self.port)),
            VdpAttr::Local(self.local),
            VdpAttr::Remote(self.remote),
            VdpAttr::Carries(match self.carries {
                Carries::Ip => attrs::Carries::Ip,
                Carries::Ethernet => attrs::Carries::Ethernet,
            }),
            VdpAttr::PeerMac(mac_bytes(&self.peer_mac)?),
        ];
        if let Some(key) = self.key {
            attrs.push(VdpAttr::GreKey(key));
        }
        if let Some(mac) = &self.mac {
            attrs.push(VdpAttr::Mac(mac_bytes(mac)?));
        }
        if let Some(ttl) = self.ttl {
            attrs.push(VdpAttr::Ttl(ttl));
        }
        if let Some(df) = self.dont_fragment {
            attrs.push(VdpAttr::DontFragment(u8::from(df)));
        }
        if let Some(checksum) = self.checksum {
            attrs.push(VdpAttr::GreCsum(u8::from(checksum)));
        }
        if let Some(mtu) = self.mtu {
            attrs.push(VdpAttr::Mtu(mtu));
        }
        Ok(attrs)
    }
}

/// A port or virtual device as the module reports it.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct DeviceInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<u32>,
    pub ifname: String,
    pub attached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carries: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// The next hop's Ethernet address, the destination of outgoing frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_mac: Option<String>,
    /// Counters in the kernel's order: rx_/tx_ packets, bytes, then drops by reason.
    pub counters: Vec<(String, u64)>,
    /// The device's own transmit cap in bytes per second (0: none) and its burst.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_rate: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_burst: Option<u64>,
}

/// One `PORT` or `VDEV` nest.
pub fn decode_device(nest: &[DeviceAttr]) -> Result<DeviceInfo> {
    let mut info = DeviceInfo::default();
    for a in nest {
        match a {
            DeviceAttr::Name(n) => info.name = Some(n.clone()),
            DeviceAttr::TenantId(n) => info.tenant = Some(*n),
            DeviceAttr::Ifname(n) => info.ifname = n.clone(),
            DeviceAttr::Attached(n) => info.attached = *n != 0,
            DeviceAttr::Local(address) => info.local = Some(*address),
            DeviceAttr::Remote(address) => info.remote = Some(*address),
            DeviceAttr::GreKey(n) => info.key = Some(*n),
            DeviceAttr::Carries(c) => info.carries = Some(c.name()),
            DeviceAttr::Mtu(n) => info.mtu = Some(*n),
            DeviceAttr::PeerMac(mac) => info.peer_mac = Some(crate::rtnl::decide::format_mac(mac)),
            DeviceAttr::TxRate(n) => info.tx_rate = Some(*n),
            DeviceAttr::TxBurst(n) => info.tx_burst = Some(*n),
            DeviceAttr::Counter(counter) => {
                let (mut name, mut value) = (None, None);
                for c in counter {
                    match c {
                        CounterAttr::Name(n) => name = Some(n.clone()),
                        CounterAttr::Value(v) => value = Some(*v),
                        CounterAttr::Unknown(_) => {}
                    }
                }
                info.counters.push((name.context("counter without a name")?, value.context("counter without a value")?));
            }
            _ => {}
        }
    }
    Ok(info)
}

/// The devices of a reply: the nests `pick` selects (`port_nest` or `vdev_nest`).
fn decode_devices(replies: &[VdpMessage], pick: fn(&VdpAttr) -> Option<&[DeviceAttr]>) -> Result<Vec<DeviceInfo>> {
    replies.iter().flat_map(|r| r.attrs.iter()).filter_map(pick).map(decode_device).collect()
}

/// Every device of tenant `id` as the module reports it.
pub fn tenant_devices(socket: &mut VdpSocket, id: u32) -> Result<Vec<DeviceInfo>> {
    decode_devices(&socket.request(cmd::VDEV_GET, vec![VdpAttr::TenantId(id)])?, vdev_nest)
}

fn port_nest(a: &VdpAttr) -> Option<&[DeviceAttr]> {
    match a {
        VdpAttr::Port(nest) => Some(nest),
        _ => None,
    }
}

fn vdev_nest(a: &VdpAttr) -> Option<&[DeviceAttr]> {
    match a {
        VdpAttr::Vdev(nest) => Some(nest),
        _ => None,
    }
}

fn print_devices(devices: &[DeviceInfo], out: &Output) -> Result<()> {
    if out.json {
        return out.print_json(devices);
    }
    for device in devices {
        let state = if device.attached { "attached" } else { "detached" };
        match &device.name {
            Some(name) => {
                let key = device.key.map_or(String::new(), |k| format!(" key {k}"));
                println!(
                    "{name}: {} over {} ({state}) {} -> {}{key}, mtu {}",
                    device.carries.unwrap_or("?"),
                    device.ifname,
                    device.local.map_or("?".into(), |a| a.to_string()),
                    device.remote.map_or("?".into(), |a| a.to_string()),
                    device.mtu.unwrap_or(0)
                );
                if let Some(rate) = device.tx_rate {
                    let cap = TxCap { rate, burst: device.tx_burst.unwrap_or(0) };
                    println!("  tx cap {}", cap.text());
                }
            }
            None => println!("{} ({state})", device.ifname),
        }
        let nonzero: Vec<String> = device
            .counters
            .iter()
            .filter(|(name, value)| *value != 0 || name.ends_with("packets"))
            .map(|(name, value)| format!("{name} {value}"))
            .collect();
        println!("  {}", nonzero.join(", "));
    }
    Ok(())
}

pub fn run_port(command: &PortCommand, out: &Output) -> Result<ExitCode> {
    if let PortCommand::Add { ifname } | PortCommand::Del { ifname } = command {
        check_name(ifname)?;
    }
    if let PortCommand::Add { ifname } = command {
        crate::rtnl::port_ready(ifname).with_context(|| format!("not attaching to {ifname}"))?;
    }
    let mut socket = VdpSocket::connect()?;
    match command {
        PortCommand::Add { ifname } => {
            socket.request(cmd::PORT_ATTACH, vec![VdpAttr::Ifname(String::from(ifname))])?;
            out.confirm(format_args!("attached to {ifname}"));
        }
        PortCommand::Del { ifname } => {
            socket.request(cmd::PORT_DETACH, vec![VdpAttr::Ifname(String::from(ifname))])?;
            out.confirm(format_args!("detached from {ifname}"));
        }
        PortCommand::Show => {
            let replies = socket.request(cmd::PORT_GET, vec![])?;
            print_devices(&decode_devices(&replies, port_nest)?, out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_vdev(command: &VdevCommand, out: &Output) -> Result<ExitCode> {
    match command {
        VdevCommand::Add(args) => {
            check_name(&args.name)?;
            check_name(&args.port)?;
        }
        VdevCommand::Del { name, .. } | VdevCommand::Show { name: Some(name), .. } => check_name(name)?,
        VdevCommand::Show { name: None, .. } => {}
        VdevCommand::Shape { name, .. } => {
            if let Some(name) = name {
                check_name(name)?;
            }
        }
    }
    let mut socket = VdpSocket::connect()?;
    match command {
        VdevCommand::Add(args) => {
            let spec = DeviceSpec {
                tenant: resolve(&mut socket, &args.tenant)?,
                name: args.name.clone(),
                port: args.port.clone(),
                local: args.local,
                remote: args.remote,
                key: args.key,
                carries: match args.carries {
                    CarriesArg::Ip => Carries::Ip,
                    CarriesArg::Ethernet => Carries::Ethernet,
                },
                peer_mac: match &args.peer_mac {
                    Some(mac) => mac.clone(),
                    None => crate::rtnl::decide::format_mac(&crate::rtnl::next_hop_mac(&args.name, &args.port, args.remote)?),
                },
                mac: args.mac.clone(),
                ttl: args.ttl,
                dont_fragment: args.no_df.then_some(false),
                checksum: args.checksum.then_some(true),
                mtu: args.mtu,
            };
            let replies = socket.request(cmd::VDEV_NEW, spec.attrs()?)?;
            print_devices(&decode_devices(&replies, vdev_nest)?, out)?;
        }
        VdevCommand::Del { tenant, name } => {
            let tenant = resolve(&mut socket, tenant)?;
            socket.request(cmd::VDEV_DEL, vec![VdpAttr::TenantId(tenant), VdpAttr::VdevName(String::from(name))])?;
            out.confirm(format_args!("device {name} of tenant {tenant} deleted"));
        }
        VdevCommand::Show { tenant, name } => {
            let mut attrs = vec![VdpAttr::TenantId(resolve(&mut socket, tenant)?)];
            if let Some(name) = name {
                attrs.push(VdpAttr::VdevName(String::from(name)));
            }
            let replies = socket.request(cmd::VDEV_GET, attrs)?;
            print_devices(&decode_devices(&replies, vdev_nest)?, out)?;
        }
        VdevCommand::Shape { tenant, name, rate, burst } => {
            let Some(tenant) = tenant else { bail!("name the tenant with --tenant") };
            let rate = click_value::parse_bandwidth(rate).map_err(|_| anyhow::anyhow!("`{rate}` is not a bandwidth like 10Mbps or 2MBps"))?;
            let tenant = resolve(&mut socket, tenant)?;
            let mut attrs = vec![VdpAttr::TenantId(tenant), VdpAttr::TxRate(rate)];
            if let Some(name) = name {
                attrs.push(VdpAttr::VdevName(String::from(name)));
            }
            if let Some(burst) = burst {
                attrs.push(VdpAttr::TxBurst(*burst));
            }
            let replies = socket.request(cmd::SHAPE_SET, attrs)?;
            let cap = shape_reply(&replies);
            let what = name.as_ref().map_or_else(|| format!("tenant {tenant} (all devices)"), |n| format!("device {n} of tenant {tenant}"));
            if out.json {
                out.print_json(&serde_json::json!({ "tenant": tenant, "device": name, "rate": cap.rate, "burst": cap.burst }))?;
            } else {
                println!("tx cap of {what}: {}", cap.text());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A transmit cap as the module holds it: bytes per second and bytes of burst; 0 and 0 for
/// none.
#[derive(Debug, Default, Clone, Copy, Serialize, serde::Deserialize, PartialEq)]
pub struct TxCap {
    pub rate: u64,
    pub burst: u64,
}

impl TxCap {
    /// `125000 B/s (1.000 Mbit/s), burst 1514 B` or `none`.
    pub fn text(&self) -> String {
        if self.rate == 0 {
            return "none".into();
        }
        let bits = self.rate as f64 * 8.0;
        let (value, unit) = if bits >= 1e9 { (bits / 1e9, "Gbit/s") } else if bits >= 1e6 { (bits / 1e6, "Mbit/s") } else { (bits / 1e3, "kbit/s") };
        format!("{} B/s ({value:.3} {unit}), burst {} B", self.rate, self.burst)
    }
}

/// The cap a `SHAPE_SET` reply says was set, or a tenant's aggregate in its `STATS`.
fn shape_reply(replies: &[VdpMessage]) -> TxCap {
    let mut cap = TxCap::default();
    for a in replies.iter().flat_map(|r| r.attrs.iter()) {
        match a {
            VdpAttr::TxRate(n) => cap.rate = *n,
            VdpAttr::TxBurst(n) => cap.burst = *n,
            _ => {}
        }
    }
    cap
}

/// Bytes per second of a checked cap of the system config; 0 (no cap) when absent.
fn cap_rate(cap: Option<&str>) -> u64 {
    cap.and_then(|cap| click_value::parse_bandwidth(cap).ok()).unwrap_or(0)
}

/// Sets the tenant's transmit caps in the module from the system config where they differ
/// from what the module holds: each device's `bandwidth_cap`, and the tenant's
/// `aggregate_bandwidth_cap` (rate 0 where absent, which lifts an earlier cap). Bursts are the
/// module's default, 100 ms of the rate.
fn apply_caps(socket: &mut VdpSocket, tenant: &vdp_click::system::Tenant, tenant_id: u32, log: &mut impl FnMut(String)) -> Result<()> {
    let wanted = cap_rate(tenant.bandwidth_cap.as_deref());
    let default_burst = |rate: u64| if rate == 0 { 0 } else { vdp_core::tx_cap::default_burst(rate) };
    let held = tenant_devices(socket, tenant_id)?;
    for device in &tenant.device {
        let now = held.iter().find(|d| d.name.as_deref() == Some(device.name.as_str()));
        if now.is_some_and(|d| d.tx_rate == Some(wanted) && d.tx_burst == Some(default_burst(wanted))) {
            continue;
        }
        let attrs = vec![VdpAttr::TenantId(tenant_id), VdpAttr::VdevName(device.name.clone()), VdpAttr::TxRate(wanted)];
        socket.request(cmd::SHAPE_SET, attrs).with_context(|| format!("setting the transmit cap of device {} of tenant {}", device.name, tenant.name))?;
        log(format!("set the transmit cap of device {} of tenant {} to {}", device.name, tenant.name, TxCap { rate: wanted, burst: default_burst(wanted) }.text()));
    }
    let aggregate = cap_rate(tenant.aggregate_bandwidth_cap.as_deref());
    let current = shape_reply(&socket.dump(cmd::STATS, vec![VdpAttr::TenantId(tenant_id)])?);
    if current != (TxCap { rate: aggregate, burst: default_burst(aggregate) }) {
        socket.request(cmd::SHAPE_SET, vec![VdpAttr::TenantId(tenant_id), VdpAttr::TxRate(aggregate)])
            .with_context(|| format!("setting the aggregate transmit cap of tenant {}", tenant.name))?;
        log(format!("set the aggregate transmit cap of tenant {} to {}", tenant.name, TxCap { rate: aggregate, burst: default_burst(aggregate) }.text()));
    }
    Ok(())
}

fn already(err: &NlError, errnos: &[i32]) -> bool {
    matches!(err, NlError::Kernel { errno, .. } if errnos.contains(errno))
}

const EEXIST: i32 = 17;
const EALREADY: i32 = 114;
const ENOENT: i32 = 2;

/// The `VDEV_NEW` request for one tenant device of a system config.
pub fn device_spec(system: &SystemConfig, tenant_name: &str, tenant_id: u32, device_name: &str) -> Result<DeviceSpec> {
    let tenant = system.tenant(tenant_name).with_context(|| format!("tenant '{tenant_name}' is not in the system config"))?;
    let tenant_index = system.tenant.iter().position(|t| t.name == tenant_name).unwrap_or(0);
    let (device_index, device) = tenant
        .device
        .iter()
        .enumerate()
        .find(|(_, d)| d.name == device_name)
        .with_context(|| format!("tenant '{tenant_name}' has no device '{device_name}'"))?;
    let tunnel = system.tunnel(&device.tunnel).with_context(|| format!("tunnel '{}' is not defined", device.tunnel))?;
    let parse = |text: &str| text.parse::<Ipv4Addr>().with_context(|| format!("`{text}` is not an IPv4 address"));
    Ok(DeviceSpec {
        tenant: tenant_id,
        name: device.name.clone(),
        port: tunnel.physical.clone(),
        local: parse(&tunnel.local)?,
        remote: parse(&tunnel.remote)?,
        key: tunnel.key,
        carries: tunnel.carries,
        peer_mac: tunnel.next_hop_mac.clone().with_context(|| {
            format!("tunnel '{}' gives no next_hop_mac, and it is read from the host's neighbour table only where the system config is applied to the module (`vdpctl system apply`, the coordinator)", tunnel.name)
        })?,
        mac: Some(device.mac.clone().unwrap_or_else(|| vdp_click::merge::derived_mac(tenant_index, device_index))),
        ttl: tunnel.ttl,
        dont_fragment: tunnel.dont_fragment,
        checksum: tunnel.checksum,
        mtu: tunnel.mtu,
    })
}

/// Brings the module in line with `system`: tenants (id = position in the file, from 1),
/// attached physical devices, and every tenant's virtual devices. Existing ones are kept, so it
/// can run again after any change or after the module was reloaded. `log` hears each action.
pub fn apply_system(socket: &mut VdpSocket, system: &SystemConfig, mut log: impl FnMut(String)) -> Result<()> {
    for tenant in &system.tenant {
        let id = system.tenant_id(&tenant.name).context("tenant id")?;
        match socket.request(cmd::TENANT_NEW, vec![VdpAttr::TenantId(id), VdpAttr::TenantName(String::from(&tenant.name))]) {
            Ok(_) => log(format!("created tenant {} (id {id})", tenant.name)),
            Err(e) if already(&e, &[EEXIST]) => {}
            Err(e) => return Err(e).with_context(|| format!("creating tenant {}", tenant.name)),
        }
    }
    for physical in &system.physical {
        attach_port(socket, &physical.name, &mut log)?;
    }
    for tenant in &system.tenant {
        let id = system.tenant_id(&tenant.name).context("tenant id")?;
        apply_tenant_devices(socket, system, &tenant.name, id, &mut log)?;
    }
    Ok(())
}

/// Attaches vdp to a physical device unless it already is. The interface must exist and be up
/// to be attached; one already attached is left as it is, whatever its state.
fn attach_port(socket: &mut VdpSocket, ifname: &str, log: &mut impl FnMut(String)) -> Result<()> {
    if let Err(why) = crate::rtnl::port_ready(ifname) {
        let ports = decode_devices(&socket.request(cmd::PORT_GET, vec![])?, port_nest)?;
        if ports.iter().any(|p| p.ifname == ifname && p.attached) {
            return Ok(());
        }
        return Err(why).with_context(|| format!("not attaching to {ifname}"));
    }
    match socket.request(cmd::PORT_ATTACH, vec![VdpAttr::Ifname(String::from(ifname))]) {
        Ok(_) => log(format!("attached to {ifname}")),
        Err(e) if already(&e, &[EALREADY]) => {}
        Err(e) => return Err(e).with_context(|| format!("attaching to {ifname}")),
    }
    Ok(())
}

/// Creates the devices of one tenant (module id `tenant_id`) that the module does not have yet,
/// attaching the physical devices they run over first.
pub fn apply_tenant_devices(socket: &mut VdpSocket, system: &SystemConfig, tenant_name: &str, tenant_id: u32, log: &mut impl FnMut(String)) -> Result<()> {
    let tenant = system.tenant(tenant_name).with_context(|| format!("tenant '{tenant_name}' is not in the system config"))?;
    for device in &tenant.device {
        let spec = device_spec(system, tenant_name, tenant_id, &device.name)?;
        attach_port(socket, &spec.port, log)?;
        match socket.request(cmd::VDEV_NEW, spec.attrs()?) {
            Ok(_) => log(format!("created device {} of tenant {tenant_name} over {}", device.name, spec.port)),
            Err(e) if already(&e, &[EEXIST]) && exists(socket, spec.tenant, &device.name)? => {}
            Err(e) => return Err(e).with_context(|| format!("creating device {} of tenant {tenant_name}", device.name)),
        }
    }
    apply_caps(socket, tenant, tenant_id, log)
}

fn exists(socket: &mut VdpSocket, tenant: u32, name: &str) -> Result<bool> {
    match socket.request(cmd::VDEV_GET, vec![VdpAttr::TenantId(tenant), VdpAttr::VdevName(String::from(name))]) {
        Ok(_) => Ok(true),
        Err(e) if already(&e, &[ENOENT]) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub fn run_system(command: &SystemCommand, out: &Output) -> Result<ExitCode> {
    let file = match command {
        SystemCommand::Apply { file } => file,
        SystemCommand::Show { file } => return show_system(file, out),
    };
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let system = SystemConfig::parse_file(&file.display().to_string(), &text)
        .map_err(|problems| anyhow::anyhow!("{}: invalid system config:\n  {}", file.display(), problems.join("\n  ")))?;
    // Everything the host must give is read first: a next hop that does not resolve leaves the
    // module as it was.
    let host = crate::rtnl::complete(&system).with_context(|| format!("{}: nothing applied", file.display()))?;
    let system = host.system;
    if !out.json {
        host.notes.iter().for_each(|note| println!("{note}"));
    }
    let mut socket = VdpSocket::connect()?;
    let mut actions = Vec::new();
    apply_system(&mut socket, &system, |line| {
        if !out.json {
            println!("{line}");
        }
        actions.push(line);
    })?;
    if out.json {
        out.print_json(&serde_json::json!({ "file": file.display().to_string(), "host": host.notes, "actions": actions }))?;
    } else if actions.is_empty() {
        println!("the module already matches {}", file.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `vdpctl system show FILE`: the config checked, and its engines' slices.
fn show_system(file: &Path, out: &Output) -> Result<ExitCode> {
    let system = crate::frontend::read_system(file)?;
    let allocation = system.slices().transpose().map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if out.json {
        let slices = allocation.as_ref().map_or(serde_json::Value::Null, |a| crate::slices::to_json(&system, a));
        out.print_json(&serde_json::json!({ "file": file.display().to_string(), "tenants": system.tenant.len(), "slices": slices }))?;
        return Ok(ExitCode::SUCCESS);
    }
    match &allocation {
        Some(a) => print!("{}", crate::slices::to_text(&system, a)),
        None => println!("{}: valid, {} tenants; no [engines]: nothing to slice", file.display(), system.tenant.len()),
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses names the kernel would refuse, with a clearer message than its extack.
pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 15 || name.contains(['/', ':']) || !name.bytes().all(|b| b.is_ascii_graphic()) {
        bail!("`{name}` is not a device name: 1 to 15 printable characters without '/' or ':'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEM: &str = include_str!("../../../docs/examples/system.toml");

    #[test]
    fn system_devices_become_vdev_requests() {
        let system = SystemConfig::parse(SYSTEM).expect("example");
        let red = device_spec(&system, "red", 1, "eth1").expect("red eth1");
        assert_eq!((red.tenant, red.port.as_str(), red.key), (1, "eth0", Some(11)));
        assert_eq!(red.mac.as_deref(), Some("02:76:64:70:00:00"));
        let blue = device_spec(&system, "blue", 2, "eth1").expect("blue eth1");
        assert_eq!((blue.tenant, blue.carries, blue.mac.as_deref()), (2, Carries::Ethernet, Some("02:00:00:00:b1:01")));
        let attrs = blue.attrs().expect("attrs");
        assert!(!attrs.iter().any(|a| matches!(a, VdpAttr::GreKey(_))), "keyless tunnel sends no key");
        assert!(device_spec(&system, "blue", 2, "eth9").is_err());
    }

    #[test]
    fn device_names_follow_the_kernel_rule() {
        assert!(check_name("eth1").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name("sixteen_chars_xx").is_err());
    }
}
