# timeout: 300
# Tenant thread scheduling: a task held back by a rate lets its thread sleep until the next token
# is due (timed sleep instead of polling) while the rate is still met.
. /vdp/lib.sh
load_vdp
vdpctl tenant add red --id 1 >/dev/null

# thread_ticks PID: user + system time of a thread so far, in clock ticks.
thread_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

step "RatedSource(RATE 1000): the rate holds while its thread mostly sleeps"
red_pid=$(vdpctl tenant show --id 1 --json | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')
[ -n "$red_pid" ] || fail "no thread pid for red"
compile_for red rated-1000.click /tmp/rated.vdpg
vdpctl graph install --tenant 1 /tmp/rated.vdpg
sleep 1
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
count0=$(read_handler 1 red/c.count)
ticks0=$(thread_ticks "$red_pid")
t0=$(cut -d" " -f1 /proc/uptime)
sleep 2
count1=$(read_handler 1 red/c.count)
ticks1=$(thread_ticks "$red_pid")
t1=$(cut -d" " -f1 /proc/uptime)
summary=$(echo "$count0 $count1 $ticks0 $ticks1 $t0 $t1 $hz" | awk '{
  secs = $6 - $5; printf "%.0f packets/s, thread CPU %.1f%%", ($2 - $1) / secs, 100 * ($4 - $3) / $7 / secs }')
echo "    RATE 1000 over ${t0}..${t1}s: $summary"
rate=$(echo "$count0 $count1 $t0 $t1" | awk '{ printf "%d", ($2 - $1) / ($4 - $3) }')
cpu=$(echo "$ticks0 $ticks1 $t0 $t1 $hz" | awk '{ printf "%d", 100 * ($2 - $1) / $5 / ($4 - $3) }')
[ "$rate" -ge 900 ] && [ "$rate" -le 1100 ] || fail "RatedSource delivered $rate packets/s, want about 1000"
[ "$cpu" -le 25 ] || fail "a tenant held to 1000 packets/s used ${cpu}% of a CPU"

vdpctl graph remove --tenant 1
unload_vdp
echo "scheduling ok"
