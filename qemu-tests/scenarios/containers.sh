# timeout: 360
# Containers as the runtimes make them (docs/containers.md): a tenant is a cgroup subtree, and
# each runtime puts its container in a scope of its own below the tenant's cgroup, in a cgroup
# namespace. From such a scope each tenant installs and reads its own graph, vdp's kthread sits
# in the tenant's dataplane/ cgroup beside the runtime's scope, and the tenant's cgroup itself
# holds no process (cgroup v2's no-internal-processes rule). A rootless container (uid 1000, in
# a user namespace that maps its root to 1000) installs for its own tenant.
. /vdp/lib.sh
SYSTEM=/vdp/configs/containers-system.toml
load_vdp
# Requests answered ok are logged at the debug level: the rootless step reads the uid from them.
export VDP_LOG=debug
start_coordinator $SYSTEM
unset VDP_LOG

# runtime_container PARENT SCOPE CMD...: CMD as a runtime's container would run: in the runtime's
# scope SCOPE below the tenant's cgroup PARENT, with network and cgroup namespaces of its own
# (docker and podman give each container a cgroup namespace on cgroup v2).
runtime_container() {
  local parent=$1 scope=$2; shift 2
  mkdir -p "/sys/fs/cgroup$parent/$scope"
  unshare -n sh -c 'echo $$ > "/sys/fs/cgroup$0/cgroup.procs" || exit 3; exec /usr/bin/unshare -C "$@"' "$parent/$scope" "$@"
}
# tenant_id NAME: the module's id of a tenant.
tenant_id() { vdpctl stats --json | tr -d ' \n' | sed -n "s/.*\"id\":\([0-9]*\),\"name\":\"$1\".*/\1/p"; }
thread_pid() { vdpctl stats --tenant "$1" --json | tr -d ' \n' | sed -n 's/.*"thread_pid":\([0-9]*\).*/\1/p'; }
# check_tenant NAME PARENT: the tenant runs its graph, its thread is in PARENT/dataplane, and
# PARENT itself holds no process.
check_tenant() {
  local id pid
  id=$(tenant_id "$1"); [ -n "$id" ] || fail "no tenant $1 in the module"
  pid=$(thread_pid "$id")
  [ "$(cgroup_of "$pid")" = "$2/dataplane" ] || fail "$1's thread $pid is in $(cgroup_of "$pid"), want $2/dataplane"
  [ -z "$(cat "/sys/fs/cgroup$2/cgroup.procs")" ] || fail "$2 holds processes: $(cat "/sys/fs/cgroup$2/cgroup.procs")"
  [ "$(cat "/sys/fs/cgroup$2/dataplane/cpu.max")" = "10000 100000" ] || fail "$1's dataplane cpu.max is $(cat "/sys/fs/cgroup$2/dataplane/cpu.max")"
  wait_positive "$id" "$1/c.count"
  echo "    tenant $1 (id $id): thread $pid in $2/dataplane, count $(read_handler "$id" "$1/c.count")"
}
wait_positive() { # wait_positive ID ELEMENT.HANDLER: the handler reads above 0 within 30 s
  local i=0 v=""
  until v=$(vdpctl handler read --tenant "$1" "$2" 2>/dev/null) && [ "$v" -gt 0 ] 2>/dev/null; do
    [ $i -lt 300 ] || fail "tenant $1's $2 is '$v' after 30 s"
    sleep 0.1; i=$((i + 1))
  done
}

step "docker (cgroupfs driver, --cgroup-parent=/vdp/docker)"
ID=4f1c0ffee4f1c0ffee4f1c0ffee4f1c0ffee4f1c0ffee4f1c0ffee4f1c0ffee0
out=$(runtime_container /vdp/docker $ID vdpctl install /vdp/configs/coord-red.click) || fail "docker's install: $out"
echo "    $out"
expect_match "$out" "for tenant docker"
check_tenant docker /vdp/docker
out=$(runtime_container /vdp/docker $ID vdpctl read c.count) || fail "docker reads its count: $out"
[ "$out" -gt 0 ] || fail "docker's count reads '$out'"

step "podman (systemd manager, --cgroup-parent=vdp-podman.slice), conmon in a scope beside it"
out=$(runtime_container /vdp.slice/vdp-podman.slice libpod-conmon-77aa.scope vdpctl show) || fail "podman's conmon scope: $out"
expect_match "$out" "tenant podman .*cgroup /vdp.slice/vdp-podman.slice"
expect_match "$out" "no configuration installed"
out=$(runtime_container /vdp.slice/vdp-podman.slice libpod-77aa.scope vdpctl install /vdp/configs/coord-red.click) || fail "podman's install: $out"
expect_match "$out" "for tenant podman"
check_tenant podman /vdp.slice/vdp-podman.slice
out=$(runtime_container /vdp.slice/vdp-podman.slice libpod-conmon-77aa.scope vdpctl show) || fail "podman's conmon scope: $out"
expect_match "$out" "configuration coord-red.click"

step "systemd-nspawn (--slice=vdp-nspawn.slice)"
out=$(runtime_container /vdp.slice/vdp-nspawn.slice machine-c1.scope vdpctl install /vdp/configs/coord-red.click) || fail "nspawn's install: $out"
expect_match "$out" "for tenant nspawn"
check_tenant nspawn /vdp.slice/vdp-nspawn.slice

step "LXC (lxc.cgroup.dir.container = vdp/lxc/c1)"
out=$(runtime_container /vdp/lxc c1 vdpctl install /vdp/configs/coord-red.click) || fail "lxc's install: $out"
expect_match "$out" "for tenant lxc"
check_tenant lxc /vdp/lxc
# The monitor beside the payload is the tenant too: it may read, and only its own tenant.
out=$(runtime_container /vdp/lxc c1.monitor vdpctl read c.count) || fail "lxc's monitor reads: $out"
out=$(expect_fail "lxc reads docker's count" runtime_container /vdp/lxc c1 vdpctl read --tenant docker c.count)
expect_match "$out" "docker"

step "a rootless container: uid 1000, its root mapped to 1000 by a user namespace"
# As for a user's session under systemd, root puts the process in the user's subtree; it then
# drops to uid 1000, and the rootless runtime makes a user namespace mapping its root to 1000.
mkdir -p /sys/fs/cgroup/rootless/ctr.scope
out=$(sh -c 'echo $$ > /sys/fs/cgroup/rootless/ctr.scope/cgroup.procs || exit 3
  exec /usr/bin/setpriv --reuid 1000 --regid 1000 --clear-groups /usr/bin/unshare -U -r -n -C sh -c "id -u; vdpctl install /vdp/configs/coord-red.click"' 2>&1) \
  || fail "the rootless install: $out"
echo "$out" | sed 's/^/    /'
[ "$(echo "$out" | head -n 1)" = 0 ] || fail "the rootless container's uid is $(echo "$out" | head -n 1), want 0 inside its namespace"
expect_match "$out" "for tenant rootless"
check_tenant rootless /rootless
grep -q "uid 1000 tenant rootless (acting on rootless): ok" /tmp/vdpd.log || fail "the coordinator did not see uid 1000 for the rootless install"
# Outside the tenant's subtree, the same user is nobody to the coordinator.
out=$(expect_fail "uid 1000 outside any tenant" /usr/bin/setpriv --reuid 1000 --regid 1000 --clear-groups /usr/bin/unshare -U -r -n vdpctl show)
expect_match "$out" "belongs to no tenant"

step "a distroless image: the static vdpctl and a configuration, no libc, no shell, no loader"
ROOTFS=/tmp/distroless
mkdir -p $ROOTFS/run/vdp $ROOTFS/etc/vdp
cp /vdp/static/vdpctl $ROOTFS/vdpctl
cp /vdp/configs/coord-red.click $ROOTFS/etc/vdp/red.click
# The glibc build beside it, to show that this root really lacks what a dynamic binary needs.
cp /usr/bin/vdpctl $ROOTFS/vdpctl-glibc
mount --bind /run/vdp $ROOTFS/run/vdp
echo "    the image's root: $(cd $ROOTFS && find . -type f -o -type s | sort | tr '\n' ' ')"
out=$(expect_fail "the glibc vdpctl in the distroless root" runtime_container /vdp/distroless ctr chroot $ROOTFS /vdpctl-glibc info)
out=$(runtime_container /vdp/distroless ctr chroot $ROOTFS /vdpctl install /etc/vdp/red.click) || fail "the distroless install: $out"
echo "    $out"
expect_match "$out" "for tenant distroless"
check_tenant distroless /vdp/distroless
out=$(runtime_container /vdp/distroless ctr chroot $ROOTFS /vdpctl --json show) || fail "the distroless show: $out"
expect_text "$out" '"tenant":"distroless"'
out=$(expect_fail "distroless reads docker's count" runtime_container /vdp/distroless ctr chroot $ROOTFS /vdpctl read --tenant docker c.count)
expect_match "$out" "docker"
umount $ROOTFS/run/vdp

stop_coordinator
echo "--- coordinator log"; cat /tmp/vdpd.log
unload_vdp
echo "containers ok"
