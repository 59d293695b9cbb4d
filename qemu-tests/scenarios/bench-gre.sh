# timeout: 1500
# Forwarding benchmark (not a test; `make bench-gre` runs it and writes docs/bench/): 64-byte
# frames from pktgen on blue-a's gretap, GRE in over phys0, an IPv4 router, GRE out to blue-b.
#   A: vdp, blue's router graph on its tenant thread.
#   B: Linux, the same job with its own gretap devices and ip_forward.
# Rounds alternate A and B within one boot; each prints a VDP-BENCH line the host collects.
. /vdp/lib.sh
. /vdp/gre-topology.sh

require_platform
load_vdp
COUNT=${VDP_BENCH_COUNT:-100000}
ROUNDS=${VDP_BENCH_ROUNDS:-3}

vdpctl system apply "$SYSTEM" >/dev/null
vdpctl compile --system "$SYSTEM" "blue=/vdp/configs/gre-router.click" -o /tmp/blue.vdpg >/dev/null
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

# busy, softirq and total CPU ticks over all CPUs, and the CPU ticks of blue's tenant thread.
cpu_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
thread_pid=$(vdpctl tenant show --id 2 -j -p | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')
thread_ticks() { awk '{ print $14 + $15 }' "/proc/$thread_pid/stat"; }
rx_at_b() { in_ns blue-b cat /sys/class/net/t-blue-b/statistics/rx_packets; }

# run_pktgen MODE: one pktgen run of COUNT frames; prints a VDP-BENCH line.
run_pktgen() {
  in_ns blue-a sh -c "
    echo rem_device_all > /proc/net/pktgen/kpktgend_0
    echo add_device t-blue-a > /proc/net/pktgen/kpktgend_0
    d=/proc/net/pktgen/t-blue-a
    echo 'count $COUNT' > \$d
    echo 'pkt_size 64' > \$d
    echo 'delay 0' > \$d
    echo 'dst 10.2.0.2' > \$d
    echo 'dst_mac 02:00:00:00:b1:01' > \$d
    echo 'udp_dst_min 9' > \$d
    echo 'udp_dst_max 9' > \$d"
  rx0=$(rx_at_b); set -- $(cpu_ticks); busy0=$1 soft0=$2 all0=$3; thread0=$(thread_ticks)
  in_ns blue-a sh -c 'echo start > /proc/net/pktgen/pgctrl'
  set -- $(cpu_ticks); busy1=$1 soft1=$2 all1=$3; thread1=$(thread_ticks)
  sleep 1
  rx1=$(rx_at_b)
  usec=$(in_ns blue-a sed -n 's/.*Result: OK: \([0-9]*\)(c.*/\1/p' /proc/net/pktgen/t-blue-a)
  echo "VDP-BENCH mode=$MODE sent=$COUNT received=$((rx1 - rx0)) usec=$usec busy=$((busy1 - busy0)) softirq=$((soft1 - soft0)) thread=$((thread1 - thread0)) ticks=$((all1 - all0))"
}

vdpctl port detach phys0 >/dev/null
round=1
while [ "$round" -le "$ROUNDS" ]; do
  MODE=vdp
  vdpctl port attach phys0 >/dev/null
  run_pktgen
  MODE=linux
  vdpctl port detach phys0 >/dev/null
  run_pktgen
  round=$((round + 1))
done
# Where packets were lost: vdp's device counters, Linux's device counters.
vdpctl vdev show --tenant 2
ip -s link show lt1
ip -s link show lt2
unload_vdp
