//! Synthesis of a generated design with Yosys (`synth.ys`, written by [`crate::design`]) and
//! its area: LUTs, flip-flops and block RAMs of each module, each element, each tenant and the
//! whole design, from Yosys' `stat -json` report (`area.json`).
//!
//! The script keeps the hierarchy, so every module is synthesised once however many elements
//! use it; a module's area here is its own cells plus those of the modules it instantiates.

use crate::map::Map;
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::ops::AddAssign;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Chip area on a 7-series part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Area {
    /// Look-up tables, with those a distributed (LUT) RAM takes.
    pub luts: u64,
    pub flip_flops: u64,
    /// Block RAMs in 36 Kbit tiles (an 18 Kbit half counts 0.5).
    pub block_rams: f64,
}

impl AddAssign for Area {
    fn add_assign(&mut self, other: Area) {
        self.luts += other.luts;
        self.flip_flops += other.flip_flops;
        self.block_rams += other.block_rams;
    }
}

impl Area {
    fn scaled(self, n: u64) -> Area {
        Area { luts: self.luts * n, flip_flops: self.flip_flops * n, block_rams: self.block_rams * n as f64 }
    }
}

/// The area of one element of the design: its module's.
#[derive(Clone, Debug, Serialize)]
pub struct ElementArea {
    pub tenant: String,
    pub name: String,
    pub class: String,
    pub module: String,
    pub area: Area,
}

/// What a synthesis run found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Every module of the design with its area (hierarchical), by name.
    pub modules: BTreeMap<String, Area>,
    pub elements: Vec<ElementArea>,
    /// Each tenant's elements and the merges in front of their inputs.
    pub tenants: BTreeMap<String, Area>,
    /// The whole design (`vdp_top`: the tenants, the handler decoder and the board ports).
    pub total: Area,
    pub seconds: f64,
}

/// LUTs a cell of the Xilinx library takes, flip-flops, and 36 Kbit block-RAM tiles.
fn primitive(cell: &str) -> Option<Area> {
    let luts = |n| Some(Area { luts: n, ..Area::default() });
    match cell {
        "LUT1" | "LUT2" | "LUT3" | "LUT4" | "LUT5" | "LUT6" => luts(1),
        "RAM32X1S" | "RAM64X1S" | "RAM16X1S" => luts(1),
        "RAM32X1D" | "RAM64X1D" | "RAM128X1S" => luts(2),
        "RAM128X1D" | "RAM256X1S" | "RAM32M" | "RAM64M" => luts(4),
        "SRL16E" | "SRLC32E" => luts(1),
        "FDRE" | "FDSE" | "FDCE" | "FDPE" => Some(Area { flip_flops: 1, ..Area::default() }),
        "RAMB36E1" => Some(Area { block_rams: 1.0, ..Area::default() }),
        "RAMB18E1" => Some(Area { block_rams: 0.5, ..Area::default() }),
        _ => None,
    }
}

#[derive(Deserialize)]
struct Stat {
    modules: HashMap<String, StatModule>,
}

#[derive(Deserialize)]
struct StatModule {
    #[serde(default)]
    num_cells_by_type: HashMap<String, u64>,
}

fn clean(name: &str) -> &str {
    name.strip_prefix('\\').unwrap_or(name)
}

/// Each module's area with its submodules', from Yosys' `stat -json` text.
pub fn module_areas(stat_json: &str) -> Result<BTreeMap<String, Area>> {
    // Yosys 0.23 leaves a comma after the modules when it prints no design totals (a design
    // without a top attribute): take the text up to it.
    let text = stat_json.trim_end();
    let fixed = match text.strip_suffix('}').map(str::trim_end).and_then(|t| t.strip_suffix(',')) {
        Some(body) => format!("{body}}}"),
        None => text.to_string(),
    };
    let stat: Stat = serde_json::from_str(&fixed).context("Yosys' stat -json report is not what was expected")?;
    let cells: HashMap<&str, &HashMap<String, u64>> = stat.modules.iter().map(|(n, m)| (clean(n), &m.num_cells_by_type)).collect();
    let mut done: BTreeMap<String, Area> = BTreeMap::new();
    // Modules in an order where each one's submodules come first (the hierarchy is a DAG).
    fn area_of(name: &str, cells: &HashMap<&str, &HashMap<String, u64>>, done: &mut BTreeMap<String, Area>, depth: usize) -> Result<Area> {
        if let Some(area) = done.get(name) {
            return Ok(*area);
        }
        if depth > 64 {
            bail!("the design's hierarchy is deeper than 64 modules at {name}");
        }
        let by_type = cells.get(name).ok_or_else(|| anyhow!("the report has no module {name}"))?;
        let mut area = Area::default();
        for (cell, n) in by_type.iter() {
            let cell = clean(cell);
            if let Some(unit) = primitive(cell) {
                area += unit.scaled(*n);
            } else if cells.contains_key(cell) {
                area += area_of(cell, cells, done, depth + 1)?.scaled(*n);
            }
        }
        done.insert(name.to_string(), area);
        Ok(area)
    }
    for name in cells.keys() {
        area_of(name, &cells, &mut done, 0)?;
    }
    Ok(done)
}

/// The report of a design whose `area.json` and `map.json` are at hand.
pub fn report(stat_json: &str, map: &Map, seconds: f64) -> Result<Report> {
    let modules = module_areas(stat_json)?;
    let of = |module: &str| modules.get(module).copied().ok_or_else(|| anyhow!("synthesis kept no module {module}"));
    let total = of("vdp_top")?;
    let mut elements = Vec::new();
    let mut tenants: BTreeMap<String, Area> = map.tenants.iter().map(|t| (t.name.clone(), Area::default())).collect();
    for e in &map.elements {
        let area = of(&e.module)?;
        *tenants.entry(e.tenant.clone()).or_default() += area;
        elements.push(ElementArea { tenant: e.tenant.clone(), name: e.name.clone(), class: e.class.clone(), module: e.module.clone(), area });
    }
    for m in &map.merges {
        *tenants.entry(m.tenant.clone()).or_default() += of(&m.module)?;
    }
    Ok(Report { modules, elements, tenants, total, seconds })
}

/// Synthesises the design in `dir` with Yosys (its `synth.ys`), within `timeout`. Fails when
/// Yosys reports an error, when a latch was inferred (the script asserts there is none), or
/// when the run takes longer than `timeout`.
pub fn run(dir: &Path, timeout: Duration) -> Result<Report> {
    let map_path = dir.join("map.json");
    let map_text = std::fs::read_to_string(&map_path).with_context(|| format!("{} is not a design directory (no map.json)", dir.display()))?;
    let map: Map = serde_json::from_str(&map_text).with_context(|| format!("{} is not a design map", map_path.display()))?;
    if !dir.join("synth.ys").is_file() {
        bail!("{} has no synth.ys", dir.display());
    }
    let area_path = dir.join("area.json");
    let _ = std::fs::remove_file(&area_path);
    let started = Instant::now();
    let mut child = Command::new("yosys")
        .current_dir(dir)
        .args(["-q", "-l", "yosys.log", "synth.ys"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot run yosys (scripts/deps.sh installs it)")?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            bail!("yosys did not finish within {} s ({})", timeout.as_secs(), dir.join("yosys.log").display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        let log = std::fs::read_to_string(dir.join("yosys.log")).unwrap_or_default();
        let problems: Vec<&str> = log.lines().filter(|l| l.contains("ERROR") || l.contains("Assertion failed") || l.contains("atch")).collect();
        let tail: Vec<&str> = log.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect();
        bail!(
            "synthesis failed ({status}); {}:\n{}",
            dir.join("yosys.log").display(),
            if problems.is_empty() { tail.join("\n") } else { problems.join("\n") }
        );
    }
    let stat = std::fs::read_to_string(&area_path).with_context(|| format!("yosys wrote no {}", area_path.display()))?;
    report(&stat, &map, seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_add_up_through_the_hierarchy() {
        let stat = r#"{"creator": "Yosys", "modules": {
            "\\top": {"num_cells": 4, "num_cells_by_type": {"LUT2": 1, "\\leaf": 2, "mid": 1}},
            "mid": {"num_cells": 2, "num_cells_by_type": {"FDRE": 3, "\\leaf": 1}},
            "\\leaf": {"num_cells": 3, "num_cells_by_type": {"LUT6": 2, "RAM64M": 1, "RAMB18E1": 1, "CARRY4": 5}}
        }}"#;
        let areas = module_areas(stat).unwrap();
        assert_eq!(areas, module_areas(&stat.replace("}}\n        }}", "}}\n        },\n\n}")).unwrap(), "Yosys 0.23's trailing comma");
        assert_eq!(areas["leaf"], Area { luts: 6, flip_flops: 0, block_rams: 0.5 });
        assert_eq!(areas["mid"], Area { luts: 6, flip_flops: 3, block_rams: 0.5 });
        assert_eq!(areas["top"], Area { luts: 1 + 12 + 6, flip_flops: 3, block_rams: 1.5 });
    }

    #[test]
    fn a_report_without_the_module_is_an_error() {
        let stat = r#"{"modules": {"\\top": {"num_cells_by_type": {"\\gone": 1, "LUT1": 1}}}}"#;
        // A cell type that is neither a primitive nor a module of the report (a black box)
        // adds nothing; the top module must exist for a report.
        let areas = module_areas(stat).unwrap();
        assert_eq!(areas["top"].luts, 1);
        assert!(module_areas("{}").is_err());
    }
}
