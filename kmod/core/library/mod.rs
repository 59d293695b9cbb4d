//! The element library: every class vdp runs, one file a class (classes that differ only in
//! their catalog entry share one), each written once against [`Platform`] and compiled into
//! both the kernel module and the user-level engine.
//!
//! [`registry!`] below is the one list of classes. From it come the catalog
//! (`catalog::CLASSES`: each class's description from its file, with its id from the list and
//! its handler tables from its handler enums), [`AnyElement`] (the enum the engine stores, so a
//! graph needs no boxes and no table keyed by names), and the dispatch from a class id and a
//! handler name to the element's code. A class's id is the number on its line: ids are part of
//! the compiled-graph format, so lines are only ever appended. Ids increase down the list and
//! may skip numbers (`catalog::class_by_id` finds each by its own).
//!
//! Adding a class: write `library/NAME.rs` (its `ElementClass`, its handler enums with
//! `handlers!`, and its `Element` or `Action` impl), then add one `mod` line and one registry
//! line here. `docs/elements.md` walks through it.

use crate::catalog::{ElementClass, CUSTOM_CLASS_BASE};
use crate::element::agnostic::Agnostic;
use crate::element::class::{Build, ConstructError, Element, StorageLength};
use crate::element::extension::ExtensionElement;
use crate::element::graph::Cx;
use crate::element::handler::{HandlerError, HandlerSet, NoHandlers};
use crate::element::platform::Platform;
use crate::element::vector::Vector;
use core::fmt;

mod address_info;
mod align;
mod arp_querier;
mod arp_responder;
mod arp_table;
mod average_counter;
mod boundary;
mod check_ip_header;
mod check_length;
mod check_paint;
mod chew;
mod classifier;
mod counter;
mod dec_ip_ttl;
mod delay_shaper;
mod discard;
mod drop_broadcasts;
mod ether_encap;
mod ether_mirror;
mod fix_ip_src;
mod from_device;
mod get_ip_address;
mod gre_encap;
mod hash_switch;
mod icmp_error;
mod host;
mod idle;
mod infinite_source;
mod ip_encap;
mod ip_fragmenter;
mod ip_gw_options;
mod ip_lookup;
mod paint;
mod paint_switch;
mod paint_tee;
mod print;
mod queue;
mod rated;
mod red;
mod round_robin_switch;
mod route_arena;
mod sched_info;
mod set_ip_checksum;
mod set_timestamp;
mod strip;
mod strip_ip_header;
mod tee;
mod to_device;
mod unqueue;

pub use arp_querier::MAX_ARP_ENTRIES;
pub use arp_responder::MAX_RESPONDER_ENTRIES;
pub use boundary::MAX_BOUNDARIES;

/// `registry! { ID Variant => SPEC, Type, ReadHandlers, WriteHandlers; … }`: see the module doc.
/// Dispatch through the handler enums named on the line type-checks only when they are the
/// element's own `Element::Read` and `Element::Write`, so the catalog's tables and the code
/// that answers them cannot drift apart.
macro_rules! registry {
    ($($id:literal $variant:ident => $spec:path, $ty:ty, $read:ty, $write:ty;)+) => {
        /// One element of any class.
        pub enum AnyElement<P: Platform> {
            $($variant($ty),)+
            /// An element of a class the platform supplies (a custom class, at container level).
            Extension(P::Extension),
        }

        /// Every class, in id order: the catalog.
        pub const CLASS_TABLE: [ElementClass; [$($id),+].len()] = [$(
            ElementClass {
                id: $id,
                read_handlers: <$read as HandlerSet>::SPECS,
                write_handlers: <$write as HandlerSet>::SPECS,
                ..$spec
            }
        ),+];

        impl<P: Platform> AnyElement<P> {
            /// Builds an element of the class the view names.
            pub fn construct(build: &Build<'_, P>) -> Result<Self, ConstructError> {
                match build.view.class.id {
                    $($id => Ok(AnyElement::$variant(<$ty as Element<P>>::construct(build)?)),)+
                    id if id >= CUSTOM_CLASS_BASE => Ok(AnyElement::Extension(build.extensions.construct(build)?)),
                    _ => Err(ConstructError::BadArgument("class id")),
                }
            }

            pub fn push(&self, cx: &Cx<'_, P>, port: u16, packet: P::Packet) {
                match self {
                    $(AnyElement::$variant(element) => <$ty as Element<P>>::push(element, cx, port, packet),)+
                    AnyElement::Extension(element) => element.push(cx, port, packet),
                }
            }

            pub fn pull(&self, cx: &Cx<'_, P>, port: u16) -> Option<P::Packet> {
                match self {
                    $(AnyElement::$variant(element) => <$ty as Element<P>>::pull(element, cx, port),)+
                    AnyElement::Extension(element) => element.pull(cx, port),
                }
            }

            pub fn run_task(&self, cx: &Cx<'_, P>) -> bool {
                match self {
                    $(AnyElement::$variant(element) => <$ty as Element<P>>::run_task(element, cx),)+
                    AnyElement::Extension(element) => element.run_task(cx),
                }
            }

            /// Reads the handler called `name`.
            pub fn read(&self, name: &str, out: &mut dyn fmt::Write) -> Result<(), HandlerError> {
                match self {
                    $(AnyElement::$variant(element) => {
                        <$ty as Element<P>>::read(element, <$read as HandlerSet>::find(name).ok_or(HandlerError::NoSuchHandler)?, out)
                    })+
                    AnyElement::Extension(element) => element.read(name, out),
                }
            }

            /// Writes the handler called `name`.
            pub fn write(&self, name: &str, value: &str) -> Result<(), HandlerError> {
                match self {
                    $(AnyElement::$variant(element) => {
                        <$ty as Element<P>>::write(element, <$write as HandlerSet>::find(name).ok_or(HandlerError::NoSuchHandler)?, value)
                    })+
                    AnyElement::Extension(element) => element.write(name, value),
                }
            }

            /// The element's queue length, if it is a Storage element (`Element::storage_length`).
            pub fn storage_length(&self) -> Option<StorageLength<P>> {
                match self {
                    $(AnyElement::$variant(element) => <$ty as Element<P>>::storage_length(element),)+
                    AnyElement::Extension(_) => None,
                }
            }

            /// The packets the element holds and can hold (`Element::occupancy`).
            pub fn occupancy(&self) -> Option<(u64, u64)> {
                match self {
                    $(AnyElement::$variant(element) => <$ty as Element<P>>::occupancy(element),)+
                    AnyElement::Extension(_) => None,
                }
            }

            /// Hands a watcher its queues (`Element::link_storage`).
            pub fn link_storage(&mut self, queues: Vector<P, StorageLength<P>>, names: Vector<P, u8>) {
                match self {
                    $(AnyElement::$variant(element) => <$ty as Element<P>>::link_storage(element, queues, names),)+
                    AnyElement::Extension(_) => drop((queues, names)),
                }
            }

            /// Hotswap from `old`, when it is of the same class (see `Element::take_state`).
            pub fn take_state(&mut self, old: &Self) {
                match (self, old) {
                    $((AnyElement::$variant(new), AnyElement::$variant(old)) => <$ty as Element<P>>::take_state(new, old),)+
                    (AnyElement::Extension(new), AnyElement::Extension(old)) => new.take_state(old),
                    _ => {}
                }
            }
        }
    };
}

registry! {
    0 FromDevice => from_device::CLASS, from_device::FromDevice<P>, from_device::Read, from_device::Write;
    1 ToDevice => to_device::CLASS, to_device::ToDevice<P>, to_device::Read, to_device::Write;
    2 Queue => queue::QUEUE, queue::Queue<P>, queue::Read, queue::Write;
    3 SimpleQueue => queue::SIMPLE_QUEUE, queue::Queue<P>, queue::Read, queue::Write;
    4 Unqueue => unqueue::CLASS, unqueue::Unqueue<P>, unqueue::Read, unqueue::Write;
    5 Counter => counter::CLASS, Agnostic<counter::Counter<P>>, counter::Read, counter::Write;
    6 Discard => discard::CLASS, discard::Discard<P>, discard::Read, discard::Write;
    7 Tee => tee::CLASS, tee::Tee, NoHandlers, NoHandlers;
    8 Idle => idle::CLASS, idle::Idle, NoHandlers, NoHandlers;
    9 Classifier => classifier::CLASSIFIER, Agnostic<classifier::Classifier<P>>, NoHandlers, NoHandlers;
    10 IPClassifier => classifier::IP_CLASSIFIER, Agnostic<classifier::Classifier<P>>, NoHandlers, NoHandlers;
    11 Strip => strip::STRIP, Agnostic<strip::Strip>, NoHandlers, NoHandlers;
    12 Unstrip => strip::UNSTRIP, Agnostic<strip::Unstrip>, NoHandlers, NoHandlers;
    13 EtherEncap => ether_encap::CLASS, Agnostic<ether_encap::EtherEncap>, NoHandlers, NoHandlers;
    14 EtherMirror => ether_mirror::CLASS, Agnostic<ether_mirror::EtherMirror>, NoHandlers, NoHandlers;
    15 CheckIPHeader => check_ip_header::CLASS, Agnostic<check_ip_header::CheckIpHeader<P>>, check_ip_header::Read, NoHandlers;
    16 DecIPTTL => dec_ip_ttl::CLASS, Agnostic<dec_ip_ttl::DecIpTtl>, NoHandlers, NoHandlers;
    17 SetIPChecksum => set_ip_checksum::CLASS, Agnostic<set_ip_checksum::SetIpChecksum>, NoHandlers, NoHandlers;
    18 IPEncap => ip_encap::CLASS, Agnostic<ip_encap::IpEncap>, NoHandlers, NoHandlers;
    19 GetIPAddress => get_ip_address::CLASS, Agnostic<get_ip_address::GetIpAddress>, NoHandlers, NoHandlers;
    20 RadixIPLookup => ip_lookup::RADIX, ip_lookup::IpLookup<P>, ip_lookup::Read, ip_lookup::Write;
    21 LinearIPLookup => ip_lookup::LINEAR, ip_lookup::IpLookup<P>, ip_lookup::Read, ip_lookup::Write;
    22 StaticIPLookup => ip_lookup::STATIC, ip_lookup::StaticIpLookup<P>, ip_lookup::Read, NoHandlers;
    23 Paint => paint::CLASS, Agnostic<paint::Paint>, paint::Read, paint::Write;
    24 PaintSwitch => paint_switch::CLASS, paint_switch::PaintSwitch, NoHandlers, NoHandlers;
    25 HashSwitch => hash_switch::CLASS, hash_switch::HashSwitch, NoHandlers, NoHandlers;
    26 RoundRobinSwitch => round_robin_switch::CLASS, round_robin_switch::RoundRobinSwitch, NoHandlers, NoHandlers;
    27 CheckLength => check_length::CLASS, Agnostic<check_length::CheckLength>, check_length::Read, check_length::Write;
    28 BandwidthShaper => rated::SHAPER, rated::Shaper<P>, rated::ShaperRead, rated::ShaperWrite;
    29 RatedUnqueue => rated::UNQUEUE, rated::RatedUnqueue<P>, rated::UnqueueRead, rated::UnqueueWrite;
    30 InfiniteSource => infinite_source::CLASS, infinite_source::InfiniteSource<P>, infinite_source::Read, infinite_source::Write;
    31 RatedSource => rated::SOURCE, rated::RatedSource<P>, rated::SourceRead, rated::SourceWrite;
    32 StaticThreadSched => sched_info::STATIC_THREAD_SCHED, sched_info::Directives<P>, sched_info::Read, NoHandlers;
    33 ScheduleInfo => sched_info::SCHEDULE_INFO, sched_info::Directives<P>, sched_info::Read, NoHandlers;
    34 Print => print::CLASS, Agnostic<print::Print<P>>, print::Read, print::Write;
    35 Chew => chew::CLASS, Agnostic<chew::Chew>, chew::Read, chew::Write;
    36 GREEncap => gre_encap::CLASS, Agnostic<gre_encap::GreEncap>, NoHandlers, NoHandlers;
    37 ToContainer => boundary::TO_CONTAINER, boundary::Sender<P, { boundary::KERNEL_SIDE }>, boundary::SendRead, boundary::SendWrite;
    38 FromContainer => boundary::FROM_CONTAINER, boundary::Receiver<P, { boundary::KERNEL_SIDE }>, from_device::Read, from_device::Write;
    39 FromKernel => boundary::FROM_KERNEL, boundary::Receiver<P, { boundary::CONTAINER_SIDE }>, from_device::Read, from_device::Write;
    40 ToKernel => boundary::TO_KERNEL, boundary::Sender<P, { boundary::CONTAINER_SIDE }>, boundary::SendRead, boundary::SendWrite;
    41 ARPQuerier => arp_querier::CLASS, arp_querier::ArpQuerier<P>, arp_querier::Read, arp_querier::Write;
    42 ARPResponder => arp_responder::CLASS, Agnostic<arp_responder::ArpResponder<P>>, arp_responder::Read, arp_responder::Write;
    43 AddressInfo => address_info::CLASS, address_info::AddressInfo, NoHandlers, NoHandlers;
    44 ICMPError => icmp_error::CLASS, Agnostic<icmp_error::IcmpError<P>>, icmp_error::Read, icmp_error::Write;
    45 IPFragmenter => ip_fragmenter::CLASS, ip_fragmenter::IpFragmenter<P>, ip_fragmenter::Read, NoHandlers;
    46 IPGWOptions => ip_gw_options::CLASS, Agnostic<ip_gw_options::IpGwOptions<P>>, ip_gw_options::Read, NoHandlers;
    47 FixIPSrc => fix_ip_src::CLASS, Agnostic<fix_ip_src::FixIpSrc>, NoHandlers, NoHandlers;
    48 DropBroadcasts => drop_broadcasts::CLASS, Agnostic<drop_broadcasts::DropBroadcasts>, drop_broadcasts::Read, NoHandlers;
    49 StripIPHeader => strip_ip_header::CLASS, Agnostic<strip_ip_header::StripIpHeader>, NoHandlers, NoHandlers;
    50 PaintTee => paint_tee::CLASS, paint_tee::PaintTee, paint::Read, paint::Write;
    51 CheckPaint => check_paint::CLASS, Agnostic<check_paint::CheckPaint>, paint::Read, paint::Write;
    52 AverageCounter => average_counter::CLASS, Agnostic<average_counter::AverageCounter<P>>, average_counter::Read, average_counter::Write;
    53 RED => red::CLASS, red::Red<P>, red::Read, red::Write;
    54 Align => align::CLASS, Agnostic<align::Align>, align::Read, align::Write;
    55 SetTimestamp => set_timestamp::CLASS, Agnostic<set_timestamp::SetTimestamp>, NoHandlers, NoHandlers;
    56 DelayShaper => delay_shaper::CLASS, delay_shaper::DelayShaper<P>, delay_shaper::Read, delay_shaper::Write;
    57 PollDevice => from_device::POLL_DEVICE, from_device::FromDevice<P>, from_device::Read, from_device::Write;
    58 ToHost => host::TO_HOST, host::ToHost<P>, host::ToHostRead, NoHandlers;
    59 FromHost => host::FROM_HOST, host::FromHost<P>, host::FromHostRead, host::FromHostWrite;
}
