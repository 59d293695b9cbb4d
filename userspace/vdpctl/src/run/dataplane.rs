//! What `vdpctl run` needs of a data plane: the user-level engine implements [`Dataplane`].
//!
//! The engine is made from a [`Prepared`](super::prepare::Prepared) (the compiled graph, the
//! tenant, its devices and the system config) and runs on a **virtual clock** in nanoseconds
//! that starts at 0 when it is made. The driver maps capture timestamps onto that clock (the
//! first input packet arrives at 0) and back again when it writes the output captures.
//!
//! Frames cross this interface as the device carries them ([`Carries`], from the device's tunnel
//! in the system config): whole Ethernet frames for an `ethernet` device, bare IPv4 packets for
//! an `ip` one. For an `ip` device the engine does what the kernel's device layer does
//! (`docs/devices.md`): it puts an Ethernet header on each received packet (destination the
//! device's `mac`, or the derived one; source the tunnel's `next_hop_mac`) and takes it off each
//! transmitted frame, which must then have EtherType 0x0800.
//!
//! Element names are the merged graph's, as in the compiled graph: `TENANT/NAME`.

pub use vdp_click::system::Carries;

/// How a [`Dataplane::run`] call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ran {
    /// Everything due at or before `until_ns` ran, and a timer is still set after it: the
    /// clock now reads `until_ns`.
    Reached,
    /// No task has work and no timer is set, so nothing happens until a frame arrives. The
    /// clock reads `now_ns`: the time of the last task or timer run, or the call's start if
    /// none ran; never after `until_ns`.
    Idle { now_ns: u64 },
    /// The call transmitted `budget` frames or more (the driver's `--max-packets` bound) and
    /// stopped after the task run that reached it, at `now_ns`. Work may be left.
    Budget { now_ns: u64 },
}

/// A compiled tenant graph running over user buffers on a virtual clock.
pub trait Dataplane {
    type Error: std::fmt::Display;

    /// A frame arrives on `device` at `time_ns`, which is never before the clock (the driver
    /// first runs the data plane up to it). Err if the graph has no FromDevice for `device`.
    /// A frame the device would drop (too short, say) is not an error: it is counted as the
    /// kernel counts it.
    fn receive(&mut self, device: &str, frame: &[u8], time_ns: u64) -> Result<(), Self::Error>;

    /// Runs, in virtual-time order, every task with work and every timer due at or before
    /// `until_ns`, and the work they cause, until nothing more is due by then; or stops early
    /// once this call has transmitted `budget` frames (at least 1). [`Ran`] says which.
    /// `until_ns` may be `u64::MAX`: run until idle.
    /// Err when the data plane cannot go on (a graph that works without end at one instant).
    fn run(&mut self, until_ns: u64, budget: u64) -> Result<Ran, Self::Error>;

    /// Takes the frames `device` transmitted since the last call, oldest first, each with the
    /// virtual time it was sent at. Empty for a device the graph does not transmit on.
    fn take_transmitted(&mut self, device: &str) -> Vec<(u64, Vec<u8>)>;

    /// Reads handler `handler` of element `element` (`TENANT/NAME`) as text, at the clock's
    /// time. Err names what is unknown or why the read failed.
    fn read_handler(&mut self, element: &str, handler: &str) -> Result<String, Self::Error>;
}
