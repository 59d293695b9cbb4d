//! A tenant's cgroup v2 subtree, as the coordinator lays it out (`docs/cpu-shares.md`):
//!
//! ```text
//! <tenant>/            the tenant: hands the cpu (and memory) controllers to its children,
//!                      holds no process itself (cgroup v2's no-internal-processes rule)
//! <tenant>/dataplane/  the tenant's kernel threads: cpu.max from cpu_share, memory.max from
//!                      memory_max; the module reads both from thread 0's cgroup
//! <tenant>/control/    the tenant's own processes (its vdpctl, its control plane); a container
//!                      runtime may use any other child instead
//! ```
//!
//! The data plane's share is therefore its own CFS pool: a busy data plane that spends its
//! whole quota never throttles the tenant's processes, which sit in a sibling group.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The child that holds the tenant's kernel threads.
pub const DATAPLANE: &str = "dataplane";
/// The child the coordinator creates for the tenant's processes.
pub const CONTROL: &str = "control";
/// Period of the data plane's `cpu.max`, in microseconds.
pub const CPU_PERIOD_US: u64 = 100_000;

/// `cpu.max` for a share in percent of one CPU.
pub fn cpu_max_for_share(share: u32) -> String {
    format!("{} {CPU_PERIOD_US}", u64::from(share.clamp(1, 100)) * CPU_PERIOD_US / 100)
}

/// `memory.max` for an optional limit in bytes.
pub fn memory_max_value(limit: Option<u64>) -> String {
    limit.map_or_else(|| "max".to_string(), |bytes| bytes.to_string())
}

/// Whether a `cgroup.subtree_control` (or `cgroup.controllers`) text names `controller`.
pub fn lists_controller(text: &str, controller: &str) -> bool {
    text.split_whitespace().any(|c| c == controller)
}

/// One tenant's subtree under the cgroup v2 mount.
pub struct TenantCgroup {
    /// The cgroup v2 mount, e.g. `/sys/fs/cgroup`.
    root: PathBuf,
    /// The tenant's path relative to the mount, normalised (`/vdp/red`).
    path: String,
}

/// What the coordinator wants of a tenant's data plane.
pub struct Limits {
    pub cpu_share: u32,
    pub memory_max: Option<u64>,
}

impl TenantCgroup {
    pub fn new(root: &Path, path: &str) -> TenantCgroup {
        TenantCgroup { root: root.to_path_buf(), path: super::identity::normalize(path) }
    }

    fn dir(&self) -> PathBuf {
        self.root.join(self.path.trim_start_matches('/'))
    }

    /// The data plane's cgroup: its path as `/proc/PID/cgroup` shows it, and its directory.
    pub fn dataplane(&self) -> (String, PathBuf) {
        (format!("{}/{DATAPLANE}", self.path.trim_end_matches('/')), self.dir().join(DATAPLANE))
    }

    /// Lays the subtree out and sets the data plane's limits; idempotent, and quiet when
    /// everything is already in place. Each change is reported through `log`.
    pub fn apply(&self, limits: &Limits, log: &mut dyn FnMut(String)) -> Result<()> {
        if self.path == "/" {
            bail!("a tenant's cgroup cannot be the root cgroup");
        }
        let dir = self.dir();
        let (_, dataplane) = self.dataplane();
        let control = dir.join(CONTROL);
        for d in [&dir, &dataplane, &control] {
            if !d.is_dir() {
                std::fs::create_dir_all(d).with_context(|| format!("cannot create cgroup {}", d.display()))?;
                log(format!("created cgroup {}", d.display()));
            }
        }
        let memory = limits.memory_max.is_some() || self.available(&self.root, "memory");
        if limits.memory_max.is_some() && !self.available(&self.root, "memory") {
            bail!("memory_max is set but the kernel has no memory cgroup controller");
        }
        let controllers: &[&str] = if memory { &["cpu", "memory"] } else { &["cpu"] };
        // Each ancestor hands the controllers down; the root cgroup may hold processes, the
        // others may not once they do (the operator's layout, reported if it is in the way).
        let mut ancestor = self.root.clone();
        let parts: Vec<&str> = self.path.trim_start_matches('/').split('/').collect();
        for part in &parts {
            for c in controllers {
                enable(&ancestor, c, log)?;
            }
            ancestor.push(part);
        }
        for c in controllers {
            self.enable_in_tenant(&dir, &control, c, log)?;
        }
        write_if_different(&dataplane.join("cpu.max"), &cpu_max_for_share(limits.cpu_share), log)?;
        if memory {
            write_if_different(&dataplane.join("memory.max"), &memory_max_value(limits.memory_max), log)?;
        }
        Ok(())
    }

    fn available(&self, dir: &Path, controller: &str) -> bool {
        std::fs::read_to_string(dir.join("cgroup.controllers")).is_ok_and(|text| lists_controller(&text, controller))
    }

    /// Enables `controller` for the tenant's children. The tenant cgroup itself must hold no
    /// process for that, so processes a runtime put there are first moved into `control/`
    /// (they stay the tenant's: identity covers the whole subtree). A process that arrives
    /// between the move and the write makes the kernel refuse it (`EBUSY`): a few tries.
    fn enable_in_tenant(&self, dir: &Path, control: &Path, controller: &str, log: &mut dyn FnMut(String)) -> Result<()> {
        let subtree = dir.join("cgroup.subtree_control");
        for attempt in 0..5 {
            if std::fs::read_to_string(&subtree).is_ok_and(|text| lists_controller(&text, controller)) {
                return Ok(());
            }
            let procs = std::fs::read_to_string(dir.join("cgroup.procs")).with_context(|| format!("cannot read {}/cgroup.procs", dir.display()))?;
            for pid in procs.split_whitespace() {
                // A process that exits meanwhile cannot be moved: that is fine.
                if std::fs::write(control.join("cgroup.procs"), pid).is_ok() {
                    log(format!("moved process {pid} from {} into {}: a cgroup that hands down controllers holds no process", dir.display(), control.display()));
                }
            }
            match std::fs::write(&subtree, format!("+{controller}")) {
                Ok(()) => {
                    log(format!("enabled the {controller} controller for the children of {}", dir.display()));
                    return Ok(());
                }
                Err(e) if attempt < 4 && e.raw_os_error() == Some(libc::EBUSY) => continue,
                Err(e) => bail!("cannot enable the {controller} controller in {}: {e}", subtree.display()),
            }
        }
        bail!("processes kept arriving in {}; cannot enable the {controller} controller", dir.display())
    }
}

/// Lets `dir`'s children use `controller` (nothing to do when they already may).
fn enable(dir: &Path, controller: &str, log: &mut dyn FnMut(String)) -> Result<()> {
    let control = dir.join("cgroup.subtree_control");
    if std::fs::read_to_string(&control).is_ok_and(|text| lists_controller(&text, controller)) {
        return Ok(());
    }
    std::fs::write(&control, format!("+{controller}")).with_context(|| {
        format!("cannot enable the {controller} controller in {} (a cgroup other than the root that holds processes cannot hand controllers down)", control.display())
    })?;
    log(format!("enabled the {controller} controller for the children of {}", dir.display()));
    Ok(())
}

fn write_if_different(file: &Path, value: &str, log: &mut dyn FnMut(String)) -> Result<()> {
    if std::fs::read_to_string(file).is_ok_and(|current| current.trim() == value) {
        return Ok(());
    }
    std::fs::write(file, value).with_context(|| format!("cannot set {} to {value}", file.display()))?;
    log(format!("set {} to {value}", file.display()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_become_cpu_max() {
        assert_eq!(cpu_max_for_share(40), "40000 100000");
        assert_eq!(cpu_max_for_share(100), "100000 100000");
        assert_eq!(cpu_max_for_share(1), "1000 100000");
        assert_eq!(cpu_max_for_share(0), "1000 100000");
    }

    #[test]
    fn memory_limits() {
        assert_eq!(memory_max_value(None), "max");
        assert_eq!(memory_max_value(Some(64 << 20)), "67108864");
    }

    #[test]
    fn controller_lists() {
        assert!(lists_controller("cpu memory pids\n", "memory"));
        assert!(!lists_controller("cpuset\n", "cpu"));
        assert!(!lists_controller("", "cpu"));
    }

    #[test]
    fn the_dataplane_lies_below_the_tenant() {
        let t = TenantCgroup::new(Path::new("/sys/fs/cgroup"), "vdp/red/");
        assert_eq!(t.dataplane(), ("/vdp/red/dataplane".to_string(), PathBuf::from("/sys/fs/cgroup/vdp/red/dataplane")));
    }

    #[test]
    fn the_root_cgroup_is_refused() {
        let t = TenantCgroup::new(Path::new("/nonexistent"), "/");
        let err = t.apply(&Limits { cpu_share: 10, memory_max: None }, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("root cgroup"), "{err}");
    }
}
