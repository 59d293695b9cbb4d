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

step "vdpctl info --json"
json=$(vdpctl info --json) || fail "vdpctl info --json: $json"
echo "$json"
expect_match "$json" '"version": "[0-9]+\.[0-9]+\.[0-9]+"'
expect_match "$json" '"tenants": 0'
expect_match "$json" '"classes": \['

step "unload"
unload_vdp
grep -q '^vdp ' /proc/modules && fail "vdp still loaded after rmmod"
out=$(expect_fail "info after rmmod" vdpctl info)
expect_match "$out" "was not found"
echo "module-load ok"
