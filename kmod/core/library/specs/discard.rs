/// Discard's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::exactly(0),
    processing: "a/",
    task: TaskRule::WhenInputPull,
    cost_cycles: 50,
    ..base("Discard", "Drops every packet; pulls them itself when its input is pull")
};
