# timeout: 300
# PollDevice, AverageCounter, RED, Align, SetTimestamp, DelayShaper, ToHost and FromHost in the
# kernel. One tenant bridges IPv4 between its device eth1 (the namespace a, behind a Linux
# gretap) and its host device hst (the namespace h, which stands for its host stack), through
# configs/click-misc.click: a delays pings by at least 300 ms on their way to h, h's replies
# come back through FromHost undelayed, and every class's handlers say what it did. A system
# config without host_device is refused at compile time, at ToHost's place.
. /vdp/lib.sh
load_vdp
ip() { /usr/sbin/ip "$@"; }
SYSTEM=/vdp/configs/click-misc-system.toml
MAC_A=02:00:00:00:a0:02 MAC_H=02:00:00:00:a0:03
PINGS=5

step "topology: phys0 <-> far, a gretap to a (eth1) and one to h (hst)"
phys0_and_far 31 32
# a and h know each other's Ethernet addresses (vdp has no ARP).
gretap_host a 192.0.2.31 10.9.0.2 "$MAC_A"
gretap_host h 192.0.2.32 10.9.0.3 "$MAC_H" 32
ip -n a neigh add 10.9.0.3 lladdr "$MAC_H" dev t-a
ip -n h neigh add 10.9.0.2 lladdr "$MAC_A" dev t-h

step "without host_device, ToHost and FromHost are refused where they stand"
grep -v '^host_device' "$SYSTEM" > /tmp/no-host.toml
out=$(expect_fail "ToHost without a host device" vdpctl compile --system /tmp/no-host.toml red=/vdp/configs/click-misc.click -o /tmp/refused.vdpg)
expect_match "$out" "click-misc.click:21:6: error: ToHost 'th' needs the tenant's host device"
expect_match "$out" "add host_device = "
expect_match "$out" "click-misc.click:27:1: error: FromHost 'fh' needs the tenant's host device"
[ ! -e /tmp/refused.vdpg ] || fail "a refused configuration was written"

step "the tenant, its devices and its graph"
vdpctl system apply "$SYSTEM" >/dev/null
vdpctl compile --system "$SYSTEM" red=/vdp/configs/click-misc.click -o /tmp/misc.vdpg >/dev/null
vdpctl graph install --tenant 1 /tmp/misc.vdpg >/dev/null
h_rx_before=$(ip -n h -s link show t-h | awk '/RX:/ { getline; print $2 }')

step "a pings h through the graph: out by PollDevice and ToHost, back by FromHost"
t0=$(cut -d" " -f1 /proc/uptime)
ip netns exec a ping -c "$PINGS" -i 0.5 -w 30 10.9.0.3 > /tmp/ping.out || { cat /tmp/ping.out; fail "a's pings to h through vdp"; }
t1=$(cut -d" " -f1 /proc/uptime)
cat /tmp/ping.out
# Every echo waited at least DelayShaper's 300 ms; none waited the 2 s of the return path's
# DelayShaper, which SetTimestamp(1) makes a frame older than.
times=$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' /tmp/ping.out)
[ "$(echo "$times" | wc -w)" = "$PINGS" ] || fail "expected $PINGS replies with times: $times"
for t in $times; do
  echo "$t" | awk '{ exit !($1 >= 300 && $1 < 2000) }' || fail "round trip of $t ms: want at least 300 (DelayShaper) and under 2000"
done
echo "    round trips $(echo $times) ms, with DELAY 300ms"

step "PollDevice received, ToHost sent out of hst, FromHost received h's replies"
[ "$(read_handler 1 red/rx.count)" -ge "$PINGS" ] || fail "PollDevice count $(read_handler 1 red/rx.count)"
[ "$(read_handler 1 red/rx.burst)" = 4 ] || fail "PollDevice burst"
[ "$(read_handler 1 red/th.drops)" = 0 ] || fail "ToHost drops $(read_handler 1 red/th.drops)"
h_rx=$(( $(ip -n h -s link show t-h | awk '/RX:/ { getline; print $2 }') - h_rx_before ))
[ "$h_rx" = "$PINGS" ] || fail "h's interface received $h_rx frames, want $PINGS"
[ "$(read_handler 1 red/fc.count)" = "$PINGS" ] || fail "FromHost's IPv4 frames: $(read_handler 1 red/fc.count)"
[ "$(read_handler 1 red/fh.length)" = 0 ] || fail "FromHost length"
[ "$(read_handler 1 red/fh.capacity)" = 1024 ] || fail "FromHost capacity"
[ "$(read_handler 1 red/fh.drops)" = 0 ] || fail "FromHost drops"
vdpctl handler write --tenant 1 red/fh.burst 16 || fail "FromHost burst write"
[ "$(read_handler 1 red/fh.burst)" = 16 ] || fail "FromHost burst"

step "AverageCounter counted the echoes and their rate"
[ "$(read_handler 1 red/ac.count)" = "$PINGS" ] || fail "AverageCounter count $(read_handler 1 red/ac.count)"
bytes=$(read_handler 1 red/ac.byte_count)
[ "$bytes" = $((PINGS * 98)) ] || fail "AverageCounter byte_count $bytes, want $PINGS 98-byte frames"
# Five echoes 0.5 s apart: 5 over about 2 s, 2 a second (1 to 4 with the guest's jitter).
rate=$(read_handler 1 red/ac.rate)
echo "    rate $rate/s, byte_rate $(read_handler 1 red/ac.byte_rate) B/s over $(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }') s of pings"
[ "$rate" -ge 1 ] && [ "$rate" -le 4 ] || fail "AverageCounter rate $rate"
vdpctl handler write --tenant 1 red/ac.reset || fail "AverageCounter reset"
[ "$(read_handler 1 red/ac.count)/$(read_handler 1 red/ac.rate)" = "0/0" ] || fail "AverageCounter after reset"

step "RED watches its nearest queue and, the queue short, drops nothing; the strict one drops"
[ "$(read_handler 1 red/red.queues)" = "q" ] || fail "RED queues: $(read_handler 1 red/red.queues)"
[ "$(read_handler 1 red/red.drops)" = 0 ] || fail "RED drops"
expect_match "$(read_handler 1 red/red.config)" "^100, 200, 0.1, QUEUES q, STABILITY 4$"
expect_match "$(read_handler 1 red/red.stats)" "0 drops"
[ "$(read_handler 1 red/red0.queues)" = "hold" ] || fail "strict RED queues"
[ "$(read_handler 1 red/red0.drops)" = $((PINGS - 1)) ] || fail "strict RED drops $(read_handler 1 red/red0.drops), want $((PINGS - 1))"
[ "$(read_handler 1 red/hold.length)" = 1 ] || fail "strict RED let more than one packet into its queue"
vdpctl handler write --tenant 1 red/red.max_p 0.5 || fail "RED max_p write"
[ "$(read_handler 1 red/red.max_p)" = "0.5" ] || fail "RED max_p"
expect_fail "MIN_THRESH above MAX_THRESH" vdpctl handler write --tenant 1 red/red.min_thresh 300 >/dev/null

step "Align: the second copied every frame into place, the third found them placed"
[ "$(read_handler 1 red/al1.copies)" = "$PINGS" ] || fail "Align(4, 1) after Align(4, 0) copied $(read_handler 1 red/al1.copies)"
[ "$(read_handler 1 red/al2.copies)" = 0 ] || fail "Align(4, 1) after Align(4, 1) copied $(read_handler 1 red/al2.copies)"
[ "$(read_handler 1 red/al1.drops)" = 0 ] || fail "Align drops"

step "DelayShaper's delay handler"
[ "$(read_handler 1 red/ds.delay)" = "300ms" ] || fail "DelayShaper delay $(read_handler 1 red/ds.delay)"
vdpctl handler write --tenant 1 red/ds.delay 10ms || fail "DelayShaper delay write"
ip netns exec a ping -c 2 -i 0.5 -w 20 10.9.0.3 > /tmp/ping2.out || { cat /tmp/ping2.out; fail "pings after the delay write"; }
cat /tmp/ping2.out
for t in $(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' /tmp/ping2.out); do
  echo "$t" | awk '{ exit !($1 >= 10 && $1 < 300) }' || fail "round trip of $t ms after DELAY 10ms"
done

vdpctl graph remove --tenant 1
unload_vdp
echo "click-misc ok"
