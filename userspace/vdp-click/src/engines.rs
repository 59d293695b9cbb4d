//! The system config's forwarding engines: `[engines]` (the CPUs vdp may use, and the share of
//! each) and a tenant's `engines` (the processing power it requires). Bad values are refused
//! while the file is read, so their errors carry the value's line and column.
//! [`crate::slices`] allocates the engines; `docs/pdp.md` says what is done with it.

use crate::slices::UNITS_PER_ENGINE;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::HashSet;
use std::fmt;

/// CPU numbers are below this: the most the module can pin a thread to.
pub const CPU_LIMIT: u32 = vdp_core::uapi::CPU_SET_MAX;

/// `[engines]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Engines {
    /// The CPUs vdp's forwarding engines may run on, one engine each, in the order slices are
    /// taken.
    #[serde(deserialize_with = "cpu_list")]
    pub cpus: Vec<u32>,
    /// Percent of each of those CPUs that vdp may use: one engine's capacity (PdP's C).
    #[serde(default = "full_share", deserialize_with = "percent")]
    pub share: u32,
}

fn full_share() -> u32 {
    100
}

impl Engines {
    /// Hundredths of a CPU (1/10000) that `units` of an engine are.
    pub fn cpu_hundredths(&self, units: u32) -> u64 {
        u64::from(units) * u64::from(self.share)
    }
}

fn cpu_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    let cpus = Vec::<u32>::deserialize(d)?;
    if cpus.is_empty() {
        return Err(de::Error::custom("cpus must name at least one CPU"));
    }
    let mut seen = HashSet::new();
    for &cpu in &cpus {
        if cpu >= CPU_LIMIT {
            return Err(de::Error::custom(format!("cpu {cpu} is not a CPU number (0 to {})", CPU_LIMIT - 1)));
        }
        if !seen.insert(cpu) {
            return Err(de::Error::custom(format!("cpu {cpu} is listed twice")));
        }
    }
    Ok(cpus)
}

fn percent<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let share = i64::deserialize(d)?;
    match u32::try_from(share) {
        Ok(share) if (1..=100).contains(&share) => Ok(share),
        _ => Err(de::Error::custom(format!("share is the percent of each CPU vdp may use, 1 to 100, not {share}"))),
    }
}

/// The most engines one tenant may require.
pub const MAX_DEMAND_ENGINES: u32 = CPU_LIMIT;

/// A tenant's `engines`: processing power in engines, to two decimals, kept as hundredths of an
/// engine ([`UNITS_PER_ENGINE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineDemand(pub u32);

impl EngineDemand {
    /// The engines as a number, `1.5` for 150 hundredths.
    pub fn engines(self) -> f64 {
        f64::from(self.0) / f64::from(UNITS_PER_ENGINE)
    }
}

impl fmt::Display for EngineDemand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::slices::engines(u64::from(self.0), UNITS_PER_ENGINE))
    }
}

impl Serialize for EngineDemand {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.engines())
    }
}

impl<'de> Deserialize<'de> for EngineDemand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<EngineDemand, D::Error> {
        d.deserialize_any(DemandVisitor)
    }
}

struct DemandVisitor;

impl DemandVisitor {
    fn of<E: de::Error>(value: f64, shown: &dyn fmt::Display) -> Result<EngineDemand, E> {
        let bad = || E::custom(format!("engines is a number of engines above 0 and at most {MAX_DEMAND_ENGINES}, to two decimals (1.5, 0.25), not {shown}"));
        if !value.is_finite() || value <= 0.0 || value > f64::from(MAX_DEMAND_ENGINES) {
            return Err(bad());
        }
        let hundredths = value * f64::from(UNITS_PER_ENGINE);
        let rounded = hundredths.round();
        if (hundredths - rounded).abs() > 1e-6 {
            return Err(bad());
        }
        // At most CPU_LIMIT (1024) engines: 102400 hundredths, well inside u32.
        Ok(EngineDemand(rounded as u32))
    }
}

impl<'de> Visitor<'de> for DemandVisitor {
    type Value = EngineDemand;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of engines, such as 1.5")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<EngineDemand, E> {
        Self::of(v as f64, &v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<EngineDemand, E> {
        Self::of(v as f64, &v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<EngineDemand, E> {
        Self::of(v, &v)
    }
}
