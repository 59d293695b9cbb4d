/// BandwidthShaper's catalog entry (its id and handler tables come from the registry).
pub const SHAPER: ElementClass = ElementClass {
    processing: "l/l",
    args: &[required("RATE", ArgKind::Bandwidth)],
    cost_cycles: 200,
    ..base("BandwidthShaper", "Lets packets be pulled at no more than RATE bytes/s")
};

/// RatedUnqueue's catalog entry (its id and handler tables come from the registry).
pub const UNQUEUE: ElementClass = ElementClass {
    processing: "l/h",
    args: &[
        required("RATE", int(1, 100_000_000)),
        keyword("ACTIVE", ArgKind::Bool, Some("true")),
    ],
    task: TaskRule::Always,
    cost_cycles: 150,
    ..base("RatedUnqueue", "Task that pulls RATE packets per second and pushes them")
};

/// RatedSource's catalog entry (its id and handler tables come from the registry).
pub const SOURCE: ElementClass = ElementClass {
    inputs: PortRange::exactly(0),
    processing: "/a",
    args: &[
        positional("DATA", ArgKind::String, None),
        positional("RATE", int(1, 100_000_000), Some("10")),
        positional("LIMIT", int(-1, i32::MAX as i64), Some("-1")),
        positional("ACTIVE", ArgKind::Bool, Some("true")),
        keyword("STOP", ArgKind::Bool, Some("false")),
        keyword("LENGTH", int(0, 65535), Some("0")),
    ],
    task: TaskRule::WhenOutputPush,
    cost_cycles: 300,
    ..base("RatedSource", "Generates copies of DATA at RATE packets per second")
};
