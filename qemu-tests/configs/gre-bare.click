// The forwarding benchmark's bare path (scripts/bench-gre.sh): eth1's frames out of eth2 with
// only their Ethernet header rewritten for blue-b, through the Queue a ToDevice pulls from. The
// benchmark measures it beside gre-router.click to tell the cost of the router's lookup and
// checks from that of the devices, the hand-over and the thread.
FromDevice(eth1, BURST 16) -> Strip(14) -> EtherEncap(0x0800, 02:00:00:00:b2:01, 02:00:00:00:b2:02)
  -> Queue(200) -> ToDevice(eth2);
