// Hotswap, third graph, installed while the source runs: a smaller queue, a bigger burst, and a
// source that sends 20000 packets of its own.
src :: InfiniteSource(LENGTH 64, LIMIT 20000, BURST 4);
in :: Counter;
q :: Queue(2048);
uq :: Unqueue(BURST 32);
out :: Counter;
src -> in -> q -> uq -> out -> Discard;
