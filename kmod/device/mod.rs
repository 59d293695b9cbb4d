//! Tenants' virtual devices: GRE tunnels multiplexed over shared physical devices ("ports").
//!
//! The coordinator attaches ports and creates each tenant's virtual devices from the system
//! config; a tenant graph's `FromDevice(eth1)`/`ToDevice(eth1)` then bind to that tenant's device
//! `eth1` when the graph is built, so a graph can only ever reach its own tenant's tunnels.
//!
//! Ingress runs in the port's rx_handler (softirq): the packet logic of `portable::tunnel`
//! decides, the packet is decapsulated and queued on the device's
//! [`RxQueue`](crate::sys::netdev::RxQueue), and the tenant's doorbell wakes its thread, where
//! `FromDevice` pushes it into the graph. All the tenant's processing is therefore done, and
//! billed, on its own thread. Egress runs on the tenant thread too: `ToDevice`'s frame passes the
//! operator's transmit caps (the device's and the tenant's), is encapsulated and handed to the
//! physical device.
//!
//! The registry is a global mutex-protected list touched only by control-plane commands; the
//! data path sees only the immutable per-port [`Table`], replaced whole under RCU.
//!
//! # Files
//!
//! - `registry.rs`: the global list of ports and devices (`DEVICES`) and the commands that
//!   change it: attach and detach a port, create and delete a device, remove a deleted tenant's
//!   devices, list them; [`Binding`], a graph element's hold on a device; publishing a port's
//!   receive table.
//! - `types.rs`: what the registry holds: [`Name`], `Port`, [`DeviceConfig`],
//!   [`VirtualDevice`], with their plain accessors.
//! - `receive.rs`: ingress: the per-port [`Table`] the rx_handler looks packets up in, GRE
//!   decapsulation onto the device's receive queue and the doorbell ring, and
//!   [`VirtualDevice::receive_batch`] (a burst at once) and [`VirtualDevice::receive`] for
//!   `FromDevice`.
//! - `transmit.rs`: egress: [`VirtualDevice::transmit`], the caps, encapsulation and the
//!   hand-off to the port's physical device.
//! - `shaping.rs`: the operator's transmit caps, a device's own and its tenant's aggregate
//!   ([`TenantTxCap`]), which the transmit path applies before it encapsulates.
//! - `counters.rs`: the per-port and per-device counters and our own drop reasons: counting,
//!   the readings reported to handlers and netlink, and resetting.
//!
//! # Lock order
//!
//! Outermost first; a lock may only be taken while holding locks above it in this list.
//!
//! 1. A tenant's `changing` mutex (`kmod/tenant/`): held across `Graph::build`, which calls
//!    [`bind`] and so takes `DEVICES`. It is the only lock of ours held when `DEVICES` is taken;
//!    netlink commands call in holding none.
//! 2. `DEVICES` (a global `Mutex<Registry>` in sys/globals.rs, used by registry.rs): control plane only. Held while it
//!    takes RTNL (`RawPort::attach`, `detach` and `publish` in `kmod/sys/netdev.rs`) and waits
//!    for RCU grace periods (`detach` and `publish`), so nothing on the data path (the
//!    rx_handler, a tenant thread's transmit) may take it, and none does. Under it the registry reads a tenant's `closed`
//!    flag and clones its doorbell, both lock-free; it never takes a tenant lock.
//! 3. RTNL (taken in `kmod/sys/vdp_netdev.c`): innermost of the sleeping locks, often followed
//!    by a grace period (`synchronize_net`). Taken under `DEVICES`, or wherever the last
//!    reference to a port the registry has forgotten goes: its `RawPort` detaches and clears its
//!    table on drop. A graph's [`Binding`] can hold that last reference once [`remove_tenant`]
//!    took the device out regardless of its users, so dropping such a graph takes RTNL under
//!    whatever the dropper holds: nothing, or the tenant's `changing` (a graph removal still
//!    running on a deleted tenant). Nothing here is taken under RTNL: the unregister notifier
//!    only walks the C side's port list.
//! 4. A device's receive-queue lock (the `sk_buff_head` spinlock in `vdp_netdev.c`, irq-safe):
//!    held by `RxQueue`'s push (softirq, once a packet) and take (tenant thread, once a burst:
//!    `FromDevice` takes up to its BURST packets off the queue under one hold) with nothing taken
//!    inside. The receive path rings the tenant's doorbell (an atomic count, and the wait-queue
//!    lock, innermost, only when a thread sleeps) only after it has let go of the queue.
//! 5. A device's `tx_cap`, then its tenant's `TenantTxCap` (`shaping.rs`, spinlocks): taken by
//!    the transmit path on tenant threads (process context) and by `SHAPE_SET` and the
//!    readings of `VDEV_GET` and `STATS`, each for a few instructions, the device's before the
//!    tenant's and nothing inside either. The data path takes no other lock.
//!
//! Lock-free protocols:
//!
//! - Each port's [`Table`] is published with `rcu_assign_pointer` under RTNL and read by the
//!   rx_handler inside the RCU read section `netif_receive_skb` holds; the old table is freed
//!   only after `synchronize_net`. A table never changes once published, so the receive path
//!   takes no lock but the queue's and the doorbell's.
//! - A device's `users` (atomic) is raised by [`bind`] and checked by [`delete`] only under
//!   `DEVICES`, and lowered by [`Binding`]'s drop anywhere: a device `delete` finds unused
//!   cannot gain a user before it is gone from the registry.
//! - A tenant's `closed` flag is set (under its `changing`) before its deleter calls
//!   [`remove_tenant`], which takes `DEVICES`; [`create`] reads it under `DEVICES`, so a device
//!   created for a closing tenant is one `remove_tenant` removes.
//! - Counters and the outer IPv4 identification are `Relaxed` atomics, bumped on the receive
//!   path (softirq, several CPUs at once) and the transmit path (tenant threads). Readings are
//!   not a consistent snapshot, and a count that races with [`VirtualDevice::reset_counters`]
//!   may survive it.
//!
//! Never held together: `DEVICES` and any tenant lock other than `changing`; the receive-queue
//! lock and anything else. The data path holds no mutex.

mod counters;
mod receive;
mod registry;
mod shaping;
mod transmit;
mod types;

pub(crate) use receive::Table;
pub(crate) use registry::{attach, bind, create, delete, detach, devices, ports, remove_tenant, shutdown, Binding, DeviceError, Registry};
pub(crate) use shaping::TenantTxCap;
pub(crate) use types::{DeviceConfig, Name, VirtualDevice};

/// Longest device name, as Linux bounds interface names (IFNAMSIZ - 1).
pub(crate) const DEVICE_NAME_MAX: usize = 15;

const ETHER_HEADER_LEN: usize = 14;
const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];
