# timeout: 420
# SIGHUP (systemctl reload vdpd) makes the coordinator read its system config again: a tenant
# added is created and can install, a tenant removed is deleted from the module, a changed
# tenant gets its new share and devices, and an unchanged tenant is not touched (its graph keeps
# its thread and its count). A config that does not parse, or that would break a running
# configuration, changes nothing.
. /vdp/lib.sh
SYSTEM=/tmp/reload-system.toml
RED=/vdp/red BLUE=/blue GREEN=/green
cp /vdp/configs/coord-system.toml $SYSTEM
load_vdp
physical_device eth0
start_coordinator $SYSTEM

thread_pid() { vdpctl stats --tenant "$1" --json | tr -d ' \n' | sed -n 's/.*"thread_pid":\([0-9]*\).*/\1/p'; }
tenant_names() { vdpctl stats --json | tr -d ' \n' | grep -o '"name":"[a-z]*","thread_pid"' | sed 's/"name":"\([a-z]*\)".*/\1/' | tr '\n' ' '; }
# without_tenant NAME FILE: prints FILE without tenant NAME's table and its devices' tables.
without_tenant() {
  awk -v name="name = \"$1\"" '
    /^\[\[tenant\]\]$/ { held = $0; next }
    held != "" { skip = ($0 == name); if (!skip) print held; held = "" }
    !skip' "$2"
}
# answers: how many reload answers the coordinator has logged.
answers() { awk '/^vdpd: reload/ { n++ } END { print n + 0 }' /tmp/vdpd.log; }
# reload EXPECTED: SIGHUP, then wait for the coordinator's answer in its log and check it.
reload() {
  local before i=0 line
  before=$(answers)
  kill -HUP "$VDPD_PID"
  until [ "$(answers)" -gt "$before" ]; do
    [ $i -lt 300 ] || { cat /tmp/vdpd.log; fail "no reload answer 30 s after SIGHUP"; }
    sleep 0.1; i=$((i + 1))
  done
  line=$(grep "^vdpd: reload" /tmp/vdpd.log | tail -n 1)
  echo "    $line"
  expect_text "$line" "$1"
  kill -0 "$VDPD_PID" || fail "the coordinator exited on SIGHUP"
}

step "red and blue install"
in_container $RED vdpctl install /vdp/configs/coord-red.click
in_container $BLUE vdpctl install /vdp/configs/coord-blue.click
red_pid=$(thread_pid 1); blue_pid=$(thread_pid 2)
[ -n "$red_pid" ] && [ -n "$blue_pid" ] || fail "no thread pids: red '$red_pid', blue '$blue_pid'"
[ "$(cat /sys/fs/cgroup/blue/dataplane/cpu.max)" = "50000 100000" ] || fail "blue's cpu.max is $(cat /sys/fs/cgroup/blue/dataplane/cpu.max)"

step "the same config again: nothing changes"
reload "reloaded $SYSTEM: 0 added, 0 removed, 0 changed, 2 unchanged"

step "green is added and blue's share lowered; red is untouched"
installs=$(awk '/installed/ { n++ } END { print n + 0 }' /tmp/vdpd.log)
before=$(read_handler 1 red/c.count)
awk '/^name = "blue"/ { blue = 1 } blue && /^cpu_share/ { print "cpu_share = 30"; blue = 0; next } { print }' \
  /vdp/configs/coord-system.toml > $SYSTEM
printf '\n[[tenant]]\nname = "green"\ncgroup = "/green"\ncpu_share = 20\n' >> $SYSTEM
reload "reloaded $SYSTEM: 1 added (green), 0 removed, 1 changed (blue: cpu_share), 1 unchanged"
[ "$(cat /sys/fs/cgroup/blue/dataplane/cpu.max)" = "30000 100000" ] || fail "blue's cpu.max is $(cat /sys/fs/cgroup/blue/dataplane/cpu.max) after the reload"
[ "$(cat /sys/fs/cgroup/green/dataplane/cpu.max)" = "20000 100000" ] || fail "green's cpu.max is $(cat /sys/fs/cgroup/green/dataplane/cpu.max)"
expect_match "$(tenant_names)" "red blue green"
[ "$(thread_pid 1)" = "$red_pid" ] || fail "red's thread changed from $red_pid to $(thread_pid 1)"
[ "$(thread_pid 2)" = "$blue_pid" ] || fail "blue's thread changed from $blue_pid to $(thread_pid 2): its graph was reinstalled"
[ "$(awk '/installed/ { n++ } END { print n + 0 }' /tmp/vdpd.log)" = "$installs" ] || fail "the reload reinstalled a graph: $(grep installed /tmp/vdpd.log | tail -n 2)"
after=$(read_handler 1 red/c.count)
echo "    red/c.count $before before the reload, $after after"
[ "$after" -gt "$before" ] || fail "red's count went from $before to $after: its graph was replaced or stopped"
in_container $GREEN vdpctl install /vdp/configs/coord-red.click
i=0
until v=$(timeout 5 vdpctl handler read --tenant 3 green/c.count) && [ "$v" -gt 0 ]; do
  [ $i -lt 100 ] || fail "green's count is '$v' 10 s after its install"
  sleep 0.1; i=$((i + 1))
done
echo "    green/c.count $v"
vdpctl stats --tenant 3

step "blue is removed: deleted from the module, its configuration kept on disk"
without_tenant blue $SYSTEM > /tmp/reload-next.toml && mv /tmp/reload-next.toml $SYSTEM
reload "reloaded $SYSTEM: 0 added, 1 removed (blue), 0 changed, 2 unchanged"
expect_match "$(tenant_names)" "red green"
grep -q "tenant blue: deleted from the module" /tmp/vdpd.log || fail "no deletion of blue in the log"
kill -0 "$blue_pid" 2>/dev/null && fail "blue's thread $blue_pid still runs"
out=$(expect_fail "blue installs after its removal" in_container $BLUE vdpctl install /vdp/configs/coord-blue.click)
expect_match "$out" "which belongs to no tenant"
grep -q '"file_name": "coord-blue.click"' /tmp/vdp-state.json || fail "blue's configuration left the state file"
[ "$(thread_pid 1)" = "$red_pid" ] || fail "red's thread changed on blue's removal"

step "a config that does not parse changes nothing"
cp $SYSTEM /tmp/reload-good.toml
echo "[[tenant]" >> $SYSTEM
reload "reload refused: $SYSTEM"
expect_match "$(tenant_names)" "red green"
[ "$(thread_pid 1)" = "$red_pid" ] || fail "a bad config changed red's thread"

step "a config under which red's running configuration fails changes nothing"
cp /tmp/reload-good.toml $SYSTEM
in_container $RED vdpctl install /vdp/configs/coord-eth1.click
red_pid=$(thread_pid 1)
awk '/^\[\[tenant.device\]\]$/ { skip = 1; next } skip && /^$/ { skip = 0 } !skip' /tmp/reload-good.toml > $SYSTEM
grep -q "tenant.device" $SYSTEM && fail "the test config still has red's device"
reload "reload refused: tenant red: its configuration coord-eth1.click would not pass its checks"
vdpctl vdev show --tenant 1 | grep -q "^eth1: " || fail "red's eth1 is gone after a refused reload"
[ "$(thread_pid 1)" = "$red_pid" ] || fail "a refused reload changed red's thread"

step "red's tunnel changes under its graph: the device is made again, the graph reinstalled"
sed 's/^remote = "192.0.2.11"$/remote = "192.0.2.12"/' /tmp/reload-good.toml > $SYSTEM
reload "reloaded $SYSTEM: 0 added, 0 removed, 1 changed (red: device eth1 changed), 1 unchanged"
out=$(vdpctl vdev show --tenant 1); echo "$out" | sed 's/^/    /'
expect_text "$out" "eth1: ip over eth0 (attached) 192.0.2.1 -> 192.0.2.12 key 11"
grep -q "tenant red: removed its graph to make device eth1 again" /tmp/vdpd.log || fail "the graph using eth1 was not taken off first"
out=$(in_container $RED vdpctl show); expect_match "$out" "configuration coord-eth1.click"
vdpctl stats --tenant 1 --json | tr -d ' \n' | grep -q '"graph":{' || fail "red has no graph after its device was made again"

stop_coordinator
echo "--- coordinator log"; cat /tmp/vdpd.log
unload_vdp
echo "coordinator-reload ok"
