/// EtherMirror's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    cost_cycles: 100,
    ..base("EtherMirror", "Swaps the Ethernet source and destination addresses")
};
