// A source that never stops: its tenant wants all the CPU it can get.
src :: InfiniteSource(LENGTH 64, LIMIT -1, BURST 4);
c :: Counter;
src -> c -> Discard;
