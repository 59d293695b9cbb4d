# timeout: 180
# insmod, `vdpctl info` in both output forms, rmmod, and the message once the module is gone.
. /vdp/lib.sh

step "before loading: vdpctl explains that the module is missing"
out=$(expect_fail "info without the module" vdpctl info)
expect_match "$out" "family \`vdp\` was not found"
expect_match "$out" "insmod vdp.ko"
set +e; vdpctl info >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 3 ] || fail "exit status without the module is $rc, want 3"

step "load"
load_vdp
grep -q '^vdp ' /proc/modules || fail "vdp not in /proc/modules"

step "vdpctl info"
out=$(vdpctl info) || fail "vdpctl info: $out"
echo "$out"
expect_match "$out" "^vdp module version [0-9]+\.[0-9]+\.[0-9]+"
expect_match "$out" "tenants: 0"

step "vdpctl info -j -p"
json=$(vdpctl info -j -p) || fail "vdpctl info -j -p: $json"
echo "$json"
expect_match "$json" '"version": "[0-9]+\.[0-9]+\.[0-9]+"'
expect_match "$json" '"tenants": 0'
expect_match "$json" '"classes": \['
json=$(vdpctl -j info) || fail "vdpctl -j info: $json"
[ "$(echo "$json" | wc -l)" = 1 ] || fail "-j without -p is not one line"
expect_match "$json" '^\{"version":"[0-9]+\.[0-9]+\.[0-9]+","tenants":0,"classes":\['

step "unload"
unload_vdp
grep -q '^vdp ' /proc/modules && fail "vdp still loaded after rmmod"
out=$(expect_fail "info after rmmod" vdpctl info)
expect_match "$out" "was not found"
step "installed where modprobe finds it; modinfo: the version, the family's alias and the parameters"
dir=/lib/modules/$(uname -r)/extra
mkdir -p "$dir" && cp "$VDP_KO" "$dir/vdp.ko" && depmod || fail "depmod"
out=$(modinfo vdp); echo "$out"
expect_match "$out" "^version: +[0-9]+\.[0-9]+\.[0-9]+$"
expect_match "$out" "^alias: +net-pf-16-proto-16-family-vdp$"
expect_match "$out" "^parm: +max_ports:Most physical devices vdp attaches at once \(1 to 256, default 16\)"
expect_match "$out" "^parm: +max_tenant_devices:"
expect_match "$out" "^parm: +rx_queue_len:"

step "a lookup of the family loads the module (its alias), with no insmod"
echo /bin/modprobe > /proc/sys/kernel/modprobe
out=$(vdpctl info) || fail "vdpctl info did not load the module: $out"
expect_match "$out" "^vdp module version"
grep -q '^vdp ' /proc/modules || fail "the lookup did not load vdp"
unload_vdp
rm -rf "/lib/modules/$(uname -r)"

step "parameters out of their bounds are refused at load, naming the bounds"
for bad in max_ports=0 max_tenant_devices=257 rx_queue_len=15 rx_queue_len=100000; do
  insmod "$VDP_KO" "$bad" 2>/dev/null && fail "insmod vdp.ko $bad loaded"
  grep -q '^vdp ' /proc/modules && fail "vdp is loaded after insmod $bad"
  name=${bad%=*}; value=${bad#*=}
  dmesg | grep -q "vdp: $name=$value is out of bounds: it must be" || fail "no message for $bad"
done
dmesg | grep "out of bounds" | tail -n 4

step "max_ports=1 max_tenant_devices=1 rx_queue_len=64: each limit holds"
insmod "$VDP_KO" max_ports=1 max_tenant_devices=1 rx_queue_len=64 || fail "insmod with limits"
dmesg | grep -q "vdp: limits: max_ports 1, max_tenant_devices 1, rx_queue_len 64" || fail "the limits are not logged"
for p in p1 p2; do physical_device "$p"; done
cat > /tmp/limits.toml <<'TOML'
[[physical]]
name = "p1"

[[tunnel]]
name = "t1"
physical = "p1"
local = "192.0.2.1"
remote = "192.0.2.2"
carries = "ethernet"
next_hop_mac = "02:00:00:00:ff:11"

[[tenant]]
name = "red"
cgroup = "vdp/red"
cpu_share = 50
host_device = "hst"

[[tenant.device]]
name = "hst"
tunnel = "t1"
address = "10.9.1.1/24"
TOML
vdpctl system apply /tmp/limits.toml >/dev/null || fail "system apply"
echo 'fh :: FromHost(hst) -> Discard;' > /tmp/fh.click
vdpctl compile --system /tmp/limits.toml red=/tmp/fh.click -o /tmp/fh.vdpg >/dev/null || fail "compile"
vdpctl graph install --tenant 1 /tmp/fh.vdpg >/dev/null || fail "install"
[ "$(read_handler 1 red/fh.capacity)" = 64 ] || fail "FromHost's capacity is $(read_handler 1 red/fh.capacity), want 64"
out=$(expect_fail "a second port" vdpctl port attach p2)
expect_match "$out" "vdp already attaches max_ports physical devices \(a module parameter\)"
out=$(expect_fail "a second device" vdpctl vdev add --tenant 1 --port p1 --local 192.0.2.1 --remote 192.0.2.3 \
  --carries ethernet --peer-mac 02:00:00:00:ff:11 eth1)
expect_match "$out" "the tenant already has max_tenant_devices virtual devices \(a module parameter\)"
vdpctl graph remove --tenant 1 >/dev/null || fail "graph remove"
unload_vdp
echo "module-load ok"
