/// GREEncap's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[required("PROTOCOL", int(0, 0xffff)), keyword("KEY", int(0, u32::MAX as i64), None)],
    cost_cycles: 150,
    audience: Audience::CoordinatorOnly,
    ..base("GREEncap", "Prepends a GRE header carrying PROTOCOL and, if given, KEY")
};
