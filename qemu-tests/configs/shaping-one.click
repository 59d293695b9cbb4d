// Red floods its capped device eth1: 2000 IPv4 packets of 1200 bytes a second (2.4 MB/s, ten
// times its 250000 B/s cap) from a graph without any shaper.
src :: RatedSource(LENGTH 1180, RATE 2000)
  -> IPEncap(17, 10.1.0.1, 10.1.0.2)
  -> EtherEncap(0x0800, 02:00:00:00:b1:01, 02:00:00:00:b1:02)
  -> q :: Queue(200) -> tx :: ToDevice(eth1);
