// Blue's coordinator-scenario graph: a steady source on thread 0 and a consumer on thread 1,
// so an install adds a thread the coordinator must place in blue's cgroup.
src :: RatedSource(LENGTH 64, RATE 100);
c :: Counter;
q :: Queue(256);
u :: Unqueue(BURST 8);
out :: Counter;
src -> c -> q -> u -> out -> Discard;
StaticThreadSched(u 1);
