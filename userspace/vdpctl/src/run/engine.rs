//! The user-level engine (`vdp-engine`) as `vdpctl run`'s [`Dataplane`].

use super::dataplane::{Carries, Dataplane, Ran};
use super::prepare::Prepared;
use vdp_core::click_value;
use vdp_engine::{DeviceSetup, Engine, Stopped};

/// Makes the engine for a prepared graph: its devices with the addresses the system config
/// gives them, one thread (the engine runs every thread's tasks in turn anyway).
pub fn start(prepared: &Prepared) -> Result<Engine, String> {
    let system = &prepared.system;
    let tenant_id = system.tenant_id(&prepared.tenant).ok_or_else(|| format!("tenant '{}' is not in the system config", prepared.tenant))?;
    let mut devices = Vec::new();
    for device in &prepared.devices {
        let spec = crate::device::device_spec(system, &prepared.tenant, tenant_id, &device.name).map_err(|e| format!("{e:#}"))?;
        let mac = |text: &str| click_value::parse_ether(text).map_err(|_| format!("`{text}` is not an Ethernet address"));
        devices.push(DeviceSetup {
            name: device.name.clone(),
            carries: match device.carries {
                Carries::Ethernet => vdp_engine::Carries::Ethernet,
                Carries::Ip => vdp_engine::Carries::Ipv4,
            },
            mac: mac(spec.mac.as_deref().unwrap_or_default())?,
            peer_mac: mac(&spec.peer_mac)?,
        });
    }
    Engine::new(&prepared.blob, &prepared.tenant, devices, 1).map_err(|e| e.to_string())
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
