/// Print's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[
        positional("LABEL", ArgKind::String, Some("\"\"")),
        keyword("MAXLENGTH", int(0, 1500), Some("24")),
        keyword("RATE", int(1, 1000), Some("10")),
    ],
    cost_cycles: 2000,
    ..base("Print", "Logs packet contents, at most RATE lines per second")
};
