// Blue's graph: an inactive source, so its handlers exist but no packets flow.
src :: InfiniteSource(LENGTH 60, ACTIVE false);
c :: Counter;
src -> c -> Discard;
