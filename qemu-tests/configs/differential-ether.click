// The differential scenario's configuration for a tenant whose devices carry Ethernet frames
// (blue's eth1, 02:00:00:00:b1:01 on 10.1.0.0/24, and eth2, 02:00:00:00:b2:01 on 10.2.0.0/24, in
// gre-system.toml): Ethernet classification, IP checked in place behind the Ethernet header
// (OFFSET 14, the network-header annotation), mirroring, stripping and restoring, switches,
// copies and queues, run in the kernel and by `vdpctl run` on the same frames and compared bit for
// bit (qemu-tests/scenarios/differential.sh).
//
// The order out of a device must not depend on timing: every frame bound for eth1 meets one
// Queue (q1), and every frame bound for eth2 passes one SimpleQueue, one Unqueue and one Queue
// (q2), whatever path it took before; nothing else holds packets.

define($ME1 02:00:00:00:b1:01, $ME2 02:00:00:00:b2:01)
define($HOST1 02:00:00:00:b1:02, $HOST2 02:00:00:00:b2:02)

out1 :: Counter;
out2 :: SimpleQueue(1000);
mirror :: PaintSwitch;
chk :: CheckIPHeader(OFFSET 14, INTERFACES 10.1.0.1/24 10.2.0.1/24);
arp :: Counter;
foreign :: Counter;
v6 :: Counter;
rest :: Counter;
expired :: Counter;
out1 -> q1 :: Queue(1000) -> tx1 :: ToDevice(eth1, BURST 4);
out2 -> uq :: Unqueue(3) -> pr :: Print("diff-blue", MAXLENGTH 16, RATE 1) -> q2 :: Queue(1000) -> tx2 :: ToDevice(eth2);

rx1 :: FromDevice(eth1, BURST 2);
rx2 :: FromDevice(eth2);
rx1 -> in1 :: Counter -> k1 :: Classifier(0/02000000b101 12/0800, 12/0806, 12/0800, 12/86dd, -);
rx2 -> in2 :: Counter -> k2 :: Classifier(0/02000000b201 12/0800, 12/0806, 12/0800, 12/86dd, -);
k1[0] -> Paint(1) -> chk;
k2[0] -> Paint(2) -> chk;
k1[1] -> Paint(1) -> arp;
k2[1] -> Paint(2) -> arp;
k1[2] -> foreign;
k2[2] -> foreign;
k1[3] -> v6;
k2[3] -> v6;
k1[4] -> rest;
k2[4] -> rest;

// IPv4 for us: checked where it lies, routed, its TTL decremented at the network header, and
// re-addressed for the next hop; the 192.168/16 route is reflected to where it came from.
chk[1] -> bad :: Counter -> Discard;
chk[0] -> rt :: RadixIPLookup(10.1.0.0/24 0, 10.2.0.0/24 1, 10.0.0.0/8 10.2.0.66 1, 192.168.0.0/16 2);
rt[0] -> ttl1 :: DecIPTTL -> Strip(14) -> EtherEncap(0x0800, $ME1, $HOST1) -> out1;
rt[1] -> ttl2 :: DecIPTTL -> SetIPChecksum -> Strip(14) -> EtherEncap(0x0800, $ME2, $HOST2) -> out2;
ttl1[1] -> expired;
ttl2[1] -> expired;
expired -> Discard;
rt[2] -> mirror;
mirror[0] -> Discard;
mirror[1] -> EtherMirror -> out1;
mirror[2] -> EtherMirror -> out2;

// ARP: one copy reflected, one stripped and restored and spread by the sender's address.
arp -> arptee :: Tee(2);
arptee[0] -> mirror;
arptee[1] -> Strip(14) -> Unstrip(14) -> hs :: HashSwitch(28, 4);
hs[0] -> out1;
hs[1] -> out2;

// IPv4 for another address: in turn over both devices and a discard.
foreign -> chew :: Chew(100) -> rr :: RoundRobinSwitch;
rr[0] -> out1;
rr[1] -> out2;
rr[2] -> Discard;

v6 -> Discard;

// Anything else: short frames lose their Ethernet header (some leave shorter than one), long ones
// are dropped.
rest -> len :: CheckLength(64);
len[0] -> Strip(14) -> cut :: Counter -> out2;
len[1] -> Idle;

hello :: InfiniteSource(DATA "\<02000000b10202000000b101080045000020000100004011ae1f0a0100010a0100020035003500080000>", LIMIT 3, BURST 1);
hello -> out1;
