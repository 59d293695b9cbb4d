# timeout: 720
# needs: python
# One tenant floods the coordinator's socket: red, in its container, opens 200 idle connections
# and reopens each one the moment it is answered, for the whole run. Blue's in-container reads and
# the root context's reads must all succeed in under a second meanwhile; red's connections over
# its cap are refused at once with the limit named, red's own requests fail the same way, the
# refusals are logged once per burst, and callers that are neither a tenant nor root are held to
# their small pool too.
. /vdp/lib.sh
SYSTEM=/vdp/configs/coord-system.toml
RED=/vdp/red BLUE=/blue
FLOOD=/vdp/coord-flood.py
# The same read sent straight to the socket after each timed vdpctl: the coordinator's part.
BLUE_RAW='{"version":1,"op":"read","element":"out","handler":"count"}'
ROOT_RAW='{"version":1,"tenant":"red","op":"read","element":"c","handler":"count"}'
load_vdp
physical_device eth0
start_coordinator $SYSTEM
in_container $RED vdpctl install /vdp/configs/coord-red.click >/dev/null || fail "red's install"
in_container $BLUE vdpctl install /vdp/configs/coord-blue.click >/dev/null || fail "blue's install"
grep -q "at most 64 connections at once, 16 per tenant and for the root context, 4 kept for each of them, 4 for all other callers" \
  /tmp/vdpd.log || { cat /tmp/vdpd.log; fail "the coordinator does not state its connection limits"; }

step "without a flood, for comparison: the reads blue and root will time, and a vdpctl that talks to no one"
in_container $BLUE env "RAW_REQUEST=$BLUE_RAW" python3 $FLOOD time 0 5 0 vdpctl read out.count > /tmp/base.times \
  || { cat /tmp/base.times; fail "blue's reads before the flood"; }
env "RAW_REQUEST=$ROOT_RAW" python3 $FLOOD time 0 5 0 vdpctl read --tenant red c.count >> /tmp/base.times \
  || { cat /tmp/base.times; fail "root's reads before the flood"; }
python3 $FLOOD time 0 5 0 vdpctl --version >> /tmp/base.times || { cat /tmp/base.times; fail "vdpctl --version"; }
cat /tmp/base.times
# Two bounds, each from the same reads without a flood, measured above in this boot:
# - the coordinator's own answer (the raw request sent straight to the socket) may be delayed
#   by at most a second: each raw request during the flood takes under the slowest one without
#   a flood plus 1 s, and their median stays under 1 s;
# - a whole `vdpctl read` is mostly starting a process, which under TCG takes most of a second
#   and slows with the guest (its speed follows the host's: on one day 0.15 s, on another
#   0.3-0.6 s for `vdpctl --version`), and during the flood the flooder takes its share of the
#   guest's CPUs: each read takes under twice the slowest read without a flood, plus 1 s.
LIMIT=$(awk '/^LATENCY vdpctl read/ { if ($(NF - 1) + 0 > m) m = $(NF - 1) + 0 } END { printf "%.3f", 2 * m + 1 }' /tmp/base.times)
RAW_LIMIT=$(awk '/^LATENCY raw request/ { if ($(NF - 1) + 0 > m) m = $(NF - 1) + 0 } END { printf "%.3f", m + 1 }' /tmp/base.times)
export RAW_LIMIT
echo "    bounds during the flood: each read $LIMIT s (twice the slowest read without a flood, plus 1 s), each raw request $RAW_LIMIT s (the slowest without a flood, plus 1 s)"
flood_fail() { # the coordinator's view, then fail
  echo "--- coordinator log, last lines"; grep -v "vdpd: request " /tmp/vdpd.log | tail -n 10
  grep "vdpd: request " /tmp/vdpd.log | tail -n 30
  fail "$@"
}
raw_median_ok() { # raw_median_ok TIMES: the raw requests' median is under 1 s
  awk '/^LATENCY raw request/ { m = $(NF - 4) + 0; n++ } END { exit !(n == 1 && m < 1) }' "$1"
}

step "red opens 200 idle connections and keeps reopening them"
rm -f /tmp/flood.stop /tmp/flood.status
in_container $RED python3 $FLOOD flood 200 /tmp/flood.status /tmp/flood.stop > /tmp/flood.out 2>&1 &
flooder=$! flood_start=$(cut -d" " -f1 /proc/uptime)
flood_count() { sed -n "1s/.* $1=\([0-9]*\).*/\1/p" /tmp/flood.status 2>/dev/null; }
i=0
until [ "$(flood_count limit)" -ge 184 ] 2>/dev/null; do
  kill -0 $flooder 2>/dev/null || { cat /tmp/flood.out; fail "the flooder exited"; }
  [ $i -lt 300 ] || { cat /tmp/flood.status; fail "red's connections over its cap were not all refused within 30 s"; }
  sleep 0.1; i=$((i + 1))
done
head -n1 /tmp/flood.status
waiting=$(sed -n '1s/^waiting=\([0-9]*\).*/\1/p' /tmp/flood.status)
[ "$waiting" -ge 16 ] || fail "red should hold its 16 connections, holds $waiting"
out=$(expect_fail "red's own read while it holds its cap" in_container $RED vdpctl read c.count)
expect_match "$out" "refused \(limit: 16 connections at once per caller\): tenant red already holds 16 open connections"

step "blue's reads, timed, while red floods (for 12 s: red's idle connections time out and are reopened)"
rc=0
in_container $BLUE env "RAW_REQUEST=$BLUE_RAW" python3 $FLOOD time $LIMIT 20 12 vdpctl read out.count > /tmp/blue.times || rc=$?
cat /tmp/blue.times
[ $rc = 0 ] || flood_fail "blue's reads failed or were slow during the flood"
raw_median_ok /tmp/blue.times || flood_fail "the coordinator's median answer to blue took 1 s or more during the flood"
step "root's reads, timed, while red floods"
rc=0
env "RAW_REQUEST=$ROOT_RAW" python3 $FLOOD time $LIMIT 20 0 vdpctl read --tenant red c.count > /tmp/root.times || rc=$?
cat /tmp/root.times
[ $rc = 0 ] || flood_fail "root's reads failed or were slow during the flood"
raw_median_ok /tmp/root.times || flood_fail "the coordinator's median answer to root took 1 s or more during the flood"
kill -0 $flooder 2>/dev/null || { cat /tmp/flood.out; fail "the flooder died during the reads"; }

step "red's flood: its extra connections refused with the limit, its idle ones cut off and reopened"
touch /tmp/flood.stop
flood_seconds=$(awk -v s="$flood_start" '{ printf "%d", $1 - s + 1 }' /proc/uptime)
wait $flooder || { cat /tmp/flood.out; fail "the flooder failed"; }
cat /tmp/flood.status
[ "$(flood_count limit)" -ge 1000 ] || fail "red reopened too few connections to be a flood"
[ "$(flood_count timeout)" -ge 16 ] || fail "red's 16 admitted idle connections were not cut off after 10 s"
for kind in busy other closed; do
  [ "$(flood_count $kind)" = 0 ] || fail "red got $(flood_count $kind) answers of kind $kind"
done
expect_match "$(cat /tmp/flood.status)" "first limit: .*refused \(limit: 16 connections at once per caller\): tenant red already holds 16"

step "the refusals were logged once per burst, not once per connection"
count_lines() { awk -v p="$1" 'index($0, p) { n++ } END { print n + 0 }' /tmp/vdpd.log; }
sleep 0.5  # the coordinator logs a burst's summary when its 10 s window has passed
bursts=$(count_lines "refusing connections from tenant red")
summaries=$(count_lines "more connections from tenant red")
grep "connections from tenant red" /tmp/vdpd.log
# A burst line, then at most a summary line, per 10 s window of the flood.
most=$((flood_seconds / 10 + 1))
echo "    red flooded for about $flood_seconds s and refused $(flood_count limit) connections: $bursts burst lines, $summaries summaries (at most $most each)"
[ "$bursts" -ge 1 ] && [ "$bursts" -le $most ] || fail "red's refusals were logged $bursts times over $flood_seconds s"
[ "$summaries" -ge 1 ] && [ "$summaries" -le $most ] || fail "$summaries summaries of red's refusals over $flood_seconds s"

step "callers that are neither a tenant nor root share 4 slots; blue and root are not held up"
mkdir -p /tmp/nobody && chown nobody /tmp/nobody
rm -f /tmp/nobody/stop
su nobody -s /bin/sh -c "python3 $FLOOD flood 40 /tmp/nobody/status /tmp/nobody/stop" > /tmp/nobody.out 2>&1 &
stranger=$!
i=0
until [ "$(sed -n '1s/.* limit=\([0-9]*\).*/\1/p' /tmp/nobody/status 2>/dev/null)" -ge 36 ] 2>/dev/null; do
  kill -0 $stranger 2>/dev/null || { cat /tmp/nobody.out; fail "nobody's flooder exited"; }
  [ $i -lt 300 ] || { cat /tmp/nobody/status; fail "nobody's connections over the pool were not refused"; }
  sleep 0.1; i=$((i + 1))
done
in_container $BLUE env "RAW_REQUEST=$BLUE_RAW" python3 $FLOOD time $LIMIT 5 0 vdpctl read out.count || fail "blue's reads during nobody's flood"
env "RAW_REQUEST=$ROOT_RAW" python3 $FLOOD time $LIMIT 5 0 vdpctl read --tenant red c.count || fail "root's reads during nobody's flood"
touch /tmp/nobody/stop
wait $stranger || { cat /tmp/nobody.out; fail "nobody's flooder failed"; }
cat /tmp/nobody/status
expect_match "$(cat /tmp/nobody/status)" "first limit: .*refused \(limit: 4 connections at once for callers that are neither a tenant nor the root context\)"
grep -q "refusing connections from callers that are neither a tenant nor the root context" /tmp/vdpd.log \
  || fail "nobody's refusals were not logged"

step "once the floods end, red is served again"
i=0
until in_container $RED vdpctl read c.count >/dev/null 2>&1; do
  [ $i -lt 150 ] || fail "red is still refused 15 s after its flood ended"
  sleep 0.1; i=$((i + 1))
done
stop_coordinator
echo "--- coordinator log (requests left out but blue's)"; grep -v "vdpd: request " /tmp/vdpd.log
grep "vdpd: request .*tenant blue" /tmp/vdpd.log | tail -n 40
for pid in $(cat /sys/fs/cgroup/vdp/red/*/cgroup.procs /sys/fs/cgroup/blue/*/cgroup.procs); do
  echo "$pid" > /sys/fs/cgroup/cgroup.procs 2>/dev/null || true
done
unload_vdp
echo "coordinator-flood ok"
