/// IPEncap's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[
        required("PROTO", ArgKind::IpProtocol),
        required("SRC", ArgKind::Ipv4Addr),
        required("DST", ArgKind::Ipv4Addr),
        keyword("TOS", int(0, 255), Some("0")),
        keyword("TTL", int(1, 255), Some("250")),
        keyword("DF", ArgKind::Bool, Some("false")),
    ],
    cost_cycles: 300,
    ..base("IPEncap", "Prepends an IP header")
};
