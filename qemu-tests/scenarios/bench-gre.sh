# timeout: 2400
# Forwarding benchmark (not a test; `make bench-gre` runs it and writes docs/bench/): 64-byte
# frames from pktgen on blue-a's gretap, GRE in over phys0, an IPv4 router, GRE out to blue-b.
#   vdp:      blue's router graph (gre-router.click) on its tenant thread.
#   vdp-bare: blue's graph only FromDevice(eth1) -> Queue -> ToDevice(eth2) (gre-bare.click): the
#             devices, the hand-over and the thread without the router's elements.
#   linux:    the same job as vdp with Linux's own gretap devices and ip_forward.
# Each round, within one boot: both modes' offered-rate sweeps (bench-sweep.sh: the peak rate at
# 0.1% loss), then one unlimited blast of each. Every measurement prints a VDP-BENCH line the
# host collects; after the last round, VDP-PROFILE lines hold the kernel's own counters over one
# more blast of each mode.
. /vdp/lib.sh
. /vdp/gre-topology.sh
. /vdp/bench-sweep.sh

require_platform
load_vdp
# vdp.bench_rounds= and vdp.bench_blast= on the kernel command line (scripts/bench-gre.sh).
param() { sed -n "s/.*vdp\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
ROUNDS=$(param bench_rounds); ROUNDS=${ROUNDS:-3}
BLAST=$(param bench_blast); BLAST=${BLAST:-100000}
SWEEP_START=$(param bench_start); SWEEP_START=${SWEEP_START:-8000}

vdpctl system apply "$SYSTEM" >/dev/null
vdpctl compile --system "$SYSTEM" "blue=/vdp/configs/gre-router.click" -o /tmp/blue.vdpg >/dev/null
vdpctl compile --system "$SYSTEM" "blue=/vdp/configs/gre-bare.click" -o /tmp/bare.vdpg >/dev/null
vdpctl graph install --tenant 2 /tmp/blue.vdpg >/dev/null
in_ns blue-a ping -c 2 -w 20 10.2.0.2 >/dev/null || fail "blue does not forward"

# Linux's own forwarding, built but idle until vdp lets go of phys0.
ip link add lt1 type gretap local 192.0.2.1 remote 192.0.2.21
ip link add lt2 type gretap local 192.0.2.1 remote 192.0.2.22 key 22
ip link set lt1 address 02:00:00:00:b1:01
ip link set lt2 address 02:00:00:00:b2:01
ip addr add 10.1.0.1/24 dev lt1
ip addr add 10.2.0.1/24 dev lt2
ip link set lt1 up
ip link set lt2 up
ip neigh replace 10.2.0.2 lladdr 02:00:00:00:b2:02 dev lt2
ip neigh replace 192.0.2.22 lladdr 02:00:00:00:ff:01 dev phys0
echo 1 > /proc/sys/net/ipv4/ip_forward

THREAD_PID=$(vdpctl tenant show --id 2 -j -p | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')
[ -n "$THREAD_PID" ] || fail "blue has no tenant thread"
stat_of() { vdpctl stats --tenant 2 -j -p | sed -n "s/.*\"$1\": \\([0-9]*\\).*/\\1/p" | head -1; }
rx_full() { counter 2 eth1 rx_queue_full; }
# Per trial: blue's tenant thread's ticks, its wake-ups, its task runs, the frames eth1's receive
# queue refused, and the NET_RX softirqs run and the context switches of the thread.
sweep_counters() {
  echo "thread=$(proc_ticks "$THREAD_PID") wakeups=$(stat_of wakeups) task_runs=$(stat_of task_runs) rx_full=$(rx_full)" \
    "net_rx=$(awk '$1 == "NET_RX:" { s = 0; for (i = 2; i <= NF; i++) s += $i; print s }' /proc/softirqs)" \
    "switches=$(awk '/^(non)?voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }' "/proc/$THREAD_PID/status")"
}
linux_mode() { vdpctl port detach phys0 >/dev/null; }

# vdp_mode GRAPH: phys0 to vdp (which must not have it), with blue running GRAPH.
vdp_mode() { vdpctl graph install --tenant 2 "$1" >/dev/null; vdpctl port attach phys0 >/dev/null; }
linux_mode
round=1
while [ "$round" -le "$ROUNDS" ]; do
  vdp_mode /tmp/blue.vdpg; sweep vdp; linux_mode
  sweep linux
  vdp_mode /tmp/bare.vdpg; sweep vdp-bare; linux_mode
  vdp_mode /tmp/blue.vdpg; blast vdp "$BLAST"; linux_mode
  blast linux "$BLAST"
  vdp_mode /tmp/bare.vdpg; blast vdp-bare "$BLAST"; linux_mode
  round=$((round + 1))
done
# Where packets were lost: vdp's device counters, blue's thread, Linux's device counters.
vdp_mode /tmp/blue.vdpg
vdpctl vdev show --tenant 2
vdpctl stats --tenant 2
ip -s link show lt1
ip -s link show lt2
linux_mode
unload_vdp
