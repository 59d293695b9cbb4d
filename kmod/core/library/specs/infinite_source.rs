/// InfiniteSource's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    inputs: PortRange::exactly(0),
    processing: "/a",
    args: &[
        positional("DATA", ArgKind::String, None),
        positional("LIMIT", int(-1, i32::MAX as i64), Some("-1")),
        positional("BURST", int(1, MAX_BURST), Some("1")),
        positional("ACTIVE", ArgKind::Bool, Some("true")),
        keyword("STOP", ArgKind::Bool, Some("false")),
        keyword("LENGTH", int(0, 65535), Some("0")),
    ],
    task: TaskRule::WhenOutputPush,
    cost_cycles: 300,
    ..base("InfiniteSource", "Generates copies of DATA, as fast as allowed")
};
