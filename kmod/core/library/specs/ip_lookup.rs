/// RadixIPLookup's catalog entry (its id and handler tables come from the registry).
pub const RADIX: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    output_rule: OutputRule::CoversRoutes,
    processing: "h/h",
    repeated: ROUTES,
    cost_cycles: 1000,
    resource: Resource::TableEntries,
    ..base("RadixIPLookup", "Longest-prefix-match routing with a radix trie")
};

/// LinearIPLookup's catalog entry (its id and handler tables come from the registry).
pub const LINEAR: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    output_rule: OutputRule::CoversRoutes,
    processing: "h/h",
    repeated: ROUTES,
    cost_cycles: 200,
    cost_per_entry: 40,
    resource: Resource::TableEntries,
    ..base("LinearIPLookup", "Longest-prefix-match routing by a linear scan")
};

/// StaticIPLookup's catalog entry (its id and handler tables come from the registry).
pub const STATIC: ElementClass = ElementClass {
    outputs: PortRange::at_least(1),
    output_rule: OutputRule::CoversRoutes,
    processing: "h/h",
    repeated: ROUTES,
    cost_cycles: 200,
    cost_per_entry: 40,
    resource: Resource::TableEntries,
    ..base("StaticIPLookup", "LinearIPLookup whose table cannot be changed at run time")
};
