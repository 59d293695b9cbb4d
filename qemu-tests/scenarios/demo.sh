# timeout: 180
# What `make demo` shows: vdp.ko loaded, tenants with their own kernel threads placed in their
# cgroups, and the module's answers over generic netlink.
. /vdp/lib.sh
show() { echo "\$ $*"; "$@"; }

echo "== vdp demo =="
show insmod /vdp/vdp.ko
show vdpctl info
for t in "red 1" "blue 2"; do
  set -- $t
  show vdpctl tenant add "$1" --id "$2"
  pid=$(vdpctl tenant show --id "$2" --json | sed -n 's/.*"thread_pid": \([0-9]*\).*/\1/p')
  mkdir -p "/sys/fs/cgroup/$1"
  echo "$pid" > "/sys/fs/cgroup/$1/cgroup.procs"
  echo "   thread $pid ($(cat /proc/$pid/comm)) placed in cgroup /$1"
done
show vdpctl sched set --tenant 2 --tasks-per-yield 32
show vdpctl info --json
for pid in $(cat /sys/fs/cgroup/red/cgroup.procs /sys/fs/cgroup/blue/cgroup.procs); do
  echo "$pid" > /sys/fs/cgroup/cgroup.procs
done
show rmmod vdp
echo "== demo finished =="
