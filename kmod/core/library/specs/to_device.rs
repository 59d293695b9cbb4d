/// ToDevice's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::exactly(0),
    processing: "l/",
    args: DEVICE_ARGS_OUT,
    task: TaskRule::Always,
    cost_cycles: 800,
    ..base("ToDevice", "Pulls packets from its input and sends them on a device")
};
