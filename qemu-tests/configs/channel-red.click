// The kernel part of a partitioned tenant, written by hand as the coordinator's partitioner
// would cut it (element names are the merged graph's, TENANT/NAME): a source whose packets
// cross to the container engine over boundary 0, and what the engine sends back over
// boundary 0 counted and discarded. Compiled with `vdpctl channel-test compile`.
red/src :: InfiniteSource(DATA "kernel-to-container", LIMIT 100, ACTIVE false);
red/src -> red/tc :: ToContainer(0);
red/fc :: FromContainer(0) -> red/c :: Counter -> red/d :: Discard;
