/// HashSwitch's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    processing: "h/h",
    args: &[required("OFFSET", int(0, 1500)), required("LENGTH", int(1, 64))],
    cost_cycles: 450,
    ..base("HashSwitch", "Chooses an output by hashing LENGTH bytes at OFFSET")
};
