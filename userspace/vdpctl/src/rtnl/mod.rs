//! What vdpctl reads of the host's network through rtnetlink (the `rtnetlink` crate): a
//! port's index, Ethernet address, state and MTU, the route to a tunnel's remote end and the
//! neighbour table. With them a system config may leave out a port's `mac` and a tunnel's
//! `next_hop_mac` ([`complete`]), and a port is checked to exist and be up before it is attached
//! ([`port_ready`]). `docs/system-config.md` says what is read and when.
//!
//! The crate is asynchronous; each batch of queries runs on a [`Host`]: a tokio current-thread
//! runtime of its own that drives the rtnetlink connection while a query blocks on it, and ends
//! with the batch. The decisions made of the answers are in [`decide`], tested without sockets.

pub mod decide;

use anyhow::{Context, Result};
use decide::{Link, Mac, Neighbour, Wanted};
use futures_util::stream::TryStreamExt;
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, State};
use rtnetlink::packet_route::neighbour::{NeighbourAddress, NeighbourAttribute};
use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute};
use rtnetlink::packet_route::AddressFamily;
use std::collections::HashMap;
use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};
use vdp_click::system::SystemConfig;

/// A connection to the kernel's rtnetlink and the runtime that drives it.
pub struct Host {
    runtime: tokio::runtime::Runtime,
    handle: rtnetlink::Handle,
}

const ENODEV: i32 = 19;

/// Whether an rtnetlink error is the kernel's "no such device".
fn no_such_device(err: &rtnetlink::Error) -> bool {
    matches!(err, rtnetlink::Error::NetlinkError(message) if message.raw_code() == -ENODEV)
}

impl Host {
    pub fn open() -> Result<Host> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().context("starting a runtime for rtnetlink")?;
        let handle = runtime.block_on(async {
            let (connection, handle, _) = rtnetlink::new_connection()?;
            tokio::spawn(connection);
            Ok::<_, std::io::Error>(handle)
        });
        Ok(Host { runtime, handle: handle.context("opening an rtnetlink socket")? })
    }

    /// The interface called `name`; `None` when the host has none.
    pub fn link(&self, name: &str) -> Result<Option<Link>> {
        let request = self.handle.link().get().match_name(name.to_string()).execute();
        let message = match self.runtime.block_on(async { futures_util::pin_mut!(request); request.try_next().await }) {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(None),
            Err(e) if no_such_device(&e) => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading interface {name} through rtnetlink")),
        };
        let mut link = Link {
            index: message.header.index,
            name: name.to_string(),
            mac: None,
            admin_up: message.header.flags.contains(LinkFlags::Up),
            oper: State::Unknown,
            mtu: None,
        };
        for attribute in message.attributes {
            match attribute {
                LinkAttribute::Address(bytes) => link.mac = Mac::try_from(bytes.as_slice()).ok(),
                LinkAttribute::OperState(state) => link.oper = state,
                LinkAttribute::Mtu(mtu) => link.mtu = Some(mtu),
                LinkAttribute::IfName(real) => link.name = real,
                _ => {}
            }
        }
        Ok(Some(link))
    }

    /// The host's IPv4 neighbour table.
    pub fn neighbours(&self) -> Result<Vec<Neighbour>> {
        let request = self.handle.neighbours().get().set_address_family(AddressFamily::Inet).execute();
        let messages: Vec<_> = self.runtime.block_on(request.try_collect()).context("reading the neighbour table through rtnetlink")?;
        let mut table = Vec::new();
        for message in messages {
            let mut address = None;
            let mut mac = None;
            for attribute in message.attributes {
                match attribute {
                    NeighbourAttribute::Destination(NeighbourAddress::Inet(a)) => address = Some(a),
                    NeighbourAttribute::LinkLayerAddress(bytes) => mac = Some(bytes),
                    _ => {}
                }
            }
            if let Some(address) = address {
                table.push(Neighbour { ifindex: message.header.ifindex, address, state: message.header.state, mac });
            }
        }
        Ok(table)
    }

    /// The gateway of the host's route to `destination` out of interface `ifindex` (as
    /// `ip route get DESTINATION oif IFNAME`); `None` when the destination is on the link.
    pub fn gateway(&self, ifindex: u32, destination: Ipv4Addr) -> Result<Option<Ipv4Addr>> {
        let route = rtnetlink::RouteMessageBuilder::<Ipv4Addr>::new().destination_prefix(destination, 32).output_interface(ifindex).build();
        let request = self.handle.route().get(route).execute();
        let routes: Vec<_> = self.runtime.block_on(request.try_collect()).with_context(|| format!("looking up the host's route to {destination}"))?;
        Ok(routes.iter().flat_map(|r| r.attributes.iter()).find_map(|a| match a {
            RouteAttribute::Gateway(RouteAddress::Inet(gateway)) => Some(*gateway),
            _ => None,
        }))
    }

    /// Interface `name`, which must exist and be up ([`decide::check_up`]).
    pub fn ready_link(&self, name: &str) -> Result<Link> {
        let link = self.link(name)?.with_context(|| format!("there is no interface {name} on this host"))?;
        decide::check_up(&link).map_err(anyhow::Error::msg)?;
        Ok(link)
    }
}

/// Checks that interface `name` exists and is up, as attaching it needs.
pub fn port_ready(name: &str) -> Result<Link> {
    Host::open()?.ready_link(name)
}

/// A system config with what the host supplies filled in, and what was read, for the log.
pub struct Completed {
    pub system: SystemConfig,
    pub notes: Vec<String>,
}

/// Reads from the host what `system` leaves to it and checks what it states: every port must
/// exist; a port's `mac` is read from it, or must agree with it; a tunnel without
/// `next_hop_mac` gets its next hop's address from the neighbour table, after provoking a
/// resolution if the table has none ([`resolve`]). Every problem is listed, and none of them
/// leaves anything half done: the caller applies the completed config or nothing.
pub fn complete(system: &SystemConfig) -> Result<Completed> {
    if system.physical.is_empty() {
        return Ok(Completed { system: system.clone(), notes: Vec::new() });
    }
    let host = Host::open()?;
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut macs = Vec::new();
    let mut links = HashMap::new();
    for physical in &system.physical {
        let Some(link) = host.link(&physical.name)? else {
            problems.push(format!("physical device '{}': there is no interface {} on this host", physical.name, physical.name));
            continue;
        };
        match decide::port_mac(&physical.name, physical.mac.as_deref(), link.mac) {
            Ok(mac) => {
                if physical.mac.is_none() {
                    notes.push(format!("physical device {}: mac {} (read from the host)", physical.name, decide::format_mac(&mac)));
                }
                macs.push((physical.name.clone(), mac));
            }
            Err(why) => problems.push(why),
        }
        links.insert(physical.name.clone(), link);
    }
    let wanted = decide::wanted_next_hops(system).map_err(anyhow::Error::msg)?;
    let wanted: Vec<(Wanted, &Link)> = wanted.into_iter().filter_map(|w| links.get(&w.port).map(|link| (w, link))).collect();
    let resolved = resolve(&host, &wanted)?;
    problems.extend(resolved.problems);
    notes.extend(resolved.notes);
    if !problems.is_empty() {
        anyhow::bail!("the host does not give what the system config needs:\n  {}", problems.join("\n  "));
    }
    Ok(Completed { system: decide::complete(system, &macs, &resolved.macs), notes })
}

/// What [`resolve`] found: Ethernet addresses by tunnel, what it could not find, and notes.
pub struct Resolved {
    pub macs: Vec<(String, Mac)>,
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

/// The next hops' Ethernet addresses of the `wanted` tunnels, each over its port's link. The
/// next hop is the gateway of the host's route to the remote end through the port, or the
/// remote end itself when it is on the link. One missing from the neighbour table is provoked
/// (a UDP datagram to its discard port, sent through the port) and the table read again every
/// [`decide::POLL_INTERVAL`] for [`decide::RESOLVE_TIMEOUT`], for all of them at once.
pub fn resolve(host: &Host, wanted: &[(Wanted, &Link)]) -> Result<Resolved> {
    let mut found = Resolved { macs: Vec::new(), problems: Vec::new(), notes: Vec::new() };
    let mut pending = Vec::new();
    for (w, link) in wanted {
        if let Err(why) = decide::check_up(link) {
            found.problems.push(format!("tunnel '{}': its next hop cannot be resolved through {}: {why}", w.tunnel, w.port));
            continue;
        }
        match host.gateway(link.index, w.remote) {
            Ok(gateway) => pending.push((w, link.index, decide::next_hop(w.remote, gateway), String::new())),
            Err(e) => found.problems.push(format!("tunnel '{}': {e:#}", w.tunnel)),
        }
    }
    if pending.is_empty() {
        return Ok(found);
    }
    let take = |table: &[Neighbour], pending: &mut Vec<(&Wanted, u32, Ipv4Addr, String)>, found: &mut Resolved, how: &str| {
        pending.retain(|(w, ifindex, hop, _)| match decide::neighbour_mac(table, *ifindex, *hop) {
            Some(mac) => {
                found.notes.push(format!("tunnel {}: next hop {hop} on {} is at {} ({how})", w.tunnel, w.port, decide::format_mac(&mac)));
                found.macs.push((w.tunnel.clone(), mac));
                false
            }
            None => true,
        });
    };
    take(&host.neighbours()?, &mut pending, &mut found, "neighbour table");
    if pending.is_empty() {
        return Ok(found);
    }
    let started = Instant::now();
    for (w, _, hop, tried) in &mut pending {
        *tried = match provoke(&w.port, *hop) {
            Ok(()) => format!("sent a UDP datagram to {hop}:{} through {}", decide::PROVOKE_PORT, w.port),
            Err(e) => format!("tried to send a UDP datagram to {hop}:{} through {} ({e})", decide::PROVOKE_PORT, w.port),
        };
    }
    for _ in 0..decide::polls() {
        std::thread::sleep(decide::POLL_INTERVAL);
        let how = format!("neighbour table, resolved in {} ms", started.elapsed().as_millis());
        take(&host.neighbours()?, &mut pending, &mut found, &how);
        if pending.is_empty() {
            return Ok(found);
        }
    }
    let waited = Duration::from_millis(u64::from(decide::polls()) * decide::POLL_INTERVAL.as_millis() as u64);
    for (w, _, hop, tried) in &pending {
        let tried = format!("{tried}, then read the table every {} ms for {} ms", decide::POLL_INTERVAL.as_millis(), waited.as_millis());
        found.problems.push(decide::unresolved(w, *hop, &tried));
    }
    Ok(found)
}

/// The Ethernet address of the next hop towards `remote` through port `port` for tunnel
/// `tunnel`, resolved as [`resolve`] does: for `vdpctl vdev add` without `--peer-mac`.
pub fn next_hop_mac(tunnel: &str, port: &str, remote: Ipv4Addr) -> Result<Mac> {
    let host = Host::open()?;
    let link = host.link(port)?.with_context(|| format!("there is no interface {port} on this host"))?;
    let wanted = Wanted { tunnel: tunnel.to_string(), port: port.to_string(), remote };
    let resolved = resolve(&host, &[(wanted, &link)])?;
    if let Some((_, mac)) = resolved.macs.first() {
        return Ok(*mac);
    }
    anyhow::bail!("{}", resolved.problems.join("; "))
}

/// Makes the kernel resolve `hop` on `port`: a datagram to its discard port, sent through the
/// port whatever the routes say.
fn provoke(port: &str, hop: Ipv4Addr) -> std::io::Result<()> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
    nix::sys::socket::setsockopt(&socket, nix::sys::socket::sockopt::BindToDevice, &std::ffi::OsString::from(port))?;
    socket.send_to(b"vdp", (hop, decide::PROVOKE_PORT))?;
    Ok(())
}
