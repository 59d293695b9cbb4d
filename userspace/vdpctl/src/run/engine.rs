//! The user-level engine (`vdp-engine`) as `vdpctl run`'s [`Dataplane`].

use super::dataplane::{Carries, Dataplane, Ran};
use super::prepare::Prepared;
use crate::device::DeviceSpec;
use vdp_core::click_value;
use vdp_core::tunnel::{InnerKind, TunnelSpec};
use vdp_core::wire::ipv4::Address;
use vdp_engine::{DeviceSetup, Engine, Stopped};

/// Makes the engine for a prepared graph: its devices with the tunnels and addresses the system
/// config gives them (as `vdpctl system apply` asks the kernel to create them), one thread (the
/// engine runs every thread's tasks in turn anyway).
pub fn start(prepared: &Prepared) -> Result<Engine, String> {
    let system = &prepared.system;
    let tenant_id = system.tenant_id(&prepared.tenant).ok_or_else(|| format!("tenant '{}' is not in the system config", prepared.tenant))?;
    let mut devices = Vec::new();
    for device in &prepared.devices {
        let spec = crate::device::device_spec(system, &prepared.tenant, tenant_id, &device.name).map_err(|e| format!("{e:#}"))?;
        let mac = |text: &str| click_value::parse_ether(text).map_err(|_| format!("`{text}` is not an Ethernet address"));
        devices.push(DeviceSetup {
            name: device.name.clone(),
            spec: tunnel_spec(&spec)?,
            mac: mac(spec.mac.as_deref().unwrap_or_default())?,
            peer_mac: mac(&spec.peer_mac)?,
        });
    }
    Engine::new(&prepared.blob, &prepared.tenant, devices, 1).map_err(|e| e.to_string())
}

/// The tunnel the kernel makes of a `VDEV_NEW` request: Linux's defaults for what the request
/// leaves out (`TunnelSpec::new`), as `kmod/netlink/devices.rs` fills them in.
pub fn tunnel_spec(device: &DeviceSpec) -> Result<TunnelSpec, String> {
    let inner = match device.carries {
        Carries::Ethernet => InnerKind::Ethernet,
        Carries::Ip => InnerKind::Ipv4,
    };
    let mut spec = TunnelSpec::new(Address(device.local.octets()), Address(device.remote.octets()), device.key, inner);
    if let Some(ttl) = device.ttl {
        spec.ttl = ttl;
    }
    if let Some(dont_fragment) = device.dont_fragment {
        spec.dont_fragment = dont_fragment;
    }
    if let Some(checksum) = device.checksum {
        spec.checksum = checksum;
    }
    if let Some(mtu) = device.mtu {
        spec.mtu = u16::try_from(mtu).map_err(|_| format!("device {}: an MTU of {mtu} is more than the kernel takes", device.name))?;
    }
    Ok(spec)
}

impl Dataplane for Engine {
    type Error = String;

    fn receive(&mut self, device: &str, frame: &[u8], time_ns: u64) -> Result<(), String> {
        Engine::receive(self, device, frame, time_ns).map(|_| ()).map_err(|e| e.to_string())
    }

    fn run(&mut self, until_ns: u64, budget: u64) -> Result<Ran, String> {
        Ok(match Engine::run(self, until_ns, budget).map_err(|e| e.to_string())? {
            Stopped::Reached => Ran::Reached,
            Stopped::Idle { now_ns } => Ran::Idle { now_ns },
            Stopped::Budget { now_ns } => Ran::Budget { now_ns },
        })
    }

    fn take_transmitted(&mut self, device: &str) -> Vec<(u64, Vec<u8>)> {
        Engine::take_transmitted(self, device).unwrap_or_default()
    }

    fn read_handler(&mut self, element: &str, handler: &str) -> Result<String, String> {
        Engine::read_handler(self, element, handler).map_err(|e| format!("{element}.{handler}: {e:?}"))
    }
}
