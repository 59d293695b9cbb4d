/// SetIPChecksum's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    cost_cycles: 300,
    ..base("SetIPChecksum", "Recomputes the IP header checksum")
};
