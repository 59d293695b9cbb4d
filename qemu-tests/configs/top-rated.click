// The top scenario's steady sender: 500 packets/s, well within blue's share even on an emulated
// guest with a debug kernel (there each packet costs a few hundred microseconds).
rs :: RatedSource(LENGTH 64, RATE 500);
c :: Counter;
rs -> c -> Discard;
