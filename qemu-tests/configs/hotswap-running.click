// Hotswap, third graph, installed while the source runs: a smaller queue and a longer LIMIT.
// The source's count carries over, so it stops at 30000 packets in all.
src :: InfiniteSource(LENGTH 64, LIMIT 30000, BURST 4);
in :: Counter;
q :: Queue(2048);
uq :: Unqueue(BURST 32);
out :: Counter;
src -> in -> q -> uq -> out -> Discard;
