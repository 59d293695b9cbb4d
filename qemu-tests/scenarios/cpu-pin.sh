# timeout: 300
# CPU_MASK pins a tenant's threads: every thread moves at once, a thread started later moves
# there as it starts, the threads then run only there, a CPU that is not online is
# refused and changes nothing, and `any` lets them go again. The coordinator pins each tenant
# to the CPUs of its engine slices and refuses [engines] CPUs the host does not have online.
. /vdp/lib.sh
[ "$(cat /sys/devices/system/cpu/online)" = "0-1" ] || fail "the guest's online CPUs are $(cat /sys/devices/system/cpu/online), not 0-1"
load_vdp

# allowed PID: the CPUs a thread may run on, as Linux lists them.
allowed() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status"; }
# last_cpu PID: the CPU the thread last ran on (field 39 of /proc/PID/stat; the name field
# holds no space, as a kthread's vdp-NAME/N does not).
last_cpu() { awk '{ print $39 }' "/proc/$1/stat"; }
# pids TENANT: the PIDs of a tenant's threads, thread 0 first, one per line.
pids() { vdpctl tenant show --id "$1" --json | tr -d ' \n' | sed -n 's/.*"thread_pids":\[\([0-9,]*\)\].*/\1/p' | tr ',' '\n'; }
# wait_allowed PID CPUS: a new thread moves itself as it starts; waits up to 10 s for it.
wait_allowed() {
  local i=0
  until [ "$(allowed "$1")" = "$2" ]; do
    [ $i -lt 100 ] || fail "thread $1 may run on $(allowed "$1"), not $2, 10 s after it started"
    sleep 0.1; i=$((i + 1))
  done
}
# runs_only_on PID CPU: over 2 s of sampling the thread is seen only on CPU.
runs_only_on() {
  local i=0 seen
  while [ $i -lt 20 ]; do
    seen=$(last_cpu "$1")
    [ "$seen" = "$2" ] || fail "thread $1 ran on cpu $seen, pinned to cpu $2"
    sleep 0.1; i=$((i + 1))
  done
}

step "a new tenant runs anywhere"
vdpctl tenant add red --id 1 >/dev/null
red0=$(pids 1 | head -n 1)
[ -n "$red0" ] || fail "no thread pid for red"
expect_match "$(allowed "$red0")" "^0-1$"
expect_text "$(vdpctl tenant show --id 1)" "cpus any"
expect_text "$(vdpctl tenant show --id 1 --json | tr -d ' \n')" '"cpus":null'

step "pinned to cpu 1: the thread moves, the graph's second thread starts there, both run only there"
expect_text "$(vdpctl sched set --tenant 1 --cpus 1)" "cpus 1"
[ "$(allowed "$red0")" = "1" ] || fail "thread 0 may run on $(allowed "$red0") after pinning to cpu 1"
compile_for red pin-two.click /tmp/pin-two.vdpg
vdpctl graph install --tenant 1 /tmp/pin-two.vdpg >/dev/null
red1=$(pids 1 | sed -n 2p)
[ -n "$red1" ] || fail "the graph started no second thread"
wait_allowed "$red1" 1
sleep 1
count=$(read_handler 1 red/cb.count)
[ "$count" -gt 100 ] || fail "thread 1 counted $count packets in 1 s while pinned (RATE 500)"
runs_only_on "$red0" 1
runs_only_on "$red1" 1
expect_text "$(vdpctl sched show --tenant 1 --json | tr -d ' \n')" '"cpus":[1]'

step "a CPU that is not online is refused and changes nothing"
out=$(expect_fail "pinning to cpu 7" vdpctl sched set --tenant 1 --cpus 7)
expect_text "$out" "cpu 7 is not an online CPU of this machine"
out=$(expect_fail "a CPU past the mask" vdpctl sched set --tenant 1 --cpus 1024)
expect_text "$out" "CPU numbers go up to 1023"
[ "$(allowed "$red0")" = "1" ] && [ "$(allowed "$red1")" = "1" ] || fail "a refused mask moved the threads"

step "moved to cpu 0 together, then let go"
vdpctl sched set --tenant 1 --cpus 0 >/dev/null
[ "$(allowed "$red0") $(allowed "$red1")" = "0 0" ] || fail "after --cpus 0 the threads may run on $(allowed "$red0") and $(allowed "$red1")"
runs_only_on "$red1" 0
expect_text "$(vdpctl sched set --tenant 1 --cpus any)" "cpus any"
[ "$(allowed "$red0") $(allowed "$red1")" = "0-1 0-1" ] || fail "after --cpus any the threads may run on $(allowed "$red0") and $(allowed "$red1")"
vdpctl tenant del --id 1 >/dev/null

step "the coordinator pins each tenant to its engine slices' CPUs"
SYSTEM=/tmp/pin-system.toml
awk '/^name = "red"$/ { print; print "engines = 1"; next } /^name = "blue"$/ { print; print "engines = 0.5"; next } { print }' \
  /vdp/configs/coord-system.toml > $SYSTEM
printf '\n[engines]\ncpus = [0, 1]\n' >> $SYSTEM
physical_device eth0
start_coordinator $SYSTEM
expect_text "$(cat /tmp/vdpd.log)" "tenant red: threads pinned to cpus 0 (its engine slices)"
expect_text "$(cat /tmp/vdpd.log)" "tenant blue: threads pinned to cpus 1 (its engine slices)"
[ "$(allowed "$(pids 1 | head -n 1)")" = "0" ] || fail "red's thread may run on $(allowed "$(pids 1 | head -n 1)")"
[ "$(allowed "$(pids 2 | head -n 1)")" = "1" ] || fail "blue's thread may run on $(allowed "$(pids 2 | head -n 1)")"
in_container /vdp/red vdpctl install /vdp/configs/coord-red.click >/dev/null
for pid in $(pids 1); do
  wait_allowed "$pid" 0
done
expect_text "$(in_container /vdp/red vdpctl show)" "(threads pinned to those CPUs"
stop_coordinator

step "a config naming a CPU the host does not have online is refused at the start"
sed 's/^cpus = \[0, 1\]$/cpus = [0, 5]/' $SYSTEM > /tmp/pin-offline.toml
out=$(expect_fail "an offline engine CPU" vdpctl daemon --system /tmp/pin-offline.toml --state /tmp/pin-state.json)
expect_text "$out" "[engines] cpus: cpu 5 is not online on this host (online: 0-1)"
