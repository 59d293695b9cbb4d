/// RoundRobinSwitch's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    processing: "h/h",
    cost_cycles: 100,
    ..base("RoundRobinSwitch", "Sends packets to its outputs in turn")
};
