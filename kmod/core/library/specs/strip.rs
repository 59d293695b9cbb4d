/// Strip's catalog entry (its id and handler tables come from the registry).
pub const STRIP: ElementClass = ElementClass {
    args: &[required("LENGTH", int(0, MAX_HEADER_BYTES))],
    cost_cycles: 50,
    ..base("Strip", "Removes LENGTH bytes from the front of each packet")
};

/// Unstrip's catalog entry (its id and handler tables come from the registry).
pub const UNSTRIP: ElementClass = ElementClass {
    args: &[required("LENGTH", int(0, MAX_HEADER_BYTES))],
    cost_cycles: 50,
    ..base("Unstrip", "Restores LENGTH bytes previously stripped")
};
