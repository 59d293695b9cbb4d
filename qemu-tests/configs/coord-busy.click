// A tenant graph that keeps its thread busy: an unlimited source.
src :: InfiniteSource(LENGTH 64, BURST 32);
c :: Counter;
src -> c -> Discard;
