// Real IPv4 packets through the IP elements: header checks, classification, longest-prefix
// routing, TTL decrement, checksum and Ethernet encapsulation, with every stage counted.
udp :: InfiniteSource(DATA "\<4500001c000100004011ae23c0a800010a0102030400003500080000>", LIMIT 100, BURST 10);
tcp :: InfiniteSource(DATA "\<45000028000100004006a714c0a800010a0909090400005000000000000000005002040000000000>", LIMIT 50, BURST 10);
bad :: InfiniteSource(DATA "\<4500001c000100004011ae22c0a800010a0102030400003500080000>", LIMIT 7, BURST 7);
old :: InfiniteSource(DATA "\<4500001c0001000001114d16c0a80001ac1000010400003500080000>", LIMIT 5, BURST 5);
chk :: CheckIPHeader;
rt :: RadixIPLookup(10.1.0.0/16 0, 172.16.0.0/12 0, 10.9.0.0/16 10.0.0.254 1, 0.0.0.0/0 2);
udp -> chk;
tcp -> chk;
bad -> chk;
old -> chk;
chk[1] -> badc :: Counter -> Discard;
chk[0] -> ipc :: IPClassifier(udp, tcp, -);
ipc[0] -> udpc :: Counter -> rt;
ipc[1] -> tcpc :: Counter -> rt;
ipc[2] -> Discard;
rt[0] -> r0 :: Counter -> ttl :: DecIPTTL -> SetIPChecksum
  -> EtherEncap(0x0800, 00:01:02:03:04:05, 00:0a:0b:0c:0d:0e)
  -> eth :: Classifier(12/0800 22/3f, -);
ttl[1] -> expired :: Counter -> Discard;
eth[0] -> ethc :: Counter -> Strip(14) -> recheck :: CheckIPHeader -> valid :: Counter -> Discard;
eth[1] -> Discard;
rt[1] -> r1 :: Counter -> Discard;
rt[2] -> r2 :: Counter -> Discard;
