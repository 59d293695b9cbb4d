/// EtherEncap's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[
        required("ETHERTYPE", int(0, 0xffff)),
        required("SRC", ArgKind::EtherAddr),
        required("DST", ArgKind::EtherAddr),
    ],
    cost_cycles: 150,
    ..base("EtherEncap", "Prepends an Ethernet header")
};
