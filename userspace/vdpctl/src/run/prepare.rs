//! From a configuration file to what the engine runs: the compiled graph, the tenant and its
//! devices, through the same check, merge and compile as `vdpctl install`
//! ([`frontend::compile_tenant`]).

use crate::frontend;
use anyhow::{bail, Context, Result};
use std::path::Path;
use vdp_click::check::CheckOptions;
use vdp_click::source::{Diagnostics, Sources};
use vdp_click::system::{Carries, SystemConfig};
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
    /// Rendered warnings of the check and the task analysis.
    pub warnings: Vec<String>,
}

/// Why a configuration could not be prepared.
#[derive(Debug)]
pub enum Unprepared {
    /// The configuration has errors: the rendered diagnostics, as `vdpctl check` prints them.
    Refused(String),
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Unprepared {
    fn from(e: anyhow::Error) -> Unprepared {
        Unprepared::Failed(e)
    }
}

/// Reads the configuration at `config` (`-`: standard input; and the system config at `system`, if given) and
/// prepares it ([`prepare_text`]). Diagnostics and warnings go to stderr as `vdpctl check`
/// prints them; a configuration with errors is an error.
pub fn prepare(config: &str, system: Option<&Path>, tenant: &str) -> Result<Prepared> {
    let (file_name, text) = frontend::read_config(config)?;
    let system = system.map(frontend::read_system).transpose()?;
    match prepare_text(&file_name, &text, system, tenant) {
        Ok(prepared) => {
            for warning in &prepared.warnings {
                eprintln!("{warning}");
            }
            Ok(prepared)
        }
        Err(Unprepared::Refused(diagnostics)) => {
            eprintln!("{}", diagnostics.trim_end());
            bail!("{file_name} has errors; nothing was run")
        }
        Err(Unprepared::Failed(e)) => Err(e),
    }
}

/// Checks, merges and compiles configuration `text` (named `file_name` in diagnostics) for
/// `tenant`: against `system`, or, without one, against [`single_tenant_system`] with the
/// devices the configuration names, after the very check `vdpctl check FILE` makes.
pub fn prepare_text(file_name: &str, text: &str, system: Option<SystemConfig>, tenant: &str) -> Result<Prepared, Unprepared> {
    let system = match system {
        Some(system) => system,
        None => {
            let mut sources = Sources::new();
            let mut diagnostics = Diagnostics::default();
            let (_, checked) = vdp_click::check_text(&mut sources, file_name, text, &CheckOptions::default(), &mut diagnostics);
            if diagnostics.has_errors() {
                return Err(Unprepared::Refused(sources.render_all(&diagnostics)));
            }
            let mut devices: Vec<&str> = Vec::new();
            for device in checked.elements.iter().filter_map(|e| e.device()) {
                if !devices.contains(&device) {
                    devices.push(device);
                }
            }
            // The device a FromHost or ToHost names is the tenant's host device.
            let host = checked.elements.iter().filter(|e| vdp_click::check::HOST_CLASSES.contains(&e.class.name)).find_map(|e| e.device());
            single_tenant_system(tenant, &devices, host)?
        }
    };
    let compiled = frontend::compile_tenant(&system, tenant, file_name, text, frontend::stock_catalog()).map_err(Unprepared::Refused)?;
    let elements: Vec<(String, &'static ElementClass)> =
        compiled.merged.checked.elements.iter().map(|e| (e.name.clone(), e.class)).collect();
    let devices = devices_used(&system, tenant, &compiled.merged.checked)?;
    Ok(Prepared { blob: compiled.blob, tenant: tenant.to_string(), devices, system, elements, warnings: compiled.warnings })
}

/// The tenant's devices that the merged graph's device elements name: receiving ones
/// (FromDevice, PollDevice, FromHost: no inputs) and sending ones (ToDevice, ToHost: no outputs).
fn devices_used(system: &SystemConfig, tenant: &str, graph: &vdp_click::check::CheckedGraph) -> Result<Vec<Device>> {
    let entry = system.tenant(tenant).with_context(|| format!("tenant '{tenant}' is not in the system config"))?;
    let mut devices = Vec::new();
    for device in &entry.device {
        let users = graph.elements.iter().filter(|e| e.device() == Some(device.name.as_str()));
        let (mut receives, mut transmits) = (false, false);
        for element in users {
            match (element.class.inputs.max, element.class.outputs.max) {
                (0, _) => receives = true,
                (_, 0) => transmits = true,
                _ => bail!("element '{}' of class {} names device '{}'; vdpctl run knows only elements that receive from or send to a device", element.name, element.class.name, device.name),
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

/// The system config a configuration run without `--system` is checked against
/// ([`SystemConfig::single_tenant_with_host`]): `host`, one of `devices`, is the tenant's host
/// device (ToHost, FromHost).
pub fn single_tenant_system(tenant: &str, devices: &[&str], host: Option<&str>) -> Result<SystemConfig> {
    SystemConfig::single_tenant_with_host(tenant, devices, host).map_err(|problems| {
        anyhow::anyhow!("cannot make a system config for tenant '{tenant}' (give one with --system):\n  {}", problems.join("\n  "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTER: &str = "in :: FromDevice(eth1) -> c :: Counter -> Queue -> out :: ToDevice(eth2);\n\
                          back :: FromDevice(eth2) -> Queue -> ToDevice(eth1);\n";

    fn refused(result: Result<Prepared, Unprepared>) -> String {
        match result {
            Err(Unprepared::Refused(diagnostics)) => diagnostics,
            Err(Unprepared::Failed(e)) => panic!("failed, not refused: {e:#}"),
            Ok(_) => panic!("prepared"),
        }
    }

    /// What `vdpctl check FILE` renders for `text` (its options without --system).
    fn check_renders(file_name: &str, text: &str) -> String {
        let mut sources = Sources::new();
        let mut diagnostics = Diagnostics::default();
        vdp_click::check_text(&mut sources, file_name, text, &CheckOptions { coordinator: false, ..CheckOptions::default() }, &mut diagnostics);
        assert!(diagnostics.has_errors());
        sources.render_all(&diagnostics)
    }

    #[test]
    fn without_a_system_config_the_tenant_has_the_devices_its_configuration_names() {
        let prepared = prepare_text("router.click", ROUTER, None, "tenant").unwrap();
        assert_eq!(prepared.tenant, "tenant");
        assert_eq!(
            prepared.devices,
            [
                Device { name: "eth1".into(), carries: Carries::Ethernet, receives: true, transmits: true },
                Device { name: "eth2".into(), carries: Carries::Ethernet, receives: true, transmits: true },
            ]
        );
        vdp_click::compile::validate(&prepared.blob).unwrap();
        assert!(prepared.elements.iter().any(|(name, class)| name == "tenant/c" && class.name == "Counter"));
        let tenant = prepared.system.tenant("tenant").unwrap();
        assert_eq!((tenant.cpu_share, tenant.bandwidth_cap.as_deref()), (100, None));
        // A graph with no devices at all is fine too.
        let idle = prepare_text("idle.click", "Idle -> Discard;\n", None, "red").unwrap();
        assert!(idle.devices.is_empty());
        assert!(idle.system.tenant("red").unwrap().device.is_empty());
    }

    #[test]
    fn a_configuration_check_refuses_is_refused_with_the_same_diagnostics() {
        for bad in ["c :: Counter -> NoSuchClass;\n", "FromDevice(eth1) -> q :: Queue(0) -> ToDevice(eth2);\n", "FromDevice(eth1 -> Discard;\n"] {
            assert_eq!(refused(prepare_text("bad.click", bad, None, "tenant")), check_renders("bad.click", bad), "{bad}");
        }
    }

    #[test]
    fn with_a_system_config_the_tenants_devices_and_tunnels_apply() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/system.toml")).unwrap();
        let system = SystemConfig::parse(&text).unwrap();
        // red's devices are over IP tunnels, blue's over Ethernet ones.
        let red = prepare_text("router.click", ROUTER, Some(system.clone()), "red").unwrap();
        assert_eq!(red.devices.iter().map(|d| (d.name.as_str(), d.carries)).collect::<Vec<_>>(), [("eth1", Carries::Ip), ("eth2", Carries::Ip)]);
        // red has a bandwidth cap, which only the module applies: no shaper joins its graph.
        assert!(red.elements.iter().all(|(_, class)| class.name != "BandwidthShaper"));
        let blue = prepare_text("router.click", ROUTER, Some(system.clone()), "blue").unwrap();
        assert!(blue.devices.iter().all(|d| d.carries == Carries::Ethernet));
        // Only the devices the graph uses are listed, each with what it does.
        let one_way = prepare_text("one.click", "FromDevice(eth2) -> Queue -> ToDevice(eth1);\n", Some(system.clone()), "red").unwrap();
        assert_eq!(
            one_way.devices,
            [
                Device { name: "eth1".into(), carries: Carries::Ip, receives: false, transmits: true },
                Device { name: "eth2".into(), carries: Carries::Ip, receives: true, transmits: false },
            ]
        );
        let foreign = refused(prepare_text("r.click", "FromDevice(eth9) -> Discard;\n", Some(system.clone()), "red"));
        assert!(foreign.contains("device 'eth9' is not assigned to this tenant"), "{foreign}");
        let stranger = refused(prepare_text("r.click", ROUTER, Some(system), "green"));
        assert!(stranger.contains("tenant 'green' (r.click) is not in the system config") && stranger.contains("red, blue"), "{stranger}");
    }

    #[test]
    fn an_invalid_tenant_name_is_refused_without_a_system_config() {
        let Err(Unprepared::Failed(e)) = prepare_text("router.click", ROUTER, None, "Red Team") else { panic!("prepared") };
        let text = format!("{e:#}");
        assert!(text.starts_with("cannot make a system config for tenant 'Red Team' (give one with --system):") && text.contains("lower-case letter"), "{text}");
    }
}
