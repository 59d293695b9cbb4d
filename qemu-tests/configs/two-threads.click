// Producer and consumer on two of the tenant's threads: the Queue is the hand-over point.
src :: InfiniteSource(LENGTH 64, LIMIT 3000, BURST 4);
in :: Counter;
q :: Queue(4096);
uq :: Unqueue(BURST 16);
out :: Counter;
src -> in -> q -> uq -> out -> Discard;
StaticThreadSched(src 0, uq 1);
