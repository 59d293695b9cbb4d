// Red floods its capped device eth1: 2000 IPv4 packets of 1200 bytes a second (2.4 MB/s, ten
// times its 250000 B/s cap) from a graph without any shaper. ToDevice moves up to 64 frames a
// run, not the default 16: under the tenant's 40% CPU limit in the debug guest, with both
// sources of shaping-two.click, its thread ran a pass about 13 times a second, and 16 frames a
// run was then about the cap itself (0.79 and 0.83 of it were measured).
src :: RatedSource(LENGTH 1180, RATE 2000)
  -> IPEncap(17, 10.1.0.1, 10.1.0.2)
  -> EtherEncap(0x0800, 02:00:00:00:b1:01, 02:00:00:00:b1:02)
  -> q :: Queue(200) -> tx :: ToDevice(eth1, BURST 64);
