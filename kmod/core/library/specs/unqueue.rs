/// Unqueue's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    processing: "l/h",
    args: &[
        positional("BURST", int(1, MAX_BURST), Some("1")),
        keyword("ACTIVE", ArgKind::Bool, Some("true")),
    ],
    task: TaskRule::Always,
    cost_cycles: 100,
    ..base("Unqueue", "Task that pulls packets from its input and pushes them out")
};
