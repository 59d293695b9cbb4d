// An IPv4 router between two Ethernet devices that knows no host's Ethernet address: it
// answers ARP for its own address on each side (ARPResponder) and finds the hosts by ARP
// (ARPQuerier). Its addresses are named once, with AddressInfo. No renewal polls
// (POLL_TIMEOUT 0), so that the arp scenario can count every query.

AddressInfo(
  side1 10.1.0.1/24 02:00:00:00:a1:01,
  side2 10.2.0.1/24 02:00:00:00:a2:01,
);

elementclass Side {
  $me, $dev |
  rx :: FromDevice($dev) -> frames :: Counter
    -> c :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
  out :: Queue(200) -> tx :: ToDevice($dev);
  c[0] -> responder :: ARPResponder($me) -> replies :: Counter -> out;
  c[1] -> [1] arpq :: ARPQuerier($me, ENTRY_CAPACITY 64, CAPACITY 100, POLL_TIMEOUT 0) -> out;
  c[2] -> Strip(14) -> CheckIPHeader -> output;
  c[3] -> other :: Counter -> Discard;
  input -> arpq;
}

p1 :: Side(side1, eth1);
p2 :: Side(side2, eth2);
rt :: RadixIPLookup(10.1.0.0/24 0, 10.2.0.0/24 1);
p1 -> rt;
p2 -> rt;
rt[0] -> ttl1 :: DecIPTTL -> p1;
rt[1] -> ttl2 :: DecIPTTL -> p2;
ttl1[1] -> Discard;
ttl2[1] -> Discard;
