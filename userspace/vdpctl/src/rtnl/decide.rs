//! What vdp makes of the host's answers: whether a port may be attached, which Ethernet address
//! a port has, which neighbour entry gives a next hop's, and how a system config is completed.
//! Pure, so it is tested without a socket; [`super`] asks the kernel.

use rtnetlink::packet_route::link::State;
use rtnetlink::packet_route::neighbour::NeighbourState;
use std::net::Ipv4Addr;
use std::time::Duration;
use vdp_click::system::SystemConfig;
use vdp_core::click_value;

pub type Mac = [u8; 6];

/// How often the neighbour table is read again while a next hop resolves, and for how long.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(1);

/// The UDP port a datagram is sent to so that the kernel resolves a next hop: discard.
pub const PROVOKE_PORT: u16 = 9;

pub fn format_mac(mac: &Mac) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// A host interface: what vdp reads of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    /// Its Ethernet address; `None` when it has none of 6 bytes (not an Ethernet device).
    pub mac: Option<Mac>,
    /// `IFF_UP`: the administrator brought it up.
    pub admin_up: bool,
    /// `IFLA_OPERSTATE`; a link that reports none reads as unknown.
    pub oper: State,
    pub mtu: Option<u32>,
}

/// The operational state as `ip link` prints it.
pub fn oper_name(state: State) -> String {
    match state {
        State::Unknown => "UNKNOWN".into(),
        State::NotPresent => "NOTPRESENT".into(),
        State::Down => "DOWN".into(),
        State::LowerLayerDown => "LOWERLAYERDOWN".into(),
        State::Testing => "TESTING".into(),
        State::Dormant => "DORMANT".into(),
        State::Up => "UP".into(),
        State::Other(n) => format!("state {n}"),
        _ => format!("{state:?}"),
    }
}

/// Whether a port may be attached: `IFF_UP` set and an operational state that can carry
/// packets. `UP`, `UNKNOWN` (drivers that track no carrier report it) and `TESTING` can;
/// `DOWN`, `LOWERLAYERDOWN`, `NOTPRESENT` and `DORMANT` cannot. The error names the interface
/// and its state.
pub fn check_up(link: &Link) -> Result<(), String> {
    if !link.admin_up {
        return Err(format!(
            "interface {} is down (administratively: IFF_UP is clear, operational state {}); bring it up with `ip link set {} up`",
            link.name,
            oper_name(link.oper),
            link.name
        ));
    }
    match link.oper {
        State::Down | State::LowerLayerDown | State::NotPresent | State::Dormant => Err(format!(
            "interface {} is up but its operational state is {} (no carrier?): it cannot carry packets",
            link.name,
            oper_name(link.oper)
        )),
        _ => Ok(()),
    }
}

/// The Ethernet address of port `port`: the host's; a configured one must be the same.
pub fn port_mac(port: &str, configured: Option<&str>, host: Option<Mac>) -> Result<Mac, String> {
    let host = host.ok_or_else(|| format!("physical device '{port}': the host's {port} has no Ethernet address (is it an Ethernet device?)"))?;
    if let Some(text) = configured {
        let wanted = click_value::parse_ether(text).map_err(|_| format!("physical device '{port}': mac '{text}' is not an Ethernet address"))?;
        if wanted != host {
            return Err(format!(
                "physical device '{port}': the config gives mac {} but the host's {port} has {}; correct it or leave `mac` out to use the host's",
                format_mac(&wanted),
                format_mac(&host)
            ));
        }
    }
    Ok(host)
}

/// One entry of the host's neighbour table.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbour {
    pub ifindex: u32,
    pub address: Ipv4Addr,
    pub state: NeighbourState,
    /// Its link-layer address, if the entry has one.
    pub mac: Option<Vec<u8>>,
}

/// Whether an entry in `state` gives a link-layer address to send to: a confirmed one
/// (`REACHABLE`, `PERMANENT`, `NOARP`) or one still in use while it is confirmed again
/// (`STALE`, `DELAY`, `PROBE`). `INCOMPLETE`, `FAILED` and `NONE` give none.
pub fn usable_state(state: NeighbourState) -> bool {
    matches!(
        state,
        NeighbourState::Reachable
            | NeighbourState::Stale
            | NeighbourState::Delay
            | NeighbourState::Probe
            | NeighbourState::Permanent
            | NeighbourState::Noarp
    )
}

/// The Ethernet address the neighbour table gives `address` on interface `ifindex`.
pub fn neighbour_mac(entries: &[Neighbour], ifindex: u32, address: Ipv4Addr) -> Option<Mac> {
    entries
        .iter()
        .filter(|e| e.ifindex == ifindex && e.address == address && usable_state(e.state))
        .find_map(|e| e.mac.as_deref().and_then(|m| Mac::try_from(m).ok()).filter(|m| *m != [0; 6]))
}

/// What a tunnel's packets are sent to on the wire: the gateway the host's route to `remote`
/// names, or `remote` itself when it is on the link.
pub fn next_hop(remote: Ipv4Addr, gateway: Option<Ipv4Addr>) -> Ipv4Addr {
    gateway.unwrap_or(remote)
}

/// Re-reads of the neighbour table after the resolution is provoked: every
/// [`POLL_INTERVAL`] until [`RESOLVE_TIMEOUT`].
pub fn polls() -> u32 {
    (RESOLVE_TIMEOUT.as_millis() / POLL_INTERVAL.as_millis()) as u32
}

/// A tunnel whose next hop's Ethernet address the host must give.
#[derive(Clone, Debug, PartialEq)]
pub struct Wanted {
    pub tunnel: String,
    pub port: String,
    pub remote: Ipv4Addr,
}

/// The tunnels of `system` that leave `next_hop_mac` out, in the config's order.
pub fn wanted_next_hops(system: &SystemConfig) -> Result<Vec<Wanted>, String> {
    system
        .tunnel
        .iter()
        .filter(|t| t.next_hop_mac.is_none())
        .map(|t| {
            let remote = t.remote.parse().map_err(|_| format!("tunnel '{}': remote '{}' is not an IPv4 address", t.name, t.remote))?;
            Ok(Wanted { tunnel: t.name.clone(), port: t.physical.clone(), remote })
        })
        .collect()
}

/// `system` with every port's `mac` and every tunnel's `next_hop_mac` filled in from what the
/// host gave: `macs` by port name, `next_hops` by tunnel name. A value the config gives stays.
pub fn complete(system: &SystemConfig, macs: &[(String, Mac)], next_hops: &[(String, Mac)]) -> SystemConfig {
    let mut done = system.clone();
    for physical in &mut done.physical {
        if let Some((_, mac)) = macs.iter().find(|(name, _)| *name == physical.name) {
            physical.mac = Some(format_mac(mac));
        }
    }
    for tunnel in done.tunnel.iter_mut().filter(|t| t.next_hop_mac.is_none()) {
        if let Some((_, mac)) = next_hops.iter().find(|(name, _)| *name == tunnel.name) {
            tunnel.next_hop_mac = Some(format_mac(mac));
        }
    }
    done
}

/// Why a next hop did not resolve, for the error: the port, the address and what was tried.
pub fn unresolved(wanted: &Wanted, hop: Ipv4Addr, tried: &str) -> String {
    let which = if hop == wanted.remote { "the remote end itself, on the link".to_string() } else { format!("the gateway of the host's route to {}", wanted.remote) };
    format!(
        "tunnel '{}': the next hop {hop} ({which}) has no usable entry in the neighbour table of {}; {tried}; \
         give `next_hop_mac` in the config or make {hop} answer ARP on {}",
        wanted.tunnel, wanted.port, wanted.port
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(admin_up: bool, oper: State) -> Link {
        Link { index: 3, name: "eth0".into(), mac: Some([2, 0, 0, 0, 0, 1]), admin_up, oper, mtu: Some(1500) }
    }

    #[test]
    fn a_port_must_be_up_and_able_to_carry() {
        assert_eq!(check_up(&link(true, State::Up)), Ok(()));
        assert_eq!(check_up(&link(true, State::Unknown)), Ok(()), "drivers without carrier tracking say unknown");
        assert_eq!(check_up(&link(true, State::Testing)), Ok(()));
        let down = check_up(&link(false, State::Down)).unwrap_err();
        assert!(down.contains("interface eth0 is down") && down.contains("IFF_UP is clear") && down.contains("ip link set eth0 up"), "{down}");
        for state in [State::Down, State::LowerLayerDown, State::NotPresent, State::Dormant] {
            let why = check_up(&link(true, state)).unwrap_err();
            assert!(why.contains("interface eth0 is up but its operational state is") && why.contains(&oper_name(state)), "{why}");
        }
        assert!(check_up(&link(true, State::LowerLayerDown)).unwrap_err().contains("LOWERLAYERDOWN"));
    }

    #[test]
    fn a_configured_mac_must_agree_with_the_host() {
        let host = Some([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!(port_mac("eth0", None, host), Ok([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        assert_eq!(port_mac("eth0", Some("52:54:00:12:34:56"), host), Ok([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        let why = port_mac("eth0", Some("02:00:00:00:00:01"), host).unwrap_err();
        assert_eq!(why, "physical device 'eth0': the config gives mac 02:00:00:00:00:01 but the host's eth0 has 52:54:00:12:34:56; correct it or leave `mac` out to use the host's");
        assert!(port_mac("lo0", None, None).unwrap_err().contains("has no Ethernet address"));
        assert!(port_mac("eth0", Some("zz"), host).unwrap_err().contains("not an Ethernet address"));
    }

    fn entry(ifindex: u32, address: [u8; 4], state: NeighbourState, mac: Option<Vec<u8>>) -> Neighbour {
        Neighbour { ifindex, address: Ipv4Addr::from(address), state, mac }
    }

    #[test]
    fn only_an_entry_with_an_address_on_the_port_resolves() {
        let mac = vec![2, 0, 0, 0, 0xff, 1];
        let hop = Ipv4Addr::new(192, 0, 2, 11);
        let table = vec![
            entry(3, [192, 0, 2, 12], NeighbourState::Reachable, Some(vec![2, 0, 0, 0, 0xff, 2])),
            entry(4, [192, 0, 2, 11], NeighbourState::Reachable, Some(vec![2, 0, 0, 0, 0xff, 4])),
            entry(3, [192, 0, 2, 11], NeighbourState::Incomplete, None),
        ];
        assert_eq!(neighbour_mac(&table, 3, hop), None, "another address, another port, an incomplete entry");
        for state in [NeighbourState::Reachable, NeighbourState::Stale, NeighbourState::Delay, NeighbourState::Probe, NeighbourState::Permanent, NeighbourState::Noarp] {
            let mut with = table.clone();
            with.push(entry(3, [192, 0, 2, 11], state, Some(mac.clone())));
            assert_eq!(neighbour_mac(&with, 3, hop), Some([2, 0, 0, 0, 0xff, 1]), "{state:?}");
        }
        for state in [NeighbourState::Failed, NeighbourState::None, NeighbourState::Incomplete, NeighbourState::Other(0x4000)] {
            assert_eq!(neighbour_mac(&[entry(3, [192, 0, 2, 11], state, Some(mac.clone()))], 3, hop), None, "{state:?}");
        }
        assert_eq!(neighbour_mac(&[entry(3, [192, 0, 2, 11], NeighbourState::Reachable, Some(vec![1, 2, 3]))], 3, hop), None, "not 6 bytes");
        assert_eq!(neighbour_mac(&[entry(3, [192, 0, 2, 11], NeighbourState::Noarp, Some(vec![0; 6]))], 3, hop), None, "all zero");
    }

    #[test]
    fn the_next_hop_is_the_routes_gateway_or_the_remote() {
        let remote = Ipv4Addr::new(198, 51, 100, 7);
        assert_eq!(next_hop(remote, None), remote);
        assert_eq!(next_hop(remote, Some(Ipv4Addr::new(192, 0, 2, 254))), Ipv4Addr::new(192, 0, 2, 254));
        assert_eq!(polls(), 20);
        assert_eq!(POLL_INTERVAL * polls(), RESOLVE_TIMEOUT);
    }

    const SYSTEM: &str = r#"
[[physical]]
name = "eth0"

[[physical]]
name = "eth1"
mac = "02:00:00:00:00:11"

[[tunnel]]
name = "a"
physical = "eth0"
local = "192.0.2.1"
remote = "192.0.2.10"
carries = "ip"

[[tunnel]]
name = "b"
physical = "eth1"
local = "192.0.2.1"
remote = "192.0.2.20"
carries = "ip"
next_hop_mac = "02:00:00:00:ff:20"
"#;

    #[test]
    fn the_host_fills_in_what_the_config_leaves_out() {
        let system = SystemConfig::parse(SYSTEM).unwrap();
        let wanted = wanted_next_hops(&system).unwrap();
        assert_eq!(wanted, [Wanted { tunnel: "a".into(), port: "eth0".into(), remote: Ipv4Addr::new(192, 0, 2, 10) }]);
        let macs = [("eth0".to_string(), [2, 0, 0, 0, 0, 1]), ("eth1".to_string(), [2, 0, 0, 0, 0, 0x11])];
        let hops = [("a".to_string(), [2, 0, 0, 0, 0xff, 0x10]), ("b".to_string(), [9; 6])];
        let done = complete(&system, &macs, &hops);
        assert_eq!(done.physical[0].mac.as_deref(), Some("02:00:00:00:00:01"));
        assert_eq!(done.physical[1].mac.as_deref(), Some("02:00:00:00:00:11"));
        assert_eq!(done.tunnel[0].next_hop_mac.as_deref(), Some("02:00:00:00:ff:10"));
        assert_eq!(done.tunnel[1].next_hop_mac.as_deref(), Some("02:00:00:00:ff:20"), "a configured next hop stays");
        assert!(done.validate().is_empty());
        assert!(wanted_next_hops(&done).unwrap().is_empty());
    }

    #[test]
    fn an_unresolved_next_hop_names_the_port_the_address_and_what_was_tried() {
        let wanted = Wanted { tunnel: "a".into(), port: "eth0".into(), remote: Ipv4Addr::new(192, 0, 2, 10) };
        let on_link = unresolved(&wanted, wanted.remote, "sent a UDP datagram to 192.0.2.10:9 through eth0");
        assert_eq!(
            on_link,
            "tunnel 'a': the next hop 192.0.2.10 (the remote end itself, on the link) has no usable entry in the neighbour table \
             of eth0; sent a UDP datagram to 192.0.2.10:9 through eth0; give `next_hop_mac` in the config or make 192.0.2.10 answer ARP on eth0"
        );
        let routed = unresolved(&wanted, Ipv4Addr::new(192, 0, 2, 254), "x");
        assert!(routed.contains("192.0.2.254 (the gateway of the host's route to 192.0.2.10)"), "{routed}");
    }
}
