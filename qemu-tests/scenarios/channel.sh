# timeout: 300
# The channel between a tenant's kernel part and its container engine (/dev/vdp, docs/channel.md):
# binding, the mapped rings, packets down (ToContainer, woken by poll) and up (FromContainer,
# woken by KICK), drops counted by reason with no engine and with a full ring, hostile ring
# contents counted and survived, refused binds, mappings and ioctls, EPOLLHUP on replacement
# and on tenant deletion with the mapping still readable, and unload refused while a file is open.
. /vdp/lib.sh
load_vdp

step "the device: /dev/vdp, a character device only root may open"
[ -c /dev/vdp ] || fail "no character device /dev/vdp"
mode=$(stat -c %a /dev/vdp)
[ "$mode" = "600" ] || fail "/dev/vdp has mode $mode, want 600"

vdpctl tenant add red --id 1 >/dev/null
vdpctl tenant add blue --id 2 >/dev/null
vdpctl channel-test compile --system /vdp/configs/engine-system.toml /vdp/configs/channel-red.click -o /tmp/red.vdpg \
  || fail "compiling the hand-partitioned graph"
vdpctl graph install --tenant 1 /tmp/red.vdpg

# stat_of TENANT ELEMENT NAME: one line of an element's stats handler.
stat_of() { read_handler "$1" "$2.stats" | sed -n "s/^$3 //p"; }
expect_stat() { # expect_stat TENANT ELEMENT NAME VALUE
  local got; got=$(stat_of "$1" "$2" "$3")
  [ "$got" = "$4" ] || fail "$2 $3 is '$got', want $4 (stats: $(read_handler "$1" "$2.stats" | tr '\n' ' '))"
}
expect_stat_positive() { # expect_stat_positive TENANT ELEMENT NAME
  local got; got=$(stat_of "$1" "$2" "$3")
  [ -n "$got" ] && [ "$got" -gt 0 ] || fail "$2 $3 is '$got', want > 0 (stats: $(read_handler "$1" "$2.stats" | tr '\n' ' '))"
}
reset_counts() { vdpctl handler write --tenant 1 red/tc.reset_counts; vdpctl handler write --tenant 1 red/fc.reset_counts; }

step "refusals: bad binds, mappings and ioctls; no bind without CAP_NET_ADMIN"
vdpctl channel-test refuse --tenant 1

step "no engine bound: ToContainer drops every packet as no_channel"
vdpctl handler write --tenant 1 red/src.active true
wait_for_value 1 red/src.count 100
expect_stat 1 red/tc tx_no_channel 100
expect_stat 1 red/tc tx_packets 0
[ "$(read_handler 1 red/tc.drops)" = "100" ] || fail "ToContainer drops"

step "down ring: 50 packets reach the engine with their paint, woken by poll"
reset_counts
vdpctl handler write --tenant 1 red/src.limit 50
vdpctl channel-test down --tenant 1 --count 50 --data kernel-to-container --paint 5 -- \
  vdpctl handler write --tenant 1 red/src.reset
expect_stat 1 red/tc tx_packets 50
expect_stat 1 red/tc tx_bytes $((50 * 19))
[ "$(read_handler 1 red/tc.drops)" = "0" ] || fail "drops with an engine taking every packet"

step "a full ring: 16 slots taken, the other 84 packets dropped as ring_full"
reset_counts
vdpctl handler write --tenant 1 red/src.active false
vdpctl handler write --tenant 1 red/src.limit 100
vdpctl channel-test hold --tenant 1 --slots 16 -- \
  sh -c '. /vdp/lib.sh; vdpctl handler write --tenant 1 red/src.reset && vdpctl handler write --tenant 1 red/src.active true &&
         wait_for_value 1 red/src.count 100'
expect_stat 1 red/tc tx_packets 16
expect_stat 1 red/tc tx_ring_full 84
expect_stat 1 red/tc tx_no_channel 0

step "two tenant threads push into one ToContainer: 2 x 300 packets, none lost or torn"
reset_counts
vdpctl handler write --tenant 1 red/src.active false
vdpctl handler write --tenant 1 red/src.limit 300
vdpctl handler write --tenant 1 red/src2.limit 300
vdpctl channel-test down --tenant 1 --slots 1024 --count 600 --data kernel-to-container --paint 5 -- \
  sh -c 'vdpctl handler write --tenant 1 red/src.reset && vdpctl handler write --tenant 1 red/src.active true &&
         vdpctl handler write --tenant 1 red/src2.active true'
expect_stat 1 red/tc tx_packets 600
[ "$(read_handler 1 red/tc.drops)" = "0" ] || fail "drops with a ring large enough for both threads"
pids=$(vdpctl tenant show --id 1 --json | tr -d ' \n' | sed -n 's/.*"thread_pids":\[\([0-9,]*\)\].*/\1/p')
expect_match "$pids" '^[0-9]+,[0-9]+$'

step "up ring: 1000 packets from the engine, woken by KICK, their paint kept, counted by the kernel graph"
vdpctl channel-test up --tenant 1 --count 1000 --size 100
wait_for_value 1 red/c.count 1000
[ "$(read_handler 1 red/c.byte_count)" = "100000" ] || fail "Counter bytes"
expect_stat 1 red/fc rx_packets 1000
expect_stat 1 red/fc rx_bytes 100000
[ "$(read_handler 1 red/fc.drops)" = "0" ] || fail "FromContainer drops"

step "the boundary counters live in the tenant: a hotswap keeps them"
vdpctl graph install --tenant 1 /tmp/red.vdpg
expect_stat 1 red/fc rx_packets 1000
expect_stat 1 red/tc tx_packets 600

step "hostile ring contents: counted as errors, nothing else"
reset_counts
vdpctl channel-test hostile --tenant 1 --slots 16 -- \
  sh -c '. /vdp/lib.sh; vdpctl handler write --tenant 1 red/src.active true; wait_for_value 1 red/src.count 100'
expect_stat_positive 1 red/fc rx_corrupt
expect_stat_positive 1 red/fc rx_bad_slot
expect_stat_positive 1 red/tc tx_corrupt
echo "    FromContainer: $(read_handler 1 red/fc.stats | tr '\n' ' ')"
echo "    ToContainer: $(read_handler 1 red/tc.stats | tr '\n' ' ')"
step "and a fresh bind works again"
vdpctl channel-test up --tenant 1 --count 10 --size 60

step "a newer bind detaches the older file (EPOLLHUP, KICK refused)"
vdpctl channel-test replace --tenant 1

step "the region is charged to the tenant's memory cgroup, and held to its memory.max"
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
mkdir -p /sys/fs/cgroup/chanmem
echo $((16 << 20)) > /sys/fs/cgroup/chanmem/memory.max
blue_pid=$(vdpctl tenant show --id 2 -j -p | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')
[ -n "$blue_pid" ] || fail "no thread pid for blue"
echo "$blue_pid" > /sys/fs/cgroup/chanmem/cgroup.procs || fail "moving blue's thread into /chanmem"
vdpctl channel-test charge --tenant 2 --rings 2 --slots 256 --cgroup /sys/fs/cgroup/chanmem

step "tenant deletion: EPOLLHUP, the mapping still readable; no unload while a file is open"
vdpctl channel-test wait-hup --tenant 2 >/tmp/hup.out 2>&1 &
hup=$!
i=0
until grep -q bound /tmp/hup.out; do
  kill -0 "$hup" 2>/dev/null || { cat /tmp/hup.out; fail "wait-hup exited early"; }
  [ "$i" -lt 100 ] || fail "wait-hup did not bind in 10 s"
  sleep 0.1; i=$((i + 1))
done
expect_fail "rmmod with a channel file open" rmmod vdp >/dev/null
vdpctl tenant del --id 2 >/dev/null
wait "$hup" || { cat /tmp/hup.out; fail "no EPOLLHUP on tenant deletion"; }
cat /tmp/hup.out

step "teardown with the graph installed"
vdpctl tenant del --id 1 >/dev/null
unload_vdp
echo "channel scenario passed"
