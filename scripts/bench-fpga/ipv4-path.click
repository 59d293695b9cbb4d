// The IPv4 forwarding path of `make bench-fpga`, run by `vdpctl run` and simulated on the FPGA
// level over the same captures.
FromDevice(eth0) -> cl :: Classifier(12/0800, -) -> Strip(14) -> chk :: CheckIPHeader
  -> rt :: LinearIPLookup(10.0.0.0/8 0, 0.0.0.0/0 1) -> ttl :: DecIPTTL
  -> EtherEncap(0x0800, 00:00:00:00:00:01, 00:00:00:00:00:02) -> q :: Queue(64) -> ToDevice(eth1);
cl[1] -> Discard;
rt[1] -> Discard;
