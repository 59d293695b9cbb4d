// A tenant element named like the coordinator's (a word after @): refused, it could pass for the root's.
src :: RatedSource(LENGTH 64, RATE 50) -> tx@shaper :: Counter -> q :: Queue(100) -> tx :: ToDevice(eth1);
