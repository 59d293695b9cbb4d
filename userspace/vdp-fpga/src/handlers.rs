//! Handlers through the address map, host side: `vdpctl fpga read|write ELEM.HANDLER` finds
//! the element's block in the map, confines the access to the tenant's window, and reads or
//! writes the registers over a [`Bus`]. Values are formatted as the software handlers format
//! them; a route table is read whole, kept in the software's order (address, then shorter
//! prefixes first), and written back all or nothing.

use crate::classes::{ip_lookup::ENTRY_WORDS, HandlerKind};
use crate::map::{Element, Handler, Map};
use anyhow::{anyhow, bail, Context, Result};
use std::fmt::Write as _;
use vdp_core::click_value;
use vdp_core::lpm::{LpmError, Prefix, Route};
use vdp_core::route_text::{self, LookupAnswer, TableLine};
use vdp_core::wire::ipv4::Address;

/// The register bus of a running design.
pub trait Bus {
    fn read(&mut self, address: u64) -> Result<u32>;
    fn write(&mut self, address: u64, value: u32) -> Result<()>;
}

/// A tenant's view of the bus: every access must fall inside its window.
struct Confined<'a, B: Bus> {
    bus: &'a mut B,
    base: u64,
    words: u64,
}

impl<B: Bus> Confined<'_, B> {
    fn check(&self, address: u64) -> Result<()> {
        if address < self.base || address >= self.base + self.words {
            bail!("register {address} is outside the tenant's window [{}, {})", self.base, self.base + self.words);
        }
        Ok(())
    }
    fn read(&mut self, address: u64) -> Result<u32> {
        self.check(address)?;
        self.bus.read(address)
    }
    fn write(&mut self, address: u64, value: u32) -> Result<()> {
        self.check(address)?;
        self.bus.write(address, value)
    }
}

/// `ELEMENT.HANDLER[ PARAMETER]` split, the element's map entry and the handler's.
fn resolve<'m>(map: &'m Map, tenant: &str, target: &str, write: bool) -> Result<(&'m Element, &'m Handler, Option<String>)> {
    let (name, parameter) = match target.split_once(' ') {
        Some((name, parameter)) => (name, Some(parameter.trim().to_string())),
        None => (target, None),
    };
    let (element, handler) = name.rsplit_once('.').ok_or_else(|| anyhow!("'{target}' is not ELEMENT.HANDLER"))?;
    if map.window(tenant).is_none() {
        bail!("the design has no tenant '{tenant}'");
    }
    let found = map.element(tenant, element).ok_or_else(|| anyhow!("tenant {tenant} has no element '{element}' on the FPGA"))?;
    let side = if write { "write" } else { "read" };
    let entry = found.handlers.iter().find(|h| h.name == handler && if write { h.write } else { h.read }).ok_or_else(|| {
        let list: Vec<&str> = found.handlers.iter().filter(|h| if write { h.write } else { h.read }).map(|h| h.name.as_str()).collect();
        anyhow!("{element} ({}) has no {side} handler '{handler}' on the FPGA; it has: {}", found.class, if list.is_empty() { "none".into() } else { list.join(", ") })
    })?;
    Ok((found, entry, parameter))
}

fn confined<'a, B: Bus>(map: &Map, tenant: &str, bus: &'a mut B) -> Result<Confined<'a, B>> {
    let window = map.window(tenant).ok_or_else(|| anyhow!("the design has no tenant '{tenant}'"))?;
    Ok(Confined { bus, base: window.base, words: window.words })
}

fn block_base(element: &Element) -> Result<u64> {
    element.block.map(|b| b.base).ok_or_else(|| anyhow!("{} has no registers", element.name))
}

/// The value of a read handler, as the software handler writes it.
pub fn read<B: Bus>(map: &Map, tenant: &str, target: &str, bus: &mut B) -> Result<String> {
    let (element, handler, parameter) = resolve(map, tenant, target, false)?;
    let mut bus = confined(map, tenant, bus)?;
    let base = block_base(element)? + u64::from(handler.offset);
    Ok(match handler.kind {
        HandlerKind::Count => {
            let low = bus.read(base)?;
            let high = bus.read(base + 1)?;
            (u64::from(high) << 32 | u64::from(low)).to_string()
        }
        HandlerKind::Integer { .. } => bus.read(base)?.to_string(),
        HandlerKind::Action => bail!("{} is a write handler", handler.name),
        HandlerKind::Routes => {
            let table = read_table(&mut bus, element)?;
            match handler.name.as_str() {
                "lookup" => {
                    let text = parameter.ok_or_else(|| anyhow!("expected lookup ADDR"))?;
                    let address = click_value::parse_ipv4(&text).map_err(|e| anyhow!("lookup {text}: {}", e.describe()))?;
                    LookupAnswer(lookup(&table, address)).to_string()
                }
                _ => {
                    let mut out = String::new();
                    for (prefix, route) in &table {
                        let _ = write!(out, "{}", TableLine(*prefix, *route));
                    }
                    out
                }
            }
        }
    })
}

/// Longest-prefix match over a table.
pub fn lookup(table: &[(Prefix, Route)], address: [u8; 4]) -> Option<Route> {
    let value = u32::from_be_bytes(address);
    table
        .iter()
        .filter(|(prefix, _)| value & click_value::prefix_mask(prefix.len()) == prefix.network().to_u32())
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, route)| *route)
}

fn slots(element: &Element) -> Result<u64> {
    element.slots.ok_or_else(|| anyhow!("{} has no route table", element.name))
}

/// The table's routes in the software's order.
fn read_table<B: Bus>(bus: &mut Confined<B>, element: &Element) -> Result<Vec<(Prefix, Route)>> {
    let base = block_base(element)?;
    let mut table = Vec::new();
    for slot in 0..slots(element)? {
        let at = base + slot * ENTRY_WORDS;
        let flags = bus.read(at)?;
        if flags & 1 == 0 {
            continue;
        }
        let network = bus.read(at + 1)?;
        let len = bus.read(at + 2)? as u8;
        let gateway = bus.read(at + 3)?;
        let port = bus.read(at + 4)? as u16;
        let prefix = Prefix::new(Address::from_u32(network), len).map_err(|_| anyhow!("slot {slot} holds a prefix length of {len}"))?;
        table.push((prefix, Route { gateway: (flags & 2 != 0).then(|| Address::from_u32(gateway)), port }));
    }
    table.sort_by_key(|(prefix, _)| (prefix.network().to_u32(), prefix.len()));
    Ok(table)
}

fn refused(error: LpmError) -> anyhow::Error {
    anyhow!("{}", error.describe())
}

/// Performs a write handler with `value`.
pub fn write<B: Bus>(map: &Map, tenant: &str, target: &str, value: &str, bus: &mut B) -> Result<()> {
    let (element, handler, _) = resolve(map, tenant, target, true)?;
    let mut bus = confined(map, tenant, bus)?;
    let base = block_base(element)? + u64::from(handler.offset);
    match handler.kind {
        HandlerKind::Count => bail!("{} is a read handler", handler.name),
        HandlerKind::Action => bus.write(base, 1),
        HandlerKind::Integer { min, max } => {
            let number = click_value::parse_int(value.trim()).map_err(|e| anyhow!("{}", e.describe()))?;
            if number < min || number > max {
                bail!("expected an integer in range");
            }
            bus.write(base, number as u32)
        }
        HandlerKind::Routes => write_routes(&mut bus, element, &handler.name, value),
    }
}

fn write_routes<B: Bus>(bus: &mut Confined<B>, element: &Element, handler: &str, value: &str) -> Result<()> {
    let mut table = read_table(bus, element)?;
    if handler == "flush" {
        table.clear();
    } else {
        let mut any = false;
        for entry in route_text::entries(value) {
            any = true;
            match handler {
                "add" | "set" => {
                    let (prefix, route) = route_text::parse_add(entry, element.outputs).map_err(|e| anyhow!("{}", e.describe()))?;
                    match table.iter_mut().find(|(p, _)| *p == prefix) {
                        Some(_) if handler == "add" => return Err(refused(LpmError::Exists)),
                        Some(slot) => slot.1 = route,
                        None => table.push((prefix, route)),
                    }
                }
                _ => {
                    let remove = route_text::parse_remove(entry).map_err(|e| anyhow!("{}", e.describe()))?;
                    let at = table.iter().position(|(p, r)| *p == remove.prefix && remove.matches(r)).ok_or_else(|| refused(LpmError::NotFound))?;
                    table.remove(at);
                }
            }
        }
        if !any {
            bail!("expected a route: ADDR/LEN [GATEWAY] OUTPUT");
        }
    }
    let slots = slots(element)?;
    if table.len() as u64 > slots {
        return Err(refused(LpmError::Full)).context(format!("the FPGA table of {} holds {slots} routes", element.name));
    }
    let base = block_base(element)?;
    for slot in 0..slots {
        let at = base + slot * ENTRY_WORDS;
        // The entry goes invalid first and valid last, so a packet never sees half of it.
        bus.write(at, 0)?;
        if let Some((prefix, route)) = table.get(slot as usize) {
            bus.write(at + 1, prefix.network().to_u32())?;
            bus.write(at + 2, u32::from(prefix.len()))?;
            bus.write(at + 3, route.gateway.map(|g| g.to_u32()).unwrap_or(0))?;
            bus.write(at + 4, u32::from(route.port))?;
            bus.write(at + 0, 1 | if route.gateway.is_some() { 2 } else { 0 })?;
        }
    }
    Ok(())
}
