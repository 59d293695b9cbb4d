/// Paint's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[required("COLOR", int(0, 255))],
    cost_cycles: 50,
    ..base("Paint", "Sets the paint annotation to COLOR")
};
