// Two unpinned sources: the tenant's THREADS knob spreads them over its threads. Names differ
// from stride.click's, so that no counter carries a count over when one replaces the other.
x :: InfiniteSource(LENGTH 64, LIMIT 5000, BURST 4);
cx :: Counter;
y :: InfiniteSource(LENGTH 64, LIMIT 5000, BURST 4);
cy :: Counter;
x -> cx -> Discard;
y -> cy -> Discard;
