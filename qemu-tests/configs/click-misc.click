// The click-misc scenario's tenant graph: a bridge between eth1 (namespace a) and the host
// device hst (namespace h), for IPv4 frames only, with a 300 ms delay towards the host.
//
// a -> host: PollDevice receives; AverageCounter counts; RED watches the queue behind it and,
// with it short, drops nothing; a second RED that drops whenever its own queue holds a packet
// gets a copy of every frame; three Aligns (the second must copy every frame, the third none);
// SetTimestamp stamps the frame now and DelayShaper holds it 300 ms; ToHost sends it out of the
// host device.
rx :: PollDevice(eth1, BURST 4)
  -> in_ip :: Classifier(12/0800, -)
  -> ac :: AverageCounter
  -> copy :: Tee(2)
  -> red :: RED(100, 200, 0.1)
  -> al0 :: Align(4, 0)
  -> al1 :: Align(4, 1)
  -> al2 :: Align(4, 1)
  -> SetTimestamp
  -> q :: Queue(64)
  -> ds :: DelayShaper(300ms)
  -> Unqueue
  -> th :: ToHost;
in_ip[1] -> Discard;
copy[1] -> red0 :: RED(0, 0, 1, STABILITY 0, GENTLE false) -> hold :: Queue(10) -> Idle;

// host -> a: FromHost receives what h sends through hst. SetTimestamp(1) dates each frame to
// one second after boot, so the 2 s DelayShaper on this side lets it go at once.
fh :: FromHost(hst, BURST 4)
  -> back_ip :: Classifier(12/0800, -)
  -> SetTimestamp(1)
  -> fc :: Counter
  -> Queue(64)
  -> DelayShaper(2s)
  -> ToDevice(eth1);
back_ip[1] -> Discard;
