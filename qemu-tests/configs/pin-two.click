// Two sources on two of the tenant's threads, each waking often, so both threads run where
// they are let.
a :: RatedSource(LENGTH 64, RATE 500);
b :: RatedSource(LENGTH 64, RATE 500);
a -> ca :: Counter -> Discard;
b -> cb :: Counter -> Discard;
StaticThreadSched(a 0, b 1);
