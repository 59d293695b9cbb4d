//! The `vdp` family's commands. Genetlink has already validated every request against the strict
//! per-command policy in `sys/vdp_genl.c` before these run.

use crate::portable::uapi::{attr, class_attr};
use crate::sys::genl::{Reply, Request};
use crate::{elements, tenant};
use kernel::bindings;
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
pub extern "C" fn vdp_rs_get_info(
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
