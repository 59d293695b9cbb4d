#!/usr/bin/env bash
# `make deb-test` (and part of `make test`): the packages of `make deb`, installed into a scratch
# root, checked file by file, and vdp.ko built by dkms from the installed vdp-dkms against the
# cached kernel build tree of FLAVOUR.
#
#   scripts/deb-test.sh FLAVOUR [--vm]
#
# --vm also boots that kernel in QEMU with the dkms-built vdp.ko and the packaged vdpctl in the
# guest image and runs the module-load scenario (insmod, vdpctl info, rmmod); it needs
# `make userspace` (the guest image wants vdp-fuzz, vdp-bench and the engines beside vdpctl).
# With VDP_DEB_KERNEL=linux-image-*.deb (make deb-kernel-test) the guest boots that package's
# /boot/vmlinuz instead of the cached tree's bzImage.
# Ends with one line "N passed, N failed".
set -uo pipefail

FLAVOUR=${1:?usage: scripts/deb-test.sh debug|lean [--vm]}
VM=0; [ "${2:-}" = --vm ] && VM=1
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${VDP_OUT:-$REPO/out}
DEB=$OUT/deb
KTREE=$OUT/kernel-$FLAVOUR/build
VERSION=$(sed -n 's/^pub const VERSION: &str = "\([^"]*\)";$/\1/p' "$REPO/kmod/core/mod.rs")

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
differ() { ! cmp -s "$1" "$2"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/vdp-deb-test.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
ROOT=$SCRATCH/root
mkdir -p "$ROOT"

CTL_DEB=$DEB/vdpctl_${VERSION}_amd64.deb
DKMS_DEB=$DEB/vdp-dkms_${VERSION}_all.deb
[ -n "$VERSION" ] || { not_ok "VERSION read from kmod/core/mod.rs"; finish; }
for d in "$CTL_DEB" "$DKMS_DEB"; do
  [ -f "$d" ] || { not_ok "package $(basename "$d") exists (run make deb)"; finish; }
  dpkg-deb -x "$d" "$ROOT" || { not_ok "dpkg-deb -x $(basename "$d")"; finish; }
  check "$(basename "$d"): Version is $VERSION" test "$(dpkg-deb -f "$d" Version)" = "$VERSION"
done

# --- vdpctl ---------------------------------------------------------------------------------
CTL=$ROOT/usr/bin/vdpctl
got=$("$CTL" --version 2>&1)
check "usr/bin/vdpctl --version says 'vdpctl $VERSION' (got '$got')" test "$got" = "vdpctl $VERSION"

# One page per command, as many as vdpctl writes now, each rendered by man without errors.
"$CTL" man "$SCRATCH/man" >/dev/null
want=$(find "$SCRATCH/man" -name '*.1' | wc -l)
have=$(find "$ROOT/usr/share/man/man1" -name 'vdpctl*.1.gz' 2>/dev/null | wc -l)
check "usr/share/man/man1 holds all $want manual pages (found $have)" test "$want" -gt 0 -a "$have" = "$want"
page=$ROOT/usr/share/man/man1/vdpctl-daemon.1.gz
check "man -l renders vdpctl-daemon(1) with its --system option" \
  bash -c 'set -o pipefail; MANWIDTH=80 man -l "$1" 2>&1 >/dev/null | grep -q . && exit 1; MANWIDTH=80 man -l "$1" | grep -q -- "--system"' _ "$page"

# Completions where bash, zsh and fish look for them, identical to what vdpctl prints.
declare -A COMPLETION=(
  [bash]=usr/share/bash-completion/completions/vdpctl
  [zsh]=usr/share/zsh/vendor-completions/_vdpctl
  [fish]=usr/share/fish/vendor_completions.d/vdpctl.fish
)
for sh in bash zsh fish; do
  check "$sh completion at /${COMPLETION[$sh]} is vdpctl's own" \
    bash -c 'cmp -s <("$1" completions "$2") "$3"' _ "$CTL" "$sh" "$ROOT/${COMPLETION[$sh]}"
done
check "bash loads the completion and completes vdpctl with it" \
  bash -c 'source "$1" && complete -p vdpctl | grep -q "vdpctl$"' _ "$ROOT/${COMPLETION[bash]}"

# The unit: systemd-analyze verify with the package's own paths taken from the scratch root
# (ExecStart's /usr/bin/vdpctl, the manual page Documentation= names); the rest of what the
# unit refers to (targets, /sbin/modprobe from kmod, /bin/kill) comes from this host.
UNIT=$ROOT/lib/systemd/system/vdpd.service
if [ -f "$UNIT" ]; then
  ok "lib/systemd/system/vdpd.service is installed"
  mkdir -p "$SCRATCH/unit"
  sed "s|/usr/bin/vdpctl|$ROOT/usr/bin/vdpctl|g" "$UNIT" > "$SCRATCH/unit/vdpd.service"
  check "vdpd.service's ExecStart is the packaged /usr/bin/vdpctl" differ "$UNIT" "$SCRATCH/unit/vdpd.service"
  if out=$(MANPATH=$ROOT/usr/share/man systemd-analyze verify "$SCRATCH/unit/vdpd.service" 2>&1); then
    ok "systemd-analyze verify vdpd.service"
  else
    not_ok "systemd-analyze verify vdpd.service: $out"
  fi
  check "vdpd.service is cmp-equal to packaging/systemd/vdpd.service" cmp -s "$UNIT" "$REPO/packaging/systemd/vdpd.service"
else
  not_ok "lib/systemd/system/vdpd.service is installed"
fi
check "the example system config is in usr/share/doc/vdpctl/examples" \
  cmp -s "$ROOT/usr/share/doc/vdpctl/examples/system.toml" "$REPO/docs/examples/system.toml"

# --- vdp-dkms -------------------------------------------------------------------------------
SRC=$ROOT/usr/src/vdp-$VERSION
check "usr/src/vdp-$VERSION holds Kbuild, kmod/ and dkms.conf" \
  test -f "$SRC/Kbuild" -a -f "$SRC/kmod/vdp_main.rs" -a -f "$SRC/kmod/core/mod.rs" -a -f "$SRC/dkms.conf"
check "dkms.conf says PACKAGE_VERSION=\"$VERSION\"" grep -qx "PACKAGE_VERSION=\"$VERSION\"" "$SRC/dkms.conf"
check "vdp-dkms's postinst registers the module with dkms" \
  bash -c 'dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./postinst | grep -q "dkms"' _ "$DKMS_DEB"

if [ ! -f "$KTREE/include/config/kernel.release" ]; then
  not_ok "kernel build tree at $KTREE (run make FLAVOUR=$FLAVOUR kernel)"
  finish
fi
KREL=$(cat "$KTREE/include/config/kernel.release")
DKMS_TREE=$SCRATCH/dkms
mkdir -p "$DKMS_TREE"
t0=$SECONDS
# --sourcetree and --dkmstree keep dkms to the scratch root: nothing under /usr/src or
# /var/lib/dkms is read or written.
if dkms build -m vdp -v "$VERSION" -k "$KREL" --kernelsourcedir "$KTREE" \
     --sourcetree "$ROOT/usr/src" --dkmstree "$DKMS_TREE" > "$SCRATCH/dkms.log" 2>&1; then
  ok "dkms build vdp/$VERSION against the $FLAVOUR kernel $KREL ($((SECONDS - t0)) s)"
else
  not_ok "dkms build vdp/$VERSION against $KTREE:"
  sed 's/^/    /' "$SCRATCH/dkms.log"
  find "$DKMS_TREE" -name make.log -exec tail -n 30 {} \; 2>/dev/null | sed 's/^/    /'
  finish
fi
KO=$DKMS_TREE/vdp/$VERSION/$KREL/$(uname -m)/module/vdp.ko
if [ -f "$KO" ]; then
  ok "dkms left vdp.ko in its tree"
  check "modinfo vdp.ko: version $VERSION" test "$(modinfo -F version "$KO")" = "$VERSION"
  vermagic=$(modinfo -F vermagic "$KO")
  check "modinfo vdp.ko: vermagic '$vermagic' is kernel $KREL's" test "${vermagic%% *}" = "$KREL"
else
  not_ok "dkms left vdp.ko in its tree (no $KO)"
fi

# --- the dkms-built module in a guest (--vm) -----------------------------------------------
if ((VM)) && [ -f "$KO" ]; then
  VMOUT=$SCRATCH/vm
  mkdir -p "$VMOUT"
  if [ -n "${VDP_DEB_KERNEL:-}" ]; then
    # The packaged kernel, where qemu-tests/run looks for a bzImage.
    mkdir -p "$SCRATCH/kernel-root" "$VMOUT/kernel-$FLAVOUR/build/arch/x86/boot"
    dpkg-deb -x "$VDP_DEB_KERNEL" "$SCRATCH/kernel-root" || { not_ok "dpkg-deb -x $VDP_DEB_KERNEL"; finish; }
    check "$(basename "$VDP_DEB_KERNEL"): /boot/config-$KREL is the tree's .config" \
      cmp -s "$SCRATCH/kernel-root/boot/config-$KREL" "$KTREE/.config"
    check "$(basename "$VDP_DEB_KERNEL") holds /lib/modules/$KREL/modules.dep" test -f "$SCRATCH/kernel-root/lib/modules/$KREL/modules.dep"
    cp "$SCRATCH/kernel-root/boot/vmlinuz-$KREL" "$VMOUT/kernel-$FLAVOUR/build/arch/x86/boot/bzImage" \
      || { not_ok "the package has /boot/vmlinuz-$KREL"; finish; }
    GUEST_KERNEL="the packaged $FLAVOUR kernel"
  else
    ln -s "$(readlink -f "$OUT/kernel-$FLAVOUR")" "$VMOUT/kernel-$FLAVOUR"
    GUEST_KERNEL="the cached $FLAVOUR kernel"
  fi
  # The guest's vdpctl is the packaged one; the tools the image also wants come from make userspace.
  TOOLS=$REPO/userspace/target/release
  mkdir -p "$VMOUT/bin/examples"
  cp "$CTL" "$VMOUT/bin/vdpctl"
  for t in vdp-fuzz vdp-bench vdp-engine flow-sampler-engine examples/vdp-test-engine; do
    cp "$TOOLS/$t" "$VMOUT/bin/$t" || { not_ok "$TOOLS/$t exists (run make userspace)"; finish; }
  done
  t0=$SECONDS
  if "$REPO/qemu-tests/mkinitramfs.sh" "$FLAVOUR" "$KO" "$VMOUT/bin/vdpctl" "$VMOUT/initramfs-$FLAVOUR.cpio.gz" > "$SCRATCH/vm.log" 2>&1 \
     && VDP_OUT=$VMOUT "$REPO/qemu-tests/run" --flavour "$FLAVOUR" module-load >> "$SCRATCH/vm.log" 2>&1; then
    ok "QEMU ($GUEST_KERNEL): the dkms-built vdp.ko loads, answers vdpctl info, unloads ($((SECONDS - t0)) s)"
  else
    not_ok "QEMU module-load with the dkms-built vdp.ko:"
    sed 's/^/    /' "$SCRATCH/vm.log"
    find "$VMOUT/qemu-tests" -name 'module-load.log' -exec tail -n 30 {} \; 2>/dev/null | sed 's/^/    /'
  fi
fi
finish
