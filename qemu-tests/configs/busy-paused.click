// busy.click installed paused: the benchmark switches the source on (its `active` handler) once
// every tenant of a step is in place.
src :: InfiniteSource(LENGTH 64, LIMIT -1, BURST 4, ACTIVE false);
c :: Counter;
src -> c -> Discard;
