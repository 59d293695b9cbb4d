//! The `vdp` family's commands. Genetlink has already validated every request against the strict
//! per-command policy in `sys/vdp_genl.c` before these run.

use crate::portable::uapi::{attr, class_attr, valid_tenant_name};
use crate::sys::genl::{Reply, Request};
use crate::engine::handler::{HandlerError, HandlerText};
use crate::tenant::{Installed, TenantError, TenantState, TenantView};
use kernel::sync::Arc;
use crate::{elements, tenant};
use crate::sys::genl::ffi as bindings;
use kernel::prelude::*;

/// Runs a command handler for a genetlink `doit` callback and maps its result to an errno.
fn dispatch(info: *mut bindings::genl_info, handler: fn(&Request<'_>) -> Result) -> c_int {
    // SAFETY: genetlink calls `doit` with the request's `genl_info`, valid for the whole call, and
    // the `Request` does not escape it.
    let Some(request) = (unsafe { Request::from_raw(info) }) else {
        return EINVAL.to_errno();
    };
    match handler(&request) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `GET_INFO` doit callback, named in the family's operation table.
#[no_mangle]
pub(crate) extern "C" fn vdp_rs_get_info(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    dispatch(info, get_info)
}

fn get_info(request: &Request<'_>) -> Result {
    let mut reply = request.reply()?;
    reply.put_str(attr::VERSION, crate::portable::VERSION)?;
    reply.put_u32(attr::TENANT_COUNT, tenant::count())?;
    for class in elements::implemented() {
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

fn reply_tenant(request: &Request<'_>, tenant: &TenantView) -> Result {
    let mut reply = request.reply()?;
    reply.put_u32(attr::TENANT_ID, tenant.id)?;
    reply.put_str(attr::TENANT_NAME, tenant.name())?;
    reply.put_u32(attr::THREAD_PID, tenant.thread_pid)?;
    reply.put_u32(attr::TASKS_PER_YIELD, tenant.tasks_per_yield)?;
    reply.send()
}

/// `TENANT_NEW` doit callback.
#[no_mangle]
pub(crate) extern "C" fn vdp_rs_tenant_new(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    dispatch(info, |request| {
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
        reply_tenant(request, &tenant)
    })
}

/// `TENANT_DEL` doit callback.
#[no_mangle]
pub(crate) extern "C" fn vdp_rs_tenant_del(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    dispatch(info, |request| {
        let id = request.u32_attr(attr::TENANT_ID)?;
        tenant::delete(id).map_err(|e| tenant_error(request, e))
    })
}

/// `TENANT_GET` and `SCHED_GET` doit callback: both read one tenant.
fn read_tenant(request: &Request<'_>) -> Result {
    let id = request.u32_attr(attr::TENANT_ID)?;
    let tenant = tenant::get(id).map_err(|e| tenant_error(request, e))?;
    reply_tenant(request, &tenant)
}

#[no_mangle]
pub(crate) extern "C" fn vdp_rs_tenant_get(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    dispatch(info, read_tenant)
}

#[no_mangle]
pub(crate) extern "C" fn vdp_rs_sched_get(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    dispatch(info, read_tenant)
}

/// `SCHED_SET` doit callback.
#[no_mangle]
pub(crate) extern "C" fn vdp_rs_sched_set(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    dispatch(info, |request| {
        let id = request.u32_attr(attr::TENANT_ID)?;
        let tasks = request.u32_attr(attr::TASKS_PER_YIELD)?;
        let tenant = tenant::set_tasks_per_yield(id, tasks).map_err(|e| tenant_error(request, e))?;
        reply_tenant(request, &tenant)
    })
}

fn find_tenant(request: &Request<'_>) -> Result<Arc<TenantState>> {
    let id = request.u32_attr(attr::TENANT_ID)?;
    tenant::find(id).map_err(|e| tenant_error(request, e))
}

fn reply_graph(request: &Request<'_>, id: u32, installed: &Installed, with_blob: bool) -> Result {
    let size = if with_blob { installed.blob.len() + 256 } else { 256 };
    let mut reply = request.reply_sized(size)?;
    reply.put_u32(attr::TENANT_ID, id)?;
    reply.put_u32(attr::ELEMENT_COUNT, u32::try_from(installed.graph.element_count()).unwrap_or(u32::MAX))?;
    reply.put_u32(attr::TASK_COUNT, u32::try_from(installed.graph.task_count()).unwrap_or(u32::MAX))?;
    if with_blob {
        reply.put_binary(attr::GRAPH, &installed.blob)?;
    }
    reply.send()
}

/// `GRAPH_INSTALL` doit callback.
#[no_mangle]
pub(crate) extern "C" fn vdp_rs_graph_install(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    dispatch(info, |request| {
        let tenant = find_tenant(request)?;
        let blob = request.binary_attr(attr::GRAPH)?;
        let installed = tenant.install(blob).map_err(|e| {
            match core::str::from_utf8(&e.text) {
                Ok(text) if !text.is_empty() => request.set_error_text(text),
                _ => request.set_attr_error(attr::GRAPH, c"cannot build the graph"),
            }
            e.errno
        })?;
        reply_graph(request, tenant.id, &installed, false)
    })
}

/// `GRAPH_REMOVE` doit callback.
#[no_mangle]
pub(crate) extern "C" fn vdp_rs_graph_remove(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    dispatch(info, |request| {
        let tenant = find_tenant(request)?;
        if !tenant.remove_graph() {
            request.set_attr_error(attr::TENANT_ID, c"the tenant has no graph installed");
            return Err(ENOENT);
        }
        Ok(())
    })
}

/// `GRAPH_GET` doit callback.
#[no_mangle]
pub(crate) extern "C" fn vdp_rs_graph_get(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    dispatch(info, |request| {
        let tenant = find_tenant(request)?;
        let Some(installed) = tenant.installed() else {
            request.set_attr_error(attr::TENANT_ID, c"the tenant has no graph installed");
            return Err(ENOENT);
        };
        reply_graph(request, tenant.id, &installed, true)
    })
}

/// Reports a handler refusal with a message naming what went wrong.
fn handler_error(request: &Request<'_>, err: HandlerError) -> Error {
    match err {
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
    }
}

/// The element and handler a handler command names, and the tenant's graph.
fn handler_target<'r>(request: &Request<'r>) -> Result<(Arc<Installed>, &'r [u8], &'r str)> {
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
    Ok((installed, element, handler))
}

/// `HANDLER_READ` doit callback.
#[no_mangle]
pub(crate) extern "C" fn vdp_rs_handler_read(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    dispatch(info, |request| {
        let (installed, element, handler) = handler_target(request)?;
        let mut text = HandlerText::new();
        installed.graph.read_handler(element, handler, &mut text).map_err(|e| handler_error(request, e))?;
        if text.overflowed() {
            request.set_error_message(c"handler output too long for one reply");
            return Err(EMSGSIZE);
        }
        let mut reply = request.reply_sized(text.as_bytes().len() + 64)?;
        reply.put_binary(attr::VALUE, text.as_bytes())?;
        reply.send()
    })
}

/// `HANDLER_WRITE` doit callback.
#[no_mangle]
pub(crate) extern "C" fn vdp_rs_handler_write(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    dispatch(info, |request| {
        let (installed, element, handler) = handler_target(request)?;
        let value = request.optional_binary_attr(attr::VALUE).unwrap_or(&[]);
        let value = core::str::from_utf8(value).map_err(|_| {
            request.set_attr_error(attr::VALUE, c"handler value is not UTF-8 text");
            EINVAL
        })?;
        installed.graph.write_handler(element, handler, value).map_err(|e| handler_error(request, e))
    })
}
