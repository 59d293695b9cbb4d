/// FromDevice's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    inputs: PortRange::exactly(0),
    processing: "/h",
    args: DEVICE_ARGS_IN,
    task: TaskRule::Always,
    cost_cycles: 800,
    ..base("FromDevice", "Receives packets from a device and pushes them out")
};
