// A source held to 1000 packets/s: its thread must sleep between packets, not poll.
rs :: RatedSource(LENGTH 64, RATE 1000);
c :: Counter;
rs -> c -> Discard;
