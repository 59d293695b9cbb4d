// A two-interface IPv4 router for one vdp tenant.
//
// eth1 faces the 10.1.0.0/24 network and eth2 the 10.2.0.0/24 network; everything else goes to
// the upstream gateway 10.2.0.254 on eth2. vdp has no ARP, so next-hop Ethernet addresses are
// configured, and ARP frames are counted and dropped.

define($MAC1 02:00:0a:01:00:01, $MAC2 02:00:0a:02:00:01)
define($PEER1 02:00:0a:01:00:fe, $PEER2 02:00:0a:02:00:fe)

// Everything an interface sends goes through its own queue.
elementclass Egress {
  $dev |
  input -> q :: Queue(500) -> tx :: ToDevice($dev)
}

// Frames arriving on one interface: IP on output 0, ARP counted and dropped, the rest dropped.
elementclass Ingress {
  $dev, $color |
  rx :: FromDevice($dev, BURST 16)
    -> frames :: Counter
    -> link :: Classifier(12/0800, 12/0806, -);
  link [0] -> Paint($color) -> Strip(14) -> output;
  link [1] -> arp :: Counter -> Discard;
  link [2] -> Discard;
}

in1 :: Ingress(eth1, 1);
in2 :: Ingress(eth2, 2);
out1 :: Egress(eth1);
out2 :: Egress(eth2);

// Checked IP packets meet the routing table; bad headers are counted on output 1.
ip :: CheckIPHeader(INTERFACES 10.1.0.1/24 10.2.0.1/24)
   -> GetIPAddress(16)
   -> rt :: RadixIPLookup(10.1.0.1/32 0,
                          10.2.0.1/32 0,
                          10.1.0.0/24 1,
                          10.2.0.0/24 2,
                          0.0.0.0/0 10.2.0.254 2);
ip [1] -> bad :: Counter -> Discard;
in1 -> ip;
in2 -> ip;

// Packets for the router itself are counted and dropped: there is no host stack to give them to.
rt [0] -> local :: Counter -> Discard;

// Forwarding path per interface: decrement the TTL, fix the checksum, add the link header.
rt [1] -> ttl1 :: DecIPTTL -> SetIPChecksum -> EtherEncap(0x0800, $MAC1, $PEER1) -> out1;
rt [2] -> ttl2 :: DecIPTTL -> SetIPChecksum -> EtherEncap(0x0800, $MAC2, $PEER2) -> out2;
ttl1 [1] -> expired :: Counter -> Discard;
ttl2 [1] -> expired;
