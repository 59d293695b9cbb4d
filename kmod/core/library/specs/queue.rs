/// Queue's catalog entry (its id and handler tables come from the registry).
pub const QUEUE: ElementClass = ElementClass {
    processing: "h/l",
    args: QUEUE_ARGS,
    cost_cycles: 150,
    resource: Resource::QueueCapacity("CAPACITY"),
    ..base("Queue", "Stores pushed packets until they are pulled; drops when full")
};

/// SimpleQueue's catalog entry (its id and handler tables come from the registry).
pub const SIMPLE_QUEUE: ElementClass = ElementClass {
    processing: "h/l",
    args: QUEUE_ARGS,
    cost_cycles: 120,
    resource: Resource::QueueCapacity("CAPACITY"),
    ..base("SimpleQueue", "Queue without the thread-safety of Queue")
};
