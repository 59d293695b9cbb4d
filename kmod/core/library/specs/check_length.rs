/// CheckLength's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 2),
    processing: "a/ah",
    args: &[required("LENGTH", int(0, 65535))],
    cost_cycles: 400,
    ..base("CheckLength", "Packets longer than LENGTH go to output 1 or are dropped")
};
