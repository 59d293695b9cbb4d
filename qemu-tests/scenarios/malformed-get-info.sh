# timeout: 180
# The strict policy: malformed GET_INFO requests are refused with EINVAL and an extack message,
# and the module keeps answering well-formed ones.
. /vdp/lib.sh
load_vdp
GET_INFO=1

step "an unknown attribute type"
out=$(expect_fail "unknown attribute" vdpctl debug raw --cmd $GET_INFO --attr 99:01000000)
expect_match "$out" "Unknown attribute type"
expect_match "$out" "Invalid argument"

step "a reply-only attribute in a request"
out=$(expect_fail "reply-only attribute" vdpctl debug raw --cmd $GET_INFO --attr 1:302e3100)
expect_match "$out" "VERSION is a reply-only attribute"

step "an attribute with type 0"
out=$(expect_fail "attribute type 0" vdpctl debug raw --cmd $GET_INFO --attr 0:00000000)
expect_match "$out" "Invalid argument"

step "an unknown command"
out=$(expect_fail "unknown command" vdpctl debug raw --cmd 200)
expect_match "$out" "not supported|Operation not supported"

step "still answering"
out=$(vdpctl info) || fail "vdpctl info after malformed requests: $out"
expect_match "$out" "tenants: 0"
unload_vdp
echo "malformed-get-info ok"
