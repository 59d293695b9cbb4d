//! Click classes vdp does not implement on purpose, each with the reason. A configuration that
//! names one is refused with that reason instead of a list of similar names: the class is not
//! misspelt, it is left out. `docs/click-frontend.md` lists the same table ("Classes vdp does
//! not support"); a test holds the two together.

use serde::Serialize;

/// Why a group of Click classes is left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// IPsec: encapsulation, authentication, ciphers and security associations.
    Ipsec,
    /// The job belongs to the root context: devices, the host's network stack and firewall,
    /// identities, handler access, installation, thread placement.
    RootContext,
    /// The element would let one tenant's graph hold back CPUs that other tenants share.
    Isolation,
    /// The element exists for a platform or piece of hardware that vdp does not run on or does
    /// not hand to tenants.
    Platform,
}

impl Reason {
    /// The reason in a sentence, for messages and the docs.
    pub fn summary(self) -> &'static str {
        match self {
            Reason::Ipsec => {
                "vdp has no IPsec: a tenant's traffic leaves through the GRE tunnels of the system config, and the kernel data plane holds no keys or ciphers"
            }
            Reason::RootContext => "in vdp this is the root context's job, not a tenant's",
            Reason::Isolation => "it would let one tenant's graph hold back CPUs that other tenants share",
            Reason::Platform => "it is bound to a platform or to hardware that vdp does not run on or does not give to tenants",
        }
    }

    /// The heading of the reason's group in the docs.
    pub fn heading(self) -> &'static str {
        match self {
            Reason::Ipsec => "IPsec",
            Reason::RootContext => "The root context's job",
            Reason::Isolation => "Isolation",
            Reason::Platform => "Other platforms and hardware",
        }
    }
}

/// A Click class vdp leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Unsupported {
    pub class: &'static str,
    pub reason: Reason,
    /// What the class does in Click, and what vdp offers instead where it offers something.
    pub detail: &'static str,
}

const fn entry(class: &'static str, reason: Reason, detail: &'static str) -> Unsupported {
    Unsupported { class, reason, detail }
}

/// Every Click class vdp refuses on purpose, grouped by reason.
pub const UNSUPPORTED: &[Unsupported] = &[
    entry("IPsecESPEncap", Reason::Ipsec, "adds an ESP header and trailer"),
    entry("IPsecESPUnencap", Reason::Ipsec, "removes an ESP header and trailer"),
    entry("IPsecAuthHMACSHA1", Reason::Ipsec, "computes and checks HMAC-SHA1 authentication data"),
    entry("IPsecAuthSHA1", Reason::Ipsec, "computes and checks SHA1 authentication data"),
    entry("IPsecAES", Reason::Ipsec, "encrypts or decrypts ESP payloads with AES"),
    entry("IPsecDES", Reason::Ipsec, "encrypts or decrypts ESP payloads with DES"),
    entry("IPsecEncap", Reason::Ipsec, "adds the outer IP header of an IPsec tunnel"),
    entry("RadixIPsecLookup", Reason::Ipsec, "routes by destination into security associations; RadixIPLookup routes without them"),
    entry("SATable", Reason::Ipsec, "holds the security association table"),
    entry("KernelTun", Reason::RootContext, "creates a tun device on the host; a tenant's devices are the virtual devices its system config entry gives it, which the coordinator creates"),
    entry("KernelTap", Reason::RootContext, "creates a tap device on the host; a tenant's devices are the virtual devices its system config entry gives it, which the coordinator creates"),
    entry("KernelFilter", Reason::RootContext, "installs iptables rules on the host, whose firewall belongs to the root context"),
    entry("FromDPDKDevice", Reason::RootContext, "takes a network card over with DPDK; the physical interfaces belong to the root context, and tenants get GRE virtual devices on them"),
    entry("ToDPDKDevice", Reason::RootContext, "sends on a network card taken over with DPDK; the physical interfaces belong to the root context, and tenants get GRE virtual devices on them"),
    entry("DPDKInfo", Reason::RootContext, "sets up DPDK's buffer pools for the DPDK device elements"),
    entry("EnsureDPDKBuffer", Reason::RootContext, "copies packets into DPDK buffers for the DPDK device elements"),
    entry("ChangeUID", Reason::RootContext, "drops the Click process's privileges; vdp's data plane runs in kernel threads and the tenant's container engine, whose identity and cgroups the root context sets"),
    entry("ControlSocket", Reason::RootContext, "serves the router's handlers on a socket; in vdp handlers are read and written through the coordinator (vdpctl read, write, stats), which checks who asks"),
    entry("KernelHandlerProxy", Reason::RootContext, "reaches a kernel configuration's handlers from user level; in vdp that is the coordinator's part (vdpctl read, write)"),
    entry("DriverManager", Reason::RootContext, "decides when the driver stops; in vdp the coordinator installs and removes a tenant's graph (vdpctl install, remove)"),
    entry("FromUserDevice", Reason::RootContext, "reads packets that user programs write to a character device of the kernel module; vdp's character device is the channel the coordinator binds to a tenant's container engine, whose elements run in the tenant's container"),
    entry("ToUserDevice", Reason::RootContext, "hands packets to user programs through a character device of the kernel module; vdp's character device is the channel the coordinator binds to a tenant's container engine, whose elements run in the tenant's container"),
    entry("BalancedThreadSched", Reason::RootContext, "moves tasks between threads by their load at run time; in vdp the root context sets a tenant's thread count, the kernel places its tasks when the graph is built, and StaticThreadSched pins them"),
    entry("ThreadMonitor", Reason::RootContext, "prints each thread's busy tasks to the system log; vdpctl show lists a tenant's tasks and their threads, and vdpctl stats their runs"),
    entry("ScheduleLinux", Reason::RootContext, "makes a task yield to the Linux scheduler; vdp's tenant threads yield between task runs on their own and are held to the tenant's CPU share"),
    entry("SpinlockInfo", Reason::Isolation, "names spinlocks for SpinlockAcquire, SpinlockRelease and SpinlockPush"),
    entry("SpinlockAcquire", Reason::Isolation, "takes a spinlock that a later SpinlockRelease gives back, held across every element in between"),
    entry("SpinlockRelease", Reason::Isolation, "gives back a spinlock that a SpinlockAcquire took"),
    entry("SpinlockPush", Reason::Isolation, "holds a spinlock while it pushes a packet downstream"),
    entry("FastUDPSource", Reason::Platform, "a benchmark source that hands out one prebuilt socket buffer again and again without copying it; vdp's elements own each packet they handle, and InfiniteSource and RatedSource make traffic"),
    entry("PerfCountInfo", Reason::Platform, "turns on the Pentium Pro's performance counters; the machine's counters are not a tenant's to program"),
    entry("SetPerfCount", Reason::Platform, "stores a Pentium Pro performance counter in each packet; the machine's counters are not a tenant's to program"),
    entry("PerfCountAccum", Reason::Platform, "sums the change of a Pentium Pro performance counter; the machine's counters are not a tenant's to program"),
    entry("FromSimDevice", Reason::Platform, "receives from a device of the ns-3 network simulator"),
    entry("ToSimDevice", Reason::Platform, "sends to a device of the ns-3 network simulator"),
    entry("ToSimTrace", Reason::Platform, "writes to the ns-3 simulator's trace"),
    entry("SimPacketAnalyzer", Reason::Platform, "analyses packets for the ns-3 simulator"),
];

/// The entry for `class`, if vdp leaves it out.
pub fn lookup(class: &str) -> Option<&'static Unsupported> {
    UNSUPPORTED.iter().find(|u| u.class == class)
}

/// The table as the docs list it: a section per reason, a line per class.
pub fn markdown() -> String {
    let mut out = String::new();
    for reason in [Reason::Ipsec, Reason::RootContext, Reason::Isolation, Reason::Platform] {
        out.push_str(&format!("**{}**: {}.\n\n", reason.heading(), reason.summary()));
        for entry in UNSUPPORTED.iter().filter(|u| u.reason == reason) {
            out.push_str(&format!("- `{}`: {}.\n", entry.class, entry.detail));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vdp_core::catalog::Catalog;

    #[test]
    fn no_class_is_both_supported_and_left_out_or_listed_twice() {
        for (index, entry) in UNSUPPORTED.iter().enumerate() {
            assert!(Catalog::LIBRARY.class_by_name(entry.class).is_none(), "{} is in the library", entry.class);
            assert!(UNSUPPORTED[..index].iter().all(|other| other.class != entry.class), "{} is listed twice", entry.class);
            assert!(!entry.detail.ends_with('.'), "{}: the docs add the full stop", entry.class);
        }
        assert_eq!(lookup("SATable").map(|u| u.reason), Some(Reason::Ipsec));
        assert!(lookup("Queue").is_none());
    }

    #[test]
    fn the_docs_list_the_table() {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/click-frontend.md")).expect("docs/click-frontend.md");
        let begin = "<!-- unsupported classes: begin -->\n";
        let end = "<!-- unsupported classes: end -->";
        let start = docs.find(begin).expect("the docs mark the table's start") + begin.len();
        let stop = docs[start..].find(end).expect("the docs mark the table's end") + start;
        assert_eq!(docs[start..stop].trim(), markdown().trim(), "docs/click-frontend.md lists another table: paste unsupported::markdown()");
    }
}
