# timeout: 600
# CPU benchmark (`make bench-cpu`, lean kernel; not part of `make test`): long-term unfairness.
# Two tenants share CPU 0, B capped at 15% by cpu.max, B's per-packet cost swept with Chew.
# Prints "BENCH unfair ..." lines that scripts/bench-cpu.sh turns into docs/bench/cpu-*.md.
. /vdp/lib.sh
load_vdp
. /vdp/bench-cpu-lib.sh
WINDOW=${BENCH_WINDOW:-3}

step "unfairness: A uncapped and B capped at 15% share CPU 0; B's per-packet cost grows"
add_tenant a 1 busy.click
add_tenant b 2 chew.click
for t in a b; do
  mkdir "/sys/fs/cgroup/$t"
  pid=$(pid_of $([ $t = a ] && echo 1 || echo 2))
  echo "$pid" > "/sys/fs/cgroup/$t/cgroup.procs"
  taskset -p 1 "$pid" >/dev/null || fail "pinning $t's thread to CPU 0"
done
echo "15000 100000" > /sys/fs/cgroup/b/cpu.max
for n in 0 1000 5000 10000 15000 20000 40000 80000 160000 320000; do
  vdpctl handler write --tenant 2 b/chew.cycles "$n"
  sleep 1
  ua0=$(usage a); ub0=$(usage b); cb0=$(read_handler 2 b/c.count); ca0=$(read_handler 1 a/c.count); t0=$(now)
  sleep "$WINDOW"
  ua1=$(usage a); ub1=$(usage b); cb1=$(read_handler 2 b/c.count); ca1=$(read_handler 1 a/c.count); t1=$(now)
  echo "$n $ua0 $ua1 $ub0 $ub1 $ca0 $ca1 $cb0 $cb1 $t0 $t1" | awk '{ w = ($11 - $10) * 1e6;
    printf "BENCH unfair cycles=%d b_share_permille=%d a_share_permille=%d b_pps=%d a_pps=%d\n",
      $1, 1000 * ($5 - $4) / w, 1000 * ($3 - $2) / w, ($9 - $8) * 1e6 / w, ($7 - $6) * 1e6 / w }'
done
vdpctl stats --tenant 2 | sed -n 2p
vdpctl tenant del --id 1; vdpctl tenant del --id 2
rmdir /sys/fs/cgroup/a /sys/fs/cgroup/b

echo "bench-cpu-unfair done"
