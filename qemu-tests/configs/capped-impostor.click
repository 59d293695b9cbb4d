// A tenant element named like the coordinator's shaper: refused, it could pass for root's.
src :: RatedSource(LENGTH 64, RATE 50) -> tx@shaper :: Counter -> q :: Queue(100) -> tx :: ToDevice(eth1);
