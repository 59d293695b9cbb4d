# timeout: 300
# 50 rounds of insmod / vdpctl info / rmmod: registration and teardown leave nothing behind.
. /vdp/lib.sh
round=1
while [ "$round" -le 50 ]; do
  load_vdp
  out=$(vdpctl info) || fail "round $round: vdpctl info: $out"
  expect_match "$out" "tenants: 0"
  unload_vdp
  round=$((round + 1))
done
grep -q '^vdp ' /proc/modules && fail "vdp still loaded"
echo "50 load cycles ok"
