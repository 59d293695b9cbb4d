//! What a new system config changes, tenant by tenant: the plan `vdpctl daemon` follows on
//! SIGHUP (`systemctl reload vdpd`). The comparison is pure, so it is tested here without a
//! module; [`super::daemon`] carries the plan out.

use crate::device::{device_spec, DeviceSpec};
use std::collections::BTreeSet;
use vdp_click::system::{SystemConfig, Tenant};

/// How one tenant of the new config differs from the old one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TenantChange {
    pub name: String,
    /// Settings other than devices that differ (`cpu_share`, `cgroup`, ...), in the config's
    /// field order.
    pub settings: Vec<String>,
    /// Devices the new config adds.
    pub devices_added: Vec<String>,
    /// Devices the new config drops.
    pub devices_removed: Vec<String>,
    /// Devices in both whose tunnel (endpoints, key, port, addresses) differs: they are made
    /// again.
    pub devices_changed: Vec<String>,
}

impl TenantChange {
    pub fn is_empty(&self) -> bool {
        self.settings.is_empty() && self.devices_added.is_empty() && self.devices_removed.is_empty() && self.devices_changed.is_empty()
    }

    /// `cpu_share, device eth2 added, device eth1 changed`, for the log.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.settings.clone();
        parts.extend(self.devices_added.iter().map(|d| format!("device {d} added")));
        parts.extend(self.devices_removed.iter().map(|d| format!("device {d} removed")));
        parts.extend(self.devices_changed.iter().map(|d| format!("device {d} changed")));
        parts.join(", ")
    }
}

/// Everything a reload changes. Tenants are named in the order of the config they are in.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<TenantChange>,
    pub unchanged: Vec<String>,
    /// The `[limits]` differ: every tenant's configuration is checked again (a graph whose
    /// compiled form is the same keeps running untouched).
    pub limits_changed: bool,
    /// Physical devices only the old config names: detached once no device uses them.
    pub ports_removed: Vec<String>,
}

impl Plan {
    /// `2 added (green, gold), 1 removed (blue), 1 changed (red: cpu_share), 3 unchanged`.
    pub fn summary(&self) -> String {
        let names = |v: &[String]| if v.is_empty() { String::new() } else { format!(" ({})", v.join(", ")) };
        let changed: Vec<String> = self.changed.iter().map(|c| format!("{}: {}", c.name, c.describe())).collect();
        let mut text = format!(
            "{} added{}, {} removed{}, {} changed{}, {} unchanged",
            self.added.len(),
            names(&self.added),
            self.removed.len(),
            names(&self.removed),
            self.changed.len(),
            names(&changed),
            self.unchanged.len()
        );
        if self.limits_changed {
            text.push_str("; [limits] changed");
        }
        if !self.ports_removed.is_empty() {
            text.push_str(&format!("; ports no longer configured: {}", self.ports_removed.join(", ")));
        }
        text
    }
}

/// A config entry's fields as `(field, value)` pairs, its name left out: every field is
/// compared, so one added to the config later is compared too.
fn fields_of(entry: &impl serde::Serialize) -> Vec<(String, serde_json::Value)> {
    match serde_json::to_value(entry) {
        Ok(serde_json::Value::Object(map)) => map.into_iter().filter(|(k, _)| k != "name").collect(),
        _ => Vec::new(),
    }
}

/// A tenant's settings, its devices left out (they are compared one by one).
fn settings(tenant: &Tenant) -> Vec<(String, serde_json::Value)> {
    fields_of(tenant).into_iter().filter(|(k, _)| k != "device").collect()
}

/// The `VDEV_NEW` request each of the tenant's devices makes under `system` (tenant id 0:
/// the id is the module's, not the config's). A device whose tunnel does not resolve gives
/// `None`, which compares unequal to any resolved one.
fn specs(system: &SystemConfig, tenant: &Tenant) -> Vec<(String, Option<DeviceSpec>)> {
    tenant.device.iter().map(|d| (d.name.clone(), device_spec(system, &tenant.name, 0, &d.name).ok())).collect()
}

fn diff(old_system: &SystemConfig, old: &Tenant, new_system: &SystemConfig, new: &Tenant) -> TenantChange {
    let (old_settings, new_settings) = (settings(old), settings(new));
    let mut fields: Vec<String> = Vec::new();
    for (key, value) in &new_settings {
        if old_settings.iter().find(|(k, _)| k == key).map(|(_, v)| v) != Some(value) {
            fields.push(key.clone());
        }
    }
    // A device's own settings (its address, say) that change what its graph compiles to,
    // whether or not the device must be made again.
    for device in &new.device {
        let Some(before) = old.device.iter().find(|d| d.name == device.name) else { continue };
        let (a, b) = (fields_of(before), fields_of(device));
        for (key, value) in &b {
            if a.iter().find(|(k, _)| k == key).map(|(_, v)| v) != Some(value) {
                fields.push(format!("device {} {key}", device.name));
            }
        }
    }
    let (old_specs, new_specs) = (specs(old_system, old), specs(new_system, new));
    let mut change = TenantChange { name: new.name.clone(), settings: fields, ..Default::default() };
    for (name, spec) in &new_specs {
        match old_specs.iter().find(|(n, _)| n == name) {
            None => change.devices_added.push(name.clone()),
            Some((_, old)) if old.is_none() || old != spec => change.devices_changed.push(name.clone()),
            Some(_) => {}
        }
    }
    change.devices_removed = old_specs.iter().filter(|(n, _)| !new_specs.iter().any(|(m, _)| m == n)).map(|(n, _)| n.clone()).collect();
    change
}

/// The plan for going from `old` to `new`.
pub fn plan(old: &SystemConfig, new: &SystemConfig) -> Plan {
    let mut plan = Plan {
        limits_changed: serde_json::to_value(&old.limits).ok() != serde_json::to_value(&new.limits).ok(),
        ..Default::default()
    };
    for tenant in &new.tenant {
        match old.tenant(&tenant.name) {
            None => plan.added.push(tenant.name.clone()),
            Some(before) => {
                let change = diff(old, before, new, tenant);
                if change.is_empty() {
                    plan.unchanged.push(tenant.name.clone());
                } else {
                    plan.changed.push(change);
                }
            }
        }
    }
    plan.removed = old.tenant.iter().filter(|t| new.tenant(&t.name).is_none()).map(|t| t.name.clone()).collect();
    let kept: BTreeSet<&str> = new.physical.iter().map(|p| p.name.as_str()).collect();
    plan.ports_removed = old.physical.iter().filter(|p| !kept.contains(p.name.as_str())).map(|p| p.name.clone()).collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[[physical]]
name = "eth0"
mac = "52:54:00:00:00:01"

[[tunnel]]
name = "red-1"
physical = "eth0"
local = "192.0.2.1"
remote = "192.0.2.11"
key = 11
carries = "ip"
next_hop_mac = "52:54:00:00:00:fe"

[[tenant]]
name = "red"
cgroup = "/red"
cpu_share = 50

[[tenant.device]]
name = "eth1"
tunnel = "red-1"
address = "10.1.0.1/24"
mac = "02:00:00:00:01:01"

[[tenant]]
name = "blue"
cgroup = "/blue"
cpu_share = 50
"#;

    fn parse(text: &str) -> SystemConfig {
        match SystemConfig::parse(text) {
            Ok(system) => system,
            Err(problems) => panic!("test config does not parse: {problems:?}"),
        }
    }

    #[test]
    fn the_same_config_changes_nothing() {
        let plan = super::plan(&parse(BASE), &parse(BASE));
        assert_eq!(plan.unchanged, ["red", "blue"]);
        assert!(plan.added.is_empty() && plan.removed.is_empty() && plan.changed.is_empty() && !plan.limits_changed);
        assert_eq!(plan.summary(), "0 added, 0 removed, 0 changed, 2 unchanged");
    }

    #[test]
    fn tenants_added_and_removed_leave_the_others_unchanged() {
        let new = BASE.replace("name = \"blue\"\ncgroup = \"/blue\"", "name = \"green\"\ncgroup = \"/green\"");
        let plan = super::plan(&parse(BASE), &parse(&new));
        assert_eq!(plan.added, ["green"]);
        assert_eq!(plan.removed, ["blue"]);
        assert_eq!(plan.unchanged, ["red"]);
        assert_eq!(plan.summary(), "1 added (green), 1 removed (blue), 0 changed, 1 unchanged");
    }

    #[test]
    fn settings_and_devices_are_compared_field_by_field() {
        let new = BASE.replace("cgroup = \"/red\"\ncpu_share = 50", "cgroup = \"/red\"\ncpu_share = 30\nmemory_max = \"64MiB\"");
        let plan = super::plan(&parse(BASE), &parse(&new));
        assert_eq!(plan.changed.len(), 1);
        assert_eq!(plan.changed[0].settings, ["cpu_share", "memory_max"]);
        assert_eq!(plan.unchanged, ["blue"]);

        // The tunnel a device runs over changes: the device is made again.
        let new = BASE.replace("remote = \"192.0.2.11\"", "remote = \"192.0.2.12\"");
        let plan = super::plan(&parse(BASE), &parse(&new));
        assert_eq!(plan.changed[0].devices_changed, ["eth1"]);
        assert!(plan.changed[0].settings.is_empty());
        assert_eq!(plan.changed[0].describe(), "device eth1 changed");

        let new = BASE.replace("cpu_share = 50\n\n[[tenant.device]]\nname = \"eth1\"\ntunnel = \"red-1\"\naddress = \"10.1.0.1/24\"\nmac = \"02:00:00:00:01:01\"\n", "cpu_share = 50\n");
        let plan = super::plan(&parse(BASE), &parse(&new));
        assert_eq!(plan.changed[0].devices_removed, ["eth1"]);
    }

    #[test]
    fn a_derived_mac_that_moves_with_the_tenants_order_is_a_changed_device() {
        // Without a `mac`, a device's address derives from its tenant's place in the file.
        let base = BASE.replace("mac = \"02:00:00:00:01:01\"\n", "");
        let swapped = format!(
            "{}\n[[tenant]]\nname = \"red\"\ncgroup = \"/red\"\ncpu_share = 50\n\n[[tenant.device]]\nname = \"eth1\"\ntunnel = \"red-1\"\naddress = \"10.1.0.1/24\"\n",
            base.split("[[tenant]]").next().unwrap_or_default().to_string() + "[[tenant]]\nname = \"blue\"\ncgroup = \"/blue\"\ncpu_share = 50\n"
        );
        let plan = super::plan(&parse(&base), &parse(&swapped));
        assert_eq!(plan.changed.len(), 1, "{plan:?}");
        assert_eq!(plan.changed[0].devices_changed, ["eth1"]);
        assert_eq!(plan.unchanged, ["blue"]);
    }

    #[test]
    fn a_device_setting_that_needs_no_new_device_still_changes_the_tenant() {
        let new = BASE.replace("address = \"10.1.0.1/24\"", "address = \"10.1.0.2/24\"");
        let plan = super::plan(&parse(BASE), &parse(&new));
        assert_eq!(plan.changed.len(), 1);
        assert_eq!(plan.changed[0].settings, ["device eth1 address"]);
        assert!(plan.changed[0].devices_changed.is_empty());
    }

    #[test]
    fn limits_and_ports_are_reported() {
        let new = format!("[limits]\nmax_elements = 10\n{}", BASE.replace("[[physical]]\nname = \"eth0\"\nmac = \"52:54:00:00:00:01\"\n", "[[physical]]\nname = \"eth0\"\nmac = \"52:54:00:00:00:01\"\n\n[[physical]]\nname = \"eth9\"\nmac = \"52:54:00:00:00:09\"\n"));
        let plan = super::plan(&parse(&new), &parse(BASE));
        assert!(plan.limits_changed);
        assert_eq!(plan.ports_removed, ["eth9"]);
        assert!(plan.summary().ends_with("; [limits] changed; ports no longer configured: eth9"), "{}", plan.summary());
    }
}
