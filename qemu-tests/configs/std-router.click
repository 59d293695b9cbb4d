// The standard two-interface IP router as Click's documentation lays it out: ARP on both
// sides, a shared input path and routing table, and per interface a forwarding path with
// broadcast dropping, redirects, gateway options, source fixing, TTL, fragmentation and the
// ICMP errors each of those can raise. Only the device names and the addresses are ours:
// eth1 is 10.1.0.1/24, eth2 10.2.0.1/24, and eth2's link carries at most 1400 bytes.

// The shared IP input path and the routing table: port 0 is the router itself, port 1 the
// hosts on eth1, port 2 the hosts on eth2.
ip :: Strip(14)
  -> CheckIPHeader(INTERFACES 10.1.0.1/24 10.2.0.1/24)
  -> rt :: StaticIPLookup(
       10.1.0.1/32 0, 10.1.0.255/32 0, 10.1.0.0/32 0,
       10.2.0.1/32 0, 10.2.0.255/32 0, 10.2.0.0/32 0,
       10.1.0.0/24 1,
       10.2.0.0/24 2);

// ARP replies reach the host and both queriers.
arpt :: Tee(3);

// eth1: classify what arrives; answer ARP for our address; queue what leaves.
c1 :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
FromDevice(eth1) -> c1;
out1 :: Queue(200) -> ToDevice(eth1);
c1[0] -> ar1 :: ARPResponder(10.1.0.1 02:00:00:00:b1:01) -> out1;
arpq1 :: ARPQuerier(10.1.0.1, 02:00:00:00:b1:01) -> out1;
c1[1] -> arpt;
arpt[1] -> [1]arpq1;
c1[2] -> Paint(1) -> ip;
c1[3] -> Print("eth1 non-IP") -> Discard;

// eth2, the same way.
c2 :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
FromDevice(eth2) -> c2;
out2 :: Queue(200) -> ToDevice(eth2);
c2[0] -> ar2 :: ARPResponder(10.2.0.1 02:00:00:00:b2:01) -> out2;
arpq2 :: ARPQuerier(10.2.0.1, 02:00:00:00:b2:01) -> out2;
c2[1] -> arpt;
arpt[2] -> [1]arpq2;
c2[2] -> Paint(2) -> ip;
c2[3] -> Print("eth2 non-IP") -> Discard;

// Packets for the router itself, and ARP replies, go to the host.
toh :: ToHost;
arpt[0] -> toh;
rt[0] -> EtherEncap(0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2) -> toh;

// Forwarding towards eth1.
rt[1] -> DropBroadcasts
  -> pt1 :: PaintTee(1)
  -> gio1 :: IPGWOptions(10.1.0.1)
  -> FixIPSrc(10.1.0.1)
  -> dt1 :: DecIPTTL
  -> fr1 :: IPFragmenter(1500)
  -> [0]arpq1;
dt1[1] -> ICMPError(10.1.0.1, timeexceeded) -> rt;
fr1[1] -> ICMPError(10.1.0.1, unreachable, needfrag, PMTU 1500) -> rt;
gio1[1] -> ICMPError(10.1.0.1, parameterproblem) -> rt;
pt1[1] -> ICMPError(10.1.0.1, redirect, host) -> rt;

// Forwarding towards eth2.
rt[2] -> DropBroadcasts
  -> pt2 :: PaintTee(2)
  -> gio2 :: IPGWOptions(10.2.0.1)
  -> FixIPSrc(10.2.0.1)
  -> dt2 :: DecIPTTL
  -> fr2 :: IPFragmenter(1400)
  -> [0]arpq2;
dt2[1] -> ICMPError(10.2.0.1, timeexceeded) -> rt;
fr2[1] -> ICMPError(10.2.0.1, unreachable, needfrag, PMTU 1400) -> rt;
gio2[1] -> ICMPError(10.2.0.1, parameterproblem) -> rt;
pt2[1] -> ICMPError(10.2.0.1, redirect, host) -> rt;
