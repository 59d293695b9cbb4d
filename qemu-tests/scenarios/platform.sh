# timeout: 120
# needs: host-clock
# The guest has what the harness claims: every CPU it was given online and usable, a TSC
# clocksource, CPU time billed at better than the 4 ms jiffy, and a clock that keeps the host's
# time (the harness compares the VDP-CLOCK lines with its own clock).
. /vdp/lib.sh

want=$(guest_cpus)
[ -n "$want" ] || fail "the harness did not say how many CPUs it gave the guest (vdp.cpus=)"

echo "VDP-CLOCK $(cut -d' ' -f1 /proc/uptime)"

step "CPUs: the harness gave $want"
have=$(nproc)
echo "    nproc: $have; online: $(cat /sys/devices/system/cpu/online)"
[ "$have" -eq "$want" ] || fail "the guest has $have CPUs, the harness gave it $want"

step "both CPUs do work at once"
# Two busy loops; each CPU's user time in /proc/stat must advance.
cpu_user() { awk -v c="cpu$1" '$1 == c { print $2 }' /proc/stat; }
before0=$(cpu_user 0); before1=$(cpu_user 1)
( i=0; while [ $i -lt 200000 ]; do i=$((i + 1)); done ) &
a=$!
( i=0; while [ $i -lt 200000 ]; do i=$((i + 1)); done ) &
b=$!
wait "$a" || fail "first busy loop failed"
wait "$b" || fail "second busy loop failed"
after0=$(cpu_user 0); after1=$(cpu_user 1)
echo "    user ticks: cpu0 +$((after0 - before0)), cpu1 +$((after1 - before1))"
[ "$((after0 - before0))" -gt 0 ] || fail "cpu0 did no user work"
[ "$((after1 - before1))" -gt 0 ] || fail "cpu1 did no user work"

step "clocksource"
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
echo "    current clocksource: $cs (available: $(cat /sys/devices/system/clocksource/clocksource0/available_clocksource))"
case "$cs" in tsc|tsc-early) ;; *) fail "the clocksource is $cs, not the TSC" ;; esac

step "CPU time is billed at sub-tick resolution"
mkdir /sys/fs/cgroup/probe
usage() { awk '$1 == "usage_usec" { print $2 }' /sys/fs/cgroup/probe/cpu.stat; }
fine=0 samples=""
for n in 1 2 3 4 5 6 7 8; do
  sh -c 'echo $$ > /sys/fs/cgroup/probe/cgroup.procs; i=0; while [ $i -lt 300 ]; do i=$((i + 1)); done'
  u=$(usage)
  samples="$samples $u"
  # With jiffies every charge is a whole 4 ms tick (HZ=250): usage stays a multiple of 4000 us.
  [ $((u % 4000)) -ne 0 ] && fine=$((fine + 1))
done
echo "    usage_usec after each short run:$samples"
[ "$fine" -gt 0 ] || fail "every usage_usec sample is a whole tick:$samples"
rmdir /sys/fs/cgroup/probe

step "the guest clock against the host's (judged by the harness)"
sleep 8
echo "VDP-CLOCK $(cut -d' ' -f1 /proc/uptime)"
echo "platform ok"
