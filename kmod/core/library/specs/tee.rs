/// Tee's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    output_rule: OutputRule::IntArgument("N"),
    processing: "h/h",
    args: &[positional("N", int(1, MAX_PORTS as i64), None)],
    flow: PacketFlow::EveryOutput,
    cost_cycles: 200,
    ..base("Tee", "Pushes a copy of each packet out of every output")
};
