//! The `vdp` generic netlink family: names and numbers shared by the module and `vdpctl`.
//!
//! `docs/netlink.md` describes the protocol; `kmod/sys/vdp_genl.h` repeats these numbers for the
//! C policy tables, and a userspace test checks that the two agree.

/// Generic netlink family name.
pub const FAMILY_NAME: &str = "vdp";
/// Family version carried in every `genlmsghdr`.
pub const FAMILY_VERSION: u8 = 1;

/// Commands (`genlmsghdr.cmd`).
pub mod cmd {
    /// Read the module version, the element classes it implements and the tenant count.
    pub const GET_INFO: u8 = 1;
    /// Create a tenant: `TENANT_ID`, `TENANT_NAME`. Replies like `TENANT_GET`.
    pub const TENANT_NEW: u8 = 2;
    /// Delete a tenant and stop its threads: `TENANT_ID`.
    pub const TENANT_DEL: u8 = 3;
    /// Read one tenant: `TENANT_ID`. Replies `TENANT_ID`, `TENANT_NAME`, one `THREAD_PID` per
    /// thread (thread 0 first), `TASKS_PER_YIELD`.
    pub const TENANT_GET: u8 = 4;
    /// Set a tenant's scheduling parameters: `TENANT_ID` and at least one of
    /// `TASKS_PER_YIELD`, `THREADS`.
    pub const SCHED_SET: u8 = 5;
    /// Read a tenant's scheduling parameters: `TENANT_ID`.
    pub const SCHED_GET: u8 = 6;
    /// Install a tenant's compiled graph, or replace the one it runs: `TENANT_ID`, `GRAPH`.
    /// Replies like `GRAPH_GET` without the blob.
    pub const GRAPH_INSTALL: u8 = 7;
    /// Remove a tenant's graph: `TENANT_ID`.
    pub const GRAPH_REMOVE: u8 = 8;
    /// Read a tenant's graph back: `TENANT_ID`. Replies `TENANT_ID`, `GRAPH`, `ELEMENT_COUNT`,
    /// `TASK_COUNT`.
    pub const GRAPH_GET: u8 = 9;
    /// Read a handler of one of the tenant's elements: `TENANT_ID`, `ELEMENT`, `HANDLER`.
    /// Replies `VALUE`.
    pub const HANDLER_READ: u8 = 10;
    /// Write a handler: `TENANT_ID`, `ELEMENT`, `HANDLER`, optional `VALUE`.
    pub const HANDLER_WRITE: u8 = 11;
    /// Dump (only): per tenant, optionally just `TENANT_ID`, one or more messages with
    /// `TENANT_ID`, `TENANT_NAME`, `THREAD_PID`, `TASKS_PER_YIELD`, `WAKEUPS`, `TASK_RUNS` and,
    /// with a graph, `ELEMENT_COUNT`, `TASK_COUNT` and one `ELEMENT_STATS` per element. A tenant
    /// whose elements do not fit one message continues in the next with the same header.
    pub const STATS: u8 = 12;
    /// Notification on [`super::MCGRP_EVENTS`]: a tenant was created. Attributes as `TENANT_GET`.
    pub const TENANT_NEW_NTF: u8 = 13;
    /// Notification: a tenant was deleted. `TENANT_ID`, `TENANT_NAME`.
    pub const TENANT_DEL_NTF: u8 = 14;
    /// Notification: a graph was installed or replaced. `TENANT_ID`, `ELEMENT_COUNT`,
    /// `TASK_COUNT`.
    pub const GRAPH_INSTALL_NTF: u8 = 15;
    /// Notification: a tenant's graph was removed (also when the tenant was deleted). `TENANT_ID`.
    pub const GRAPH_REMOVE_NTF: u8 = 16;
    /// Notification: a handler write changed a routing table. `TENANT_ID`, `ELEMENT`, `HANDLER`,
    /// `VALUE`: replaying it on a replica of the table brings that replica in step.
    pub const TABLE_CHANGE_NTF: u8 = 17;

    // Tenants' virtual devices: GRE tunnels over shared physical devices (ports).

    /// Hook vdp onto a physical device: `IFNAME`. Its GRE packets for configured tunnels are
    /// claimed from then on; everything else still goes to the host.
    pub const PORT_ATTACH: u8 = 18;
    /// Let go of a physical device: `IFNAME`. Its tunnels stay configured.
    pub const PORT_DETACH: u8 = 19;
    /// Read every port: replies one `PORT` nest per port.
    pub const PORT_GET: u8 = 20;
    /// Create a tenant's virtual device: `TENANT_ID`, `VDEV_NAME`, `IFNAME`, `LOCAL`, `REMOTE`,
    /// `CARRIES`, `PEER_MAC`, optional `GRE_KEY`, `TTL`, `DONT_FRAGMENT`, `GRE_CSUM`, `MTU`,
    /// `MAC`. Replies like `VDEV_GET`.
    pub const VDEV_NEW: u8 = 21;
    /// Delete a tenant's virtual device that no graph uses: `TENANT_ID`, `VDEV_NAME`.
    pub const VDEV_DEL: u8 = 22;
    /// Read a tenant's devices (optionally just `VDEV_NAME`): one `VDEV` nest per device.
    pub const VDEV_GET: u8 = 23;
    /// Set a transmit cap (root only): `TENANT_ID`, `TX_RATE`, optional `TX_BURST`, and
    /// `VDEV_NAME` for that device's own cap; without it, the tenant's aggregate over all its
    /// devices. Replies `TX_RATE` and `TX_BURST` as set.
    pub const SHAPE_SET: u8 = 24;
}

/// Name of the multicast group carrying the `*_NTF` notifications. Joining it needs
/// CAP_NET_ADMIN.
pub const MCGRP_EVENTS: &str = "events";

/// Top-level attributes.
pub mod attr {
    /// Module version, NUL-terminated string (reply only).
    pub const VERSION: u16 = 1;
    /// Number of tenants, u32 (reply only).
    pub const TENANT_COUNT: u16 = 2;
    /// One implemented element class, nested [`class_attr`] (reply only, repeated).
    pub const CLASS: u16 = 3;
    /// Tenant id, u32, at least 1.
    pub const TENANT_ID: u16 = 4;
    /// Tenant name, NUL-terminated string; see [`super::valid_tenant_name`].
    pub const TENANT_NAME: u16 = 5;
    /// PID of one of the tenant's kernel threads, u32 (reply only); repeated, one per thread,
    /// thread 0 first.
    pub const THREAD_PID: u16 = 6;
    /// Tasks a tenant thread runs before it yields the CPU, u32 in
    /// 1..=[`super::TASKS_PER_YIELD_MAX`].
    pub const TASKS_PER_YIELD: u16 = 7;
    /// A compiled graph (`docs/compiled-graph.md`), binary.
    pub const GRAPH: u16 = 8;
    /// Element name, NUL-terminated string.
    pub const ELEMENT: u16 = 9;
    /// Handler name, NUL-terminated string.
    pub const HANDLER: u16 = 10;
    /// Handler value, binary text (no terminating NUL needed).
    pub const VALUE: u16 = 11;
    /// Elements in the tenant's graph, u32 (reply only).
    pub const ELEMENT_COUNT: u16 = 12;
    /// Tasks in the tenant's graph, u32 (reply only).
    pub const TASK_COUNT: u16 = 13;
    /// Padding for 64-bit attributes (never carries data).
    pub const PAD: u16 = 14;
    /// Times the tenant's thread woke from sleep to run tasks, u64 (reply only).
    pub const WAKEUPS: u16 = 15;
    /// Task runs on the tenant's thread since it started, u64 (reply only).
    pub const TASK_RUNS: u16 = 16;
    /// One element of the tenant's graph, nested [`element_attr`] (reply only, repeated).
    pub const ELEMENT_STATS: u16 = 17;
    /// Physical device name, NUL-terminated string (at most 15 bytes).
    pub const IFNAME: u16 = 18;
    /// Virtual device name within its tenant, NUL-terminated string (at most 15 bytes).
    pub const VDEV_NAME: u16 = 19;
    /// Tunnel's local (outer source) IPv4 address, big-endian u32.
    pub const LOCAL: u16 = 20;
    /// Tunnel's remote (outer destination) IPv4 address, big-endian u32.
    pub const REMOTE: u16 = 21;
    /// GRE key, u32; absent for a keyless tunnel.
    pub const GRE_KEY: u16 = 22;
    /// What the tunnel carries, u8: [`super::CARRIES_IP`] or [`super::CARRIES_ETHERNET`].
    pub const CARRIES: u16 = 23;
    /// Outer TTL, u8 1–255 (default 64).
    pub const TTL: u16 = 24;
    /// Set DF on outer headers, u8 0 or 1 (default 1).
    pub const DONT_FRAGMENT: u16 = 25;
    /// Send GRE checksums, u8 0 or 1 (default 0). Received checksums are always verified.
    pub const GRE_CSUM: u16 = 26;
    /// Largest outer IPv4 packet, u32 in [`super::TUNNEL_MTU_MIN`]..=65535 (default 1500).
    pub const MTU: u16 = 27;
    /// The virtual device's own Ethernet address, 6 bytes: the destination of frames an IP
    /// tunnel delivers (derived from tenant and device when absent).
    pub const MAC: u16 = 28;
    /// Ethernet address of the next hop towards the remote end, 6 bytes.
    pub const PEER_MAC: u16 = 29;
    /// One port, nested [`device_attr`] (reply only, repeated).
    pub const PORT: u16 = 30;
    /// One virtual device, nested [`device_attr`] (reply only, repeated).
    pub const VDEV: u16 = 31;

    // --- CPU scheduling and shares (issues 4 and 7): numbers 40 to 49 ---
    /// Threads the tenant spreads its unpinned tasks over, u32 in
    /// 1..=[`super::TENANT_THREADS_MAX`]; the tenant runs max(this, highest pinned thread + 1).
    pub const THREADS: u16 = 40;
    /// The tenant cgroup's `cpu.max` quota per period in µs, u64 (STATS only; absent when the
    /// cgroup has no limit). The tenant's threads are held to it by the module.
    pub const CPU_QUOTA_US: u16 = 41;
    /// The `cpu.max` period in µs, u64 (STATS only).
    pub const CPU_PERIOD_US: u16 = 42;
    /// CPU time the tenant's threads ran, in ns, u64 (STATS only).
    pub const CPU_RUNTIME_NS: u16 = 43;
    /// Limited periods in which the tenant's threads ran, u64 (STATS only).
    pub const CPU_PERIODS: u16 = 44;
    /// Of those, periods in which a thread was stopped for the budget, u64 (STATS only).
    pub const CPU_THROTTLED_PERIODS: u16 = 45;
    /// Time the tenant's threads spent stopped for the budget, in ns, summed over threads, u64
    /// (STATS only).
    pub const CPU_THROTTLED_NS: u16 = 46;
    /// Whether the tenant's passes are sized by time instead of by `TASKS_PER_YIELD`, u32 0 or 1
    /// (1 for a new tenant). Setting `TASKS_PER_YIELD` turns it off; see
    /// [`super::AUTO_PASS_NS`].
    pub const TASKS_PER_YIELD_AUTO: u16 = 47;
    /// The CPUs the tenant's threads may run on, binary: a bitmap in little-endian u64 words
    /// (`kmod/core/cpu_set.rs`), at most [`super::CPU_MASK_MAX_BYTES`]. On `SCHED_SET`, no
    /// bytes lets the threads run on any CPU; every CPU named must be online. In tenant replies
    /// only when the threads are pinned.
    pub const CPU_MASK: u16 = 48;

    // --- Safety (the kernel trusts no blob, tenants cannot rewrite root limits): 50 to 59 ---
    /// Flag on `HANDLER_WRITE`: the request acts for the tenant (the coordinator sets it on
    /// every request a tenant sends), so a write to an element the root context owns is refused
    /// with `EPERM`. Without it the write acts for the root context.
    pub const AS_TENANT: u16 = 50;
    /// Pushes dropped and pulls refused because a call chain reached the kernel's call-depth
    /// bound, since the graph was installed, u64 (STATS only).
    pub const DEPTH_DROPS: u16 = 51;
    /// A transmit cap in bytes per second, u64 (`SHAPE_SET`; the tenant's aggregate in STATS
    /// and `SHAPE_SET`'s reply): 0 for none, at most [`crate::tx_cap::RATE_MAX`].
    pub const TX_RATE: u16 = 52;
    /// A transmit cap's burst in bytes, u64, [`crate::tx_cap::BURST_MIN`] to
    /// [`crate::tx_cap::BURST_MAX`]; absent on `SHAPE_SET`: 100 ms of the rate.
    pub const TX_BURST: u16 = 53;

    /// Highest top-level attribute number.
    pub const MAX: u16 = 53;
}

/// `CARRIES` values.
pub const CARRIES_IP: u8 = 1;
pub const CARRIES_ETHERNET: u8 = 2;
/// Smallest tunnel MTU: an outer IPv4 header, the largest GRE header and a minimal inner one.
pub const TUNNEL_MTU_MIN: u32 = 68;

/// Attributes nested inside [`attr::PORT`] and [`attr::VDEV`].
pub mod device_attr {
    /// Virtual device name (VDEV only), NUL-terminated string.
    pub const NAME: u16 = 1;
    /// Physical device name, NUL-terminated string.
    pub const IFNAME: u16 = 2;
    /// Whether the port is attached to its device, u8.
    pub const ATTACHED: u16 = 3;
    /// Owning tenant, u32 (VDEV only).
    pub const TENANT_ID: u16 = 4;
    pub const LOCAL: u16 = 5;
    pub const REMOTE: u16 = 6;
    pub const GRE_KEY: u16 = 7;
    pub const CARRIES: u16 = 8;
    pub const TTL: u16 = 9;
    pub const DONT_FRAGMENT: u16 = 10;
    pub const GRE_CSUM: u16 = 11;
    pub const MTU: u16 = 12;
    pub const MAC: u16 = 13;
    pub const PEER_MAC: u16 = 14;
    /// One counter, nested [`counter_attr`] (repeated): rx_/tx_ packets, bytes and drops by
    /// reason for a device, drops by reason for a port.
    pub const COUNTER: u16 = 15;
    /// The device's own transmit cap, bytes per second, u64 (VDEV only; 0: none).
    pub const TX_RATE: u16 = 16;
    /// Its burst in bytes, u64 (VDEV only; 0: no cap).
    pub const TX_BURST: u16 = 17;
    /// Pads the u64s of the nest.
    pub const PAD: u16 = 18;
    /// Highest attribute number in the nest.
    pub const MAX: u16 = 18;
}

/// Attributes nested inside [`device_attr::COUNTER`].
pub mod counter_attr {
    /// Counter name, NUL-terminated string.
    pub const NAME: u16 = 1;
    /// Counter value, u64.
    pub const VALUE: u16 = 2;
    /// Padding for the 64-bit value.
    pub const PAD: u16 = 3;
    pub const MAX: u16 = 3;
}

/// Attributes nested inside [`attr::ELEMENT_STATS`].
pub mod element_attr {
    /// Element name, NUL-terminated string.
    pub const NAME: u16 = 1;
    /// Class name, NUL-terminated string.
    pub const CLASS: u16 = 2;
    /// Flag: the root context owns the element (the coordinator added it); the tenant may read
    /// its handlers, not write them.
    pub const ROOT: u16 = 3;
    /// u64: packets that entered the element, pushed into an input or returned to its pull.
    pub const PACKETS_IN: u16 = 4;
    /// u64: packets the element passed on, pushed out of an output or returned to a pull.
    pub const PACKETS_OUT: u16 = 5;
    /// u64: packets the element discarded, and pushes of its the graph could not deliver.
    pub const DROPS: u16 = 6;
    /// u64, only for an element that holds packets (Queue): the packets it holds now.
    pub const QUEUE_LENGTH: u16 = 7;
    /// u64, with [`QUEUE_LENGTH`]: how many packets it can hold.
    pub const QUEUE_CAPACITY: u16 = 8;
    /// Padding for the 64-bit values.
    pub const PAD: u16 = 9;
    /// Highest attribute number in the nest.
    pub const MAX: u16 = 9;
}

/// Largest compiled graph one `GRAPH_INSTALL` carries (a netlink attribute holds under 64 KiB).
pub const GRAPH_MAX_BYTES: usize = 65000;
/// Longest element name.
pub const ELEMENT_NAME_MAX: usize = 255;
/// Longest handler name.
pub const HANDLER_NAME_MAX: usize = 63;
/// Longest handler value, either way.
pub const HANDLER_VALUE_MAX: usize = 60 * 1024;

/// Longest tenant name: its thread is named `vdp-NAME`, and thread names hold 15 bytes.
pub const TENANT_NAME_MAX: usize = 11;
/// Most tenants one module holds.
pub const TENANTS_MAX: u32 = 1024;
/// Largest `TASKS_PER_YIELD`.
pub const TASKS_PER_YIELD_MAX: u32 = 4096;
/// Largest `THREADS`: threads one tenant may run.
pub const TENANT_THREADS_MAX: u32 = 8;
/// CPU numbers a `CPU_MASK` may name: 0 to this − 1.
pub const CPU_SET_MAX: u32 = 1024;
/// Longest `CPU_MASK`: [`CPU_SET_MAX`] bits.
pub const CPU_MASK_MAX_BYTES: usize = (CPU_SET_MAX / 8) as usize;
/// With `TASKS_PER_YIELD_AUTO`, a pass runs tasks until this much wall-clock time has gone by
/// (or [`TASKS_PER_YIELD_MAX`] tasks have run): cheap tasks get long passes and little per-pass
/// overhead, expensive ones short passes and a bounded time between yields, without tuning.
pub const AUTO_PASS_NS: u64 = 2_000_000;
/// `TASKS_PER_YIELD` of a new tenant (Click's kernel driver runs about 128 tasks per pass).
pub const TASKS_PER_YIELD_DEFAULT: u32 = 128;

/// Whether `name` is an acceptable tenant name: 1 to [`TENANT_NAME_MAX`] characters, a lower-case
/// letter then lower-case letters, digits or `_`. The name prefixes the tenant's element names in
/// the merged Click graph and names its kernel thread, so it must be a plain Click word that fits
/// a thread name.
pub fn valid_tenant_name(name: &[u8]) -> bool {
    match name.split_first() {
        Some((first, rest)) => {
            name.len() <= TENANT_NAME_MAX
                && first.is_ascii_lowercase()
                && rest.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
        }
        None => false,
    }
}

/// Attributes nested inside [`attr::CLASS`].
pub mod class_attr {
    /// Class id, u32: the index the compiled graph format uses.
    pub const ID: u16 = 1;
    /// Class name as written in Click configurations, NUL-terminated string.
    pub const NAME: u16 = 2;
    /// Highest attribute number in the nest.
    pub const MAX: u16 = 2;
}

/// The tenant channel device, `/dev/vdp` (a misc character device, mode 0600): see
/// `docs/channel.md`. The coordinator opens it, binds the file to a tenant with
/// [`channel::BIND`], and hands the file to the tenant's container engine, which maps the rings
/// and kicks with [`channel::KICK`].
pub mod channel {
    /// The device node's path.
    pub const DEVICE_PATH: &str = "/dev/vdp";
    /// The ioctl type letter.
    pub const IOCTL_TYPE: u8 = b'V';

    /// Linux's `_IOC(dir, type, nr, size)` on x86-64 and arm64 (direction in the top two bits,
    /// size in the 14 bits below them).
    const fn ioc(dir: u32, nr: u8, size: usize) -> u32 {
        (dir << 30) | ((size as u32) << 16) | ((IOCTL_TYPE as u32) << 8) | nr as u32
    }

    /// `struct vdp_channel_bind`: four native-endian `u32`s.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Bind {
        pub tenant_id: u32,
        /// Rings per direction, 1 to `channel::MAX_RINGS` (`crate::channel`).
        pub rings: u32,
        /// Slots per ring, a power of two from `MIN_SLOTS` to `MAX_SLOTS`.
        pub slots: u32,
        /// Must be 0.
        pub flags: u32,
    }

    /// Bytes of [`Bind`].
    pub const BIND_SIZE: usize = 16;
    const _: () = assert!(core::mem::size_of::<Bind>() == BIND_SIZE);

    impl Bind {
        /// The bytes the ioctl passes (native endian, as the C struct is laid out).
        pub fn to_bytes(self) -> [u8; BIND_SIZE] {
            let mut out = [0u8; BIND_SIZE];
            for (chunk, value) in out.chunks_exact_mut(4).zip([self.tenant_id, self.rings, self.slots, self.flags]) {
                chunk.copy_from_slice(&value.to_ne_bytes());
            }
            out
        }
    }

    /// `VDP_CHANNEL_BIND` = `_IOW('V', 0x01, struct vdp_channel_bind)`: binds the file to a
    /// tenant's channel (CAP_NET_ADMIN; once per file).
    pub const BIND: u32 = ioc(1, 0x01, BIND_SIZE);
    /// `VDP_CHANNEL_KICK` = `_IO('V', 0x02)`: the engine published packets on up rings whose
    /// kernel consumer is waiting; rings the tenant's doorbell.
    pub const KICK: u32 = ioc(0, 0x02, 0);

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn ioctl_numbers_match_linux_macros() {
            // _IOW('V', 1, 16 bytes) and _IO('V', 2) as the C compiler computes them.
            assert_eq!(BIND, 0x4010_5601);
            assert_eq!(KICK, 0x0000_5602);
        }

        #[test]
        fn bind_bytes_are_the_c_layout() {
            let bind = Bind { tenant_id: 1, rings: 2, slots: 64, flags: 0 };
            let bytes = bind.to_bytes();
            assert_eq!(&bytes[0..4], &1u32.to_ne_bytes());
            assert_eq!(&bytes[8..12], &64u32.to_ne_bytes());
        }
    }
}
