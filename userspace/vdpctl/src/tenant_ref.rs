//! A tenant as the command line names it, by id or by name, and how a name becomes the module's
//! id (and an id the coordinator's name): every command that names a tenant parses it here.

use crate::attrs::VdpAttr;
use crate::netlink::{VdpMessage, VdpSocket};
use anyhow::{bail, Context, Result};
use vdp_core::uapi::{self, cmd};

/// A tenant by its id or by its name. Names start with a letter, so a number is always an id.
#[derive(Clone, Debug, PartialEq)]
pub enum TenantRef {
    Id(u32),
    Name(String),
}

impl std::fmt::Display for TenantRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TenantRef::Id(id) => write!(f, "{id}"),
            TenantRef::Name(name) => f.write_str(name),
        }
    }
}

/// The value parser of every argument that names a tenant.
pub fn parse_tenant_ref(text: &str) -> Result<TenantRef, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map(TenantRef::Id).map_err(|_| format!("tenant id `{text}` is larger than {}", u32::MAX));
    }
    if uapi::valid_tenant_name(text.as_bytes()) {
        return Ok(TenantRef::Name(text.to_string()));
    }
    Err(format!(
        "`{text}` is neither a tenant id (a number) nor a tenant name (a lower-case letter then up to {} of [a-z0-9_])",
        uapi::TENANT_NAME_MAX - 1
    ))
}

/// The (id, name) pairs of a STATS dump, one per tenant (a tenant whose graph did not fit one
/// message comes again in the next).
fn ids_and_names(messages: &[VdpMessage]) -> Result<Vec<(u32, String)>> {
    let mut tenants: Vec<(u32, String)> = Vec::new();
    for message in messages {
        let (mut id, mut name) = (None, None);
        for a in &message.attrs {
            match a {
                VdpAttr::TenantId(n) => id = Some(*n),
                VdpAttr::TenantName(n) => name = Some(n.clone()),
                _ => {}
            }
        }
        let id = id.context("a STATS message without a tenant id")?;
        if tenants.last().is_none_or(|(last, _)| *last != id) {
            tenants.push((id, name.unwrap_or_default()));
        }
    }
    Ok(tenants)
}

/// The id of the tenant named `name` among `tenants`.
fn id_named(tenants: &[(u32, String)], name: &str) -> Result<u32> {
    if let Some((id, _)) = tenants.iter().find(|(_, n)| n == name) {
        return Ok(*id);
    }
    let known: Vec<&str> = tenants.iter().map(|(_, n)| n.as_str()).collect();
    let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
    bail!("the module has no tenant named `{name}` (its tenants: {known})")
}

/// The module's id of `tenant`: a name is looked up in the STATS dump, which any user may read.
pub fn resolve(socket: &mut VdpSocket, tenant: &TenantRef) -> Result<u32> {
    match tenant {
        TenantRef::Id(id) => Ok(*id),
        TenantRef::Name(name) => id_named(&ids_and_names(&socket.dump(cmd::STATS, Vec::new())?)?, name),
    }
}

/// The tenant's name, for the coordinator, which knows tenants by name: an id is looked up among
/// the module's tenants (the coordinator creates each under its own name).
pub fn name_of(tenant: &TenantRef) -> Result<String> {
    match tenant {
        TenantRef::Name(name) => Ok(name.clone()),
        TenantRef::Id(id) => {
            let mut socket = VdpSocket::connect()
                .map_err(anyhow::Error::from)
                .with_context(|| format!("finding the name of tenant {id} needs the module; name the tenant instead"))?;
            let tenants = ids_and_names(&socket.dump(cmd::STATS, vec![VdpAttr::TenantId(*id)])?)?;
            let (_, name) = tenants.into_iter().next().with_context(|| format!("the module has no tenant with id {id}"))?;
            Ok(name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_ids_and_words_are_names() {
        assert_eq!(parse_tenant_ref("7"), Ok(TenantRef::Id(7)));
        assert_eq!(parse_tenant_ref("4294967295"), Ok(TenantRef::Id(u32::MAX)));
        assert_eq!(parse_tenant_ref("red_2"), Ok(TenantRef::Name("red_2".into())));
        assert!(parse_tenant_ref("4294967296").unwrap_err().contains("larger"));
        for bad in ["", "Red", "2red", "red-2", "much_too_long"] {
            assert!(parse_tenant_ref(bad).unwrap_err().contains("neither a tenant id"), "{bad}");
        }
        assert_eq!(TenantRef::Id(3).to_string(), "3");
        assert_eq!(TenantRef::Name("blue".into()).to_string(), "blue");
    }

    #[test]
    fn names_are_found_in_the_stats_dump() {
        let message = |id: u32, name: &str| VdpMessage {
            cmd: cmd::STATS,
            attrs: vec![VdpAttr::TenantId(id), VdpAttr::TenantName(String::from(name))],
        };
        // Tenant 1's elements filled two messages.
        let dump = [message(1, "red"), message(1, "red"), message(4, "blue")];
        let tenants = ids_and_names(&dump).unwrap();
        assert_eq!(tenants, [(1, "red".to_string()), (4, "blue".to_string())]);
        assert_eq!(id_named(&tenants, "blue").unwrap(), 4);
        let err = id_named(&tenants, "green").unwrap_err().to_string();
        assert_eq!(err, "the module has no tenant named `green` (its tenants: red, blue)");
        assert!(id_named(&[], "red").unwrap_err().to_string().contains("(its tenants: none)"));
        let headless = VdpMessage { cmd: cmd::STATS, attrs: vec![VdpAttr::TenantName(String::from("red"))] };
        assert!(ids_and_names(&[headless]).is_err());
    }
}
