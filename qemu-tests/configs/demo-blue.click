// Blue's demo pipeline: mark packets, drop those over 100 bytes, count the rest.
gen :: InfiniteSource(LENGTH 200, LIMIT 500);
small :: InfiniteSource(LENGTH 60, LIMIT 1500);
ok :: Counter;
toolong :: Counter;
gen -> check :: CheckLength(100);
small -> check;
check [0] -> Paint(2) -> ok -> Discard;
check [1] -> toolong -> Discard;
