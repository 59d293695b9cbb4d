# needs: python
# timeout: 1200
# Module load churn under traffic: ITERATIONS times, load vdp.ko, attach phys0, create the
# tunnels, install red's router and see packets go through it, then unload the module while a
# paced UDP stream keeps arriving over GRE at phys0. The harness fails the run on any kernel
# report or leak; afterwards the host's own traffic over phys0 must work and the module must
# load, forward and unload cleanly once more.
ITERATIONS=100
# The background stream: datagrams per second from red-a to red-b, through red's tunnels.
STREAM_RATE=200
. /vdp/lib.sh
PY="python3 /vdp/packets.py"
. /vdp/gre-topology.sh

step "red's router, compiled once; a paced UDP stream from red-a to red-b runs throughout"
vdpctl compile --system "$SYSTEM" "red=/vdp/configs/gre-router.click" -o /tmp/red.vdpg >/dev/null
/usr/sbin/ip netns exec red-a $PY udp-send 10.2.0.2 7000 100000000 "$STREAM_RATE" &
STREAM=$!

# through: red's eth1 has received and its eth2 sent at least one packet of the stream (one
# vdpctl call per look: under TCG every process start counts).
through() {
  i=0
  while [ "$i" -lt 100 ]; do
    seen=$(vdpctl vdev show --tenant 1 | tr ',' '\n' | awk '
      /^eth/ { dev = $1 }
      dev == "eth1:" && $1 == "rx_packets" { rx = $2 }
      dev == "eth2:" && $1 == "tx_packets" { tx = $2 }
      END { print rx + 0, tx + 0 }')
    set -- $seen
    [ "$1" -gt 0 ] && [ "$2" -gt 0 ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  fail "iteration $n: no packet went through red's router in 10 s (eth1 rx, eth2 tx: $seen)"
}

step "$ITERATIONS times: insmod, port, devices, graph, packets through, rmmod under traffic"
start=$(cut -d. -f1 /proc/uptime)
n=1
while [ "$n" -le "$ITERATIONS" ]; do
  load_vdp
  vdpctl system apply "$SYSTEM" >/dev/null || fail "iteration $n: system apply"
  vdpctl graph install --tenant 1 /tmp/red.vdpg >/dev/null || fail "iteration $n: graph install"
  through
  unload_vdp
  if [ $((n % 10)) -eq 0 ]; then echo "    $n iterations, $(( $(cut -d. -f1 /proc/uptime) - start )) s"; fi
  n=$((n + 1))
done
kill -0 "$STREAM" || fail "the UDP stream died"
echo "CHURN-INSMOD iterations=$ITERATIONS seconds=$(( $(cut -d. -f1 /proc/uptime) - start ))"

step "the host's own traffic over phys0 still works"
in_ns far ping -c 3 -w 10 192.0.2.1 >/dev/null || fail "host ping over phys0 after the churn"

step "the module loads cleanly a last time, forwards the stream, and unloads"
load_vdp
vdpctl info | grep -q "tenants: 0" || fail "a fresh module should hold no tenants"
vdpctl system apply "$SYSTEM" >/dev/null
vdpctl graph install --tenant 1 /tmp/red.vdpg >/dev/null
through
kill "$STREAM"
if wait "$STREAM"; then fail "the UDP stream ended by itself"; fi
udp_receiver red-b 7001 50 20 /tmp/udp-b; RECV=$RECEIVER
in_ns red-a $PY udp-send 10.2.0.2 7001 50 50
wait "$RECV"
[ "$(cat /tmp/udp-b)" = 50 ] || fail "red-b got $(cat /tmp/udp-b) of 50 datagrams after the churn"
unload_vdp
