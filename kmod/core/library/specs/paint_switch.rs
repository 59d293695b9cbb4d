/// PaintSwitch's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 256),
    processing: "h/h",
    cost_cycles: 100,
    ..base("PaintSwitch", "Sends each packet to the output numbered by its paint")
};
