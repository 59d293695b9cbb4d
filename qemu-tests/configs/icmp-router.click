// Click's standard IP router (make-ip-conf.pl's forwarding paths) between a tenant's two
// devices, eth1 (10.1.0.0/24, link MTU 1500) and eth2 (10.2.0.0/24, link MTU 1400). Every
// error the forwarding path raises is an ICMP error from the router, routed like any packet
// (through a queue, as vdp refuses push-only cycles); FixIPSrc gives it the address of the
// interface it leaves by. The devices are IP tunnels: the Ethernet header is only what
// FromDevice and ToDevice expect, so its addresses are arbitrary.

define($MAC 02:00:00:00:aa:01, $PEER 02:00:00:00:aa:02)

rt :: RadixIPLookup(10.1.0.1/32 0, 10.2.0.1/32 0, 10.1.0.255/32 0, 10.2.0.255/32 0,
                    10.1.0.0/24 1, 10.2.0.0/24 2, 255.255.255.255/32 0);
rt[0] -> local :: Counter -> Discard;
errors :: Queue(100) -> Unqueue(BURST 16) -> rt;

FromDevice(eth1, BURST 16) -> c1 :: Classifier(12/0800, -);
c1[0] -> Paint(1) -> Strip(14) -> CheckIPHeader(INTERFACES 10.1.0.1/24 10.2.0.1/24) -> rt;
c1[1] -> Discard;
FromDevice(eth2, BURST 16) -> c2 :: Classifier(12/0800, -);
c2[0] -> Paint(2) -> Strip(14) -> CheckIPHeader(INTERFACES 10.1.0.1/24 10.2.0.1/24) -> rt;
c2[1] -> Discard;

// Forwarding path for eth1.
rt[1] -> DropBroadcasts
  -> cp1 :: PaintTee(1)
  -> gio1 :: IPGWOptions(10.1.0.1)
  -> FixIPSrc(10.1.0.1)
  -> dt1 :: DecIPTTL
  -> fr1 :: IPFragmenter(1500)
  -> EtherEncap(0x0800, $MAC, $PEER) -> Queue(200) -> ToDevice(eth1);
dt1[1] -> ICMPError(10.1.0.1, timeexceeded) -> errors;
fr1[1] -> ICMPError(10.1.0.1, unreachable, needfrag, PMTU 1500) -> errors;
gio1[1] -> ICMPError(10.1.0.1, parameterproblem) -> errors;
cp1[1] -> ICMPError(10.1.0.1, redirect, host) -> errors;

// Forwarding path for eth2.
rt[2] -> DropBroadcasts
  -> cp2 :: PaintTee(2)
  -> gio2 :: IPGWOptions(10.2.0.1)
  -> FixIPSrc(10.2.0.1)
  -> dt2 :: DecIPTTL
  -> fr2 :: IPFragmenter(1400)
  -> EtherEncap(0x0800, $MAC, $PEER) -> Queue(200) -> ToDevice(eth2);
dt2[1] -> expired :: Counter -> ICMPError(10.2.0.1, timeexceeded) -> errors;
fr2[1] -> ICMPError(10.2.0.1, unreachable, needfrag, PMTU 1400) -> errors;
gio2[1] -> ICMPError(10.2.0.1, parameterproblem) -> errors;
cp2[1] -> ICMPError(10.2.0.1, redirect, host) -> errors;

// eth3 carries Ethernet: what DropBroadcasts makes of test frames (EtherType 0x88b5) to the
// broadcast address, to a group address, and to unicast ones (the device's own or another's).
FromDevice(eth3) -> kind :: Classifier(12/88b5 0/ffffffffffff, 12/88b5 0/01%01, 12/88b5, -);
kind[0] -> bc :: DropBroadcasts; bc[0] -> bc_passed :: Counter -> Discard; bc[1] -> bc_dropped :: Counter -> Discard;
kind[1] -> mc :: DropBroadcasts; mc[0] -> mc_passed :: Counter -> Discard; mc[1] -> mc_dropped :: Counter -> Discard;
kind[2] -> uc :: DropBroadcasts; uc[0] -> uc_passed :: Counter -> Discard; uc[1] -> uc_dropped :: Counter -> Discard;
kind[3] -> Discard;
