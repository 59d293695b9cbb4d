// Red's demo pipeline: generate 10000 small packets, count them, queue them, and drain the queue
// on red's own kernel thread.
gen :: InfiniteSource(LENGTH 64, LIMIT 10000, BURST 16);
seen :: Counter;
q :: Queue(1024);
sent :: Counter;
gen -> seen -> q -> Unqueue(BURST 32) -> sent -> Discard;
