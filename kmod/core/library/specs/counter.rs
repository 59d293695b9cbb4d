/// Counter's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    cost_cycles: 700,
    ..base("Counter", "Counts packets and bytes passing through")
};
