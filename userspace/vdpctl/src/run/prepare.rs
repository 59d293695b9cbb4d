//! From a configuration file to what the engine runs: the compiled graph, the tenant and its
//! devices, through the same check, merge and compile as `vdpctl install`
//! ([`frontend::compile_tenant`]).

use crate::frontend;
use anyhow::{bail, Context, Result};
use std::path::Path;
use vdp_click::check::CheckOptions;
use vdp_click::source::{Diagnostics, Sources};
use vdp_click::system::{self, Carries, SystemConfig};
use vdp_core::catalog::ElementClass;

/// A device the graph's FromDevice or ToDevice elements name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub name: String,
    /// What its tunnel carries: what the captures on it hold.
    pub carries: Carries,
    /// The graph has a FromDevice for it: frames arrive there (`--input`).
    pub receives: bool,
    /// The graph has a ToDevice for it: frames leave there (`--output`).
    pub transmits: bool,
}

/// A tenant configuration ready to run: what the engine is made from.
#[derive(Debug)]
pub struct Prepared {
    /// The compiled graph, as `vdpctl install` would have the kernel install it.
    pub blob: Vec<u8>,
    pub tenant: String,
    /// The devices the graph uses, in the order of the tenant's devices in the system config.
    pub devices: Vec<Device>,
    /// The system config the graph was compiled against: given with `--system`, or made for
    /// the one tenant ([`single_tenant_system`]). The engine reads an `ip` device's addresses
    /// from it.
    pub system: SystemConfig,
    /// The merged graph's elements (`TENANT/NAME`) and their classes.
    pub elements: Vec<(String, &'static ElementClass)>,
}

/// Checks, merges and compiles the configuration at `config` for `tenant`: against the system
/// config at `system`, or, without one, against [`single_tenant_system`] with the devices the
/// configuration names. Diagnostics and warnings go to stderr as `vdpctl check` prints them; a
/// configuration with errors is an error.
pub fn prepare(config: &Path, system: Option<&Path>, tenant: &str) -> Result<Prepared> {
    let text = std::fs::read_to_string(config).with_context(|| format!("cannot read {}", config.display()))?;
    let file_name = config.display().to_string();
    let refused = || anyhow::anyhow!("{file_name} has errors; nothing was run");
    let system = match system {
        Some(path) => frontend::read_system(path)?,
        None => {
            // The check `vdpctl check FILE` makes, so that its diagnostics are the same.
            let mut sources = Sources::new();
            let mut diagnostics = Diagnostics::default();
            let (_, checked) = vdp_click::check_text(&mut sources, &file_name, &text, &CheckOptions::default(), &mut diagnostics);
            if diagnostics.has_errors() {
                eprint!("{}", sources.render_all(&diagnostics));
                return Err(refused());
            }
            let mut devices: Vec<&str> = Vec::new();
            for device in checked.elements.iter().filter_map(|e| e.device()) {
                if !devices.contains(&device) {
                    devices.push(device);
                }
            }
            single_tenant_system(tenant, &devices)?
        }
    };
    let compiled = match frontend::compile_tenant(&system, tenant, &file_name, &text) {
        Ok(compiled) => compiled,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            return Err(refused());
        }
    };
    for warning in &compiled.warnings {
        eprintln!("{warning}");
    }
    let elements: Vec<(String, &'static ElementClass)> =
        compiled.merged.checked.elements.iter().map(|e| (e.name.clone(), e.class)).collect();
    let devices = devices_used(&system, tenant, &compiled.merged.checked)?;
    Ok(Prepared { blob: compiled.blob, tenant: tenant.to_string(), devices, system, elements })
}

/// The tenant's devices that the merged graph's FromDevice and ToDevice elements name.
fn devices_used(system: &SystemConfig, tenant: &str, graph: &vdp_click::check::CheckedGraph) -> Result<Vec<Device>> {
    let entry = system.tenant(tenant).with_context(|| format!("tenant '{tenant}' is not in the system config"))?;
    let mut devices = Vec::new();
    for device in &entry.device {
        let users = graph.elements.iter().filter(|e| e.device() == Some(device.name.as_str()));
        let (mut receives, mut transmits) = (false, false);
        for element in users {
            match element.class.name {
                "FromDevice" => receives = true,
                "ToDevice" => transmits = true,
                other => bail!("element '{}' of class {other} names device '{}'; vdpctl run knows only FromDevice and ToDevice", element.name, device.name),
            }
        }
        if !(receives || transmits) {
            continue;
        }
        let tunnel = system.tunnel(&device.tunnel).with_context(|| format!("device '{}' uses tunnel '{}', which is not defined", device.name, device.tunnel))?;
        devices.push(Device { name: device.name.clone(), carries: tunnel.carries, receives, transmits });
    }
    Ok(devices)
}

/// A system config with one tenant, `tenant`, whose devices are `devices`, each over its own
/// tunnel that carries Ethernet frames (the system config has no default for `carries`; with
/// `ethernet` the captures hold the very frames the graph sees). The tenant has all of one CPU,
/// no bandwidth cap and no memory limit, and the config's limits are the defaults, so the
/// configuration is checked as `vdpctl check FILE` checks it. The addresses are the TEST-NET and
/// private ones the format requires; a run over Ethernet devices does not use them.
pub fn single_tenant_system(tenant: &str, devices: &[&str]) -> Result<SystemConfig> {
    let physical = "phys0";
    let config = SystemConfig {
        limits: Default::default(),
        physical: vec![system::PhysicalDevice {
            name: physical.to_string(),
            mac: "02:76:64:70:00:00".to_string(),
            queue_capacity: system::default_physical_queue(),
        }],
        tunnel: (0..devices.len())
            .map(|i| system::Tunnel {
                name: format!("tunnel{i}"),
                physical: physical.to_string(),
                local: "192.0.2.1".to_string(),
                remote: "192.0.2.2".to_string(),
                key: Some(i as u32 + 1),
                carries: Carries::Ethernet,
                next_hop_mac: "02:76:64:70:00:01".to_string(),
                ttl: None,
                dont_fragment: None,
                checksum: None,
                mtu: None,
            })
            .collect(),
        tenant: vec![system::Tenant {
            name: tenant.to_string(),
            cgroup: format!("vdp/{tenant}"),
            cpu_share: 100,
            bandwidth_cap: None,
            memory_max: None,
            device: devices
                .iter()
                .enumerate()
                .map(|(i, name)| system::VirtualDevice {
                    name: name.to_string(),
                    tunnel: format!("tunnel{i}"),
                    address: format!("10.{}.{}.1/24", i / 256, i % 256),
                    mac: None,
                })
                .collect(),
        }],
    };
    let problems = config.validate();
    if !problems.is_empty() {
        bail!("cannot make a system config for tenant '{tenant}' (give one with --system):\n  {}", problems.join("\n  "));
    }
    Ok(config)
}
