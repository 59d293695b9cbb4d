// The kernel part of a partitioned tenant, written by hand as the coordinator's partitioner
// would cut it (element names are the merged graph's, TENANT/NAME): a source whose packets,
// painted 5, cross to the container engine over boundary 0, and what the engine sends back over
// boundary 0 switched on its paint (the engine paints 3), counted and discarded. A second
// source on the tenant's second thread pushes into the same ToContainer. Compiled with
// `vdpctl channel-test compile`.
red/src :: InfiniteSource(DATA "kernel-to-container", LIMIT 100, ACTIVE false);
red/src2 :: InfiniteSource(DATA "kernel-to-container", LIMIT 0, ACTIVE false);
red/src -> red/p :: Paint(5) -> red/tc :: ToContainer(0);
red/src2 -> red/p;
red/sched :: StaticThreadSched(red/src 0, red/src2 1);
red/fc :: FromContainer(0) -> red/ps :: PaintSwitch;
red/ps[0] -> red/d0 :: Discard;
red/ps[1] -> red/d1 :: Discard;
red/ps[2] -> red/d2 :: Discard;
red/ps[3] -> red/c :: Counter -> red/d :: Discard;
