// Hotswap, second graph: same names and classes, the Unqueue now active, a Paint added on the way
// out; `q` must hand over its packets and the counters their counts. A source starts afresh, as in
// Click: LIMIT 0 keeps this one quiet until a handler raises it.
src :: InfiniteSource(LENGTH 64, LIMIT 0, BURST 4);
in :: Counter;
q :: Queue(4096);
uq :: Unqueue(BURST 16);
out :: Counter;
src -> in -> q -> uq -> Paint(2) -> out -> Discard;
