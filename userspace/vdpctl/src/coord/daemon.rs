//! `vdpctl daemon`: the coordinator. It owns the tenants' graphs in the module: tenants send it
//! their Click configurations over a unix socket, it checks, compiles and installs them, keeps
//! them on disk, and brings the module back to them after a restart or a module reload.

use super::cgroups;
use super::identity::{self, Caller, Peer};
use super::limits::{BurstLog, ConnectionLimits, Denied, Holder, Numbers, RecentRefusals};
use super::reload;
use super::protocol::{self, Op, Request, Response, Status, DEFAULT_SOCKET, DEFAULT_STATE};
use super::state::{self, State, TenantConfig};
use crate::frontend;
use crate::attrs::VdpAttr;
use crate::netlink::{NlError, VdpSocket};
use crate::stats::{decode_stats, TenantStats};
use anyhow::{bail, Context, Result};
use log::{error, info, warn};
use clap::Args;
use serde_json::json;
use std::collections::HashMap;
use std::io::BufReader;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use vdp_click::system::SystemConfig;
use vdp_click::tasks;
use vdp_core::uapi::cmd;

#[derive(Args)]
pub struct DaemonArgs {
    /// The system config: tenants, their cgroups and devices, limits.
    #[arg(long, default_value = "/etc/vdp/system.toml")]
    system: PathBuf,
    /// Where to listen; containers reach it through a bind mount.
    #[arg(long, default_value = DEFAULT_SOCKET)]
    socket: PathBuf,
    /// Every tenant's current configuration, rewritten atomically on each change.
    #[arg(long, default_value = DEFAULT_STATE)]
    state: PathBuf,
    /// The cgroup v2 mount the system config's `cgroup` paths are relative to.
    #[arg(long, default_value = "/sys/fs/cgroup")]
    cgroup_root: PathBuf,
    /// Seconds between checks that the module still holds every tenant as it should.
    #[arg(long, default_value_t = 1.0)]
    poll_interval: f64,
    /// The least severe messages logged: error, warn, info (the default: every action the
    /// coordinator takes, and refused requests), debug (every request too), trace or off.
    /// Overrides the VDP_LOG environment variable.
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
}

/// How long a client may take to send its request or to read the answer: a stalled client
/// holds only its own connection thread, never the kernel lock.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long refused connections from one caller are summed up before they are logged again.
const REFUSAL_LOG_WINDOW: Duration = Duration::from_secs(10);

/// How long, and for how many processes, a refused process's identity is remembered so that
/// its next connections are refused without looking it up again.
const RECENT_REFUSAL_TTL: Duration = Duration::from_secs(1);
const RECENT_REFUSALS: usize = 64;

/// A connection refused for being over its caller's cap is answered this long after it was
/// accepted, not at once: a client that reconnects as soon as it is answered then costs the
/// coordinator (and the machine) a few hundred refusals a second instead of tens of thousands,
/// and its flood does not eat the CPU that other callers' requests need. The refused
/// connections wait in the accept loop, with no thread and no slot.
const REFUSAL_DELAY: Duration = Duration::from_millis(500);
/// The most refused connections waiting for their answer; past that they are answered at once.
const REFUSALS_HELD: usize = 256;

/// A tenant configuration compiled for installation.
struct Compiled {
    blob: Vec<u8>,
    /// Element names (with the tenant prefix), classes and whether the root context owns them
    /// (the coordinator added them: a bandwidth shaper, a split queue), in graph order.
    elements: Vec<(String, &'static str, bool)>,
    analysis: tasks::Analysis,
    /// The installed graph for a picture (`vdpctl show --dot`), its tasks with their pins; the
    /// threads they run on follow the tenant's thread count ([`vdp_click::dot::View::place_threads`]).
    view: vdp_click::dot::View,
    warnings: Vec<String>,
    /// What runs in the tenant's container engine, if the partition cut anything off.
    container: Option<ContainerPart>,
}

/// The container part of a tenant's configuration ([`vdp_click::partition`]).
#[derive(Clone)]
struct ContainerPart {
    /// The container part as Click text, boundary elements included, for the engine.
    text: String,
    elements: usize,
    /// Each boundary, described for people (`0 down: rt[1] -> sampler`).
    boundaries: Vec<String>,
    /// Boundaries in each direction.
    down: u32,
    up: u32,
    /// The partition explained ([`vdp_click::partition::Partition::explain`]).
    explain: String,
    /// The elements at the container level, named as in the tenant's configuration.
    names: Vec<String>,
}

impl ContainerPart {
    /// The container part of `split`, if it has one.
    fn of(tenant: &str, config: &TenantConfig, split: &vdp_click::partition::Partition) -> Option<ContainerPart> {
        use vdp_click::partition::Direction;
        let header = format!("// The container part of tenant {tenant}'s {}, cut off by the coordinator.", config.file_name);
        let text = split.container_click(&header)?;
        let count = |direction| split.boundaries(direction).count() as u32;
        let boundaries = split
            .boundaries
            .iter()
            .map(|b| {
                let (send, receive) = b.direction.classes();
                let cuts: Vec<String> = b.connections.iter().map(|c| format!("{} [{}] -> [{}] {}", c.from, c.from_port, c.to_port, c.to)).collect();
                format!("{send}({i}) -> {receive}({i}): {}", cuts.join(", "), i = b.index)
            })
            .collect();
        Some(ContainerPart {
            text,
            elements: split.container.as_ref().map_or(0, |g| g.elements.len()),
            boundaries,
            down: count(Direction::KernelToContainer),
            up: count(Direction::ContainerToKernel),
            explain: split.explain(),
            names: split.placements.iter().filter(|p| p.side == vdp_click::partition::Side::Container).map(|p| p.element.clone()).collect(),
        })
    }

    /// The channel geometry the part needs: one ring per boundary of the busier direction.
    fn geometry(&self, slots: u32) -> Result<vdp_core::channel::Geometry, Refusal> {
        vdp_core::channel::Geometry::new(self.down.max(self.up).max(1), slots)
            .map_err(|e| Refusal(Status::Failed, format!("the container part needs a channel the module cannot make: {e:?}")))
    }
}

/// Checks one tenant's configuration against the system config and compiles it
/// ([`frontend::compile_tenant`]). The error is the rendered diagnostics.
fn compile_tenant(system: &SystemConfig, tenant: &str, config: &TenantConfig) -> std::result::Result<Compiled, String> {
    let catalog = frontend::catalog_of(&config.classes).map_err(|e| format!("{e:#}"))?;
    let frontend::CompiledTenant { blob, merged, warnings } = frontend::compile_tenant(system, tenant, &config.file_name, &config.source, catalog)?;
    let view = vdp_click::dot::View::of_merged(format!("tenant {tenant}: {}, installed", config.file_name), system, &merged, |_| catalog);
    let elements = merged.checked.elements.iter().map(|e| (e.name.clone(), e.class.name, e.root)).collect();
    let container = merged.partitions.iter().find(|(name, _)| name == tenant).and_then(|(_, split)| ContainerPart::of(tenant, config, split));
    Ok(Compiled { blob, elements, analysis: merged.analysis, view, warnings, container })
}

/// `red/c` → `c` for a tenant's own elements.
fn unprefixed<'a>(tenant: &str, name: &'a str) -> &'a str {
    name.strip_prefix(tenant).and_then(|rest| rest.strip_prefix('/')).unwrap_or(name)
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A failed request: the status and message to answer with.
struct Refusal(Status, String);

impl From<NlError> for Refusal {
    fn from(e: NlError) -> Refusal {
        match e {
            NlError::FamilyNotFound => Refusal(Status::Unavailable, e.to_string()),
            other => Refusal(Status::Failed, other.to_string()),
        }
    }
}

impl From<anyhow::Error> for Refusal {
    fn from(e: anyhow::Error) -> Refusal {
        match e.downcast::<NlError>() {
            Ok(nl) => nl.into(),
            Err(other) => Refusal(Status::Failed, format!("{other:#}")),
        }
    }
}

/// What one tenant looks like in the module, from its STATS dump.
fn kernel_tenant(sock: &mut VdpSocket, id: u32) -> Result<Option<TenantStats>, NlError> {
    match sock.dump(cmd::STATS, vec![VdpAttr::TenantId(id)]) {
        Ok(messages) => Ok(decode_stats(&messages).map_err(|e| NlError::Decode(e.to_string()))?.into_iter().next()),
        Err(NlError::Kernel { errno, .. }) if errno == libc::ENOENT => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether [`Coordinator::sync_tenant`] installs a graph that already runs as saved.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reinstall {
    /// A tenant's own install: as in Click, installing starts the configuration afresh.
    Always,
    /// Resync after a restart or reload: a graph that matches keeps running untouched.
    IfDifferent,
}

/// Everything the coordinator knows; one lock around it serialises every kernel change.
struct Coordinator {
    system: Arc<SystemConfig>,
    state: State,
    state_path: PathBuf,
    cgroup_root: PathBuf,
    /// The family id the module had when last seen; `None` while it is not loaded.
    family_id: Option<u16>,
    /// Kernel tenant ids by name, as found or created in the loaded module.
    ids: HashMap<String, u32>,
    /// The compiled form of each tenant configuration in `state` that passes its checks.
    compiled: HashMap<String, Compiled>,
    /// The last resync failure logged per tenant, so a lasting one is not logged every second.
    sync_failures: HashMap<String, String>,
    /// The engines' slices of `system` ([`engine_slices`]); `None` without `[engines]`.
    slices: Option<vdp_click::slices::Allocation>,
}

impl Coordinator {
    /// A socket to the module. A family id other than the last one seen means the module was
    /// loaded (again) since: every tenant is brought back in line before anything else happens.
    fn kernel(&mut self) -> Result<VdpSocket, NlError> {
        let mut sock = match VdpSocket::connect() {
            Ok(sock) => sock,
            Err(NlError::FamilyNotFound) => {
                if self.family_id.take().is_some() {
                    warn!("the vdp module is gone; tenants are restored when it is loaded again");
                    self.ids.clear();
                }
                return Err(NlError::FamilyNotFound);
            }
            Err(e) => return Err(e),
        };
        let id = sock.family_id();
        if self.family_id != Some(id) {
            match self.family_id {
                None => info!("found the vdp module (family id {id}); syncing every tenant"),
                Some(old) => info!("the vdp family id changed from {old} to {id}: the module was reloaded; syncing every tenant"),
            }
            self.family_id = Some(id);
            self.ids.clear();
            self.sync_all(&mut sock);
        }
        Ok(sock)
    }

    fn sync_all(&mut self, sock: &mut VdpSocket) {
        let names: Vec<String> = self.system.tenant.iter().map(|t| t.name.clone()).collect();
        for name in names {
            let outcome = self.sync_tenant(sock, &name, Reinstall::IfDifferent);
            self.report_sync(&name, outcome);
        }
    }

    /// Brings one tenant's kernel state in line with the system config and the saved state:
    /// the tenant exists, its threads sit in its cgroup, and it runs exactly its saved graph.
    /// With `Reinstall::IfDifferent` a running graph that already matches is left alone, so
    /// its state (counters, queues) carries on untouched.
    fn sync_tenant(&mut self, sock: &mut VdpSocket, name: &str, reinstall: Reinstall) -> Result<u32> {
        let id = self.ensure_tenant(sock, name)?;
        // The tenant's virtual devices exist before a graph that names them is installed.
        crate::device::apply_tenant_devices(sock, &self.system, name, id, &mut |line| info!("tenant {name}: {line}"))?;
        self.apply_limits(name)?;
        self.place_threads(sock, id, name)?;
        self.pin_threads(sock, id, name)?;
        let running = kernel_tenant(sock, id)?.and_then(|t| t.graph).is_some();
        let current = if running && reinstall == Reinstall::IfDifferent {
            let replies = sock.request(cmd::GRAPH_GET, vec![VdpAttr::TenantId(id)])?;
            let reply = replies.first().context("the kernel sent no reply to GRAPH_GET")?;
            Some(crate::graph::decode_graph(&reply.attrs).blob)
        } else {
            None
        };
        match (self.compiled.get(name), current) {
            // The other tenants of the system config are in the blob's tenant table; a graph
            // whose program is the same runs on when only they changed.
            (Some(wanted), Some(current)) if vdp_click::compile::same_program(&wanted.blob, &current) => {}
            (Some(wanted), _) => {
                let blob = wanted.blob.clone();
                let replies = sock.request(cmd::GRAPH_INSTALL, vec![VdpAttr::TenantId(id), VdpAttr::Graph(blob)])?;
                let info = crate::graph::decode_graph(&replies.first().context("the kernel sent no reply to GRAPH_INSTALL")?.attrs);
                let file = self.state.tenants.get(name).map_or("?", |c| c.file_name.as_str());
                let how = if reinstall == Reinstall::Always { "installed" } else { "installed its saved configuration" };
                info!("tenant {name}: {how} {file}: {} elements, {} tasks", info.elements, info.tasks);
                // The graph may have started more threads. The install has happened, so a thread
                // that cannot be placed now is not a failed install: the next poll tries again.
                if let Err(e) = self.place_threads(sock, id, name) {
                    warn!("tenant {name}: cannot place the new threads yet: {e:#}");
                }
            }
            (None, _) if running && self.state.tenants.contains_key(name) => {
                // A saved configuration that no longer passes its checks: what runs stays.
                warn!("tenant {name}: its saved configuration does not compile; leaving the running graph alone");
            }
            (None, _) if running => {
                sock.request(cmd::GRAPH_REMOVE, vec![VdpAttr::TenantId(id)])?;
                info!("tenant {name}: removed its graph: the saved state holds no configuration for it");
            }
            (None, _) => {}
        }
        Ok(id)
    }

    /// Logs a failed resync once, not at every poll, and says when the tenant recovers.
    fn report_sync(&mut self, name: &str, outcome: Result<u32>) {
        match outcome {
            Ok(_) => {
                if self.sync_failures.remove(name).is_some() {
                    info!("tenant {name}: in line again");
                }
            }
            Err(e) => {
                let text = format!("{e:#}");
                if self.sync_failures.get(name) != Some(&text) {
                    error!("tenant {name}: sync failed (retried every poll, logged once): {text}");
                    self.sync_failures.insert(name.to_string(), text);
                }
            }
        }
    }

    /// The tenant's kernel id, creating the tenant if the module does not have it.
    fn ensure_tenant(&mut self, sock: &mut VdpSocket, name: &str) -> Result<u32> {
        if let Some(&id) = self.ids.get(name) {
            if kernel_tenant(sock, id)?.is_some_and(|t| t.name == name) {
                return Ok(id);
            }
            self.ids.remove(name);
        }
        let all = decode_stats(&sock.dump(cmd::STATS, Vec::new())?)?;
        if let Some(found) = all.iter().find(|t| t.name == name) {
            self.ids.insert(name.to_string(), found.id);
            return Ok(found.id);
        }
        // Prefer the tenant's place in the system config, so ids stay the same across reloads.
        let index = self.system.tenant.iter().position(|t| t.name == name).context("tenant not in the system config")?;
        let taken = |id: u32| all.iter().any(|t| t.id == id);
        let mut id = index as u32 + 1;
        if taken(id) {
            id = all.iter().map(|t| t.id).max().unwrap_or(0) + 1;
        }
        sock.request(cmd::TENANT_NEW, vec![VdpAttr::TenantId(id), VdpAttr::TenantName(String::from(name))])?;
        info!("tenant {name}: created in the module with id {id}");
        self.ids.insert(name.to_string(), id);
        Ok(id)
    }

    fn cgroup_of(&self, name: &str) -> Result<(String, PathBuf)> {
        let tenant = self.system.tenant(name).context("tenant not in the system config")?;
        let path = identity::normalize(&tenant.cgroup);
        Ok((path.clone(), self.cgroup_root.join(path.trim_start_matches('/'))))
    }

    /// The tenant's cgroup subtree ([`cgroups`]): its data plane's cgroup holds its threads.
    fn tenant_cgroup(&self, name: &str) -> Result<cgroups::TenantCgroup> {
        let (path, _) = self.cgroup_of(name)?;
        Ok(cgroups::TenantCgroup::new(&self.cgroup_root, &path))
    }

    /// Lays out the tenant's cgroup subtree and sets its data plane's `cpu.max` (from
    /// `cpu_share`) and `memory.max` (from `memory_max`).
    fn apply_limits(&mut self, name: &str) -> Result<()> {
        let tenant = self.system.tenant(name).context("tenant not in the system config")?;
        let limits = cgroups::Limits { cpu_share: tenant.cpu_share, memory_max: tenant.memory_max_bytes() };
        self.tenant_cgroup(name)?.apply(&limits, &mut |line| info!("tenant {name}: {line}"))
    }

    /// The CPUs the tenant's threads are to run on: those of its engine slices, or any CPU
    /// (`None`) for a tenant without slices.
    fn wanted_cpus(&self, name: &str) -> Option<Vec<u32>> {
        self.slices.as_ref().and_then(|a| a.tenant(name)).map(|t| t.cpus())
    }

    /// Pins the tenant's threads (in the module, so threads it starts later too) to the CPUs
    /// of its engine slices, or lets them run anywhere, unless they already are so.
    fn pin_threads(&mut self, sock: &mut VdpSocket, id: u32, name: &str) -> Result<()> {
        let Some(tenant) = kernel_tenant(sock, id)? else { bail!("the module has no tenant with id {id}") };
        let wanted = self.wanted_cpus(name);
        if tenant.cpus == wanted {
            return Ok(());
        }
        let mask = crate::cpu_list::mask(wanted.as_deref())?;
        sock.request(cmd::SCHED_SET, vec![VdpAttr::TenantId(id), VdpAttr::CpuMask(mask)])
            .with_context(|| format!("pinning the tenant's threads to cpus {}", wanted.as_deref().map_or("any".into(), crate::cpu_list::format)))?;
        match &wanted {
            Some(cpus) => info!("tenant {name}: threads pinned to cpus {} (its engine slices)", crate::cpu_list::format(cpus)),
            None => info!("tenant {name}: threads may run on any CPU (no engine slices)"),
        }
        Ok(())
    }

    /// Moves each of the tenant's threads that is not yet in the tenant's data-plane cgroup
    /// there.
    fn place_threads(&mut self, sock: &mut VdpSocket, id: u32, name: &str) -> Result<()> {
        let Some(tenant) = kernel_tenant(sock, id)? else { bail!("the module has no tenant with id {id}") };
        let (cgroup, dir) = self.tenant_cgroup(name)?.dataplane();
        for pid in tenant.thread_pids {
            if thread_cgroup(pid).as_deref() == Some(cgroup.as_str()) {
                continue;
            }
            let procs = dir.join("cgroup.procs");
            match std::fs::write(&procs, pid.to_string()) {
                Ok(()) => info!("tenant {name}: placed thread {pid} ({}) in cgroup {cgroup}", comm(pid)),
                // The thread ended (an install replaced it) between the dump and the move.
                Err(_) if !Path::new(&format!("/proc/{pid}")).exists() => {}
                Err(e) => bail!("cannot move thread {pid} into {}: {e}", procs.display()),
            }
        }
        Ok(())
    }

    /// The periodic check: whether the module lost a tenant, a graph or a thread placement
    /// (after a reload, a `vdpctl tenant del`, or an install that started threads).
    fn watch(&mut self) {
        let mut sock = match self.kernel() {
            Ok(sock) => sock,
            Err(NlError::FamilyNotFound) => return,
            Err(e) => return error!("cannot reach the module: {e}"),
        };
        let all = match sock.dump(cmd::STATS, Vec::new()).map_err(anyhow::Error::from).and_then(|m| decode_stats(&m)) {
            Ok(all) => all,
            Err(e) => return error!("STATS failed: {e:#}"),
        };
        let names: Vec<String> = self.system.tenant.iter().map(|t| t.name.clone()).collect();
        for name in names {
            let Ok((cgroup, _)) = self.tenant_cgroup(&name).map(|c| c.dataplane()) else { continue };
            let in_line = all.iter().find(|t| t.name == name).is_some_and(|t| {
                // A saved configuration that no longer compiles leaves whatever runs alone.
                let wants_graph = self.compiled.contains_key(&name);
                let graph_ok = t.graph.is_some() == wants_graph || (!wants_graph && self.state.tenants.contains_key(&name));
                // A tenant whose last sync failed (a port that was down, say) is tried again.
                self.ids.get(&name) == Some(&t.id)
                    && !self.sync_failures.contains_key(&name)
                    && graph_ok
                    && t.thread_pids.iter().all(|pid| thread_cgroup(*pid).as_deref() == Some(cgroup.as_str()))
            });
            if !in_line {
                let outcome = self.sync_tenant(&mut sock, &name, Reinstall::IfDifferent);
                self.report_sync(&name, outcome);
            }
        }
    }

    /// Makes `new` the system config ([`reload::plan`]): tenants it drops are deleted from
    /// the module (their saved configurations stay on disk, as at a start with such a state),
    /// tenants it adds are created and run their saved configurations, and a changed tenant
    /// gets its new devices, cgroup and limits, its graph reinstalled only if its compiled
    /// form changed (or a device it uses had to be made again). Unchanged tenants are not
    /// touched. Refused, changing nothing, when a tenant's running configuration would not
    /// pass its checks under `new` (it names a device `new` takes away, say).
    fn reload(&mut self, new: Arc<SystemConfig>) -> std::result::Result<String, String> {
        let slices = engine_slices(&new)?;
        let plan = reload::plan(&self.system, &new);
        let mut compiled = HashMap::new();
        for (name, config) in &self.state.tenants {
            if new.tenant(name).is_none() {
                continue;
            }
            match compile_tenant(&new, name, config) {
                Ok(c) => {
                    compiled.insert(name.clone(), c);
                }
                Err(diagnostics) if self.compiled.contains_key(name) => {
                    return Err(format!(
                        "tenant {name}: its configuration {} would not pass its checks under the new system config: {}",
                        config.file_name,
                        super::logging::one_line(&diagnostics)
                    ))
                }
                Err(_) => warn!("tenant {name}: its saved configuration {} still does not pass its checks; kept, not installed", config.file_name),
            }
        }
        self.system = new;
        self.compiled = compiled;
        self.slices = slices;
        let mut sock = match self.kernel() {
            Ok(sock) => sock,
            Err(NlError::FamilyNotFound) => return Ok(format!("{}; the module is not loaded: it gets them when it is", plan.summary())),
            Err(e) => return Ok(format!("{}; the module cannot be reached ({e}): the next poll brings it in line", plan.summary())),
        };
        for name in &plan.removed {
            self.sync_failures.remove(name);
            let Some(id) = self.ids.remove(name) else { continue };
            match sock.request(cmd::TENANT_DEL, vec![VdpAttr::TenantId(id)]) {
                Ok(_) => info!("tenant {name}: deleted from the module (id {id}), with its devices: not in the system config; its saved configuration is kept"),
                Err(e) => error!("tenant {name}: cannot delete it from the module (id {id}): {e}"),
            }
        }
        for change in &plan.changed {
            if let Some(&id) = self.ids.get(&change.name) {
                for device in change.devices_removed.iter().chain(&change.devices_changed) {
                    if let Err(e) = self.delete_device(&mut sock, id, &change.name, device) {
                        error!("tenant {}: cannot delete device {device}: {e:#}", change.name);
                    }
                }
            }
        }
        let resync: Vec<String> = if plan.limits_changed {
            self.system.tenant.iter().map(|t| t.name.clone()).collect()
        } else {
            plan.added.iter().cloned().chain(plan.changed.iter().map(|c| c.name.clone())).collect()
        };
        for name in resync {
            let outcome = self.sync_tenant(&mut sock, &name, Reinstall::IfDifferent);
            self.report_sync(&name, outcome);
        }
        for port in &plan.ports_removed {
            let used = self.system.tunnel.iter().any(|t| &t.physical == port);
            if used {
                continue;
            }
            match sock.request(cmd::PORT_DETACH, vec![VdpAttr::Ifname(String::from(port))]) {
                Ok(_) => info!("detached from {port}: not in the system config"),
                Err(e) => error!("cannot detach from {port}: {e}"),
            }
        }
        Ok(plan.summary())
    }

    /// Deletes one of a tenant's devices; one its graph uses is freed by removing the graph
    /// first (the resync that follows installs it again, over the device made anew).
    fn delete_device(&mut self, sock: &mut VdpSocket, id: u32, tenant: &str, device: &str) -> Result<()> {
        let request = || vec![VdpAttr::TenantId(id), VdpAttr::VdevName(String::from(device))];
        match sock.request(cmd::VDEV_DEL, request()) {
            Ok(_) => {}
            Err(NlError::Kernel { errno, .. }) if errno == libc::EBUSY => {
                sock.request(cmd::GRAPH_REMOVE, vec![VdpAttr::TenantId(id)])?;
                info!("tenant {tenant}: removed its graph to make device {device} again; it is installed again next");
                sock.request(cmd::VDEV_DEL, request())?;
            }
            Err(NlError::Kernel { errno, .. }) if errno == libc::ENOENT => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        info!("tenant {tenant}: deleted device {device}");
        Ok(())
    }

    fn save(&self) -> std::io::Result<()> {
        state::save(&self.state_path, &self.state)
    }

    /// Puts a tenant's previous configuration back in memory after a change that did not stick.
    fn restore(&mut self, tenant: &str, config: Option<TenantConfig>, compiled: Option<Compiled>) {
        match config {
            Some(c) => self.state.tenants.insert(tenant.to_string(), c),
            None => self.state.tenants.remove(tenant),
        };
        match compiled {
            Some(c) => self.compiled.insert(tenant.to_string(), c),
            None => self.compiled.remove(tenant),
        };
    }

    /// Makes `config` the tenant's configuration: in the module through [`Self::sync_tenant`],
    /// then on disk. Whatever fails, the previous configuration is what runs and what is saved.
    fn change(&mut self, tenant: &str, config: Option<(TenantConfig, Compiled)>) -> Result<VdpSocket, Refusal> {
        let mut sock = self.kernel()?;
        let (old_config, old_compiled) = match config {
            Some((config, compiled)) => {
                (self.state.tenants.insert(tenant.to_string(), config), self.compiled.insert(tenant.to_string(), compiled))
            }
            None => (self.state.tenants.remove(tenant), self.compiled.remove(tenant)),
        };
        if let Err(e) = self.sync_tenant(&mut sock, tenant, Reinstall::Always) {
            self.restore(tenant, old_config, old_compiled);
            let Refusal(status, message) = e.into();
            warn!("tenant {tenant}: the change failed: {message}");
            // GRAPH_INSTALL and GRAPH_REMOVE are all or nothing: the old graph still runs.
            return Err(Refusal(status, format!("{message}; the previous configuration keeps running")));
        }
        if let Err(e) = self.save() {
            // The state file is the truth after a restart; a change it does not record is undone.
            self.restore(tenant, old_config, old_compiled);
            let undone = match self.sync_tenant(&mut sock, tenant, Reinstall::Always) {
                Ok(_) => "the previous configuration was put back",
                Err(_) => "the previous configuration could not be put back",
            };
            error!("tenant {tenant}: cannot save the state file {}: {e}; {undone}", self.state_path.display());
            return Err(Refusal(Status::Failed, format!("the coordinator cannot save its state ({e}); {undone}")));
        }
        Ok(sock)
    }

    fn install(&mut self, tenant: &str, config: TenantConfig, compiled: Compiled) -> Result<serde_json::Value, Refusal> {
        let file_name = config.file_name.clone();
        let mut sock = self.change(tenant, Some((config, compiled)))?;
        let id = self.ensure_tenant(&mut sock, tenant)?;
        let now = kernel_tenant(&mut sock, id)?.ok_or(Refusal(Status::Failed, format!("tenant {tenant} vanished from the module")))?;
        let (elements, tasks) = now.graph.as_ref().map_or((0, 0), |g| (g.element_count, g.task_count));
        let container = self.compiled.get(tenant).and_then(|c| c.container.as_ref()).map(|part| {
            json!({ "elements": part.elements, "boundaries": part.boundaries.len() })
        });
        Ok(json!({
            "tenant": tenant, "tenant_id": id, "file_name": file_name,
            "elements": elements, "tasks": tasks, "thread_pids": now.thread_pids,
            "container": container,
        }))
    }

    /// Binds a fresh channel to the tenant's kernel part for its container engine, and returns
    /// the container part to run on it. The previous channel, if any, is detached by the bind.
    fn attach(&mut self, tenant: &str) -> Result<(serde_json::Value, OwnedFd), Refusal> {
        let Some(part) = self.compiled.get(tenant).and_then(|c| c.container.clone()) else {
            let why = if self.compiled.contains_key(tenant) { "its configuration runs wholly in the kernel" } else { "it has no configuration installed" };
            return Err(Refusal(Status::Invalid, format!("tenant {tenant} has no container part to run: {why}")));
        };
        let mut sock = self.kernel()?;
        let id = self.ensure_tenant(&mut sock, tenant)?;
        let geometry = part.geometry(self.system.channel_slots(tenant))?;
        let fd = super::channel::bind(id, geometry).map_err(|e| Refusal(Status::Failed, format!("{e:#}")))?;
        info!("tenant {tenant}: bound a channel of {} rings of {} slots for its container engine", geometry.rings(), geometry.slots());
        Ok((
            json!({
                "tenant": tenant, "tenant_id": id, "config": part.text, "elements": part.elements,
                "boundaries": part.boundaries, "rings": geometry.rings(), "slots": geometry.slots(),
            }),
            fd,
        ))
    }

    fn remove(&mut self, tenant: &str) -> Result<serde_json::Value, Refusal> {
        let Some(previous) = self.state.tenants.get(tenant).map(|c| c.file_name.clone()) else {
            return Err(Refusal(Status::Invalid, format!("tenant '{tenant}' has no configuration installed")));
        };
        self.change(tenant, None)?;
        Ok(json!({ "tenant": tenant, "removed": previous }))
    }

    /// The tenant's configuration, its tasks and the threads they run on; with `graph`, the
    /// installed graph as a picture's view too.
    fn show(&mut self, tenant: &str, graph: bool) -> Result<(serde_json::Value, Vec<String>), Refusal> {
        let mut warnings = Vec::new();
        let mut threads = Vec::new();
        let mut id = None;
        // The tenant's THREADS, over which the kernel spreads the tasks no StaticThreadSched
        // pins; 1 for a tenant the module does not have yet.
        let mut thread_count = 1;
        match self.kernel() {
            Ok(mut sock) => {
                let tid = self.ensure_tenant(&mut sock, tenant)?;
                id = Some(tid);
                let stats = kernel_tenant(&mut sock, tid)?;
                thread_count = stats.as_ref().map_or(1, |t| t.threads.max(1));
                for (index, pid) in stats.map(|t| t.thread_pids).unwrap_or_default().into_iter().enumerate() {
                    threads.push(json!({ "thread": index, "pid": pid, "name": comm(pid), "cgroup": thread_cgroup(pid) }));
                }
            }
            Err(NlError::FamilyNotFound) => warnings.push("the vdp module is not loaded: nothing runs now".to_string()),
            Err(e) => return Err(e.into()),
        }
        let (cgroup, _) = self.cgroup_of(tenant)?;
        let (dataplane, _) = self.tenant_cgroup(tenant)?.dataplane();
        let engines = crate::slices::tenant_json(&self.system, self.slices.as_ref(), tenant);
        let mut result = json!({
            "tenant": tenant, "tenant_id": id, "cgroup": cgroup, "dataplane_cgroup": dataplane, "threads": threads, "engines": engines,
            "configuration": null,
        });
        let Some(config) = self.state.tenants.get(tenant) else { return Ok((result, warnings)) };
        let mut configuration = json!({
            "file_name": config.file_name, "installed_at": config.installed_at, "source": config.source,
        });
        match self.compiled.get(tenant) {
            Some(compiled) => {
                let mut view = compiled.view.clone();
                view.place_threads(|_| thread_count);
                let placed = view.task_threads();
                let thread_of = |task: &str| placed.iter().find(|(name, _)| *name == task).and_then(|(_, thread)| *thread).unwrap_or(0);
                let tasks: Vec<_> = compiled.analysis.tasks.iter().map(|t| json!({
                    "name": unprefixed(tenant, &t.name), "class": t.class, "cost_cycles": t.cost, "thread": thread_of(&t.name),
                    "path": t.path.iter().map(|p| unprefixed(tenant, p)).collect::<Vec<_>>(),
                })).collect();
                let splits: Vec<_> = compiled.analysis.splits.iter().map(|s| json!({
                    "task": unprefixed(tenant, &s.task), "cost_before": s.cost_before, "cut": s.cut,
                    "queue": unprefixed(tenant, &s.queue), "unqueue": unprefixed(tenant, &s.unqueue),
                })).collect();
                let depth_splits: Vec<_> = compiled.analysis.depth_splits.iter().map(|s| json!({
                    "chain_from": unprefixed(tenant, &s.chain_from), "depth_before": s.depth_before, "pull": s.pull, "cut": s.cut,
                    "queue": unprefixed(tenant, &s.queue), "unqueue": unprefixed(tenant, &s.unqueue),
                })).collect();
                configuration["max_call_depth"] = json!(compiled.analysis.max_call_depth);
                configuration["depth_splits"] = json!(depth_splits);
                let elements: Vec<_> =
                    compiled.elements.iter().map(|(n, c, root)| json!({ "name": unprefixed(tenant, n), "class": c, "root": root })).collect();
                configuration["budget_cycles"] = json!(compiled.analysis.budget);
                configuration["elements"] = json!(elements);
                configuration["tasks"] = json!(tasks);
                configuration["splits"] = json!(splits);
                configuration["warnings"] = json!(compiled.warnings);
                configuration["container"] = compiled.container.as_ref().map_or(serde_json::Value::Null, |part| {
                    json!({ "elements": part.elements, "boundaries": part.boundaries, "partition": part.explain })
                });
                if graph {
                    configuration["graph"] = json!(view);
                }
            }
            None => warnings.push("the saved configuration no longer passes its checks against the system config; it is not installed".into()),
        }
        result["configuration"] = configuration;
        Ok((result, warnings))
    }

    /// Why a write on the tenant's behalf must not happen: the element belongs to the root
    /// context. The kernel refuses it too (`AS_TENANT`); this says so before it is asked.
    fn root_owned(&self, tenant: &str, element: &str) -> Option<Refusal> {
        let full = format!("{tenant}/{element}");
        let compiled = self.compiled.get(tenant)?;
        compiled.elements.iter().find(|(name, _, root)| *root && *name == full).map(|(_, class, _)| {
            Refusal(
                Status::Refused,
                format!(
                    "refused (rule: what the coordinator adds on the root's behalf belongs to the root context): '{element}' ({class}) belongs to the root context; tenant '{tenant}' may read its handlers but not write them"
                ),
            )
        })
    }

    /// A handler call; `as_tenant` when the caller is the tenant itself (not the root context
    /// acting with `--tenant`): its writes may not touch root-owned elements.
    fn handler(&mut self, tenant: &str, op: &Op, as_tenant: bool) -> Result<serde_json::Value, Refusal> {
        if let (Op::Write { element, .. }, true) = (op, as_tenant) {
            if let Some(refusal) = self.root_owned(tenant, element) {
                return Err(refusal);
            }
        }
        // An element at the container level has its handlers in the tenant's engine, which the
        // caller reaches in its own container: say so instead of asking the kernel.
        if let Op::Read { element, .. } | Op::Write { element, .. } = op {
            let part = self.compiled.get(tenant).and_then(|c| c.container.as_ref());
            if part.is_some_and(|part| part.names.iter().any(|name| name == element)) {
                return Ok(json!({ "level": "container", "tenant": tenant }));
            }
        }
        let mut sock = self.kernel()?;
        let id = self.ensure_tenant(&mut sock, tenant)?;
        match op {
            Op::Read { element, handler } => {
                let full = format!("{tenant}/{element}");
                let replies = sock.request(
                    cmd::HANDLER_READ,
                    vec![VdpAttr::TenantId(id), VdpAttr::Element(full.clone()), VdpAttr::Handler(String::from(handler))],
                )?;
                let value = replies
                    .first()
                    .and_then(|r| {
                        r.attrs.iter().find_map(|a| match a {
                            VdpAttr::Value(value) => Some(value),
                            _ => None,
                        })
                    })
                    .ok_or(Refusal(Status::Failed, "the kernel's reply has no VALUE".into()))?;
                Ok(json!({ "value": String::from_utf8_lossy(&value) }))
            }
            Op::Write { element, handler, value } => {
                let full = format!("{tenant}/{element}");
                let mut attrs = vec![VdpAttr::TenantId(id), VdpAttr::Element(full.clone()), VdpAttr::Handler(String::from(handler))];
                if let Some(value) = value {
                    attrs.push(VdpAttr::Value(value.as_bytes().to_vec()));
                }
                if as_tenant {
                    // The kernel refuses root-owned elements itself too, whatever we checked.
                    attrs.push(VdpAttr::AsTenant);
                }
                sock.request(cmd::HANDLER_WRITE, attrs)?;
                info!("tenant {tenant}: wrote {element}.{handler}");
                Ok(json!({}))
            }
            _ => unreachable!("only handler operations come here"),
        }
    }

    fn stats(&mut self, tenant: &str) -> Result<serde_json::Value, Refusal> {
        let mut sock = self.kernel()?;
        let id = self.ensure_tenant(&mut sock, tenant)?;
        let Some(mut stats) = kernel_tenant(&mut sock, id)? else {
            return Err(Refusal(Status::Failed, format!("the module has no tenant {tenant}")));
        };
        stats.devices = crate::stats::device_tx(&mut sock, id).map_err(|e| Refusal(Status::Failed, format!("{e:#}")))?;
        if let Some(graph) = stats.graph.as_mut() {
            for element in &mut graph.elements {
                element.name = unprefixed(tenant, &element.name).to_string();
            }
        }
        serde_json::to_value(&stats).map_err(|e| Refusal(Status::Failed, e.to_string()))
    }
}

fn lock(shared: &Mutex<Coordinator>) -> MutexGuard<'_, Coordinator> {
    // A panic in one request must not wedge every later one; the state it guards is only
    // replaced whole, so it is consistent even then.
    shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The cgroup v2 path a thread is in, or `None` if it is gone.
fn thread_cgroup(pid: u32) -> Option<String> {
    identity::cgroup_v2_path(&std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?)
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).map_or_else(|_| "gone".into(), |c| c.trim_end().to_string())
}

/// `SO_PEERPIDFD` (asm-generic/socket.h, Linux 6.5); the libc crate does not name it yet.
const SO_PEERPIDFD: libc::c_int = 77;

/// A pidfd for the peer, where the kernel offers one.
fn peer_pidfd(stream: &UnixStream) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let mut fd: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `fd` and `len` are valid for writes of the sizes given, for the whole call.
    let rc = unsafe { libc::getsockopt(stream.as_raw_fd(), libc::SOL_SOCKET, SO_PEERPIDFD, (&mut fd as *mut libc::c_int).cast(), &mut len) };
    // SAFETY: on success the kernel handed us a new descriptor that nothing else owns.
    (rc == 0 && fd >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// The `Pid:` field of a pidfd's fdinfo: the pid while the process lives, -1 once it is gone.
fn fdinfo_pid(fdinfo: &str) -> Option<i64> {
    fdinfo.lines().find_map(|l| l.strip_prefix("Pid:")).and_then(|v| v.trim().parse().ok())
}

/// The coordinator's own network namespace, as `/proc/self/ns/net` names it.
fn own_netns() -> Result<PathBuf> {
    std::fs::read_link("/proc/self/ns/net").context("cannot read /proc/self/ns/net")
}

/// The cgroup v2 path in `/proc/PID/cgroup`, read with as few system calls as the file allows:
/// the accept loop does this for every connection, flood or not.
fn proc_cgroup(pid: u32) -> Result<String> {
    use std::io::Read;
    let path = format!("/proc/{pid}/cgroup");
    let mut file = std::fs::File::open(&path).with_context(|| format!("cannot read {path}"))?;
    let mut text = Vec::with_capacity(256);
    let mut buf = [0u8; 4096];
    loop {
        let n = file.read(&mut buf).with_context(|| format!("cannot read {path}"))?;
        text.extend_from_slice(&buf[..n]);
        // The v2 line is the last one; once it is complete there is nothing more to read.
        let complete = text.ends_with(b"\n") && text.split(|b| *b == b'\n').any(|line| line.starts_with(b"0::"));
        if n == 0 || complete || text.len() > 1 << 16 {
            break;
        }
    }
    identity::cgroup_v2_path(&String::from_utf8_lossy(&text)).with_context(|| format!("process {pid} has no cgroup v2 path"))
}

/// The connected peer as the kernel reports it: `SO_PEERCRED`, then its cgroup and netns
/// (compared with `ours`, or with `/proc/self/ns/net` read now). The `/proc` reads name
/// whoever holds the pid now; [`verify_peer`] tells whether that is still the peer.
#[cfg(test)]
fn peer_of(stream: &UnixStream, ours: Option<&Path>) -> Result<Peer> {
    let (pid, uid) = peer_cred(stream)?;
    read_peer(pid, uid, ours)
}

/// The peer's pid and uid from `SO_PEERCRED`: as it was when the peer connected.
fn peer_cred(stream: &UnixStream) -> Result<(u32, u32)> {
    let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for writes of the sizes given, for the whole call.
    let rc = unsafe {
        libc::getsockopt(stream.as_raw_fd(), libc::SOL_SOCKET, libc::SO_PEERCRED, (&mut cred as *mut libc::ucred).cast(), &mut len)
    };
    if rc != 0 {
        bail!("SO_PEERCRED: {}", std::io::Error::last_os_error());
    }
    if cred.pid <= 0 {
        bail!("the kernel reports no process for the peer (it is in a PID namespace this one cannot see)");
    }
    Ok((cred.pid as u32, cred.uid))
}

/// What `/proc` says about whoever has `pid` now: its cgroup, and whether it shares our network
/// namespace (`ours`, or `/proc/self/ns/net` read now).
fn read_peer(pid: u32, uid: u32, ours: Option<&Path>) -> Result<Peer> {
    let cgroup = proc_cgroup(pid)?;
    let theirs = std::fs::read_link(format!("/proc/{pid}/ns/net")).with_context(|| format!("cannot read /proc/{pid}/ns/net"))?;
    let same_netns = match ours {
        Some(ours) => theirs == ours,
        None => theirs == own_netns()?,
    };
    Ok(Peer { pid, uid, cgroup, same_netns })
}

/// Whether the peer read by [`read_peer`] was the connection's peer: its pidfd (`SO_PEERPIDFD`,
/// which names the process that connected, whatever its pid is now) still shows it alive with
/// that pid, so the pid cannot have been handed to another process before the `/proc` reads.
/// Kernels before 6.5 have no `SO_PEERPIDFD`; there the check is skipped.
fn verify_peer(stream: &UnixStream, peer: Peer) -> Result<Peer> {
    checked_pidfd(stream, peer.pid)?;
    Ok(peer)
}

/// The peer's pidfd, once it shows the peer alive with `pid`; `None` where there is none.
fn checked_pidfd(stream: &UnixStream, pid: u32) -> Result<Option<std::os::fd::OwnedFd>> {
    let Some(fd) = peer_pidfd(stream) else { return Ok(None) };
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).context("cannot read the peer's pidfd")?;
    if fdinfo_pid(&info) != Some(i64::from(pid)) {
        bail!("process {pid} exited before its identity could be read");
    }
    Ok(Some(fd))
}

/// Whether the process behind a pidfd still runs: a pidfd turns readable when it exits.
fn pidfd_alive(fd: &std::os::fd::OwnedFd) -> bool {
    let mut fds = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd, for the duration of the call; it does not wait.
    let rc = unsafe { libc::poll(&mut fds, 1, 0) };
    rc == 0
}

/// Answers one request from `peer`.
#[cfg(test)]
fn handle(shared: &Mutex<Coordinator>, system: &SystemConfig, peer: &Peer, request: Request) -> (Response, String) {
    let (response, who, _) = handle_with_file(shared, system, peer, request);
    (response, who)
}

/// [`handle`], with the file an `attach` hands over (sent with the response).
fn handle_with_file(shared: &Mutex<Coordinator>, system: &SystemConfig, peer: &Peer, request: Request) -> (Response, String, Option<OwnedFd>) {
    let caller = match identity::identify(system, peer) {
        Ok(caller) => caller,
        Err(refusal) => return (Response::error(Status::Refused, refusal.0), "unknown".into(), None),
    };
    let who = match &caller {
        Caller::Tenant(name) => format!("tenant {name}"),
        Caller::Root => "root context".into(),
    };
    let tenant = match identity::authorize(system, &caller, request.tenant.as_deref()) {
        Ok(tenant) => tenant,
        Err(refusal) => {
            let status = if caller == Caller::Root && request.tenant.as_deref().is_some_and(|t| system.tenant(t).is_none()) {
                Status::Invalid
            } else {
                Status::Refused
            };
            return (Response::error(status, refusal.0), who, None);
        }
    };
    if let Err(refusal) = identity::check_element(system, &tenant, &request.op) {
        return (Response::error(Status::Refused, refusal.0), who, None);
    }
    let mut file = None;
    let result = match &request.op {
        Op::Install { file_name, source, classes } => {
            let config = TenantConfig { file_name: file_name.clone(), source: source.clone(), installed_at: now(), classes: classes.clone() };
            // Checking and compiling need no lock: other tenants' requests go on meanwhile.
            match compile_tenant(system, &tenant, &config) {
                Err(diagnostics) => Err(Refusal(Status::Invalid, format!("the configuration was not installed:\n{diagnostics}"))),
                Ok(compiled) => {
                    let warnings = compiled.warnings.clone();
                    lock(shared).install(&tenant, config, compiled).map(|r| (r, warnings))
                }
            }
        }
        Op::Remove => lock(shared).remove(&tenant).map(|r| (r, Vec::new())),
        Op::Attach => lock(shared).attach(&tenant).map(|(result, channel)| {
            file = Some(channel);
            (result, Vec::new())
        }),
        Op::Show { graph } => lock(shared).show(&tenant, *graph),
        Op::Read { .. } | Op::Write { .. } => {
            let as_tenant = matches!(caller, Caller::Tenant(_));
            lock(shared).handler(&tenant, &request.op, as_tenant).map(|r| (r, Vec::new()))
        }
        Op::Stats => lock(shared).stats(&tenant).map(|r| (r, Vec::new())),
        Op::ShapeSet { .. } => Err(shape_refusal(&caller, &tenant)),
    };
    let response = match result {
        Ok((result, warnings)) => Response::ok(result, warnings),
        Err(Refusal(status, message)) => Response::error(status, message),
    };
    if response.status != Status::Ok {
        file = None;
    }
    (response, format!("{who} (acting on {tenant})"), file)
}

/// Why a request to change a transmit cap is refused, whoever sends it: a tenant may not, and
/// the root context changes caps in the system config, which a request here would not outlast.
fn shape_refusal(caller: &Caller, tenant: &str) -> Refusal {
    let message = match caller {
        Caller::Tenant(_) => format!(
            "refused (rule: transmit caps belong to the root context): tenant '{tenant}' may read its caps (vdpctl stats) but not change them"
        ),
        Caller::Root => format!(
            "refused (rule: transmit caps come from the system config): set bandwidth_cap or aggregate_bandwidth_cap of tenant '{tenant}' there and reload the coordinator (SIGHUP)"
        ),
    };
    Refusal(Status::Refused, message)
}

/// Answers the one request of a connection whose peer was identified (or not) at accept.
fn serve(shared: &Mutex<Coordinator>, system: &SystemConfig, stream: UnixStream, peer: Result<Peer>, accepted: Instant) {
    let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
    let line = protocol::read_line(BufReader::new(&stream));
    let mut file: Option<OwnedFd> = None;
    let (response, who, op) = match (peer, line) {
        (_, Ok(None)) => return,
        (_, Err(e)) => {
            let message = match e.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                    format!("the client sent no complete request within {} s", CLIENT_TIMEOUT.as_secs())
                }
                _ => format!("cannot read the request: {e}"),
            };
            (Response::error(Status::BadRequest, message), "a client".to_string(), "?")
        }
        (Err(e), Ok(Some(_))) => (
            Response::error(Status::Refused, format!("refused (rule: callers are identified by the kernel): {e:#}")),
            "unidentified client".into(),
            "?",
        ),
        (Ok(peer), Ok(Some(line))) => match protocol::decode_request(&line) {
            Err(response) => (response, format!("pid {}", peer.pid), "?"),
            Ok(request) => {
                let op = request.op.name();
                let (response, who, channel) = handle_with_file(shared, system, &peer, request);
                file = channel;
                (response, format!("pid {} uid {} {who}", peer.pid, peer.uid), op)
            }
        },
    };
    let outcome = match response.status {
        Status::Ok => "ok".to_string(),
        status => {
            let name = serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            // One log line per request: the message's lines joined, the status named once.
            let message: String = super::logging::one_line(&response.message).chars().take(400).collect();
            if message.starts_with(&name) { message } else { format!("{name}: {message}") }
        }
    };
    let written = match &file {
        Some(fd) => serde_json::to_vec(&response).map_err(std::io::Error::other).and_then(|mut line| {
            line.push(b'\n');
            super::fdpass::send_with_fd(&stream, &line, fd.as_fd())
        }),
        None => protocol::write_line(&stream, &response),
    };
    // The time from accept to the answer sent: what the coordinator itself took.
    // Requests answered ok are many (every handler read) and say nothing new: debug; refused
    // or failed ones stay in the default log.
    let level = if response.status == Status::Ok { log::Level::Debug } else { log::Level::Info };
    log::log!(level, "request {op} from {who}: {outcome} ({} ms)", accepted.elapsed().as_millis());
    if let Err(e) = written {
        warn!("cannot answer {who}: {e}");
    }
}

/// Whose slot a connection takes: its tenant, the root context, or the pool of everyone else
/// (callers that will be refused, and peers that cannot be identified).
fn holder_of(system: &SystemConfig, peer: &Result<Peer>) -> Holder {
    match peer.as_ref().map(|peer| identity::identify(system, peer)) {
        Ok(Ok(Caller::Tenant(name))) => Holder::Tenant(name),
        Ok(Ok(Caller::Root)) => Holder::Root,
        Ok(Err(_)) | Err(_) => Holder::Others,
    }
}

fn lock_limits(limits: &Mutex<ConnectionLimits>) -> MutexGuard<'_, ConnectionLimits> {
    // Counting cannot panic half-way; a poisoned lock still holds consistent counts.
    limits.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A connection's slot, given back when the connection's thread ends, however it ends.
struct Slot {
    limits: Arc<Mutex<ConnectionLimits>>,
    holder: Holder,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock_limits(&self.limits).release(&self.holder);
    }
}

/// What the accept loop needs to hand a connection on.
struct Gate {
    shared: Arc<Mutex<Coordinator>>,
    system: Arc<SystemConfig>,
    limits: Arc<Mutex<ConnectionLimits>>,
    refusals: BurstLog,
    recent: RecentRefusals<std::os::fd::OwnedFd>,
    /// Read once; `None` if it could not be, and then again for each connection.
    own_netns: Option<PathBuf>,
    /// Connections over their caller's cap, oldest first, answered at `due` ([`REFUSAL_DELAY`]).
    held: std::collections::VecDeque<HeldRefusal>,
}

struct HeldRefusal {
    due: Instant,
    stream: UnixStream,
    denied: Denied,
}

impl Gate {
    fn new(shared: Arc<Mutex<Coordinator>>, system: Arc<SystemConfig>, numbers: Numbers) -> Gate {
        let tenants = system.tenant.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        let limits = Arc::new(Mutex::new(ConnectionLimits::new(numbers, tenants)));
        let own_netns = own_netns().map_err(|e| warn!("{e:#}; reading it again for each connection")).ok();
        let recent = RecentRefusals::new(RECENT_REFUSAL_TTL, RECENT_REFUSALS);
        Gate { shared, system, limits, refusals: BurstLog::new(REFUSAL_LOG_WINDOW), recent, own_netns, held: Default::default() }
    }

    /// Identifies a new connection's peer, takes a slot for it and starts its thread; a peer
    /// over its limit is answered at once, without a thread. The peer is identified here, not
    /// in its thread, so that no thread is started before the limit is checked. Identifying a
    /// peer is `SO_PEERCRED`, two reads of `/proc` and, once it is admitted or refused, a check
    /// of its pidfd; none of it waits on the peer. A process refused in the last second is
    /// refused again after `SO_PEERCRED` alone while its identity is still at its limit.
    fn dispatch(&mut self, stream: UnixStream) -> Option<std::thread::JoinHandle<()>> {
        let now = Instant::now();
        // Identity first: the peer's pid is only meaningful while it is still connected.
        let cred = peer_cred(&stream);
        if let Ok((pid, _)) = cred {
            if let Some(holder) = self.recent.holder(pid, now, pidfd_alive) {
                let still = lock_limits(&self.limits).check(&holder);
                if let Err(denied) = still {
                    self.reject(stream, denied, now);
                    return None;
                }
            }
        }
        let mut peer = cred.and_then(|(pid, uid)| read_peer(pid, uid, self.own_netns.as_deref()));
        let mut holder = holder_of(&self.system, &peer);
        let mut admitted = lock_limits(&self.limits).admit(&holder);
        if let (Err(_), Ok(p)) = (&admitted, &peer) {
            // Remembered only once the pidfd shows the /proc reads were the peer's.
            if let Ok(Some(fd)) = checked_pidfd(&stream, p.pid) {
                self.recent.remember(p.pid, fd, holder.clone(), now);
            }
        }
        if admitted.is_ok() {
            peer = peer.and_then(|p| verify_peer(&stream, p));
            if peer.is_err() && holder != Holder::Others {
                // Not who the /proc reads said: its slot is not that identity's to take.
                let mut limits = lock_limits(&self.limits);
                limits.release(&holder);
                holder = Holder::Others;
                admitted = limits.admit(&holder);
            }
        }
        if let Err(denied) = admitted {
            self.reject(stream, denied, now);
            return None;
        }
        let slot = Slot { limits: self.limits.clone(), holder };
        let (shared, system) = (self.shared.clone(), self.system.clone());
        let spawned = std::thread::Builder::new().name("vdpd-conn".into()).spawn(move || {
            let _slot = slot;
            serve(&shared, &system, stream, peer, now);
        });
        // On failure the closure, with the stream and the slot, is dropped: the client sees the
        // connection closed, and the slot is free again.
        spawned.map_err(|e| error!("cannot start a thread for a connection: {e}")).ok()
    }

    /// A connection that gets no slot: one over its caller's cap is held for [`REFUSAL_DELAY`]
    /// (while fewer than [`REFUSALS_HELD`] wait), one refused because the free slots are kept
    /// for others is answered at once.
    fn reject(&mut self, stream: UnixStream, denied: Denied, now: Instant) {
        if let Some(line) = self.refusals.refused(&denied, now) {
            warn!("{}", line);
        }
        if matches!(denied, Denied::OverCap { .. }) && self.held.len() < REFUSALS_HELD {
            self.held.push_back(HeldRefusal { due: now + REFUSAL_DELAY, stream, denied });
        } else {
            answer_refusal(&stream, &denied);
        }
    }

    /// Answers the held refusals that are due (all of them with `all`).
    fn answer_due(&mut self, now: Instant, all: bool) {
        while self.held.front().is_some_and(|h| all || h.due <= now) {
            if let Some(held) = self.held.pop_front() {
                answer_refusal(&held.stream, &held.denied);
            }
        }
    }

    /// How long the accept loop may wait for a connection before a held refusal is due.
    fn wait(&self, now: Instant, longest: Duration) -> Duration {
        self.held.front().map_or(longest, |h| h.due.saturating_duration_since(now).min(longest))
    }

    /// Logs the end of refusal bursts and answers the refusals that are due; called from the
    /// accept loop when it is idle or between connections.
    fn tick(&mut self) {
        let now = Instant::now();
        self.answer_due(now, false);
        for line in self.refusals.flush(now) {
            warn!("{}", line);
        }
    }

    /// Answers every held refusal and logs what the bursts still open refused, at shutdown.
    fn finish(&mut self) {
        self.answer_due(Instant::now(), true);
        for line in self.refusals.drain(Instant::now()) {
            warn!("{}", line);
        }
    }

    fn open(&self) -> usize {
        lock_limits(&self.limits).open()
    }

    /// A reloaded system config: new connections are identified, and slots shared out, by it.
    fn retarget(&mut self, system: Arc<SystemConfig>) {
        let tenants = system.tenant.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        lock_limits(&self.limits).retarget(Numbers::for_tenants(tenants.len()), tenants);
        self.system = system;
    }
}

/// Answers a connection that gets no slot, without waiting for it: the answer fits the empty
/// socket buffer, and a peer that does not read it loses it. The request is not read.
fn answer_refusal(stream: &UnixStream, denied: &Denied) {
    let status = match denied {
        Denied::OverCap { .. } => Status::Refused,
        Denied::Busy { .. } => Status::Failed,
    };
    let mut line = serde_json::to_vec(&Response::error(status, denied.message())).unwrap_or_default();
    line.push(b'\n');
    // SAFETY: `line` is valid for reads of its length for the whole call.
    let _ = unsafe { libc::send(stream.as_raw_fd(), line.as_ptr().cast(), line.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
}

/// Refuses to start while another coordinator still answers on the socket.
fn refuse_if_served(path: &Path) -> Result<()> {
    if path.exists() && UnixStream::connect(path).is_ok() {
        bail!("another coordinator is listening on {}", path.display());
    }
    Ok(())
}

/// Binds the socket, refusing to take it from a coordinator that is still listening on it and
/// replacing a stale socket file.
fn bind(path: &Path) -> Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    refuse_if_served(path)?;
    if path.exists() {
        std::fs::remove_file(path).with_context(|| format!("cannot remove the stale socket {}", path.display()))?;
    }
    let listener = UnixListener::bind(path).with_context(|| format!("cannot listen on {}", path.display()))?;
    // Anyone who can reach the socket may connect: who they are is decided per request from
    // the kernel's view of them, not from file permissions.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
    listener.set_nonblocking(true).context("cannot make the listening socket non-blocking")?;
    Ok(listener)
}

/// The next connection, or `None` after waiting up to `timeout` for one (or a signal). The
/// listener is non-blocking: while connections are queued, each costs one `accept4` and no `poll`.
fn accept(listener: &UnixListener, timeout: Duration) -> Result<Option<UnixStream>> {
    match listener.accept() {
        // Linux does not pass O_NONBLOCK on to the accepted socket.
        Ok((stream, _)) => return Ok(Some(stream)),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::Interrupted => {}
        Err(e) => return Err(e.into()),
    }
    let mut fds = libc::pollfd { fd: listener.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd, for the duration of the call.
    let rc = unsafe { libc::poll(&mut fds, 1, timeout.as_millis() as libc::c_int) };
    if rc < 0 {
        let err = std::io::Error::last_os_error();
        if err.kind() == std::io::ErrorKind::Interrupted {
            return Ok(None);
        }
        bail!("poll: {err}");
    }
    Ok(None)
}

/// SIGTERM and SIGINT set the first flag (shut down), SIGHUP the second (read the system
/// config again, [`reload_system`]).
fn signals() -> Result<(Arc<AtomicBool>, Arc<AtomicBool>)> {
    let (shutdown, reload) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, shutdown.clone()).context("installing the SIGTERM and SIGINT handlers")?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, reload.clone()).context("installing the SIGHUP handler")?;
    Ok((shutdown, reload))
}

/// Tells systemd (a `Type=notify` unit, `NOTIFY_SOCKET` set) how the coordinator is; does
/// nothing when it was not started by systemd.
fn notify(states: &[sd_notify::NotifyState]) {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        if let Err(e) = sd_notify::notify(states) {
            warn!("cannot notify systemd: {e}");
        }
    }
}

fn status(system: &SystemConfig) -> String {
    format!("serving {} tenants", system.tenant.len())
}

/// SIGHUP: starts reading the system config again, and what it leaves to the host
/// ([`read_host`]), on a thread of its own: resolving a next hop may take a second, and the
/// accept loop goes on answering meanwhile, without the coordinator's lock held.
/// [`reload_system`] applies the result once the thread is done.
fn start_reload(path: &Path) -> std::thread::JoinHandle<Result<SystemConfig>> {
    notify(&[sd_notify::NotifyState::Reloading]);
    info!("SIGHUP: reading the system config {} again", path.display());
    let path = path.to_path_buf();
    std::thread::spawn(move || crate::frontend::read_system(&path).and_then(|new| read_host(&new).with_context(|| path.display().to_string())))
}

/// Brings the module in line with the system config [`start_reload`] read
/// ([`Coordinator::reload`]); the accept loop then identifies callers and shares out
/// connections by the new tenants. A config that cannot be read, does not parse, does not
/// validate or needs from the host what it does not give changes nothing.
fn reload_system(shared: &Mutex<Coordinator>, gate: &mut Gate, path: &Path, read: std::thread::Result<Result<SystemConfig>>) {
    let read = read.unwrap_or_else(|_| Err(anyhow::anyhow!("reading it failed: the reading thread panicked")));
    let new = match read {
        Ok(new) => Arc::new(new),
        Err(e) => {
            warn!("reload refused: {}; nothing changed", format!("{e:#}").trim_end());
            let current = lock(shared).system.clone();
            return notify(&[sd_notify::NotifyState::Ready, sd_notify::NotifyState::Status(&status(&current))]);
        }
    };
    match lock(shared).reload(new.clone()) {
        Ok(summary) => {
            info!("reloaded {}: {summary}", path.display());
            gate.retarget(new.clone());
        }
        Err(why) => warn!("reload refused: {why}; nothing changed"),
    }
    let current = lock(shared).system.clone();
    notify(&[sd_notify::NotifyState::Ready, sd_notify::NotifyState::Status(&status(&current))]);
}

/// The engines' slices of `system` (PdP's best fit, [`vdp_click::slices`]), logged; a config
/// whose tenants' engines do not fit is refused (validation already refuses it: this keeps the
/// coordinator from taking one however it was made).
fn engine_slices(system: &SystemConfig) -> std::result::Result<Option<vdp_click::slices::Allocation>, String> {
    match system.slices().transpose() {
        Ok(Some(allocation)) => {
            info!("{}", crate::slices::log_line(system, &allocation));
            Ok(Some(allocation))
        }
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// `system` with what it leaves to the host read from it ([`crate::rtnl::complete`]), each
/// value read logged.
fn read_host(system: &SystemConfig) -> Result<SystemConfig> {
    if let Some(engines) = &system.engines {
        let online = crate::cpu_list::online()?;
        if let Some(cpu) = crate::cpu_list::first_offline(&engines.cpus, &online) {
            bail!("[engines] cpus: cpu {cpu} is not online on this host (online: {})", crate::cpu_list::format(&online));
        }
    }
    let host = crate::rtnl::complete(system)?;
    host.notes.iter().for_each(|note| info!("{note}"));
    Ok(host.system)
}

pub fn run(args: &DaemonArgs) -> Result<ExitCode> {
    super::logging::init(super::logging::level(args.log_level.as_deref(), std::env::var(super::logging::ENV).ok().as_deref())?);
    let system = crate::frontend::read_system(&args.system)?;
    let system = Arc::new(read_host(&system).with_context(|| format!("{}", args.system.display()))?);
    let slices = engine_slices(&system).map_err(|e| anyhow::anyhow!("{}: {e}", args.system.display()))?;
    let state = state::load(&args.state)?;
    if !(0.05..=3600.0).contains(&args.poll_interval) {
        bail!("--poll-interval must be between 0.05 and 3600 seconds");
    }
    info!(
        "starting: system config {} ({} tenants), state {}, socket {}",
        args.system.display(),
        system.tenant.len(),
        args.state.display(),
        args.socket.display()
    );
    let mut compiled = HashMap::new();
    for (name, config) in &state.tenants {
        if system.tenant(name).is_none() {
            warn!("the state holds a configuration for tenant {name}, which is not in the system config: kept, not installed");
            continue;
        }
        match compile_tenant(&system, name, config) {
            Ok(c) => {
                compiled.insert(name.clone(), c);
            }
            Err(diagnostics) => warn!(
                "tenant {name}: the saved configuration {} no longer passes its checks; kept, not installed: {}",
                config.file_name,
                diagnostics
            ),
        }
    }
    let (shutdown, reload) = signals()?;
    refuse_if_served(&args.socket)?;
    let shared = Arc::new(Mutex::new(Coordinator {
        system: system.clone(),
        state,
        state_path: args.state.clone(),
        cgroup_root: args.cgroup_root.clone(),
        family_id: None,
        ids: HashMap::new(),
        compiled,
        sync_failures: HashMap::new(),
        slices,
    }));
    {
        let mut coordinator = lock(&shared);
        if let Err(NlError::FamilyNotFound) = coordinator.kernel() {
            warn!("the vdp module is not loaded; waiting for it");
        }
    }
    // The socket appears only once every tenant has been brought in line (when the module is
    // loaded), so a socket that exists means the kernel holds what the state says.
    let listener = bind(&args.socket)?;
    let interval = Duration::from_secs_f64(args.poll_interval);
    let watcher = {
        let (shared, shutdown) = (shared.clone(), shutdown.clone());
        std::thread::spawn(move || {
            let mut last = Instant::now();
            while !shutdown.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50).min(interval));
                if last.elapsed() >= interval {
                    lock(&shared).watch();
                    last = Instant::now();
                }
            }
        })
    };
    let mut gate = Gate::new(shared.clone(), system.clone(), Numbers::for_tenants(system.tenant.len()));
    let numbers = lock_limits(&gate.limits).numbers();
    info!(
        "listening on {}: at most {} connections at once, {} per tenant and for the root context, {} kept for each of them, \
         {} for all other callers",
        args.socket.display(),
        numbers.total,
        numbers.per_caller,
        numbers.reserve,
        numbers.others
    );
    notify(&[sd_notify::NotifyState::Ready, sd_notify::NotifyState::Status(&status(&system))]);
    let mut reading = None;
    while !shutdown.load(Ordering::SeqCst) {
        // A SIGHUP while a reload is being read waits for it, then reads again.
        if reading.is_none() && reload.swap(false, Ordering::SeqCst) {
            reading = Some(start_reload(&args.system));
        }
        if let Some(done) = reading.take_if(|r: &mut std::thread::JoinHandle<_>| r.is_finished()) {
            reload_system(&shared, &mut gate, &args.system, done.join());
        }
        gate.tick();
        match accept(&listener, gate.wait(Instant::now(), Duration::from_millis(250))) {
            Ok(Some(stream)) => {
                gate.dispatch(stream);
            }
            Ok(None) => {}
            Err(e) => {
                error!("accept failed: {e:#}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    info!("SIGTERM: shutting down");
    notify(&[sd_notify::NotifyState::Stopping]);
    drop(listener);
    gate.finish();
    let _ = std::fs::remove_file(&args.socket);
    // Requests already past their identity check finish; none waits longer than a client timeout.
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    while gate.open() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = watcher.join();
    drop(lock(&shared));
    info!("stopped");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system() -> SystemConfig {
        SystemConfig::parse(
            "[limits]\nmax_threads = 2\n[[tenant]]\nname = \"red\"\ncgroup = \"/red\"\ncpu_share = 50\n\
             [[tenant]]\nname = \"blue\"\ncgroup = \"/blue\"\ncpu_share = 50\n",
        )
        .unwrap()
    }

    fn config(source: &str) -> TenantConfig {
        TenantConfig { file_name: "t.click".into(), source: source.into(), installed_at: 0, classes: Vec::new() }
    }

    #[test]
    fn compiles_a_tenant_with_its_prefix_and_thread_pins() {
        let source = "a :: InfiniteSource(LIMIT 10); q :: Queue; u :: Unqueue; a -> q -> u -> Discard; StaticThreadSched(u 1);";
        let compiled = compile_tenant(&system(), "red", &config(source)).unwrap();
        assert!(compiled.elements.iter().any(|(n, c, root)| n == "red/q" && *c == "Queue" && !root), "{:?}", compiled.elements);
        let pinned: Vec<_> = compiled.view.elements.iter().filter_map(|e| Some((e.name.as_str(), e.task.as_ref()?.pinned))).collect();
        assert_eq!(pinned, [("red/a", None), ("red/u", Some(1))]);
        vdp_click::compile::validate(&compiled.blob).unwrap();
        assert_eq!(unprefixed("red", "red/q"), "q");
        assert_eq!(unprefixed("red", "redder/q"), "redder/q");
    }

    #[test]
    fn a_device_not_assigned_is_refused_with_the_checker_message() {
        let err = compile_tenant(&system(), "red", &config("FromDevice(eth1) -> Discard;")).err().unwrap();
        assert!(err.contains("eth1"), "{err}");
        assert!(err.contains("error"), "{err}");
    }

    #[test]
    fn refusals_sent_to_tenants_keep_the_first_line_and_carry_no_colour() {
        // Whatever the coordinator's own stderr is, what goes back over the socket is plain.
        let err = compile_tenant(&system(), "red", &config("FromDevice(eth1) -> q :: Qeue -> Discard;")).err().unwrap();
        assert!(!err.contains('\x1b'), "{err:?}");
        let first = err.lines().next().unwrap_or_default();
        assert!(first.starts_with("t.click:1:") && first.contains(": error: "), "{err}");
        let logged = super::super::logging::format_line(&format!("reload refused: {err}"));
        assert_eq!(logged.matches('\n').count(), 1, "{logged:?}");
        assert!(logged.starts_with("vdpd: reload refused: t.click:1:"), "{logged}");
    }

    /// A coordinator whose state holds `source` as red's configuration, compiled.
    fn coordinator_with_red(system: &Arc<SystemConfig>, source: &str) -> Mutex<Coordinator> {
        let shared = coordinator(system);
        let config = config(source);
        let compiled = compile_tenant(system, "red", &config).unwrap();
        {
            let mut coordinator = lock(&shared);
            coordinator.state.tenants.insert("red".into(), config);
            coordinator.compiled.insert("red".into(), compiled);
        }
        shared
    }

    fn coordinator(system: &Arc<SystemConfig>) -> Mutex<Coordinator> {
        Mutex::new(Coordinator {
            system: system.clone(),
            state: State::new(),
            state_path: std::env::temp_dir().join(format!("vdp-daemon-test-{}.json", std::process::id())),
            cgroup_root: std::env::temp_dir(),
            family_id: None,
            ids: HashMap::new(),
            compiled: HashMap::new(),
            sync_failures: HashMap::new(),
            slices: None,
        })
    }

    #[test]
    fn a_reload_computes_the_engine_slices_and_refuses_engines_that_do_not_fit() {
        use vdp_click::engines::{EngineDemand, Engines};
        let system = Arc::new(system());
        let shared = coordinator(&system);
        let mut new = system.as_ref().clone();
        new.engines = Some(Engines { cpus: vec![0, 1], share: 50 });
        new.tenant[0].engines = Some(EngineDemand(150));
        new.tenant[1].engines = Some(EngineDemand(40));
        lock(&shared).reload(Arc::new(new.clone())).unwrap();
        let slices = lock(&shared).slices.clone().expect("slices");
        let red: Vec<(u32, u32)> = slices.tenant("red").unwrap().slices.iter().map(|s| (s.cpu, s.units)).collect();
        assert_eq!(red, [(0, 100), (1, 50)]);
        let (result, _) = lock(&shared).show("blue", false).unwrap_or_else(|r| panic!("{}", r.1));
        assert_eq!(result["engines"]["slices"][0]["cpu_percent"], json!(20.0));
        // Made in code, past validation: 1.50 + 0.70 engines on 2.
        let mut over = new.clone();
        over.tenant[1].engines = Some(EngineDemand(70));
        let why = lock(&shared).reload(Arc::new(over)).unwrap_err();
        assert!(why.starts_with("tenant 'blue' needs 0.70 engines, which brings the tenants' total to 2.20 engines"), "{why}");
        let coordinator = lock(&shared);
        assert_eq!(coordinator.system.tenant[1].engines, Some(EngineDemand(40)), "the old system config stays");
        assert_eq!(coordinator.slices.as_ref(), Some(&slices));
    }

    #[test]
    fn a_reload_that_would_break_a_running_configuration_changes_nothing() {
        let system = Arc::new(system());
        let shared = coordinator_with_red(&system, "a :: InfiniteSource -> q :: Queue -> u :: Unqueue -> Discard; StaticThreadSched(u 1);");
        // One thread a tenant: red's second thread is over the new limit.
        let mut strict = system.as_ref().clone();
        strict.limits.max_threads = 1;
        let strict = Arc::new(strict);
        let why = lock(&shared).reload(strict).unwrap_err();
        assert!(why.starts_with("tenant red: its configuration t.click would not pass its checks"), "{why}");
        let coordinator = lock(&shared);
        assert_eq!(coordinator.system.limits.max_threads, 2, "the old system config stays");
        assert!(coordinator.compiled.contains_key("red"));
    }

    #[test]
    fn other_tenants_and_shares_leave_the_program_of_a_graph_alone() {
        let system = system();
        let source = "a :: InfiniteSource -> q :: Queue -> u :: Unqueue -> Discard;";
        let before = compile_tenant(&system, "red", &config(source)).unwrap();
        let mut other = system.clone();
        other.tenant[0].cpu_share = 20;
        let mut green = other.tenant[1].clone();
        green.name = "green".into();
        green.cgroup = "/green".into();
        other.tenant.push(green);
        let after = compile_tenant(&other, "red", &config(source)).unwrap();
        assert_ne!(before.blob, after.blob, "the tenant table holds every tenant");
        assert!(vdp_click::compile::same_program(&before.blob, &after.blob));
        let changed = compile_tenant(&other, "red", &config("a :: InfiniteSource -> q :: Queue(99) -> u :: Unqueue -> Discard;")).unwrap();
        assert!(!vdp_click::compile::same_program(&before.blob, &changed.blob));
    }

    #[test]
    fn a_reload_without_the_module_takes_the_new_tenants_for_later() {
        let system = Arc::new(system());
        let shared = coordinator(&system);
        let mut new = system.as_ref().clone();
        new.tenant.retain(|t| t.name == "red");
        let mut green = new.tenant[0].clone();
        green.name = "green".into();
        green.cgroup = "/green".into();
        new.tenant.push(green);
        let summary = lock(&shared).reload(Arc::new(new)).unwrap();
        assert_eq!(summary, "1 added (green), 1 removed (blue), 0 changed, 1 unchanged; the module is not loaded: it gets them when it is");
        let names: Vec<String> = lock(&shared).system.tenant.iter().map(|t| t.name.clone()).collect();
        assert_eq!(names, ["red", "green"]);
    }

    #[test]
    fn show_gives_the_installed_graph_for_a_picture_when_asked() {
        let system = Arc::new(system());
        let shared = coordinator_with_red(&system, "a :: InfiniteSource -> q :: Queue -> u :: Unqueue -> Discard; b :: InfiniteSource -> Discard; StaticThreadSched(u 1);");
        // The module is not loaded here: the tenant has its first thread only.
        let (plain, _) = lock(&shared).show("red", false).unwrap_or_else(|r| panic!("{}", r.1));
        assert!(plain["configuration"]["graph"].is_null(), "{plain}");
        let threads: Vec<(&str, u64)> =
            plain["configuration"]["tasks"].as_array().unwrap().iter().map(|t| (t["name"].as_str().unwrap(), t["thread"].as_u64().unwrap())).collect();
        assert_eq!(threads, [("a", 0), ("u", 1), ("b", 0)]);
        let (result, _) = lock(&shared).show("red", true).unwrap_or_else(|r| panic!("{}", r.1));
        let view: vdp_click::dot::View = serde_json::from_value(result["configuration"]["graph"].clone()).unwrap();
        let names: Vec<&str> = view.elements.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["red/a", "red/q", "red/u", "red/Discard@4", "red/b", "red/Discard@6", "red/StaticThreadSched@7"]);
        assert!(view.elements.iter().all(|e| e.tenant.as_deref() == Some("red")));
        assert_eq!(view.task_threads(), [("red/a", Some(0)), ("red/u", Some(1)), ("red/b", Some(0))]);
        let dot = super::super::client::show_dot(&result).unwrap();
        assert!(dot.contains("subgraph \"cluster_tenant_red\""), "{dot}");
        assert!(dot.contains("\"red/q\":\"o0\" -> \"red/u\":\"i0\" [style=dashed];"), "{dot}");
        assert!(dot.starts_with("// tenant red: t.click, installed (drawn by vdpctl)"), "{dot}");
        // Nothing installed: no picture, and a clear word.
        let (none, _) = lock(&shared).show("blue", true).unwrap_or_else(|r| panic!("{}", r.1));
        assert_eq!(super::super::client::show_dot(&none).unwrap_err(), "tenant blue has no configuration installed");
    }

    #[test]
    fn refusals_and_invalid_configurations_never_reach_the_kernel() {
        let system = Arc::new(system());
        let shared = coordinator(&system);
        let request = |tenant: Option<&str>, op: Op| Request { version: 1, tenant: tenant.map(str::to_string), op };
        let blue = Peer { pid: 7, uid: 1000, cgroup: "/blue/shell".into(), same_netns: false };
        let stranger = Peer { pid: 8, uid: 0, cgroup: "/system.slice".into(), same_netns: false };
        let root = Peer { pid: 9, uid: 0, cgroup: "/".into(), same_netns: true };
        let read_red = Op::Read { element: "red/c".into(), handler: "count".into() };

        let (response, who) = handle(&shared, &system, &blue, request(None, read_red.clone()));
        assert_eq!((response.status, who.as_str()), (Status::Refused, "tenant blue"));
        assert!(response.message.contains("rule: a tenant reads and writes only its own handlers"), "{}", response.message);
        let (response, _) = handle(&shared, &system, &blue, request(Some("red"), Op::Remove));
        assert!(response.message.contains("rule: a tenant acts only on itself"), "{}", response.message);
        let (response, who) = handle(&shared, &system, &stranger, request(Some("red"), Op::Show { graph: false }));
        assert_eq!((response.status, who.as_str()), (Status::Refused, "unknown"));
        let (response, _) = handle(&shared, &system, &root, request(Some("green"), Op::Show { graph: false }));
        assert_eq!(response.status, Status::Invalid);
        let install = Op::Install { file_name: "b.click".into(), source: "FromDevice(eth1) -> Discard;".into(), classes: Vec::new() };
        let (response, _) = handle(&shared, &system, &blue, request(None, install));
        assert_eq!(response.status, Status::Invalid);
        assert!(response.message.contains("b.click:1"), "{}", response.message);
        // Nothing was asked of the module, and nothing was recorded.
        let coordinator = lock(&shared);
        assert!(coordinator.family_id.is_none() && coordinator.state.tenants.is_empty());
        assert!(!coordinator.state_path.exists());
    }

    #[test]
    fn a_tenant_write_to_a_root_owned_element_is_refused_before_the_kernel() {
        let system = Arc::new(
            SystemConfig::parse(
                "[limits]\ntask_budget_cycles = 1000\n\
                 [[physical]]\nname = \"eth0\"\nmac = \"52:54:00:00:00:01\"\n\
                 [[tunnel]]\nname = \"red-1\"\nphysical = \"eth0\"\nlocal = \"192.0.2.1\"\nremote = \"192.0.2.11\"\n\
                 carries = \"ip\"\nnext_hop_mac = \"52:54:00:00:00:fe\"\n\
                 [[tenant]]\nname = \"red\"\ncgroup = \"/red\"\ncpu_share = 50\nbandwidth_cap = \"1Mbps\"\n\
                 [[tenant.device]]\nname = \"eth1\"\ntunnel = \"red-1\"\naddress = \"10.1.0.1/24\"\n",
            )
            .unwrap(),
        );
        // A task over the budget is split: the coordinator's Queue belongs to the root context.
        // The bandwidth cap adds nothing to the graph (the module applies it on transmit).
        let source = "FromDevice(eth1) -> a :: Counter -> b :: Counter -> c :: Counter -> d :: Counter -> q :: Queue -> tx :: ToDevice(eth1);";
        let compiled = compile_tenant(&system, "red", &config(source)).unwrap();
        assert!(compiled.elements.iter().all(|(_, c, _)| *c != "BandwidthShaper"), "{:?}", compiled.elements);
        let (root_owned, class, _) = compiled.elements.iter().find(|(_, _, root)| *root).cloned().expect("a split added a root-owned element");
        assert!(root_owned.contains("@split"), "{root_owned}");
        let shared = coordinator(&system);
        lock(&shared).compiled.insert("red".into(), compiled);
        let request = |tenant: Option<&str>, op: Op| Request { version: 1, tenant: tenant.map(str::to_string), op };
        let red = Peer { pid: 7, uid: 0, cgroup: "/red".into(), same_netns: false };
        let element = root_owned.trim_start_matches("red/").to_string();
        let write = Op::Write { element: element.clone(), handler: "reset".into(), value: None };
        let (response, who) = handle(&shared, &system, &red, request(None, write));
        assert_eq!((response.status, who.as_str()), (Status::Refused, "tenant red (acting on red)"));
        assert!(response.message.contains(&format!("'{element}' ({class}) belongs to the root context")), "{}", response.message);
        // Refused before the module was asked: the coordinator never looked for it.
        assert!(lock(&shared).family_id.is_none());
        // A name of its own that passes for one of the coordinator's is refused at install.
        let impostor = "src :: RatedSource -> tx@shaper :: Counter -> q :: Queue -> tx :: ToDevice(eth1);";
        let err = compile_tenant(&system, "red", &config(impostor)).err().unwrap();
        assert!(err.contains("element name 'tx@shaper' is reserved for the coordinator"), "{err}");
    }

    #[test]
    fn a_tight_task_budget_splits_a_tunnel_tenant_and_ends() {
        // At 1000 cycles a task of FromDevice (800) and a Counter (700) is over budget and each
        // Counter, with the Queue and Unqueue a cut adds, is about the budget on its own: the
        // coordinator cuts where a cut shortens the task, reports the rest, and finishes.
        let system = SystemConfig::parse(
            "[limits]\ntask_budget_cycles = 1000\n\
             [[physical]]\nname = \"eth0\"\nmac = \"52:54:00:00:00:01\"\n\
             [[tunnel]]\nname = \"red-1\"\nphysical = \"eth0\"\nlocal = \"192.0.2.1\"\nremote = \"192.0.2.11\"\n\
             carries = \"ip\"\nnext_hop_mac = \"52:54:00:00:00:fe\"\n\
             [[tenant]]\nname = \"red\"\ncgroup = \"/red\"\ncpu_share = 50\n\
             [[tenant.device]]\nname = \"eth1\"\ntunnel = \"red-1\"\naddress = \"10.1.0.1/24\"\n",
        )
        .unwrap();
        let source = "FromDevice(eth1) -> a :: Counter -> b :: Counter -> c :: Counter -> d :: Counter -> q :: Queue -> tx :: ToDevice(eth1);";
        let compiled = compile_tenant(&system, "red", &config(source)).unwrap();
        assert!(!compiled.analysis.splits.is_empty(), "{:?}", compiled.analysis);
        assert!(compiled.analysis.splits.len() <= 4 * compiled.elements.len(), "{:?}", compiled.analysis);
        assert!(compiled.elements.iter().any(|(_, class, root)| *class == "Unqueue" && *root), "{:?}", compiled.elements);
        vdp_click::compile::validate(&compiled.blob).unwrap();
    }

    #[test]
    fn a_transmit_cap_change_is_refused_to_tenants_and_root_alike() {
        let system = Arc::new(system());
        let shared = coordinator(&system);
        let request = |tenant: Option<&str>, op: Op| Request { version: 1, tenant: tenant.map(str::to_string), op };
        let set = Op::ShapeSet { device: Some("eth1".into()), rate: "10Gbps".into() };
        let red = Peer { pid: 7, uid: 0, cgroup: "/red".into(), same_netns: false };
        let (response, who) = handle(&shared, &system, &red, request(None, set.clone()));
        assert_eq!((response.status, who.as_str()), (Status::Refused, "tenant red (acting on red)"));
        assert!(response.message.contains("rule: transmit caps belong to the root context"), "{}", response.message);
        assert!(response.message.contains("may read its caps (vdpctl stats) but not change them"), "{}", response.message);
        let root = Peer { pid: 9, uid: 0, cgroup: "/".into(), same_netns: true };
        let (response, _) = handle(&shared, &system, &root, request(Some("red"), set));
        assert_eq!(response.status, Status::Refused);
        assert!(response.message.contains("set bandwidth_cap or aggregate_bandwidth_cap of tenant 'red'"), "{}", response.message);
        // Neither reached the module.
        assert!(lock(&shared).family_id.is_none());
    }

    #[test]
    fn a_request_over_a_real_socket_is_identified_by_the_kernel() {
        // Whoever runs the test (root context, a tenant-less user, ...), a read of another
        // tenant's element acting as blue is refused with a rule named, and the claimed
        // tenant name in the request does not make the caller blue.
        let system = Arc::new(system());
        let shared = Arc::new(coordinator(&system));
        let (client, server) = UnixStream::pair().unwrap();
        let worker = {
            let (shared, system) = (shared.clone(), system.clone());
            std::thread::spawn(move || {
                let peer = peer_of(&server, None).and_then(|p| verify_peer(&server, p));
                serve(&shared, &system, server, peer, Instant::now())
            })
        };
        let request = Request { version: 1, tenant: Some("blue".into()), op: Op::Read { element: "red/c".into(), handler: "count".into() } };
        protocol::write_line(&client, &request).unwrap();
        let line = protocol::read_line(BufReader::new(&client)).unwrap().unwrap();
        worker.join().unwrap();
        let response: Response = serde_json::from_str(&line).unwrap();
        assert_eq!(response.status, Status::Refused, "{line}");
        assert!(response.message.contains("(rule: "), "{line}");
        let peer = verify_peer(&client, peer_of(&client, None).unwrap()).unwrap();
        assert_eq!(peer.pid, std::process::id());
        assert!(peer.same_netns);
        assert_eq!(Some(peer.cgroup), thread_cgroup(std::process::id()));
        let ours = own_netns().unwrap();
        assert!(peer_of(&client, Some(&ours)).unwrap().same_netns);
        assert!(!peer_of(&client, Some(Path::new("net:[0]"))).unwrap().same_netns);
        // Kernels before 6.5 have no SO_PEERPIDFD; where there is one, it names us.
        if let Some(fd) = peer_pidfd(&client) {
            let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).unwrap();
            assert_eq!(fdinfo_pid(&info), Some(i64::from(std::process::id())), "{info}");
        }
    }

    #[test]
    fn connections_over_the_callers_cap_get_no_thread_and_closing_frees_a_slot() {
        // Whoever runs the test is one holder (the root context, a tenant-less user in the
        // others' pool, ...): its cap here is 2 either way.
        let system = Arc::new(system());
        let numbers = Numbers { total: 8, per_caller: 2, reserve: 1, others: 2 };
        let mut gate = Gate::new(Arc::new(coordinator(&system)), system.clone(), numbers);
        let connect = |gate: &mut Gate| {
            let (client, server) = UnixStream::pair().unwrap();
            client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            (client, gate.dispatch(server))
        };
        let (idle1, thread1) = connect(&mut gate);
        let (idle2, thread2) = connect(&mut gate);
        let holder = holder_of(&system, &peer_of(&idle1, None));
        assert!(thread1.is_some() && thread2.is_some());
        assert_eq!((gate.open(), lock_limits(&gate.limits).open_by(&holder)), (2, 2));

        // The third gets no thread, and its refusal waits REFUSAL_DELAY in the accept loop,
        // before it sends anything: not answered early, answered once due.
        let accepted = Instant::now();
        let (third, thread3) = connect(&mut gate);
        assert!(thread3.is_none());
        assert_eq!(gate.held.len(), 1);
        gate.answer_due(accepted + REFUSAL_DELAY / 2, false);
        assert_eq!(gate.held.len(), 1, "answered before it was due");
        assert!(gate.wait(Instant::now(), Duration::from_secs(5)) <= REFUSAL_DELAY);
        gate.answer_due(accepted + REFUSAL_DELAY + Duration::from_millis(1), false);
        assert!(gate.held.is_empty());
        let line = protocol::read_line(BufReader::new(&third)).unwrap().unwrap();
        let response: Response = serde_json::from_str(&line).unwrap();
        assert_eq!(response.status, Status::Refused, "{line}");
        assert!(response.message.contains("refused (limit: 2 connections at once"), "{line}");
        assert_eq!(protocol::read_line(BufReader::new(&third)).unwrap(), None, "closed after the answer");
        assert_eq!(gate.open(), 2);
        // Where the kernel has pidfds, we are remembered as refused, and refused again from that.
        if peer_pidfd(&idle1).is_some() {
            assert_eq!(gate.recent.len(), 1);
        }
        let (fourth, thread4) = connect(&mut gate);
        assert!(thread4.is_none());
        gate.finish();
        let line = protocol::read_line(BufReader::new(&fourth)).unwrap().unwrap();
        assert!(line.contains("refused (limit: 2 connections at once"), "{line}");

        // An idle connection that closes gives its slot back: the next one is served.
        drop(idle1);
        thread1.unwrap().join().unwrap();
        assert_eq!(gate.open(), 1);
        let (client, thread) = connect(&mut gate);
        let request = Request { version: 1, tenant: Some("blue".into()), op: Op::Read { element: "red/c".into(), handler: "count".into() } };
        protocol::write_line(&client, &request).unwrap();
        let line = protocol::read_line(BufReader::new(&client)).unwrap().unwrap();
        let response: Response = serde_json::from_str(&line).unwrap();
        assert_eq!(response.status, Status::Refused, "{line}");
        assert!(response.message.contains("(rule: "), "a served request, not a limit: {line}");
        thread.unwrap().join().unwrap();
        drop(idle2);
        thread2.unwrap().join().unwrap();
        assert_eq!(gate.open(), 0);
    }

    #[test]
    fn pidfd_fdinfo_tells_a_live_peer_from_a_gone_one() {
        assert_eq!(fdinfo_pid("pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1\nPid:\t1234\nNSpid:\t1234\n"), Some(1234));
        assert_eq!(fdinfo_pid("Pid:\t-1\nNSpid:\t-1\n"), Some(-1));
        assert_eq!(fdinfo_pid("pos:\t0\n"), None);
    }

    #[test]
    fn the_same_configuration_compiles_to_the_same_bytes() {
        // Resync compares the running graph with the saved one byte for byte.
        let source = "s :: InfiniteSource; c :: Counter; s -> c -> Discard;";
        let a = compile_tenant(&system(), "blue", &config(source)).unwrap();
        let b = compile_tenant(&system(), "blue", &config(source)).unwrap();
        assert_eq!(a.blob, b.blob);
    }
}
