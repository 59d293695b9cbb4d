# timeout: 240
# Tenant lifecycle: threads named after tenants, idle threads cost no CPU, cgroup placement,
# scheduling parameters, refusals with clear reasons, and privilege checks.
. /vdp/lib.sh
load_vdp

step "create two tenants"
vdpctl tenant add red --id 1
vdpctl tenant add blue --id 2
out=$(vdpctl info); expect_match "$out" "tenants: 2"
red_pid=$(vdpctl tenant show --id 1 -j -p | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')
[ -n "$red_pid" ] || fail "no thread pid for red"
[ "$(cat /proc/$red_pid/comm)" = "vdp-red" ] || fail "thread $red_pid is named $(cat /proc/$red_pid/comm)"

step "an idle tenant thread uses no CPU"
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
before=$(ticks "$red_pid"); sleep 2; after=$(ticks "$red_pid")
[ "$after" -eq "$before" ] || fail "idle thread used $((after - before)) ticks"

step "the thread can be placed in the tenant's cgroup"
mkdir /sys/fs/cgroup/red
echo "$red_pid" > /sys/fs/cgroup/red/cgroup.procs
grep -qx "$red_pid" /sys/fs/cgroup/red/cgroup.procs || fail "thread not in cgroup red"

step "scheduling parameters"
vdpctl sched get --tenant 1 | grep -q "tasks per yield auto" || fail "default tasks per yield"
vdpctl sched set --tenant 1 --tasks-per-yield 16
vdpctl sched get --tenant 1 | grep -q "tasks per yield 16" || fail "tasks per yield not applied"
out=$(expect_fail "tasks per yield 0" vdpctl debug raw --cmd 5 --attr 4:01000000 --attr 7:00000000)
expect_match "$out" "integer out of range"

step "the command line: tenants by name or id, iproute2 verbs, -j -p -s"
out=$(vdpctl tenant show red); expect_match "$out" "^tenant 1 \(red\): thread pid $red_pid, tasks per yield 16"
out=$(vdpctl tenant list); expect_match "$out" "^tenant 1 \(red\)"; expect_match "$out" "tenant 2 \(blue\)"
out=$(vdpctl -j tenant show blue)
[ "$(echo "$out" | wc -l)" = 1 ] || fail "-j without -p is not one line: $out"
expect_match "$out" '^\{"id":2,"name":"blue","thread_pid":[0-9]+,'
out=$(vdpctl tenant show --id red -s)
expect_match "$out" "^  wakeups [0-9]+, task runs [0-9]+$"; expect_match "$out" "^  cpu max "; expect_match "$out" "^  no graph$"
out=$(vdpctl tenant show 1 -j -s); expect_match "$out" '^\{"id":1,"name":"red",.*"stats":\{"wakeups":[0-9]+,"task_runs":[0-9]+,"cpu":'
vdpctl sched show --tenant red | grep -q "tasks per yield 16" || fail "sched show by name"
out=$(vdpctl sched set --tenant red --tasks-per-yield 16 -j -p); expect_match "$out" '^  "tasks_per_yield": 16,$'
out=$(expect_fail "unknown name" vdpctl sched set --tenant green --threads 1)
expect_match "$out" "the module has no tenant named .green. \(its tenants: red, blue\)"
out=$(expect_fail "-j on a command without JSON" vdpctl -j graph cycle --tenant red /nonexistent)
expect_match "$out" "has no JSON output"

step "refusals"
out=$(expect_fail "duplicate id" vdpctl tenant add green --id 1)
expect_match "$out" "a tenant with this id already exists"
out=$(expect_fail "duplicate name" vdpctl tenant add red --id 3)
expect_match "$out" "a tenant with this name already exists"
out=$(expect_fail "bad name (checked by the kernel)" vdpctl debug raw --cmd 2 --attr 4:03000000 --attr 5:52656400)
expect_match "$out" "tenant name must be"
out=$(expect_fail "name too long" vdpctl debug raw --cmd 2 --attr 4:03000000 --attr 5:6162636465666768696a6b6c00)
expect_match "$out" "Invalid argument"
out=$(expect_fail "missing id" vdpctl debug raw --cmd 2 --attr 5:67726e00)
expect_match "$out" "missing attribute TENANT_ID"
out=$(expect_fail "id 0" vdpctl tenant add green --id 0)
expect_match "$out" "integer out of range"
out=$(expect_fail "unknown tenant" vdpctl tenant show --id 99)
expect_match "$out" "no tenant with this id"
out=$(expect_fail "delete unknown" vdpctl tenant del --id 99)
expect_match "$out" "no tenant with this id"

step "unprivileged users may read but not change"
su nobody -s /bin/sh -c "vdpctl info" > /dev/null || fail "nobody cannot read info"
out=$(expect_fail "unprivileged TENANT_NEW" su nobody -s /bin/sh -c "vdpctl tenant add evil --id 9")
expect_match "$out" "Operation not permitted"
out=$(expect_fail "unprivileged SCHED_SET" su nobody -s /bin/sh -c "vdpctl sched set --tenant 1 --tasks-per-yield 1")
expect_match "$out" "Operation not permitted"

step "delete one tenant, unload with the other still present"
out=$(vdpctl -j tenant del blue) || fail "tenant del blue"
[ -z "$out" ] || fail "a confirmation under -j prints nothing, not: $out"
out=$(vdpctl info); expect_match "$out" "tenants: 1"
[ -d /proc/$red_pid ] || fail "red's thread vanished"
echo "$red_pid" > /sys/fs/cgroup/cgroup.procs
unload_vdp
[ -d /proc/$red_pid ] && fail "red's thread survived rmmod"
rmdir /sys/fs/cgroup/red
echo "tenants ok"
