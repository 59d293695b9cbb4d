// About 10 MiB of data-plane memory: five queues of 262144 slots (8 bytes each).
Idle -> q1 :: Queue(262144) -> Discard;
Idle -> q2 :: Queue(262144) -> Discard;
Idle -> q3 :: Queue(262144) -> Discard;
Idle -> q4 :: Queue(262144) -> Discard;
Idle -> q5 :: Queue(262144) -> Discard;
