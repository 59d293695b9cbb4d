// blue's router with a custom class of the same name as red's, FlowSampler, but blue's own
// (vdp-test-engine's: one output and a COLOR), which runs in blue's container engine.

define($ME1 02:00:00:00:b1:01, $ME2 02:00:00:00:b2:01)
define($HOST1 02:00:00:00:b1:02, $HOST2 02:00:00:00:b2:02)

elementclass Port {
  $dev |
  input -> q :: Queue(200) -> tx :: ToDevice($dev);
  rx :: FromDevice($dev, BURST 16) -> frames :: Counter
    -> type :: Classifier(12/0800, -);
  type[0] -> Strip(14) -> CheckIPHeader -> output;
  type[1] -> other :: Counter -> Discard;
}

p1 :: Port(eth1);
p2 :: Port(eth2);
rt :: RadixIPLookup(10.1.0.0/24 0, 10.2.0.0/24 1);
p1 -> c_in :: Counter -> sampler :: FlowSampler(COLOR 7) -> c_out :: Counter -> rt;
p2 -> rt;
rt[0] -> ttl1 :: DecIPTTL -> EtherEncap(0x0800, $ME1, $HOST1) -> p1;
rt[1] -> ttl2 :: DecIPTTL -> EtherEncap(0x0800, $ME2, $HOST2) -> p2;
ttl1[1] -> Discard;
ttl2[1] -> Discard;
