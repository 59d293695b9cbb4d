// Two unpinned sources: the tenant's THREADS knob spreads them over its threads.
a :: InfiniteSource(LENGTH 64, LIMIT 5000, BURST 4);
ca :: Counter;
b :: InfiniteSource(LENGTH 64, LIMIT 5000, BURST 4);
cb :: Counter;
a -> ca -> Discard;
b -> cb -> Discard;
