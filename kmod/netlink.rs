//! The `vdp` family's commands. Genetlink has already validated every request against the strict
//! per-command policy in `sys/vdp_genl.c` before these run.

use crate::portable::uapi::{attr, class_attr, valid_tenant_name};
use crate::sys::genl::{Reply, Request};
use crate::tenant::{TenantError, TenantView};
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
    for class in elements::IMPLEMENTED {
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
                c"tenant name must be 1 to 11 characters from [a-z0-9_-]",
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
