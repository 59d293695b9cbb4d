// The other tenant-usable classes with real packets: rate-limited sources and queues, a
// shaper, switches, Print, Chew, the static and linear route tables, IP and Ethernet
// encapsulation, and the scheduling directives.
rs :: RatedSource(DATA "\<4500001c000100004011ae23c0a800010a0102030400003500080000>", RATE 100, LIMIT 100);
rs -> pr :: Print("RED pkt", MAXLENGTH 20, RATE 2) -> chew :: Chew(1000) -> rr :: RoundRobinSwitch;
rr[0] -> rr0 :: Counter -> Discard;
rr[1] -> rr1 :: Counter -> Discard;

src :: InfiniteSource(DATA "\<4500001c000100004011ae23c0a800010a0102030400003500080000>", LIMIT 60, BURST 10);
src -> q :: Queue(100) -> shaper :: BandwidthShaper(56kBps) -> ru :: RatedUnqueue(300) -> hs :: HashSwitch(12, 8);
hs[0] -> h0 :: Counter -> Discard;
hs[1] -> h1 :: Counter -> Discard;

gs :: InfiniteSource(DATA "\<4500001c000100004011ae23c0a800010a0102030400003500080000>", LIMIT 20, BURST 5);
gs -> GetIPAddress(16) -> sl :: StaticIPLookup(10.0.0.0/8 0, 0.0.0.0/0 1);
sl[0] -> IPEncap(ipip, 1.1.1.1, 2.2.2.2) -> ll :: LinearIPLookup(2.2.2.0/24 0)
  -> EtherEncap(0x0800, 00:01:02:03:04:05, 00:0a:0b:0c:0d:0e) -> EtherMirror
  -> mir :: Classifier(0/000102030405 6/000a0b0c0d0e 14/45 23/04, -);
mir[0] -> mirrored :: Counter -> Discard;
mir[1] -> Discard;
sl[1] -> Discard;

pin :: StaticThreadSched(rs 0);
share :: ScheduleInfo(rs 2);
