# Helpers for scenario scripts (sourced; the guest runs scenarios with `sh -e`).
VDP_KO=/vdp/vdp.ko

fail() { echo "FAIL: $*"; exit 1; }
step() { echo "--- $*"; }

# expect_fail DESCRIPTION CMD...: CMD must exit non-zero; its output is kept in $out.
expect_fail() {
  local what=$1; shift
  if out=$("$@" 2>&1); then fail "$what: expected failure, got success: $out"; fi
  echo "    refused as expected: $out" >&2
  echo "$out"
}

# expect_match TEXT PATTERN: TEXT must contain PATTERN (grep -E).
expect_match() {
  echo "$1" | grep -qE "$2" || fail "expected /$2/ in: $1"
}

load_vdp() { insmod "$VDP_KO" || fail "insmod vdp.ko"; }
unload_vdp() { rmmod vdp || fail "rmmod vdp"; }
