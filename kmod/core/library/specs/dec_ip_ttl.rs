/// DecIPTTL's catalog entry (its id and handler tables come from the registry).
pub const CLASS: ElementClass = ElementClass {
    outputs: PortRange::between(1, 2),
    processing: "a/ah",
    cost_cycles: 200,
    ..base("DecIPTTL", "Decrements the IP TTL; expired packets go to output 1")
};
