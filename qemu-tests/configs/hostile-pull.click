// The hostile-blob scenario edits this graph's blob so that a pulls from b (instead of q), and
// b from a: a pull cycle.
Idle -> q :: Queue -> a :: Counter -> b :: Counter -> u :: Unqueue -> Discard; q -> Discard;
