#!/usr/bin/env bash
# `make test`: the userspace unit tests, the QEMU scenarios on the debug kernel, then the Debian
# packages (make deb-test: built, checked by lintian, installed into a scratch root, vdp.ko built
# from them by dkms and loaded in a guest).
# Ends with one line "N passed, N failed" that adds both up.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The last "N passed, N failed" line of $log, as "N N".
summary_counts() { awk '/^[0-9]+ passed, [0-9]+ failed$/ { p = $1; f = $3 } END { print p+0, f+0 }' "$log"; }

echo "== userspace unit tests (cargo test) =="
(cd userspace && cargo test --quiet 2>&1) | tee "$log"
unit_rc=${PIPESTATUS[0]}
read -r p f < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p+0, f+0 }' "$log")
passed=$((passed + p)); failed=$((failed + f))
if [ "$unit_rc" -ne 0 ] && [ "$f" -eq 0 ]; then
  echo "cargo test failed before running tests (exit $unit_rc)"; failed=$((failed + 1))
fi

echo "== QEMU scenarios (debug kernel) =="
if make --no-print-directory FLAVOUR=debug initramfs; then
  qemu-tests/run --flavour debug | tee "$log"
  read -r p f < <(summary_counts)
  passed=$((passed + p)); failed=$((failed + f))
  [ "$p" -gt 0 ] || { echo "no QEMU scenario ran"; failed=$((failed + 1)); }
else
  echo "building the kernel, vdp.ko or the guest image failed"; failed=$((failed + 1))
fi

echo "== Debian packages (make deb-test, debug kernel) =="
make --no-print-directory FLAVOUR=debug deb-test 2>&1 | tee "$log"
deb_rc=${PIPESTATUS[0]}
read -r p f < <(summary_counts)
passed=$((passed + p)); failed=$((failed + f))
if [ "$deb_rc" -ne 0 ] && [ "$f" -eq 0 ]; then
  echo "building or linting the Debian packages failed (exit $deb_rc)"; failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
