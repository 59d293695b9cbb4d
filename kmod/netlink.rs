//! The `vdp` family's commands. Genetlink has already validated every request against the strict
//! per-command policy in `sys/vdp_genl.c` before these run.

use crate::portable::cpu_set::CpuSet;
use crate::portable::uapi::{attr, class_attr, cmd, element_attr, valid_tenant_name};
use crate::sys::genl::{genl_doit, genl_dumpit, Attrs, Dump, Event, Reply, Request};
use crate::engine::handler::{HandlerError, HandlerText};
use crate::tenant::{Installed, TenantError, TenantState, TenantView};
use kernel::sync::Arc;
use crate::tenant;
use kernel::prelude::*;

mod devices;

// `GET_INFO` doit callback. Each `vdp_rs_*` callback is named in the family's operation table
// in `sys/vdp_genl.c`; `genl_doit!` and `genl_dumpit!` (in `sys/genl.rs`) define them.
genl_doit!(vdp_rs_get_info => get_info);

fn get_info(request: &Request<'_>) -> Result {
    let mut reply = request.reply()?;
    reply.put_str(attr::VERSION, crate::portable::VERSION)?;
    reply.put_u32(attr::TENANT_COUNT, tenant::count())?;
    for class in crate::portable::catalog::all_classes() {
        put_class(&mut reply, class.id, class.name).inspect_err(|_| {
            request.set_error_message(c"element class list does not fit in one reply");
        })?;
    }
    reply.send()
}

fn put_class(reply: &mut Reply<'_>, id: u16, name: &str) -> Result {
    reply.nest(attr::CLASS, |r| {
        r.put_u32(class_attr::ID, u32::from(id))?;
        r.put_str(class_attr::NAME, name)
    })
}

/// Maps a tenant-table refusal to an errno and an extack message.
fn tenant_error(request: &Request<'_>, err: TenantError) -> Error {
    match err {
        TenantError::IdTaken => {
            request.set_attr_error(attr::TENANT_ID, c"a tenant with this id already exists");
            EEXIST
        }
        TenantError::NameTaken => {
            request.set_attr_error(attr::TENANT_NAME, c"a tenant with this name already exists");
            EEXIST
        }
        TenantError::TooMany => {
            request.set_error_message(c"the module already holds the maximum number of tenants");
            ENOSPC
        }
        TenantError::NoSuchTenant => {
            request.set_attr_error(attr::TENANT_ID, c"no tenant with this id");
            ENOENT
        }
        TenantError::Kernel(e) => e,
    }
}

fn put_tenant(attrs: &mut Attrs<'_>, tenant: &TenantView) -> Result {
    attrs.put_u32(attr::TENANT_ID, tenant.id)?;
    attrs.put_str(attr::TENANT_NAME, tenant.name())?;
    // One THREAD_PID per thread, thread 0 first.
    for &pid in tenant.thread_pids() {
        attrs.put_u32(attr::THREAD_PID, pid)?;
    }
    attrs.put_u32(attr::TASKS_PER_YIELD, tenant.tasks_per_yield)?;
    attrs.put_u32(attr::TASKS_PER_YIELD_AUTO, u32::from(tenant.yield_auto))?;
    attrs.put_u32(attr::THREADS, tenant.threads)?;
    if let Some(cpus) = &tenant.cpus {
        let mut mask = [0u8; crate::portable::uapi::CPU_MASK_MAX_BYTES];
        let len = cpus.write_mask(&mut mask);
        attrs.put_binary(attr::CPU_MASK, mask.get(..len).unwrap_or(&[]))?;
    }
    Ok(())
}

fn reply_tenant(request: &Request<'_>, tenant: &TenantView) -> Result {
    let mut reply = request.reply()?;
    put_tenant(&mut reply.attrs(), tenant)?;
    reply.send()
}

/// Multicasts a notification on the events group if anyone listens. An event that cannot be
/// built (memory is short) is dropped: the change it reports has happened and stays valid, and
/// listeners resynchronise with STATS/GRAPH_GET as after any netlink overrun.
fn announce(command: u8, payload: usize, fill: impl FnOnce(&mut Attrs<'_>) -> Result) {
    if !Event::wanted() {
        return;
    }
    let Ok(mut event) = Event::new(command, payload) else { return };
    if fill(&mut event.attrs()).is_ok() {
        event.send();
    }
}

/// Room for a notification's attributes besides any long value.
const EVENT_ROOM: usize = 512;

// `TENANT_NEW` doit callback.
genl_doit!(vdp_rs_tenant_new => |request| {
    let id = request.u32_attr(attr::TENANT_ID)?;
    let name = request.str_attr(attr::TENANT_NAME)?;
    if !valid_tenant_name(name) {
        request.set_attr_error(
            attr::TENANT_NAME,
            c"tenant name must be a lower-case letter then up to 10 of [a-z0-9_]",
        );
        return Err(EINVAL);
    }
    let tenant = tenant::create(id, name).map_err(|e| tenant_error(request, e))?;
    announce(cmd::TENANT_NEW_NTF, EVENT_ROOM, |a| put_tenant(a, &tenant));
    reply_tenant(request, &tenant)
});

// `TENANT_DEL` doit callback.
genl_doit!(vdp_rs_tenant_del => |request| {
    let id = request.u32_attr(attr::TENANT_ID)?;
    let (tenant, had_graph) = tenant::delete(id).map_err(|e| tenant_error(request, e))?;
    crate::device::remove_tenant(id);
    if had_graph {
        announce(cmd::GRAPH_REMOVE_NTF, EVENT_ROOM, |a| a.put_u32(attr::TENANT_ID, id));
    }
    announce(cmd::TENANT_DEL_NTF, EVENT_ROOM, |a| {
        a.put_u32(attr::TENANT_ID, id)?;
        a.put_str(attr::TENANT_NAME, tenant.name())
    });
    Ok(())
});

/// `TENANT_GET` and `SCHED_GET` doit callback: both read one tenant.
fn read_tenant(request: &Request<'_>) -> Result {
    let id = request.u32_attr(attr::TENANT_ID)?;
    let tenant = tenant::get(id).map_err(|e| tenant_error(request, e))?;
    reply_tenant(request, &tenant)
}

genl_doit!(vdp_rs_tenant_get => read_tenant);

genl_doit!(vdp_rs_sched_get => read_tenant);

// `SCHED_SET` doit callback.
genl_doit!(vdp_rs_sched_set => |request| {
    let id = request.u32_attr(attr::TENANT_ID)?;
    let tasks = request.optional_u32_attr(attr::TASKS_PER_YIELD);
    let threads = request.optional_u32_attr(attr::THREADS);
    let auto = request.optional_u32_attr(attr::TASKS_PER_YIELD_AUTO).map(|v| v != 0);
    let cpus = request.optional_binary_attr(attr::CPU_MASK).map(|mask| cpu_set(request, mask)).transpose()?;
    if tasks.is_none() && threads.is_none() && auto.is_none() && cpus.is_none() {
        request.set_error_message(c"SCHED_SET needs TASKS_PER_YIELD, TASKS_PER_YIELD_AUTO, THREADS or CPU_MASK");
        return Err(EINVAL);
    }
    if tasks.is_some() && auto == Some(true) {
        request.set_attr_error(attr::TASKS_PER_YIELD_AUTO, c"a fixed TASKS_PER_YIELD and TASKS_PER_YIELD_AUTO 1 contradict each other");
        return Err(EINVAL);
    }
    if let Some(cpus) = cpus {
        // Before the rest: a refused mask changes nothing.
        let state = tenant::find(id).map_err(|e| tenant_error(request, e))?;
        state.set_cpus(cpus).map_err(|e| {
            request.set_attr_error(attr::CPU_MASK, c"cannot move the tenant's threads to these CPUs");
            e
        })?;
    }
    if let Some(threads) = threads {
        // First: a refused re-placement then changes nothing at all.
        let state = tenant::find(id).map_err(|e| tenant_error(request, e))?;
        state.set_threads(threads).map_err(|e| {
            match core::str::from_utf8(&e.text) {
                Ok(text) if !text.is_empty() => request.set_error_text(text),
                _ => request.set_attr_error(attr::THREADS, c"cannot re-place the tenant's tasks"),
            }
            e.errno
        })?;
    }
    let tenant = if tasks.is_some() || auto.is_some() {
        tenant::set_tasks_per_yield(id, tasks, auto)
    } else {
        tenant::get(id)
    }
    .map_err(|e| tenant_error(request, e))?;
    reply_tenant(request, &tenant)
});

/// A `CPU_MASK` as the CPUs to pin to: `None` (any CPU) for no bytes, else a set of online
/// CPUs. Anything else is refused with the reason.
fn cpu_set(request: &Request<'_>, mask: &[u8]) -> Result<Option<CpuSet>> {
    if mask.is_empty() {
        return Ok(None);
    }
    let set = CpuSet::from_mask(mask).map_err(|e| {
        request.set_error_text_fmt(format_args!("CPU_MASK: {e}"));
        EINVAL
    })?;
    if let Some(cpu) = set.first_not(crate::sys::thread::cpu_online) {
        request.set_error_text_fmt(format_args!("CPU_MASK: cpu {cpu} is not an online CPU of this machine"));
        return Err(EINVAL);
    }
    Ok(Some(set))
}

fn find_tenant(request: &Request<'_>) -> Result<Arc<TenantState>> {
    let id = request.u32_attr(attr::TENANT_ID)?;
    tenant::find(id).map_err(|e| tenant_error(request, e))
}

fn put_graph_counts(attrs: &mut Attrs<'_>, id: u32, installed: &Installed) -> Result {
    attrs.put_u32(attr::TENANT_ID, id)?;
    attrs.put_u32(attr::ELEMENT_COUNT, u32::try_from(installed.graph.element_count()).unwrap_or(u32::MAX))?;
    attrs.put_u32(attr::TASK_COUNT, u32::try_from(installed.graph.task_count()).unwrap_or(u32::MAX))
}

fn reply_graph(request: &Request<'_>, id: u32, installed: &Installed, with_blob: bool) -> Result {
    let size = if with_blob { installed.blob.len() + 256 } else { 256 };
    let mut reply = request.reply_sized(size)?;
    put_graph_counts(&mut reply.attrs(), id, installed)?;
    if with_blob {
        reply.put_binary(attr::GRAPH, &installed.blob)?;
    }
    reply.send()
}

// `GRAPH_INSTALL` doit callback.
genl_doit!(vdp_rs_graph_install => |request| {
    let tenant = find_tenant(request)?;
    let blob = request.binary_attr(attr::GRAPH)?;
    let id = tenant.id;
    let announce_install = |installed: &Installed| {
        announce(cmd::GRAPH_INSTALL_NTF, EVENT_ROOM, |a| put_graph_counts(a, id, installed));
    };
    let installed = tenant.install(blob, announce_install).map_err(|e| {
        match core::str::from_utf8(&e.text) {
            Ok(text) if !text.is_empty() => request.set_error_text(text),
            _ => request.set_attr_error(attr::GRAPH, c"cannot build the graph"),
        }
        e.errno
    })?;
    reply_graph(request, tenant.id, &installed, false)
});

// `GRAPH_REMOVE` doit callback.
genl_doit!(vdp_rs_graph_remove => |request| {
    let tenant = find_tenant(request)?;
    let id = tenant.id;
    let removed = tenant.remove_graph(|| {
        announce(cmd::GRAPH_REMOVE_NTF, EVENT_ROOM, |a| a.put_u32(attr::TENANT_ID, id));
    });
    if !removed {
        request.set_attr_error(attr::TENANT_ID, c"the tenant has no graph installed");
        return Err(ENOENT);
    }
    Ok(())
});

// `GRAPH_GET` doit callback.
genl_doit!(vdp_rs_graph_get => |request| {
    let tenant = find_tenant(request)?;
    let Some(installed) = tenant.installed() else {
        request.set_attr_error(attr::TENANT_ID, c"the tenant has no graph installed");
        return Err(ENOENT);
    };
    reply_graph(request, tenant.id, &installed, true)
});

/// What an allocation failure for a tenant tells the caller.
const OUT_OF_MEMORY: &str = crate::engine::OUT_OF_MEMORY;

/// Reports a handler refusal with a message naming what went wrong.
fn handler_error(request: &Request<'_>, element: &[u8], err: HandlerError) -> Error {
    match err {
        HandlerError::RootOwned => {
            let mut text = HandlerText::new();
            let name = core::str::from_utf8(element).unwrap_or("?");
            let _ = core::fmt::Write::write_fmt(&mut text, format_args!("element '{}' belongs to the root context", name));
            request.set_error_text(core::str::from_utf8(text.as_bytes()).unwrap_or("the element belongs to the root context"));
            EPERM
        }
        HandlerError::NoSuchElement => {
            request.set_attr_error(attr::ELEMENT, c"the tenant's graph has no element of this name");
            ENOENT
        }
        HandlerError::NoSuchHandler => {
            request.set_attr_error(attr::HANDLER, c"the element has no such handler");
            ENOENT
        }
        HandlerError::BadValue(why) | HandlerError::Refused(why) => {
            request.set_error_text(why);
            EINVAL
        }
        HandlerError::NoMemory => {
            request.set_error_text(OUT_OF_MEMORY);
            ENOMEM
        }
    }
}

/// The tenant, its graph, and the element and handler a handler command names.
fn handler_target<'r>(request: &Request<'r>) -> Result<(Arc<TenantState>, Arc<Installed>, &'r [u8], &'r str)> {
    let tenant = find_tenant(request)?;
    let element = request.str_attr(attr::ELEMENT)?;
    let handler = core::str::from_utf8(request.str_attr(attr::HANDLER)?).map_err(|_| {
        request.set_attr_error(attr::HANDLER, c"handler name is not UTF-8");
        EINVAL
    })?;
    let installed = tenant.installed().ok_or_else(|| {
        request.set_attr_error(attr::TENANT_ID, c"the tenant has no graph installed");
        ENOENT
    })?;
    Ok((tenant, installed, element, handler))
}

// `HANDLER_READ` doit callback.
genl_doit!(vdp_rs_handler_read => |request| {
    let (_, installed, element, handler) = handler_target(request)?;
    let mut text = HandlerText::new();
    installed.graph.read_handler(element, handler, &mut text).map_err(|e| handler_error(request, element, e))?;
    if text.overflowed() {
        request.set_error_message(c"handler output too long for one reply");
        return Err(EMSGSIZE);
    }
    let mut reply = request.reply_sized(text.as_bytes().len() + 64)?;
    reply.put_binary(attr::VALUE, text.as_bytes())?;
    reply.send()
});

// `HANDLER_WRITE` doit callback.
genl_doit!(vdp_rs_handler_write => |request| {
    let (tenant, installed, element, handler) = handler_target(request)?;
    let value = request.optional_binary_attr(attr::VALUE).unwrap_or(&[]);
    let value = core::str::from_utf8(value).map_err(|_| {
        request.set_attr_error(attr::VALUE, c"handler value is not UTF-8 text");
        EINVAL
    })?;
    // The coordinator sets AS_TENANT on every write a tenant sends; the root writes without.
    let as_tenant = request.flag(attr::AS_TENANT);
    let graph = &installed.graph;
    // What a write allocates (routes, a resized queue) is the tenant's memory.
    if !graph.is_table(element) {
        return tenant.charged(|| graph.write_handler(element, handler, value, as_tenant)).map_err(|e| handler_error(request, element, e));
    }
    // A routing-table change: applied and announced in order with the tenant's other changes.
    tenant.change_table(|| {
        tenant.charged(|| graph.write_handler(element, handler, value, as_tenant)).map_err(|e| handler_error(request, element, e))?;
        announce(cmd::TABLE_CHANGE_NTF, EVENT_ROOM + value.len(), |a| {
            a.put_u32(attr::TENANT_ID, tenant.id)?;
            a.put_str_bytes(attr::ELEMENT, element)?;
            a.put_str(attr::HANDLER, handler)?;
            a.put_binary(attr::VALUE, value.as_bytes())
        });
        Ok(())
    })
});

// `STATS` dumpit callback.
//
// Position between calls: cursor 0 is the id of the tenant to continue with, cursor 1 the index
// of its next element (0: the tenant has not been started). Tenants are visited in id order, so
// tenants created or deleted between calls neither repeat nor shift the others; a graph replaced
// between two calls of one tenant's dump continues at the same index of the new graph.
genl_dumpit!(vdp_rs_stats_dumpit => stats_dump);

/// Fills one skb of the STATS dump; returns its length (0 ends the dump).
fn stats_dump(dump: &mut Dump<'_>) -> Result<u32> {
    let only = dump.u32_attr(attr::TENANT_ID);
    // Cursor 0 may be one past u32::MAX (after tenant u32::MAX): nothing is left to dump.
    let Ok(from) = u32::try_from(dump.cursor(0)) else { return Ok(0) };
    let resume = usize::try_from(dump.cursor(1)).unwrap_or(0);
    let tenants = tenant::snapshot(from, only).map_err(|_| ENOMEM)?;
    if only.is_some() && tenants.is_empty() && from == 0 {
        // Tenant ids start at 1, so cursor 0 still at 0 means this is the dump's first call.
        dump.set_attr_error(attr::TENANT_ID, c"no tenant with this id");
        return Err(ENOENT);
    }
    for (view, state) in tenants.iter() {
        // Resume inside the tenant the last call stopped in, unless it has gone since.
        let start = if view.id == from { resume } else { 0 };
        let (next, all) = put_tenant_stats(dump, view, state, start);
        if all {
            dump.set_cursor(0, i64::from(view.id) + 1);
            dump.set_cursor(1, 0);
            continue;
        }
        if next == start && dump.len() == 0 {
            // Not even a fresh skb holds this tenant's first message.
            return Err(EMSGSIZE);
        }
        dump.set_cursor(0, i64::from(view.id));
        dump.set_cursor(1, i64::try_from(next).unwrap_or(0));
        break;
    }
    Ok(dump.len())
}

/// The tenant's CPU limit and how its threads were held to it.
fn put_cpu(attrs: &mut Attrs<'_>, state: &TenantState) -> Result {
    let cpu = state.cpu();
    if cpu.quota_ns != crate::portable::cpu_budget::UNLIMITED {
        attrs.put_u64(attr::CPU_QUOTA_US, cpu.quota_ns / 1000)?;
    }
    attrs.put_u64(attr::CPU_PERIOD_US, cpu.period_ns / 1000)?;
    attrs.put_u64(attr::CPU_RUNTIME_NS, cpu.stats.runtime_ns)?;
    attrs.put_u64(attr::CPU_PERIODS, cpu.stats.periods)?;
    attrs.put_u64(attr::CPU_THROTTLED_PERIODS, cpu.stats.throttled_periods)?;
    attrs.put_u64(attr::CPU_THROTTLED_NS, cpu.stats.throttled_ns)
}

/// The tenant's aggregate transmit cap: `TX_RATE` 0 and no `TX_BURST` without one.
fn put_tx_cap(attrs: &mut Attrs<'_>, state: &TenantState) -> Result {
    let (rate, burst) = state.tx_cap().get();
    attrs.put_u64(attr::TX_RATE, rate)?;
    if rate == 0 {
        return Ok(());
    }
    attrs.put_u64(attr::TX_BURST, burst)
}

/// Writes one STATS message for `view` with its elements from `start` on, as many as fit. Returns
/// the index of the first element not written and whether the tenant is complete. A message that
/// would hold no element although some remain is not written at all.
fn put_tenant_stats(dump: &mut Dump<'_>, view: &TenantView, state: &TenantState, start: usize) -> (usize, bool) {
    let installed = state.installed();
    let Some(mut message) = dump.message(cmd::STATS) else { return (start, false) };
    let mut attrs = message.attrs();
    let header = put_tenant(&mut attrs, view)
        .and_then(|()| attrs.put_u64(attr::WAKEUPS, state.wakeups()))
        .and_then(|()| attrs.put_u64(attr::TASK_RUNS, state.task_runs()))
        .and_then(|()| put_cpu(&mut attrs, state))
        .and_then(|()| put_tx_cap(&mut attrs, state))
        .and_then(|()| match &installed {
            Some(installed) => put_graph_counts(&mut attrs, view.id, installed)
                .and_then(|()| attrs.put_u64(attr::DEPTH_DROPS, installed.graph.depth_drops())),
            None => Ok(()),
        });
    if header.is_err() {
        return (start, false);
    }
    let mut next = start;
    if let Some(installed) = &installed {
        while let (Some((name, class, root)), Some(counters)) = (installed.graph.element(next), installed.graph.element_counters(next)) {
            let put = attrs.nest(attr::ELEMENT_STATS, |e| {
                e.put_str_bytes(element_attr::NAME, name)?;
                e.put_str(element_attr::CLASS, class.name)?;
                if root {
                    e.put_binary(element_attr::ROOT, &[])?;
                }
                e.put_u64_padded(element_attr::PACKETS_IN, counters.packets_in, element_attr::PAD)?;
                e.put_u64_padded(element_attr::PACKETS_OUT, counters.packets_out, element_attr::PAD)?;
                e.put_u64_padded(element_attr::DROPS, counters.drops, element_attr::PAD)?;
                if let Some((length, capacity)) = counters.queue {
                    e.put_u64_padded(element_attr::QUEUE_LENGTH, length, element_attr::PAD)?;
                    e.put_u64_padded(element_attr::QUEUE_CAPACITY, capacity, element_attr::PAD)?;
                }
                Ok(())
            });
            if put.is_err() {
                if next == start {
                    return (start, false);
                }
                message.end();
                return (next, false);
            }
            next += 1;
        }
    }
    message.end();
    (next, true)
}
