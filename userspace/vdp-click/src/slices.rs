//! Best-fit slicing of the forwarding engines: PdP's SliceAlloc (Liao, Yin and Gao), for the
//! tenants of a system config. Pure: engines and demands in, slices out; `docs/pdp.md` says
//! what is computed and what is not yet done with it.
//!
//! An engine is one CPU of `[engines] cpus`, and every engine has the same capacity (PdP's C):
//! `capacity` units. A tenant needing `R = k·C + r` units (`0 ≤ r < C`) gets `k` whole engines
//! of its own and, when `r > 0`, one slice of `r` on an engine it may share with other tenants:
//! the fewest slices, and the fewest fractional ones, that any allocation can give it.
//!
//! 1. Whole engines, tenant by tenant in the config's order, each taking the lowest idle CPUs.
//! 2. The remainders, largest first (ties in the config's order), each on the engine whose free
//!    capacity exceeds it by the least (best fit; ties to the CPU listed first). Idle engines
//!    are candidates too. PdP's procedure asks for free capacity strictly above `r`; an exact
//!    fit is the best fit of all, so it is taken here.
//! 3. Only when best fit leaves a remainder with no engine that holds it, the placement of the
//!    remainders is searched: depth first, each level trying the engines in best-fit order (so
//!    its first path is step 2's), engines with equal free capacity tried once, for at most
//!    [`SEARCH_STEPS`] placements. A remainder is never split over engines.
//!
//! The allocation is refused when the demands add up to more than the engines hold, or when no
//! placement of the remainders exists (or none was found within the steps).

use std::fmt;

/// Units of processing power in one engine as the system config counts them: hundredths.
pub const UNITS_PER_ENGINE: u32 = 100;

/// The most placements step 3 tries before it gives up.
pub const SEARCH_STEPS: u32 = 100_000;

/// What one tenant needs, in units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Demand {
    pub tenant: String,
    pub units: u32,
}

/// A part of one engine given to one tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    pub cpu: u32,
    pub units: u32,
}

/// One tenant's slices: its whole engines first (in CPU order), then its remainder slice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSlices {
    pub tenant: String,
    pub units: u32,
    pub slices: Vec<Slice>,
}

impl TenantSlices {
    /// The CPUs of the tenant's slices, lowest first, each once: where its threads run.
    pub fn cpus(&self) -> Vec<u32> {
        let mut cpus: Vec<u32> = self.slices.iter().map(|s| s.cpu).collect();
        cpus.sort_unstable();
        cpus.dedup();
        cpus
    }
}

/// How the remainders were placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Step 2 placed every remainder.
    BestFit,
    /// Step 2 left a remainder without room; step 3 found a placement after this many steps.
    Searched { steps: u32 },
}

/// The slices of every tenant that has a demand, in the order of the demands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    /// The engines' CPUs, in the config's order.
    pub cpus: Vec<u32>,
    /// Units in each engine.
    pub capacity: u32,
    pub tenants: Vec<TenantSlices>,
    pub placement: Placement,
}

impl Allocation {
    /// Units of `cpu` given to tenants.
    pub fn used(&self, cpu: u32) -> u32 {
        self.tenants.iter().flat_map(|t| &t.slices).filter(|s| s.cpu == cpu).map(|s| s.units).sum()
    }

    /// The tenants with a slice of `cpu`, with the units each has there.
    pub fn on(&self, cpu: u32) -> Vec<(&str, u32)> {
        self.tenants
            .iter()
            .flat_map(|t| t.slices.iter().filter(move |s| s.cpu == cpu).map(move |s| (t.tenant.as_str(), s.units)))
            .collect()
    }

    pub fn tenant(&self, name: &str) -> Option<&TenantSlices> {
        self.tenants.iter().find(|t| t.tenant == name)
    }
}

/// Why the demands do not fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SliceError {
    /// The demands add up to more than the engines hold. `tenant` is the first whose demand
    /// takes the running total (in the config's order) past them.
    Short { tenant: String, units: u32, total: u64, capacity: u32, engines: usize },
    /// No engine has room for `tenant`'s remainder once the larger remainders are placed, and
    /// no other placement was found.
    NoRoom {
        tenant: String,
        units: u32,
        remainder: u32,
        capacity: u32,
        /// The most free units on one engine when best fit reached the tenant, and its CPU.
        largest_free: u32,
        largest_cpu: u32,
        /// Free units on all engines together then.
        total_free: u64,
        /// The search stopped at [`SEARCH_STEPS`] rather than ruling every placement out.
        gave_up: bool,
    },
}

/// `units` as engines, with two decimals when an engine is [`UNITS_PER_ENGINE`] units.
pub fn engines(units: u64, capacity: u32) -> String {
    if capacity == UNITS_PER_ENGINE {
        format!("{}.{:02}", units / 100, units % 100)
    } else {
        format!("{units}/{capacity}")
    }
}

impl fmt::Display for SliceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SliceError::Short { tenant, units, total, capacity, engines: count } => {
                let have = u64::from(*capacity) * *count as u64;
                write!(
                    f,
                    "tenant '{tenant}' needs {} engines, which brings the tenants' total to {} engines, more than the {count} \
                     [engines] gives ({} short)",
                    engines(u64::from(*units), *capacity),
                    engines(*total, *capacity),
                    engines(total.saturating_sub(have), *capacity)
                )
            }
            SliceError::NoRoom { tenant, units, remainder, capacity, largest_free, largest_cpu, total_free, gave_up } => {
                let c = *capacity;
                write!(
                    f,
                    "tenant '{tenant}' needs {} engines: {} whole and a slice of {}, but no engine has {} free once the larger \
                     remainders are placed (the most is {} on cpu {largest_cpu}, {} on all engines together; a slice is not \
                     split over engines)",
                    engines(u64::from(*units), c),
                    units / c,
                    engines(u64::from(*remainder), c),
                    engines(u64::from(*remainder), c),
                    engines(u64::from(*largest_free), c),
                    engines(*total_free, c)
                )?;
                if *gave_up {
                    write!(f, ", and no other placement of the remainders was found in {SEARCH_STEPS} steps")
                } else {
                    write!(f, ", and no other placement of the remainders fits")
                }
            }
        }
    }
}

/// Slices `cpus` (each of `capacity` units) among `demands` (zero-unit demands get no slice).
/// `cpus` holds no CPU twice and `capacity` is at least 1; the config checks both.
pub fn allocate(cpus: &[u32], capacity: u32, demands: &[Demand]) -> Result<Allocation, SliceError> {
    let capacity = capacity.max(1);
    let have = u64::from(capacity) * cpus.len() as u64;
    let mut total = 0u64;
    for demand in demands {
        total += u64::from(demand.units);
        if total > have {
            let total = demands.iter().map(|d| u64::from(d.units)).sum();
            return Err(SliceError::Short { tenant: demand.tenant.clone(), units: demand.units, total, capacity, engines: cpus.len() });
        }
    }
    let mut free = vec![capacity; cpus.len()];
    let mut tenants: Vec<TenantSlices> =
        demands.iter().map(|d| TenantSlices { tenant: d.tenant.clone(), units: d.units, slices: Vec::new() }).collect();
    // Step 1. The whole engines add up to no more than the demands, which fit: an idle engine
    // is always there.
    let mut idle = 0;
    for tenant in &mut tenants {
        for _ in 0..tenant.units / capacity {
            let Some(slot) = free.get_mut(idle) else { break };
            *slot = 0;
            tenant.slices.push(Slice { cpu: cpus[idle], units: capacity });
            idle += 1;
        }
    }
    // Steps 2 and 3.
    let mut remainders: Vec<(usize, u32)> =
        tenants.iter().enumerate().map(|(i, t)| (i, t.units % capacity)).filter(|&(_, r)| r > 0).collect();
    remainders.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let sizes: Vec<u32> = remainders.iter().map(|&(_, r)| r).collect();
    let (found, outcome) = search(&free, &sizes);
    let Some(places) = found else {
        let (item, at) = outcome.first_stuck.unwrap_or((0, free.clone()));
        let (largest_cpu, largest_free) =
            at.iter().enumerate().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0))).map_or((0, 0), |(e, &f)| (cpus[e], f));
        let (index, remainder) = remainders.get(item).copied().unwrap_or((0, 0));
        let (tenant, units) = tenants.get(index).map_or((String::new(), 0), |t| (t.tenant.clone(), t.units));
        return Err(SliceError::NoRoom {
            tenant,
            units,
            remainder,
            capacity,
            largest_free,
            largest_cpu,
            total_free: at.iter().map(|&f| u64::from(f)).sum(),
            gave_up: outcome.gave_up,
        });
    };
    for (&(index, units), engine) in remainders.iter().zip(places) {
        tenants[index].slices.push(Slice { cpu: cpus[engine], units });
    }
    let placement = if outcome.first_stuck.is_none() { Placement::BestFit } else { Placement::Searched { steps: outcome.steps } };
    Ok(Allocation { cpus: cpus.to_vec(), capacity, tenants, placement })
}

/// What [`search`] went through.
struct Outcome {
    steps: u32,
    /// Where the first path (best fit alone) got stuck: the item, and the engines' free units.
    first_stuck: Option<(usize, Vec<u32>)>,
    gave_up: bool,
}

/// The engines `size` may go to with `free` left on each, in best-fit order, one of each free
/// figure (engines with equal room are interchangeable for what follows).
fn candidates(free: &[u32], size: u32) -> Vec<usize> {
    let mut fitting: Vec<usize> = (0..free.len()).filter(|&e| free[e] >= size).collect();
    fitting.sort_by_key(|&e| (free[e] - size, e));
    fitting.dedup_by_key(|e| free[*e]);
    fitting
}

/// Places every item of `sizes` (largest first) on an engine of `free`: the engine index of
/// each, or `None`. Iterative depth-first search with an explicit stack, bounded by
/// [`SEARCH_STEPS`]. The items add up to no more than `free` does ([`allocate`] checks the
/// total first), so no bound on the total is needed.
fn search(free: &[u32], sizes: &[u32]) -> (Option<Vec<usize>>, Outcome) {
    let mut free = free.to_vec();
    let mut outcome = Outcome { steps: 0, first_stuck: None, gave_up: false };
    let mut placed: Vec<usize> = Vec::with_capacity(sizes.len());
    let mut levels: Vec<(Vec<usize>, usize)> = Vec::with_capacity(sizes.len());
    let mut on_first_path = true;
    if sizes.is_empty() {
        return (Some(placed), outcome);
    }
    levels.push((candidates(&free, sizes[0]), 0));
    loop {
        let level = placed.len();
        if level == sizes.len() {
            return (Some(placed), outcome);
        }
        let (options, next) = &mut levels[level];
        if let Some(&engine) = options.get(*next) {
            if outcome.steps >= SEARCH_STEPS {
                outcome.gave_up = true;
                return (None, outcome);
            }
            outcome.steps += 1;
            *next += 1;
            free[engine] -= sizes[level];
            placed.push(engine);
            if placed.len() < sizes.len() {
                levels.push((candidates(&free, sizes[placed.len()]), 0));
            }
        } else {
            if on_first_path {
                on_first_path = false;
                outcome.first_stuck = Some((level, free.clone()));
            }
            levels.pop();
            let Some(engine) = placed.pop() else { return (None, outcome) };
            free[engine] += sizes[level - 1];
        }
    }
}
