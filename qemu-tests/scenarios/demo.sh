# timeout: 240
# What `make demo` shows: vdp.ko loaded, two tenants with their own kernel threads placed in their
# cgroups, each running its own Click pipeline inside the kernel, and their statistics.
. /vdp/lib.sh
show() { echo "\$ $*"; "$@"; }
SYSTEM=/vdp/configs/engine-system.toml

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

echo
echo "== each tenant's Click configuration, checked, compiled and installed =="
for t in "red 1" "blue 2"; do
  set -- $t
  echo "--- /vdp/configs/demo-$1.click"
  grep -v '^//' "/vdp/configs/demo-$1.click"
  show vdpctl compile --system $SYSTEM "$1=/vdp/configs/demo-$1.click" -o "/tmp/$1.vdpg"
  show vdpctl graph install --tenant "$2" "/tmp/$1.vdpg"
done

wait_for_value 1 red/sent.count 10000
wait_for_value 2 blue/ok.count 1500

echo
echo "== statistics, read through each tenant's handlers =="
for h in seen.count q.highwater_length q.drops sent.count sent.byte_count; do
  printf '  red/%-20s %s\n' "$h" "$(vdpctl handler read --tenant 1 red/$h)"
done
for h in ok.count toolong.count; do
  printf '  blue/%-19s %s\n' "$h" "$(vdpctl handler read --tenant 2 blue/$h)"
done
echo "  cgroup cpu time:  red $(sed -n 's/usage_usec //p' /sys/fs/cgroup/red/cpu.stat) us," \
     "blue $(sed -n 's/usage_usec //p' /sys/fs/cgroup/blue/cpu.stat) us"
echo "\$ vdpctl handler read --tenant 2 red/sent.count   # blue cannot see red's elements"
vdpctl handler read --tenant 2 red/sent.count || true

for pid in $(cat /sys/fs/cgroup/red/cgroup.procs /sys/fs/cgroup/blue/cgroup.procs); do
  echo "$pid" > /sys/fs/cgroup/cgroup.procs
done
show rmmod vdp
echo "== demo finished =="
