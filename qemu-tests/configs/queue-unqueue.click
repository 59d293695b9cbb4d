// Push into a queue, pull out with Unqueue: every packet must come through.
src :: InfiniteSource(LENGTH 64, LIMIT 3000, BURST 4);
in :: Counter;
q :: Queue(4096);
out :: Counter;
src -> in -> q -> Unqueue(BURST 16) -> Paint(7) -> CheckLength(100) -> out -> Discard;
