// A busy source whose packets each cost what Chew is set to (its `cycles` handler).
src :: InfiniteSource(LENGTH 64, LIMIT -1, BURST 4);
chew :: Chew(CYCLES 0);
c :: Counter;
src -> chew -> c -> Discard;
