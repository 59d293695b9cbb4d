/// Classifier's catalog entry (its id and handler tables come from the registry).
pub const CLASSIFIER: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    output_rule: OutputRule::OnePerRepeatedArgument,
    processing: "h/h",
    repeated: Some(RepeatedArgs { kind: ArgKind::ClassifierPattern, min: 1, noun: "pattern" }),
    cost_cycles: 300,
    cost_per_entry: 20,
    resource: Resource::TableEntries,
    ..base("Classifier", "Sends each packet to the output of the first pattern it matches")
};

/// IPClassifier's catalog entry (its id and handler tables come from the registry).
pub const IP_CLASSIFIER: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    output_rule: OutputRule::OnePerRepeatedArgument,
    processing: "h/h",
    repeated: Some(RepeatedArgs {
        kind: ArgKind::IpClassifierExpr,
        min: 1,
        noun: "expression",
    }),
    cost_cycles: 400,
    cost_per_entry: 30,
    resource: Resource::TableEntries,
    ..base("IPClassifier", "Classifies IP packets by tcpdump-like expressions")
};
