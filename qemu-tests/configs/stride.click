// Two sources on one thread, b with twice a's tickets: b must run about twice as often.
a :: InfiniteSource(LENGTH 64, LIMIT 20000, BURST 4);
ca :: Counter;
b :: InfiniteSource(LENGTH 64, LIMIT 20000, BURST 4);
cb :: Counter;
a -> ca -> Discard;
b -> cb -> Discard;
ScheduleInfo(a 1, b 2);
