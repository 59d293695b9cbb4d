// A bounded source feeding a counter: the count must come out exact.
src :: InfiniteSource(DATA "0123456789abcdef", LIMIT 5000, BURST 8);
c :: Counter;
src -> c -> Discard;
