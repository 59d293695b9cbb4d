# needs: python host-clock
# timeout: 600
# PENDING (not in qemu-tests/scenarios/, so `make test` does not run it). On 2026-12-03, after
# the fix of the 0.012 (a 10 ms default burst and 1024-packet source runs; docs/shaping.md), the
# single-device steps passed 5 runs of 5 (0.974 to 1.007 of the cap), but the two-device step
# gave 0.789, 0.912 and 0.939 of the aggregate in 3 runs (ToDevice BURST 64) while the host was
# loaded: the tenant's passes come further apart than the aggregate's 100 ms burst. Run it with
# `cp qemu-tests/pending/shaping.sh qemu-tests/scenarios/` and `qemu-tests/run shaping`.
# Transmit caps outside the tenant's reach (docs/shaping.md): the coordinator sets red's caps
# from the system config (bandwidth_cap 2Mbps = 250000 B/s per device, aggregate_bandwidth_cap
# 3Mbps = 375000 B/s over both) and the module holds them on the transmit path, whatever graph
# red installs. Measured at the receivers (Linux gre devices in their own namespaces) over 5 s
# of the guest's clock, which the harness checks against the host's (VDP-CLOCK lines):
# - one device offered ten times its cap stays within 5% of its cap;
# - two devices, each offered ten times its cap, stay within 5% of the aggregate together;
# - the graphs have no shaper of any kind; frames over a cap are dropped and counted as
#   over_cap / over_tenant_cap, in vdpctl stats (inside the container too) and in vdp_drop;
# - red's attempt to change a cap from its container is refused and changes nothing;
# - the kernel refuses bad values itself, with an extack naming what is wrong.
. /vdp/lib.sh
. /vdp/gre-topology.sh
SYSTEM=/vdp/configs/shaping-system.toml
RED=/vdp/red
T=/sys/kernel/tracing
[ -d "$T/events" ] || mount -t tracefs tracefs "$T" || fail "cannot mount tracefs on $T"
load_vdp
start_coordinator $SYSTEM
mkdir -p /sys/fs/cgroup/vdp/red /sys/fs/cgroup/vdp/blue

# rx_bytes NS: bytes the Linux tunnel t-NS received (inner packets, as vdp's caps count them).
rx_bytes() { in_ns "$1" cat "/sys/class/net/t-$1/statistics/rx_bytes"; }
# measure NS...: prints "SECONDS BYTES..." received in each namespace over 5 s of the guest's
# clock, after a second to let any burst pass; a VDP-CLOCK line at each end lets the harness
# check that clock against the host's.
measure() {
  sleep 1
  t0=$(cut -d' ' -f1 /proc/uptime); echo "VDP-CLOCK $t0" >&2
  b0=""; for ns in "$@"; do b0="$b0 $(rx_bytes "$ns")"; done
  sleep 5
  t1=$(cut -d' ' -f1 /proc/uptime); echo "VDP-CLOCK $t1" >&2
  b1=""; for ns in "$@"; do b1="$b1 $(rx_bytes "$ns")"; done
  echo "$t0 $t1 $b0 $b1" | awk -v n=$# '{ printf "%.2f", $2 - $1; for (i = 1; i <= n; i++) printf " %d", $(2 + n + i) - $(2 + i); print "" }'
}
# within WHAT BYTES SECONDS CAP: the rate is within 5% of CAP bytes/s, or the run fails.
within() {
  echo "$2 $3 $4" | awk -v what="$1" '{ rate = $1 / $2; r = rate / $3
    printf "    %s: %d bytes in %.2f s = %.0f B/s, %.3f of the cap %d B/s\n", what, $1, $2, rate, r, $3
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

step "red installs a graph without any shaper that floods eth1 at ten times its cap"
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
echo "    eth1 $2 bytes, eth2 $3 bytes in $1 s"
within "eth1 + eth2" "$(($2 + $3))" "$1" 375000
for b in "$2" "$3"; do
  echo "$b $1" | awk '{ if ($1 / $2 > 250000 * 1.05) exit 1 }' || fail "a device sent $b bytes in $1 s, over its own cap"
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
