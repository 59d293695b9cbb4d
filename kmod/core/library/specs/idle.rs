/// Idle's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    inputs: PortRange::at_least(0),
    outputs: PortRange::at_least(0),
    cost_cycles: 0,
    ..base("Idle", "Never emits packets and drops what it receives")
};
