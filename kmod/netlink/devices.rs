//! Port and virtual-device commands: the coordinator sets up tenants' GRE tunnels with these.

use super::tenant_error;
use crate::device::{self, DeviceConfig, DeviceError, Name, VirtualDevice};
use crate::portable::tunnel::{InnerKind, TunnelSpec};
use crate::portable::tx_cap::CapError;
use crate::portable::uapi::{attr, counter_attr, device_attr, CARRIES_ETHERNET, CARRIES_IP};
use crate::portable::wire::ipv4::Address;
use crate::sys::genl::{genl_doit, Attrs, Request};
use crate::tenant;
use kernel::prelude::*;

fn device_error(request: &Request<'_>, error: DeviceError) -> Error {
    let (errno, attr_type, text): (Error, u16, &'static CStr) = match error {
        DeviceError::NoSuchPort => (ENOENT, attr::IFNAME, c"vdp is not attached to this physical device"),
        DeviceError::TooManyPorts => (ENOSPC, attr::IFNAME, c"vdp already attaches max_ports physical devices (a module parameter)"),
        DeviceError::PortInUse => (EALREADY, attr::IFNAME, c"vdp is already attached to this physical device"),
        DeviceError::NoSuchDevice => (ENOENT, attr::VDEV_NAME, c"the tenant has no virtual device of this name"),
        DeviceError::NameTaken => (EEXIST, attr::VDEV_NAME, c"the tenant already has a virtual device of this name"),
        DeviceError::TooManyDevices => (ENOSPC, attr::VDEV_NAME, c"the tenant already has max_tenant_devices virtual devices (a module parameter)"),
        DeviceError::TunnelTaken => (EEXIST, attr::REMOTE, c"another tunnel on this port has the same endpoints, payload and key"),
        DeviceError::TenantGone => (ENOENT, attr::TENANT_ID, c"the tenant is being deleted"),
        DeviceError::InUse => (EBUSY, attr::VDEV_NAME, c"the tenant's graph uses this device: replace or remove the graph first"),
        DeviceError::Kernel(e) if e == ENODEV => (e, attr::IFNAME, c"no network device of this name in the initial namespace"),
        DeviceError::Kernel(e) if e == EBUSY => (e, attr::IFNAME, c"the device already has a receive handler (a bridge, bond or macvlan?)"),
        DeviceError::Kernel(e) if e == EPROTONOSUPPORT => (e, attr::IFNAME, c"not an Ethernet device"),
        DeviceError::Kernel(e) => return e,
    };
    request.set_attr_error(attr_type, text);
    errno
}

fn ifname(request: &Request<'_>, attr_type: u16) -> Result<Name> {
    let text = request.str_attr(attr_type)?;
    Name::new(text).ok_or_else(|| {
        request.set_attr_error(attr_type, c"a device name is 1 to 15 printable characters without '/' or ':'");
        EINVAL
    })
}

// `PORT_ATTACH` doit callback.
genl_doit!(vdp_rs_port_attach => |request| {
    let name = ifname(request, attr::IFNAME)?;
    device::attach(name.as_bytes()).map_err(|e| device_error(request, e))
});

// `PORT_DETACH` doit callback.
genl_doit!(vdp_rs_port_detach => |request| {
    let name = ifname(request, attr::IFNAME)?;
    device::detach(name.as_bytes()).map_err(|e| device_error(request, e))
});

fn put_counter(attrs: &mut Attrs<'_>, prefix: &str, name: &str, value: u64) -> Result {
    attrs.nest(device_attr::COUNTER, |c| {
        let mut full = crate::engine::handler::HandlerText::new();
        core::fmt::Write::write_fmt(&mut full, format_args!("{prefix}{name}")).map_err(|_| EMSGSIZE)?;
        c.put_str_bytes(counter_attr::NAME, full.as_bytes())?;
        c.put_u64_padded(counter_attr::VALUE, value, counter_attr::PAD)
    })
}

// `PORT_GET` doit callback.
genl_doit!(vdp_rs_port_get => |request| {
    let ports = device::ports()?;
    let mut reply = request.reply_sized(512 + ports.len() * 1024)?;
    for port in ports.iter() {
        reply.nest(attr::PORT, |p| {
            p.put_str_bytes(device_attr::IFNAME, port.name())?;
            p.put_u8(device_attr::ATTACHED, u8::from(port.attached()))?;
            for (name, value) in port.counters() {
                put_counter(p, "rx_", name, value)?;
            }
            Ok(())
        })?;
    }
    reply.send()
});

fn address(request: &Request<'_>, attr_type: u16) -> Result<Address> {
    request.require(attr_type)?;
    let value = request.optional_u32_attr(attr_type).ok_or(EINVAL)?;
    // The attribute is big-endian on the wire: its bytes in memory are the address's.
    let address = Address(value.to_ne_bytes());
    if address.is_unspecified() || address.is_broadcast() || address.is_multicast() {
        request.set_attr_error(attr_type, c"a tunnel endpoint must be a unicast IPv4 address");
        return Err(EINVAL);
    }
    Ok(address)
}

fn mac(request: &Request<'_>, attr_type: u16) -> Option<[u8; 6]> {
    request.optional_binary_attr(attr_type)?.try_into().ok()
}

/// A stable, locally administered address for a device the coordinator gave none.
fn derived_mac(tenant: u32, name: &Name) -> [u8; 6] {
    let hash = name.as_bytes().iter().fold(0u8, |h, b| h.rotate_left(3) ^ b);
    let id = tenant.to_be_bytes();
    [0x02, 0x76, id[1], id[2], id[3], hash]
}

// `VDEV_NEW` doit callback.
genl_doit!(vdp_rs_vdev_new => |request| {
    let id = request.u32_attr(attr::TENANT_ID)?;
    let state = tenant::find(id).map_err(|e| tenant_error(request, e))?;
    let name = ifname(request, attr::VDEV_NAME)?;
    let port = ifname(request, attr::IFNAME)?;
    let local = address(request, attr::LOCAL)?;
    let remote = address(request, attr::REMOTE)?;
    request.require(attr::CARRIES)?;
    let inner = match request.optional_u8_attr(attr::CARRIES) {
        Some(CARRIES_IP) => InnerKind::Ipv4,
        Some(CARRIES_ETHERNET) => InnerKind::Ethernet,
        _ => return Err(EINVAL),
    };
    request.require(attr::PEER_MAC)?;
    let peer_mac = mac(request, attr::PEER_MAC).ok_or(EINVAL)?;
    let mut spec = TunnelSpec::new(local, remote, request.optional_u32_attr(attr::GRE_KEY), inner);
    if let Some(ttl) = request.optional_u8_attr(attr::TTL) {
        spec.ttl = ttl;
    }
    if let Some(df) = request.optional_u8_attr(attr::DONT_FRAGMENT) {
        spec.dont_fragment = df != 0;
    }
    if let Some(checksum) = request.optional_u8_attr(attr::GRE_CSUM) {
        spec.checksum = checksum != 0;
    }
    if let Some(mtu) = request.optional_u32_attr(attr::MTU) {
        spec.mtu = u16::try_from(mtu).map_err(|_| EINVAL)?;
    }
    let mac = mac(request, attr::MAC).unwrap_or_else(|| derived_mac(id, &name));
    let config = DeviceConfig { name, port, spec, mac, peer_mac };
    let device = device::create(&state, config).map_err(|e| device_error(request, e))?;
    let mut reply = request.reply_sized(2048)?;
    reply.nest(attr::VDEV, |v| put_device(v, &device))?;
    reply.send()
});

// `VDEV_DEL` doit callback.
genl_doit!(vdp_rs_vdev_del => |request| {
    let id = request.u32_attr(attr::TENANT_ID)?;
    tenant::find(id).map_err(|e| tenant_error(request, e))?;
    let name = ifname(request, attr::VDEV_NAME)?;
    device::delete(id, name.as_bytes()).map_err(|e| device_error(request, e))
});

// `VDEV_GET` doit callback.
genl_doit!(vdp_rs_vdev_get => |request| {
    let id = request.u32_attr(attr::TENANT_ID)?;
    tenant::find(id).map_err(|e| tenant_error(request, e))?;
    let only = match request.optional_binary_attr(attr::VDEV_NAME) {
        Some(_) => Some(ifname(request, attr::VDEV_NAME)?),
        None => None,
    };
    let devices = device::devices(Some(id))?;
    let mut chosen = devices.iter().filter(|d| only.is_none_or_name(d)).peekable();
    if only.is_some() && chosen.peek().is_none() {
        return Err(device_error(request, DeviceError::NoSuchDevice));
    }
    let mut reply = request.reply_sized(512 + devices.len() * 2048)?;
    for device in chosen {
        reply.nest(attr::VDEV, |v| put_device(v, device))?;
    }
    reply.send()
});

/// Whether a device matches an optional name filter.
trait NameFilter {
    fn is_none_or_name(&self, device: &VirtualDevice) -> bool;
}

impl NameFilter for Option<Name> {
    fn is_none_or_name(&self, device: &VirtualDevice) -> bool {
        self.as_ref().map_or(true, |name| name.as_bytes() == device.config().name.as_bytes())
    }
}

fn put_device(attrs: &mut Attrs<'_>, device: &VirtualDevice) -> Result {
    let config = device.config();
    let spec = &config.spec;
    attrs.put_str_bytes(device_attr::NAME, config.name.as_bytes())?;
    attrs.put_u32(device_attr::TENANT_ID, device.tenant())?;
    attrs.put_str_bytes(device_attr::IFNAME, config.port.as_bytes())?;
    attrs.put_u8(device_attr::ATTACHED, u8::from(device.port_attached()))?;
    attrs.put_binary(device_attr::LOCAL, &spec.local.0)?;
    attrs.put_binary(device_attr::REMOTE, &spec.remote.0)?;
    if let Some(key) = spec.key {
        attrs.put_u32(device_attr::GRE_KEY, key)?;
    }
    let carries = match spec.inner {
        InnerKind::Ipv4 => CARRIES_IP,
        InnerKind::Ethernet => CARRIES_ETHERNET,
    };
    attrs.put_u8(device_attr::CARRIES, carries)?;
    attrs.put_u8(device_attr::TTL, spec.ttl)?;
    attrs.put_u8(device_attr::DONT_FRAGMENT, u8::from(spec.dont_fragment))?;
    attrs.put_u8(device_attr::GRE_CSUM, u8::from(spec.checksum))?;
    attrs.put_u32(device_attr::MTU, u32::from(spec.mtu))?;
    attrs.put_binary(device_attr::MAC, &config.mac)?;
    attrs.put_binary(device_attr::PEER_MAC, &config.peer_mac)?;
    for (name, value) in device.rx_counters() {
        put_counter(attrs, "rx_", name, value)?;
    }
    for (name, value) in device.tx_counters() {
        put_counter(attrs, "tx_", name, value)?;
    }
    let (rate, burst) = device.tx_cap();
    attrs.put_u64_padded(device_attr::TX_RATE, rate, device_attr::PAD)?;
    attrs.put_u64_padded(device_attr::TX_BURST, burst, device_attr::PAD)
}

// `SHAPE_SET` doit callback: a device's cap (`VDEV_NAME`) or the tenant's aggregate. The policy
// has bounded both numbers; the cap's own check is repeated so that no bad value gets in
// whatever the policy says.
genl_doit!(vdp_rs_shape_set => |request| {
    let id = request.u32_attr(attr::TENANT_ID)?;
    let state = tenant::find(id).map_err(|e| tenant_error(request, e))?;
    request.require(attr::TX_RATE)?;
    let rate = request.optional_u64_attr(attr::TX_RATE).ok_or(EINVAL)?;
    let burst = match request.optional_binary_attr(attr::TX_BURST) {
        Some(_) => Some(request.optional_u64_attr(attr::TX_BURST).ok_or(EINVAL)?),
        None => None,
    };
    let device = match request.optional_binary_attr(attr::VDEV_NAME) {
        Some(_) => {
            let name = ifname(request, attr::VDEV_NAME)?;
            let devices = device::devices(Some(id))?;
            let found = devices.iter().find(|d| d.config().name.as_bytes() == name.as_bytes()).cloned();
            Some((name, found.ok_or_else(|| device_error(request, DeviceError::NoSuchDevice))?))
        }
        None => None,
    };
    let set = match &device {
        Some((_, device)) => device.set_tx_cap(rate, burst),
        None => state.tx_cap().set(rate, burst),
    };
    set.map_err(|e| {
        let (attr_type, text) = match e {
            CapError::RateTooHigh => (attr::TX_RATE, c"a transmit cap is at most 2^40 bytes per second"),
            CapError::BurstOutOfRange => (attr::TX_BURST, c"a transmit cap's burst is 1514 bytes to 1 GiB"),
        };
        request.set_attr_error(attr_type, text);
        EINVAL
    })?;
    let (rate, burst) = match &device {
        Some((_, device)) => device.tx_cap(),
        None => state.tx_cap().get(),
    };
    let mut reply = request.reply_sized(256)?;
    let mut attrs = reply.attrs();
    attrs.put_u32(attr::TENANT_ID, id)?;
    if let Some((name, _)) = &device {
        attrs.put_str_bytes(attr::VDEV_NAME, name.as_bytes())?;
    }
    attrs.put_u64(attr::TX_RATE, rate)?;
    // No burst without a cap: TX_BURST's range is that of a real one.
    if rate != 0 {
        attrs.put_u64(attr::TX_BURST, burst)?;
    }
    reply.send()
});
