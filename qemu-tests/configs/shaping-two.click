// Red floods both capped devices, each at ten times its 250000 B/s cap, so that together they
// would send 500000 B/s: the tenant's aggregate cap of 375000 B/s holds them to less. Each
// ToDevice moves up to 64 frames a run (see shaping-one.click).
src1 :: RatedSource(LENGTH 1180, RATE 2000)
  -> IPEncap(17, 10.1.0.1, 10.1.0.2)
  -> EtherEncap(0x0800, 02:00:00:00:b1:01, 02:00:00:00:b1:02)
  -> q1 :: Queue(200) -> tx1 :: ToDevice(eth1, BURST 64);
src2 :: RatedSource(LENGTH 1180, RATE 2000)
  -> IPEncap(17, 10.2.0.1, 10.2.0.2)
  -> EtherEncap(0x0800, 02:00:00:00:b2:01, 02:00:00:00:b2:02)
  -> q2 :: Queue(200) -> tx2 :: ToDevice(eth2, BURST 64);
