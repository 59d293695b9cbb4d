/// CheckIPHeader's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 2),
    processing: "a/ah",
    args: &[
        positional("BADSRC", ArgKind::AddrList, None),
        keyword("OFFSET", int(0, MAX_HEADER_BYTES), Some("0")),
        keyword("INTERFACES", ArgKind::PrefixList, None),
        keyword("VERBOSE", ArgKind::Bool, Some("false")),
        keyword("CHECKSUM", ArgKind::Bool, Some("true")),
    ],
    cost_cycles: 400,
    ..base("CheckIPHeader", "Drops or diverts packets with invalid IP headers")
};
