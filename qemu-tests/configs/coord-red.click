// Red's coordinator-scenario graph: a steady source, so the count keeps rising.
src :: RatedSource(LENGTH 64, RATE 200);
c :: Counter;
src -> c -> Discard;
