// The differential scenario's configuration for a tenant whose devices carry bare IPv4 (red's
// eth1, 10.1.0.0/24, and eth2, 10.2.0.0/24, in gre-system.toml): the IP classes, the three route
// tables, annotations, paint, switches and encapsulations, run in the kernel and by `vdpctl run`
// on the same packets and compared bit for bit (qemu-tests/scenarios/differential.sh).
//
// The order out of a device must not depend on timing: every packet bound for eth1 meets one
// Queue (q1), and every packet bound for eth2 passes one SimpleQueue, one Unqueue and one Queue
// (q2), whatever path it took before; nothing else holds packets.

define($ME1 02:00:00:00:b1:01, $ME2 02:00:00:00:b2:01)
define($HOST1 02:00:00:00:b1:02, $HOST2 02:00:00:00:b2:02)

out1 :: EtherEncap(0x0800, $ME1, $HOST1);
out2 :: SimpleQueue(1000);
radix :: RadixIPLookup(10.1.0.0/24 0, 10.2.0.0/24 1, 10.3.0.0/16 10.2.0.254 1);
out1 -> q1 :: Queue(1000) -> tx1 :: ToDevice(eth1);
out2 -> uq :: Unqueue(4) -> EtherEncap(0x0800, $ME2, $HOST2) -> q2 :: Queue(1000) -> tx2 :: ToDevice(eth2, BURST 8);

rx1 :: FromDevice(eth1, BURST 4);
rx2 :: FromDevice(eth2, BURST 8);
rx1 -> paint1 :: Paint(1) -> frames :: Counter;
rx2 -> paint2 :: Paint(2) -> frames;
frames -> ether :: Classifier(12/0800, -);
ether[1] -> notip :: Counter -> Discard;
ether[0] -> Strip(14) -> chk :: CheckIPHeader(BADSRC 10.9.9.9);

// Bad headers: the short ones get a fresh checksum and go back out of the device they came in on.
chk[1] -> bad :: Counter -> short :: CheckLength(60);
short[0] -> SetIPChecksum -> back :: PaintSwitch;
short[1] -> Discard;
back[0] -> Idle;
back[1] -> out1;
back[2] -> out2;

chk[0] -> proto :: IPClassifier(icmp type 8, udp port 53, udp, tcp, -);

// Echo requests are routed on their source (GetIPAddress), back towards the sender.
proto[0] -> echo :: Counter -> GetIPAddress(12)
  -> linear :: LinearIPLookup(10.1.0.0/24 0, 10.2.0.0/24 1, 10.2.0.128/25 10.2.0.1 2);
linear[0] -> out1;
linear[1] -> out2;
linear[2] -> viagw :: Counter -> out2;

// DNS: a copy routed as UDP, and a copy wrapped four times in IP-in-IP to eth2: 80 bytes pushed
// where the stripped Ethernet header and the user engine's 64 bytes of headroom leave 78, and past
// the tunnel's MTU for the longest packets.
proto[1] -> dns :: Counter -> tee :: Tee(2);
tee[0] -> radix;
tee[1] -> IPEncap(ipip, 10.0.0.1, 10.2.0.99, TTL 9, TOS 4)
  -> IPEncap(ipip, 10.0.0.2, 10.2.0.98, DF true)
  -> IPEncap(4, 10.0.0.3, 10.2.0.97)
  -> IPEncap(ipip, 10.0.0.4, 10.2.0.96, TTL 1) -> wrapped :: Counter -> out2;

proto[2] -> udp :: Counter -> radix;
radix[0] -> ttl1 :: DecIPTTL -> out1;
radix[1] -> ttl2 :: DecIPTTL -> out2;
ttl1[1] -> expired :: Counter -> Discard;
ttl2[1] -> expired;

proto[3] -> tcp :: Counter -> static :: StaticIPLookup(10.1.0.0/24 0, 10.2.0.0/24 1, 0.0.0.0/0 2);
static[0] -> DecIPTTL -> hs :: HashSwitch(12, 8);
hs[0] -> out1;
hs[1] -> long :: CheckLength(100);
long[0] -> out1;
long[1] -> toolong :: Counter -> Discard;
static[1] -> SetIPChecksum -> out2;
static[2] -> rr :: RoundRobinSwitch;
rr[0] -> out1;
rr[1] -> out2;

proto[4] -> other :: Counter -> Discard;

// A few packets of our own, sent before any arrive.
hello :: InfiniteSource(DATA "\<4500001c000100004011ae23c0a800010a0102030400003500080000>", LIMIT 5, BURST 2);
hello -> out1;

pin :: StaticThreadSched(hello 0, uq 0);
share :: ScheduleInfo(rx1 2, uq 3);
