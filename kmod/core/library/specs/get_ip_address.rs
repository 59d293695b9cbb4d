/// GetIPAddress's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    args: &[required("OFFSET", int(0, MAX_HEADER_BYTES))],
    cost_cycles: 50,
    ..base("GetIPAddress", "Copies the IP address at OFFSET into the destination annotation")
};
