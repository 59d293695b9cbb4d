// Red sends through its capped device: the coordinator shapes tx with tx@shaper.
src :: RatedSource(LENGTH 64, RATE 50) -> q :: Queue(100) -> tx :: ToDevice(eth1);
