// Red sends through its capped device; the task from src to q costs more than the system
// config's budget, so the coordinator splits it with a root-owned Queue and Unqueue.
src :: RatedSource(LENGTH 64, RATE 50) -> a :: Counter -> b :: Counter -> c :: Counter -> d :: Counter
  -> q :: Queue(100) -> tx :: ToDevice(eth1);
