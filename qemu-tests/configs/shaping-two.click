// Red floods both capped devices, each at 500 packets of 1200 bytes a second (600000 B/s, 2.4
// times its own 250000 B/s cap), so that together they offer 1.2 MB/s: the tenant's aggregate
// cap of 375000 B/s holds them to less. Why not more: see shaping-one.click.
src1 :: RatedSource(LENGTH 1180, RATE 500)
  -> IPEncap(17, 10.1.0.1, 10.1.0.2)
  -> EtherEncap(0x0800, 02:00:00:00:b1:01, 02:00:00:00:b1:02)
  -> q1 :: Queue(200) -> tx1 :: ToDevice(eth1);
src2 :: RatedSource(LENGTH 1180, RATE 500)
  -> IPEncap(17, 10.2.0.1, 10.2.0.2)
  -> EtherEncap(0x0800, 02:00:00:00:b2:01, 02:00:00:00:b2:02)
  -> q2 :: Queue(200) -> tx2 :: ToDevice(eth2);
