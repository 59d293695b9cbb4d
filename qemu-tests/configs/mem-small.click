// About 2 MiB of data-plane memory: one queue of 262144 slots, with traffic through it.
src :: RatedSource(LENGTH 64, RATE 100);
c :: Counter;
src -> c -> q :: Queue(262144) -> Discard;
