// The hostile-blob scenario edits the last connection record of this graph's blob from
// t[1] -> d to t[1] -> c: a push cycle c -> t -> c.
src :: RatedSource(LENGTH 64, RATE 100);
src -> c :: Counter -> t :: Tee(2); t[0] -> d :: Discard; t[1] -> d;
