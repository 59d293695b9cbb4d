/// Chew's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[required("CYCLES", int(0, MAX_CHEW_CYCLES))],
    cost_cycles: 20,
    cost_argument: Some("CYCLES"),
    ..base("Chew", "Spends CYCLES cycles of busy work on each packet")
};
