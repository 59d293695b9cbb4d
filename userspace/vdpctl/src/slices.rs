//! The engines' slices of a system config ([`vdp_click::slices`]) as vdpctl shows them:
//! `vdpctl system show`, the coordinator's log and its `show` answer. `docs/pdp.md` describes
//! the output.

use serde_json::{json, Value};
use vdp_click::engines::Engines;
use vdp_click::slices::{engines as units_text, Allocation, Placement, Slice, UNITS_PER_ENGINE};
use vdp_click::system::SystemConfig;

fn engines_number(units: u32) -> f64 {
    f64::from(units) / f64::from(UNITS_PER_ENGINE)
}

/// `37.5` for half an engine of a CPU vdp may use 75% of.
fn cpu_percent(engines: &Engines, units: u32) -> f64 {
    engines.cpu_hundredths(units) as f64 / 100.0
}

/// `units` of an engine as percent of the CPU, `37.50%`.
fn percent_text(engines: &Engines, units: u32) -> String {
    let h = engines.cpu_hundredths(units);
    format!("{}.{:02}%", h / 100, h % 100)
}

fn slice_json(engines: &Engines, capacity: u32, slice: &Slice) -> Value {
    json!({
        "cpu": slice.cpu,
        "engines": engines_number(slice.units),
        "whole": slice.units == capacity,
        "cpu_percent": cpu_percent(engines, slice.units),
    })
}

fn placement_json(placement: Placement) -> Value {
    match placement {
        Placement::BestFit => json!({ "method": "best-fit" }),
        Placement::Searched { steps } => json!({ "method": "search", "steps": steps }),
    }
}

/// One tenant's slices for the coordinator's `show` answer: `null` when the tenant requires no
/// engines (or the config has no `[engines]`).
pub fn tenant_json(system: &SystemConfig, allocation: Option<&Allocation>, tenant: &str) -> Value {
    let (Some(engines), Some(allocation)) = (&system.engines, allocation) else { return Value::Null };
    let Some(t) = allocation.tenant(tenant) else { return Value::Null };
    json!({
        "engines": engines_number(t.units),
        "share": engines.share,
        "slices": t.slices.iter().map(|s| slice_json(engines, allocation.capacity, s)).collect::<Vec<_>>(),
    })
}

/// The whole allocation, as `vdpctl system show -j` prints it.
pub fn to_json(system: &SystemConfig, allocation: &Allocation) -> Value {
    let Some(engines) = &system.engines else { return Value::Null };
    let c = allocation.capacity;
    let cpus: Vec<Value> = allocation
        .cpus
        .iter()
        .map(|&cpu| {
            let used = allocation.used(cpu);
            json!({
                "cpu": cpu,
                "used": engines_number(used),
                "free": engines_number(c.saturating_sub(used)),
                "slices": allocation.on(cpu).iter().map(|(t, u)| json!({ "tenant": t, "engines": engines_number(*u) })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let tenants: Vec<Value> = system
        .tenant
        .iter()
        .map(|t| {
            let slices = allocation.tenant(&t.name).map(|a| a.slices.iter().map(|s| slice_json(engines, c, s)).collect::<Vec<_>>());
            json!({
                "tenant": t.name,
                "cpu_share": t.cpu_share,
                "engines": t.engines.map(|e| e.engines()),
                "slices": slices,
            })
        })
        .collect();
    json!({
        "cpus": engines.cpus,
        "share": engines.share,
        "placement": placement_json(allocation.placement),
        "engines": cpus,
        "tenants": tenants,
    })
}

/// `cpu 0 whole (75.00%), cpu 1 0.50 (37.50%)`.
fn slices_text(engines: &Engines, capacity: u32, slices: &[Slice]) -> String {
    slices
        .iter()
        .map(|s| {
            let size = if s.units == capacity { "whole".to_string() } else { units_text(u64::from(s.units), capacity) };
            format!("cpu {} {size} ({})", s.cpu, percent_text(engines, s.units))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The allocation for people: one line per engine, then one per tenant.
pub fn to_text(system: &SystemConfig, allocation: &Allocation) -> String {
    use std::fmt::Write as _;
    let Some(engines) = &system.engines else { return String::new() };
    let c = allocation.capacity;
    let mut out = String::new();
    let cpus: Vec<String> = engines.cpus.iter().map(u32::to_string).collect();
    let _ = writeln!(out, "engines: cpus {}, {}% of each ({} engines)", cpus.join(", "), engines.share, engines.cpus.len());
    for &cpu in &allocation.cpus {
        let used = allocation.used(cpu);
        let on: Vec<String> = allocation.on(cpu).iter().map(|(t, u)| format!("{t} {}", units_text(u64::from(*u), c))).collect();
        let on = if on.is_empty() { "idle".to_string() } else { on.join(", ") };
        let _ = writeln!(out, "  cpu {cpu}: {on}; {} used, {} free", units_text(u64::from(used), c), units_text(u64::from(c.saturating_sub(used)), c));
    }
    for t in &system.tenant {
        match (t.engines, allocation.tenant(&t.name)) {
            (Some(demand), Some(a)) => {
                let _ = writeln!(out, "tenant {}: {demand} engines: {}", t.name, slices_text(engines, c, &a.slices));
            }
            _ => {
                let _ = writeln!(out, "tenant {}: no engines required", t.name);
            }
        }
    }
    let _ = match allocation.placement {
        Placement::BestFit => writeln!(out, "placed by best fit"),
        Placement::Searched { steps } => writeln!(out, "best fit left a remainder without room; placed by search in {steps} steps"),
    };
    out
}

/// One line for the coordinator's log: `engine slices: red cpu 0 whole (100.00%), cpu 1 0.50
/// (50.00%); blue cpu 1 0.40 (40.00%)`.
pub fn log_line(system: &SystemConfig, allocation: &Allocation) -> String {
    let Some(engines) = &system.engines else { return String::new() };
    let parts: Vec<String> = allocation
        .tenants
        .iter()
        .map(|t| format!("{} {}", t.tenant, slices_text(engines, allocation.capacity, &t.slices)))
        .collect();
    let parts = if parts.is_empty() { "no tenant requires engines".to_string() } else { parts.join("; ") };
    let how = match allocation.placement {
        Placement::BestFit => "best fit".to_string(),
        Placement::Searched { steps } => format!("search, {steps} steps"),
    };
    format!("engine slices ({how}): {parts}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEM: &str = "[engines]\ncpus = [0, 1]\nshare = 75\n\
        [[tenant]]\nname = \"red\"\ncgroup = \"/red\"\ncpu_share = 50\nengines = 1.5\n\
        [[tenant]]\nname = \"blue\"\ncgroup = \"/blue\"\ncpu_share = 30\nengines = 0.4\n\
        [[tenant]]\nname = \"gold\"\ncgroup = \"/gold\"\ncpu_share = 20\n";

    fn parsed() -> (SystemConfig, Allocation) {
        let system = SystemConfig::parse(SYSTEM).unwrap();
        let allocation = system.slices().unwrap().unwrap();
        (system, allocation)
    }

    #[test]
    fn text_shows_engines_and_tenants() {
        let (system, allocation) = parsed();
        assert_eq!(
            to_text(&system, &allocation),
            "engines: cpus 0, 1, 75% of each (2 engines)\n  \
             cpu 0: red 1.00; 1.00 used, 0.00 free\n  \
             cpu 1: red 0.50, blue 0.40; 0.90 used, 0.10 free\n\
             tenant red: 1.50 engines: cpu 0 whole (75.00%), cpu 1 0.50 (37.50%)\n\
             tenant blue: 0.40 engines: cpu 1 0.40 (30.00%)\n\
             tenant gold: no engines required\n\
             placed by best fit\n"
        );
        assert_eq!(
            log_line(&system, &allocation),
            "engine slices (best fit): red cpu 0 whole (75.00%), cpu 1 0.50 (37.50%); blue cpu 1 0.40 (30.00%)"
        );
    }

    #[test]
    fn json_has_every_slice() {
        let (system, allocation) = parsed();
        let j = to_json(&system, &allocation);
        assert_eq!(j["placement"], json!({ "method": "best-fit" }));
        assert_eq!(j["engines"][1], json!({ "cpu": 1, "used": 0.9, "free": 0.1, "slices": [
            { "tenant": "red", "engines": 0.5 }, { "tenant": "blue", "engines": 0.4 } ] }));
        assert_eq!(j["tenants"][0]["slices"][1], json!({ "cpu": 1, "engines": 0.5, "whole": false, "cpu_percent": 37.5 }));
        assert_eq!(j["tenants"][2], json!({ "tenant": "gold", "cpu_share": 20, "engines": null, "slices": null }));
        assert_eq!(tenant_json(&system, Some(&allocation), "blue")["slices"][0]["cpu_percent"], json!(30.0));
        assert!(tenant_json(&system, Some(&allocation), "gold").is_null());
    }
}
