# timeout: 600
# What `make demo` shows. Two tenants, red and blue, each a container (a network namespace plus a
# cgroup). Both install the same IPv4 router, from inside their containers, through the
# coordinator. Both name their devices eth1 and eth2 and use the same addresses. The devices are
# GRE tunnels over one shared veth, phys0, and end at Linux gre (red) and gretap (blue) tunnels
# in a peer namespace. Traffic then flows through both routers. Then red adds a class of its own,
# which runs in red's container engine.
. /vdp/lib.sh
show() { echo "\$ $*"; "$@"; }
SYSTEM=/vdp/configs/gre-system.toml
echo "== vdp demo =="
. /vdp/gre-topology.sh
show insmod /vdp/vdp.ko
step "the coordinator: tenants, their GRE devices on phys0, threads in their cgroups"
start_coordinator $SYSTEM
show vdpctl stats

step "both containers install their router at the same moment"
for t in red blue; do mkdir -p /sys/fs/cgroup/vdp/$t; done
echo "\$ (in each container) vdpctl install gre-router.click"
in_container /vdp/red vdpctl install /vdp/configs/gre-router.click > /tmp/red.out 2>&1 & r=$!
in_container /vdp/blue vdpctl install /vdp/configs/gre-router.click > /tmp/blue.out 2>&1 & b=$!
wait $r || { cat /tmp/red.out; fail "red's install failed"; }
wait $b || { cat /tmp/blue.out; fail "blue's install failed"; }
sed 's/^/   red:  /' /tmp/red.out
sed 's/^/   blue: /' /tmp/blue.out

step "traffic: 10.1.0.2 -> 10.2.0.2 in each tenant's network"
echo "\$ (red's host 10.1.0.2) ping -c 3 10.2.0.2"
in_ns red-a ping -c 3 -w 30 10.2.0.2 | grep -E "bytes from|packets"
echo "\$ (blue's host 10.1.0.2) ping -c 3 10.2.0.2"
in_ns blue-a ping -c 3 -w 30 10.2.0.2 | grep -E "bytes from|packets"

step "each tenant's statistics, read from inside its own container"
for t in red blue; do
  echo "--- $t"
  in_container /vdp/$t vdpctl read p1/rx.stats | grep -E "_packets|_bytes" | sed 's/^/   eth1 /'
  echo "   router graph: $(in_container /vdp/$t vdpctl read p1/frames.count) frames in on eth1," \
       "$(in_container /vdp/$t vdpctl read p2/tx.count) sent on eth2"
  echo "   cgroup /vdp/$t cpu time: $(sed -n 's/usage_usec //p' /sys/fs/cgroup/vdp/$t/cpu.stat) us"
done
echo "\$ (in blue's container) vdpctl read --tenant red p1/rx.count   # blue may not read red"
if in_container /vdp/blue vdpctl read --tenant red p1/rx.count; then fail "blue read red's counters"; fi

step "red adds an element class of its own: it runs in red's container, the rest stays in the kernel"
echo "\$ (in red's container) vdpctl install --engine flow-sampler-engine container-red.click"
in_container /vdp/red vdpctl install --engine /usr/bin/flow-sampler-engine /vdp/configs/container-red.click > /tmp/red.out 2>&1 \
  || { cat /tmp/red.out; fail "red's install with its own class failed"; }
sed 's/^/   red:  /' /tmp/red.out
echo "\$ (in red's container) vdpctl show   # the partition, in part"
in_container /vdp/red vdpctl show | sed -n '/^container engine:/,/^source:/p' | grep -E "^container engine|partition:|container level:|pinned: class FlowSampler|boundary (kernel|container) ->|replaces" | sed 's/^/   /'
echo "\$ (red's host 10.1.0.2) ping -c 3 10.2.0.2"
in_ns red-a ping -c 3 -w 30 10.2.0.2 | grep -E "bytes from|packets"
echo "   red's FlowSampler, in its container engine, saw $(in_container /vdp/red vdpctl engine read sampler.seen) packets;" \
     "the kernel's ToContainer sent $(in_container /vdp/red vdpctl read k2c0@boundary.count)"
in_container /vdp/red vdpctl engine stop >/dev/null || fail "red's engine did not stop"

stop_coordinator
show rmmod vdp
echo "== demo finished =="
