/// StaticThreadSched's catalog entry (its id and handler tables come from the registry).
pub const STATIC_THREAD_SCHED: ElementClass = ElementClass {
    inputs: PortRange::exactly(0),
    outputs: PortRange::exactly(0),
    processing: "/",
    repeated: Some(RepeatedArgs { kind: ArgKind::ThreadAssignment, min: 1, noun: "assignment" }),
    cost_cycles: 0,
    ..base("StaticThreadSched", "Pins tasks to threads: ELEMENT THREAD, ...")
};

/// ScheduleInfo's catalog entry (its id and handler tables come from the registry).
pub const SCHEDULE_INFO: ElementClass = ElementClass {
    inputs: PortRange::exactly(0),
    outputs: PortRange::exactly(0),
    processing: "/",
    repeated: Some(RepeatedArgs { kind: ArgKind::TicketShare, min: 1, noun: "share" }),
    cost_cycles: 0,
    ..base("ScheduleInfo", "Sets task tickets relative to the default: ELEMENT SHARE, ...")
};
