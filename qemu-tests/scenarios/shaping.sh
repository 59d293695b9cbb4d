# needs: python host-clock
# timeout: 600
# Transmit caps outside the tenant's reach (docs/shaping.md): the coordinator sets red's caps
# from the system config (bandwidth_cap 2Mbps = 250000 B/s per device, aggregate_bandwidth_cap
# 3Mbps = 375000 B/s over both) and the module holds them on the transmit path, whatever graph
# red installs. Measured at the receivers (Linux gre devices in their own namespaces) over 5 s
# of the guest's clock, which the harness checks against the host's (VDP-CLOCK lines):
# - one device offered three times its cap stays within 5% of its cap;
# - two devices, each offered 2.4 times its cap, stay within 5% of the aggregate together;
# - the graphs have no shaper of any kind; frames over a cap are dropped and counted as
#   over_cap / over_tenant_cap, in vdpctl stats (inside the container too) and in vdp_drop;
# - red's attempt to change a cap from its container is refused and changes nothing;
# - the kernel refuses bad values itself, with an extack naming what is wrong.
# The offered loads are what red's thread can produce within its 80% CPU limit on the debug
# guest (shaping-one.click says why); red's CPU before and after each window is shown.
. /vdp/lib.sh
. /vdp/gre-topology.sh
SYSTEM=/vdp/configs/shaping-system.toml
RED=/vdp/red
T=/sys/kernel/tracing
[ -d "$T/events" ] || mount -t tracefs tracefs "$T" || fail "cannot mount tracefs on $T"
load_vdp
start_coordinator $SYSTEM
mkdir -p /sys/fs/cgroup/vdp/red /sys/fs/cgroup/vdp/blue

# sample NS: "UPTIME BYTES" inside namespace NS: the guest's clock and the bytes its Linux tunnel
# t-NS received (inner packets, as vdp's caps count them), read by one process a few
# microseconds apart, so the time taken to enter the namespace falls outside the window.
sample() {
  ip netns exec "$1" sh -c 'read up idle < /proc/uptime; read b < /sys/class/net/t-'"$1"'/statistics/rx_bytes; echo "$up $b"'
}
# red_cpu: red's CPU as the module holds its threads to it (vdpctl stats' cpu line: its limit,
# what it ran and how long it was throttled, so far).
red_cpu() { vdpctl stats --tenant red | grep -o 'cpu max.*'; }
# measure NS...: prints "SECONDS RATE..." where RATE is the bytes a second received in each
# namespace over about 5 s of the guest's clock (each over its own window, from the clock read
# with its counter) and SECONDS the first one's window, after a second to let any burst pass;
# a VDP-CLOCK line at each end lets the harness check that clock against the host's.
measure() {
  sleep 1
  c0=$(red_cpu)
  echo "VDP-CLOCK $(cut -d' ' -f1 /proc/uptime)" >&2
  s0=""; for n in "$@"; do s0="$s0 $(sample "$n")"; done
  sleep 5
  s1=""; for n in "$@"; do s1="$s1 $(sample "$n")"; done
  echo "VDP-CLOCK $(cut -d' ' -f1 /proc/uptime)" >&2
  echo "    red's CPU before the window: $c0" >&2
  echo "    red's CPU after the window:  $(red_cpu)" >&2
  echo "$s0 $s1" | awk -v n=$# '{ printf "%.2f", $(2 * n + 1) - $1
    for (i = 1; i <= n; i++) { t = $(2 * n + 2 * i - 1) - $(2 * i - 1); printf " %.0f", ($(2 * n + 2 * i) - $(2 * i)) / t }
    print "" }'
}
# within WHAT RATE SECONDS CAP: RATE (bytes a second, measured over SECONDS) is within 5% of CAP
# bytes/s, or the run fails.
within() {
  echo "$2 $3 $4" | awk -v what="$1" '{ r = $1 / $3
    printf "    %s: %d B/s over %.2f s, %.3f of the cap %d B/s\n", what, $1, $2, r, $3
    if (r < 0.95 || r > 1.05) { print "    out of the 5% band"; exit 1 } }' || fail "$1 is not within 5% of its cap"
}
stat_counter() { # stat_counter DEVICE NAME: a counter of red's device, from vdp_drop's counters
  counter red "$1" "$2"
}

step "the coordinator set red's caps from the system config; blue has none"
out=$(vdpctl vdev show --tenant red); echo "$out"
[ "$(echo "$out" | awk '/tx cap 250000 B\/s/ { n++ } END { print n + 0 }')" = 2 ] || fail "red's two devices are not capped at 250000 B/s"
out=$(vdpctl stats --tenant red); echo "$out" | sed -n '/tx cap/,/eth2/p'
expect_match "$out" "tx cap \(all devices\): 375000 B/s \(3.000 Mbit/s\), burst 37500 B"
expect_match "$(vdpctl stats --tenant blue)" "tx cap \(all devices\): none"
expect_match "$(cat /tmp/vdpd.log)" "set the aggregate transmit cap of tenant red to 375000 B/s"

step "red installs a graph without any shaper that floods eth1 at three times its cap"
echo 1 > "$T/tracing_on"
echo 1 > "$T/events/vdp/vdp_drop/enable"
in_container $RED vdpctl install /vdp/configs/shaping-one.click || fail "red's install"
out=$(in_container $RED vdpctl show); echo "$out" | sed -n '/^elements:/,/^source:/p'
expect_match "$out" "tx +ToDevice"
echo "$out" | grep -q "BandwidthShaper\|root: read-only" && fail "the graph holds a shaper or an element of the root's"

step "eth1 stays within 5% of its cap at the receiver"
set -- $(measure red-a)
vdpctl vdev show --tenant red eth1
in_container $RED vdpctl stats -s | sed -n '/name  /,$p'
within "eth1 alone" "$2" "$1" 250000
over=$(stat_counter eth1 tx_over_cap)
echo "    eth1 dropped $over frames over its cap"
[ "$over" -gt 1000 ] || fail "eth1 counted only $over frames over its cap"

step "the drops are vdp_drop events with the reason over_cap"
echo 0 > "$T/events/vdp/vdp_drop/enable"
events=$(awk '/ vdp_drop: / { print substr($0, index($0, "vdp_drop: ") + 10) }' "$T/trace" | sort | uniq -c); echo "$events"
n=$(awk '/ vdp_drop: tenant=1 kind=device_tx element=-1 at=eth1 reason=over_cap$/ { n++ } END { print n + 0 }' "$T/trace")
[ "$n" -gt 1000 ] || fail "only $n vdp_drop events for eth1's over_cap drops"
: > "$T/trace"

step "red reads its caps and counters from inside its container"
out=$(in_container $RED vdpctl stats); echo "$out" | sed -n '/tx cap/,/eth2/p'
expect_match "$out" "tx cap \(all devices\): 375000 B/s"
expect_match "$out" "eth1: cap 250000 B/s \(2.000 Mbit/s\), burst 25000 B; sent [0-9]+ packets, [0-9]+ bytes; over_cap [1-9][0-9]*, over_tenant_cap 0"

step "red's attempts to change its caps from its container are refused and change nothing"
rc=0; out=$(in_container $RED vdpctl vdev shape eth1 --rate 10Gbps 2>&1) || rc=$?
echo "    exit $rc: $out"
[ "$rc" = 1 ] || fail "a refused cap change exits 1, got $rc"
expect_match "$out" "refused \(rule: transmit caps belong to the root context\): tenant 'red' may read its caps \(vdpctl stats\) but not change them"
rc=0; out=$(in_container $RED vdpctl vdev shape --rate 0 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "a refused aggregate change exits 1, got $rc: $out"
expect_match "$out" "rule: transmit caps belong to the root context"
expect_match "$(vdpctl vdev show --tenant red eth1)" "tx cap 250000 B/s"
expect_match "$(vdpctl stats --tenant red)" "tx cap \(all devices\): 375000 B/s"
set -- $(measure red-a)
within "eth1 after the refusals" "$2" "$1" 250000

step "the kernel refuses bad caps itself, with an extack"
out=$(expect_fail "a burst below a frame" vdpctl vdev shape --tenant red eth1 --rate 1Mbps --burst 100); echo "    $out"
expect_match "$out" "out of range|TX_BURST|tx-burst"
out=$(expect_fail "a rate above 2^40 B/s" vdpctl vdev shape --tenant red eth1 --rate 9000GBps); echo "    $out"
expect_match "$out" "out of range|TX_RATE|tx-rate"
out=$(expect_fail "a device red does not have" vdpctl vdev shape --tenant red eth9 --rate 1Mbps); echo "    $out"
expect_match "$out" "the tenant has no virtual device of this name"
expect_match "$(vdpctl vdev show --tenant red eth1)" "tx cap 250000 B/s"

step "red floods both devices: together they stay within 5% of the aggregate cap"
in_container $RED vdpctl install /vdp/configs/shaping-two.click || fail "red's second install"
set -- $(measure red-a red-b)
echo "    eth1 $2 B/s, eth2 $3 B/s over about $1 s"
within "eth1 + eth2" "$(($2 + $3))" "$1" 375000
for rate in "$2" "$3"; do
  [ "$rate" -le $((250000 * 105 / 100)) ] || fail "a device sent $rate B/s, over its own cap"
done
over_tenant=$(( $(stat_counter eth1 tx_over_tenant_cap) + $(stat_counter eth2 tx_over_tenant_cap) ))
echo "    dropped over the aggregate: $over_tenant"
[ "$over_tenant" -gt 100 ] || fail "only $over_tenant frames counted over the tenant's aggregate cap"

step "the root context may set a cap directly; the module holds the new one"
vdpctl vdev shape --tenant red --rate 0 || fail "lifting red's aggregate"
vdpctl vdev shape --tenant red eth1 --rate 1Mbps || fail "lowering eth1's cap"
set -- $(measure red-a red-b)
within "eth1 at 1Mbps" "$2" "$1" 125000
within "eth2 alone at its own cap" "$3" "$1" 250000

in_container $RED vdpctl remove >/dev/null
stop_coordinator
