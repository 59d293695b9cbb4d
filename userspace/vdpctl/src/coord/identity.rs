//! Who is calling, taken from the kernel only (`SO_PEERCRED` → pid → cgroup and network
//! namespace), and what that caller may do. A tenant name sent by a client is never trusted.

use super::protocol::Op;
use vdp_click::system::SystemConfig;

/// What the kernel says about a connected peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub pid: u32,
    pub uid: u32,
    /// Its cgroup v2 path, e.g. `/red/shell`.
    pub cgroup: String,
    /// Whether it shares the coordinator's network namespace.
    pub same_netns: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Tenant(String),
    /// uid 0 in the coordinator's own network namespace and in no tenant cgroup.
    Root,
}

/// A refusal, already phrased for the caller: it names the rule broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

/// The cgroup v2 path of a `/proc/PID/cgroup` text: its `0::PATH` line.
pub fn cgroup_v2_path(proc_cgroup: &str) -> Option<String> {
    proc_cgroup.lines().find_map(|line| line.strip_prefix("0::")).map(normalize)
}

/// `/a/b` form: one leading slash, no trailing one, no empty or `.` components.
pub fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    format!("/{}", parts.join("/"))
}

/// The tenant whose cgroup is `path` or an ancestor of it; the deepest such tenant wins, so a
/// tenant cgroup nested in another's belongs to the inner tenant.
pub fn tenant_of_cgroup<'a>(system: &'a SystemConfig, path: &str) -> Option<&'a str> {
    let path = normalize(path);
    system
        .tenant
        .iter()
        .filter_map(|t| {
            let base = normalize(&t.cgroup);
            // The root cgroup holds everyone, so a tenant configured there would own every caller.
            let inside = base != "/" && (path == base || path.starts_with(&format!("{base}/")));
            inside.then_some((base.len(), t.name.as_str()))
        })
        .max_by_key(|(depth, _)| *depth)
        .map(|(_, name)| name)
}

/// Who `peer` is, or why it may not talk to the coordinator at all.
pub fn identify(system: &SystemConfig, peer: &Peer) -> Result<Caller, Refusal> {
    if let Some(tenant) = tenant_of_cgroup(system, &peer.cgroup) {
        return Ok(Caller::Tenant(tenant.to_string()));
    }
    if peer.uid == 0 && peer.same_netns {
        return Ok(Caller::Root);
    }
    let why = match (peer.uid, peer.same_netns) {
        (0, _) => "runs in another network namespace",
        (_, true) => "is not uid 0",
        _ => "is not uid 0 and runs in another network namespace",
    };
    Err(Refusal(format!(
        "refused (rule: callers are tenants or the root context): process {} (uid {}) is in cgroup {}, \
         which belongs to no tenant, and it is not the root context because it {why}",
        peer.pid, peer.uid, peer.cgroup
    )))
}

/// The tenant a request acts on: a tenant acts on itself only; the root context names one.
pub fn authorize(system: &SystemConfig, caller: &Caller, requested: Option<&str>) -> Result<String, Refusal> {
    match (caller, requested) {
        (Caller::Tenant(own), None) => Ok(own.clone()),
        (Caller::Tenant(own), Some(other)) if other == own => Ok(own.clone()),
        (Caller::Tenant(own), Some(other)) => Err(Refusal(format!(
            "refused (rule: a tenant acts only on itself): the caller is tenant '{own}' and may not act on tenant '{other}'"
        ))),
        (Caller::Root, None) => Err(Refusal(
            "refused (rule: the root context names its tenant): the caller is in no tenant cgroup; pass --tenant NAME".into(),
        )),
        (Caller::Root, Some(name)) => match system.tenant(name) {
            Some(_) => Ok(name.to_string()),
            None => {
                let known: Vec<&str> = system.tenant.iter().map(|t| t.name.as_str()).collect();
                Err(Refusal(format!("no tenant '{name}' in the system config (its tenants: {})", known.join(", "))))
            }
        },
    }
}

/// Handler requests name the tenant's own, unprefixed elements. A name that starts with another
/// tenant's prefix or the shared `phys/` prefix is an attempt to reach outside, and is refused.
pub fn check_element(system: &SystemConfig, tenant: &str, op: &Op) -> Result<(), Refusal> {
    let element = match op {
        Op::Read { element, .. } | Op::Write { element, .. } => element,
        _ => return Ok(()),
    };
    let first = element.split('/').next().unwrap_or("");
    let foreign = system.tenant.iter().any(|t| t.name != tenant && t.name == first);
    if foreign || first == vdp_click::system::SHARED_PREFIX {
        let owner = if foreign { format!("tenant '{first}'") } else { "the shared data plane".to_string() };
        return Err(Refusal(format!(
            "refused (rule: a tenant reads and writes only its own handlers): '{element}' belongs to {owner}, \
             and the caller acts as tenant '{tenant}'; name your own elements without a prefix"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system() -> SystemConfig {
        SystemConfig::parse(
            r#"
[[tenant]]
name = "red"
cgroup = "/red"
cpu_share = 30
[[tenant]]
name = "blue"
cgroup = "/vdp/blue/"
cpu_share = 30
[[tenant]]
name = "inner"
cgroup = "/red/inner"
cpu_share = 30
"#,
        )
        .expect("system config")
    }

    fn peer(uid: u32, cgroup: &str, same_netns: bool) -> Peer {
        Peer { pid: 42, uid, cgroup: cgroup.into(), same_netns }
    }

    #[test]
    fn reads_the_v2_line_of_proc_cgroup() {
        assert_eq!(cgroup_v2_path("0::/red/shell\n").as_deref(), Some("/red/shell"));
        assert_eq!(cgroup_v2_path("1:name=systemd:/x\n0::/\n").as_deref(), Some("/"));
        assert_eq!(cgroup_v2_path("1:cpu:/x\n"), None);
    }

    #[test]
    fn cgroups_map_to_the_deepest_tenant() {
        let s = system();
        assert_eq!(tenant_of_cgroup(&s, "/red"), Some("red"));
        assert_eq!(tenant_of_cgroup(&s, "/red/shell/deeper"), Some("red"));
        assert_eq!(tenant_of_cgroup(&s, "/red/inner/x"), Some("inner"));
        assert_eq!(tenant_of_cgroup(&s, "/vdp/blue"), Some("blue"));
        assert_eq!(tenant_of_cgroup(&s, "/redder"), None, "a name prefix is not a parent");
        assert_eq!(tenant_of_cgroup(&s, "/vdp"), None);
        assert_eq!(tenant_of_cgroup(&s, "/"), None);
    }

    #[test]
    fn a_tenant_at_the_root_cgroup_owns_nobody() {
        let s = SystemConfig::parse("[[tenant]]\nname = \"all\"\ncgroup = \"/\"\ncpu_share = 10\n").unwrap();
        assert_eq!(tenant_of_cgroup(&s, "/anything"), None);
    }

    #[test]
    fn identity_comes_from_cgroup_then_root_context() {
        let s = system();
        assert_eq!(identify(&s, &peer(1000, "/red/c1", false)), Ok(Caller::Tenant("red".into())));
        // uid 0 inside a tenant cgroup is that tenant, not the root context.
        assert_eq!(identify(&s, &peer(0, "/red", true)), Ok(Caller::Tenant("red".into())));
        assert_eq!(identify(&s, &peer(0, "/", true)), Ok(Caller::Root));
        let other_netns = identify(&s, &peer(0, "/", false)).unwrap_err().0;
        assert!(other_netns.contains("rule: callers are tenants or the root context"), "{other_netns}");
        assert!(other_netns.contains("another network namespace"), "{other_netns}");
        let unprivileged = identify(&s, &peer(65534, "/user", true)).unwrap_err().0;
        assert!(unprivileged.contains("is not uid 0"), "{unprivileged}");
        assert!(unprivileged.contains("cgroup /user"), "{unprivileged}");
    }

    #[test]
    fn tenants_act_only_on_themselves() {
        let s = system();
        let red = Caller::Tenant("red".into());
        assert_eq!(authorize(&s, &red, None).unwrap(), "red");
        assert_eq!(authorize(&s, &red, Some("red")).unwrap(), "red");
        let refusal = authorize(&s, &red, Some("blue")).unwrap_err().0;
        assert!(refusal.contains("rule: a tenant acts only on itself"), "{refusal}");
        assert_eq!(authorize(&s, &Caller::Root, Some("blue")).unwrap(), "blue");
        assert!(authorize(&s, &Caller::Root, None).unwrap_err().0.contains("--tenant"));
        assert!(authorize(&s, &Caller::Root, Some("green")).unwrap_err().0.contains("no tenant 'green'"));
    }

    #[test]
    fn handler_names_stay_inside_the_tenant() {
        let s = system();
        let read = |element: &str| Op::Read { element: element.into(), handler: "count".into() };
        assert!(check_element(&s, "red", &read("c")).is_ok());
        assert!(check_element(&s, "red", &read("compound/c")).is_ok());
        let refusal = check_element(&s, "blue", &read("red/c")).unwrap_err().0;
        assert!(refusal.contains("rule: a tenant reads and writes only its own handlers"), "{refusal}");
        assert!(refusal.contains("tenant 'red'"), "{refusal}");
        assert!(check_element(&s, "red", &read("phys/eth0/rx")).unwrap_err().0.contains("shared data plane"));
        let write = Op::Write { element: "blue/q".into(), handler: "reset".into(), value: None };
        assert!(check_element(&s, "red", &write).is_err());
        assert!(check_element(&s, "red", &Op::Show { graph: false }).is_ok());
    }
}
