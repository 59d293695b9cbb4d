// Hotswap, first graph: the source fills the queue, nothing drains it yet.
src :: InfiniteSource(LENGTH 64, LIMIT 1000, BURST 4);
in :: Counter;
q :: Queue(4096);
uq :: Unqueue(BURST 16, ACTIVE false);
out :: Counter;
src -> in -> q -> uq -> out -> Discard;
