// Red floods its capped device eth1: 625 IPv4 packets of 1200 bytes a second (750000 B/s, three
// times its 250000 B/s cap) from a graph without any shaper. The offered load is what the
// tenant's thread can really produce inside its CPU limit on the debug guest (about 0.7 ms of
// CPU a packet there): at 2000 packets a second (ten times the cap) and a 40% limit its passes
// took so long that ToDevice ran further apart than a cap's 100 ms burst, and the device got
// less than its cap for want of CPU, not because of the cap.
src :: RatedSource(LENGTH 1180, RATE 625)
  -> IPEncap(17, 10.1.0.1, 10.1.0.2)
  -> EtherEncap(0x0800, 02:00:00:00:b1:01, 02:00:00:00:b1:02)
  -> q :: Queue(200) -> tx :: ToDevice(eth1);
