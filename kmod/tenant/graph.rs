//! A tenant's running graph: install (a hotswap that carries state over), re-placement on a new
//! `THREADS` value, removal, and the table writes that are ordered with them.

use super::state::TenantState;
use crate::engine::{BuildError, Graph};
use crate::sys::memcg::tenant_gfp;
use crate::sys::time::now_ns;
use crate::sys::trace;
use core::sync::atomic::Ordering;
use kernel::prelude::*;
use kernel::sync::{Arc, UniqueArc};

/// A graph together with the blob it was built from (what `GRAPH_GET` returns).
pub(crate) struct Installed {
    pub(crate) graph: Graph,
    pub(crate) blob: KVVec<u8>,
}

impl TenantState {
    /// Runs `change` (a routing-table write and its announcement) in order with the tenant's
    /// other changes, so that the events group reports them in the order they took effect.
    pub(crate) fn change_table<R>(&self, change: impl FnOnce() -> R) -> R {
        let _changing = self.changing.lock();
        change()
    }

    /// The running graph, if any.
    pub(crate) fn installed(&self) -> Option<Arc<Installed>> {
        self.installed.lock().clone()
    }

    /// Builds `blob` completely, then switches to it. On failure the running graph is untouched.
    /// Elements that keep their name and class take over the state of the ones they replace.
    /// `announce` runs right after the switch, in order with the tenant's other changes.
    ///
    /// The threads the new graph places tasks on are started before the switch; threads it no
    /// longer uses are stopped after it.
    pub(crate) fn install(self: &Arc<Self>, blob: &[u8], announce: impl FnOnce(&Installed)) -> Result<Arc<Installed>, BuildError> {
        let _changing = self.changing.lock();
        self.charged(|| self.install_locked(blob, announce))
    }

    /// Sets the `THREADS` knob. A running graph is rebuilt from its blob with the new placement
    /// and swapped in exactly as an install would (state carried over, threads started before
    /// the switch and stopped after it), so a task never runs on two threads of one graph. On
    /// failure the knob and the running graph stay as they were.
    pub(crate) fn set_threads(self: &Arc<Self>, threads: u32) -> Result<(), BuildError> {
        let _changing = self.changing.lock();
        let before = self.threads.swap(threads, Ordering::Relaxed);
        if before == threads {
            return Ok(());
        }
        let Some(running) = self.installed() else { return Ok(()) };
        let result = self.charged(|| self.install_locked(&running.blob, |_| {}));
        if result.is_err() {
            self.threads.store(before, Ordering::Relaxed);
        }
        result.map(|_| ())
    }

    /// [`TenantState::install`] with `changing` held by the caller.
    fn install_locked(self: &Arc<Self>, blob: &[u8], announce: impl FnOnce(&Installed)) -> Result<Arc<Installed>, BuildError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(BuildError::new(ENOENT, format_args!("the tenant is being deleted")));
        }
        let started = now_ns();
        let graph = crate::engine::build(blob, self.name(), self.id, &self.channel, self.doorbell.clone(), self.threads())?;
        self.start_workers(graph.thread_count())?;
        let mut copy = KVVec::with_capacity(blob.len(), tenant_gfp())?;
        copy.extend_from_slice(blob, tenant_gfp())?;
        let mut fresh = UniqueArc::new(Installed { graph, blob: copy }, tenant_gfp())?;
        // Nothing can fail from here on, so the old graph is only touched by an install that
        // will happen. It keeps running during the transfer; see `Element::take_state`.
        let old = self.installed();
        if let Some(old) = &old {
            fresh.graph.adopt_state(&old.graph);
        }
        let installed: Arc<Installed> = fresh.into();
        // Under `changing`, what the swap replaces is `old`.
        let replaced = self.installed.lock().replace(installed.clone());
        self.doorbell.ring();
        self.trace_switch(&installed, old.as_deref(), now_ns().saturating_sub(started));
        self.stop_workers_beyond(installed.graph.thread_count());
        announce(&installed);
        // The old graph is freed when its last user (possibly the thread, mid-pass) lets go.
        drop(replaced);
        drop(old);
        Ok(installed)
    }

    /// Removes the running graph; returns whether there was one. `announce` runs after a removal,
    /// in order with the tenant's other changes.
    pub(crate) fn remove_graph(&self, announce: impl FnOnce()) -> bool {
        let _changing = self.changing.lock();
        let old = self.installed.lock().take();
        self.stop_workers_beyond(1);
        let removed = old.is_some();
        if let Some(old) = &old {
            self.trace_uninstall(old);
            announce();
        }
        drop(old);
        removed
    }
}

impl TenantState {
    /// Fires `vdp_install` (the tenant had no graph) or `vdp_swap` for the switch to `installed`
    /// from `old`, `duration_ns` after the install began.
    fn trace_switch(&self, installed: &Installed, old: Option<&Installed>, duration_ns: u64) {
        let graph = &installed.graph;
        let event = trace::Installed {
            tenant: self.id,
            name: self.name(),
            elements: graph.element_count(),
            tasks: graph.task_count(),
            threads: graph.thread_count(),
            bytes: installed.blob.len(),
            serial: graph.serial(),
            duration_ns,
        };
        trace::switched(&event, old.map(|old| (old.graph.element_count(), old.graph.serial())));
    }

    /// Fires `vdp_uninstall` for `old`, the graph being removed.
    pub(super) fn trace_uninstall(&self, old: &Installed) {
        trace::uninstall(self.id, self.name(), old.graph.element_count(), old.graph.serial());
    }
}
