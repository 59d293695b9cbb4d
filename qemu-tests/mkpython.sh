#!/usr/bin/env bash
# Builds an extra initramfs layer with the host's Python, just the modules the kernel's YNL CLI
# loads, PyYAML (Debian's python3-yaml), the CLI itself and vdp's YAML spec. qemu-tests/run appends
# it to the guest image only for scenarios that say "# needs: python", so other boots stay small.
#
#   qemu-tests/mkpython.sh KERNEL_SRC OUTPUT
set -euo pipefail
SRC=$1 OUTPUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PYTHON=/usr/bin/python3
die() { echo "[python layer] error: $*" >&2; exit 1; }

CLI=$SRC/tools/net/ynl/pyynl/cli.py
[ -f "$CLI" ] || die "no YNL CLI at $CLI (the kernel source tree)"
[ -x "$PYTHON" ] || die "no $PYTHON (Debian package python3)"
DIST=/usr/lib/python3/dist-packages
[ -d "$DIST/yaml" ] || die "no PyYAML in $DIST (Debian package python3-yaml; scripts/deps.sh)"

ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
chmod 755 "$ROOT"

copy() { # copy FILE: into the same path under ROOT, with its compiled form when there is one
  local f=$1
  mkdir -p "$ROOT$(dirname "$f")"
  cp -pL "$f" "$ROOT$f"
  case "$f" in
    *.py)
      local pyc
      pyc="$(dirname "$f")/__pycache__/$(basename "$f" .py).cpython-$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")').pyc"
      if [ -f "$pyc" ]; then mkdir -p "$ROOT$(dirname "$pyc")"; cp -p "$pyc" "$ROOT$pyc"; fi ;;
  esac
}
copy_libs() { # the shared libraries FILE loads
  local libs
  libs=$(ldd "$1" 2>/dev/null | grep -oE '/[^ ]+' || true)
  for lib in $libs; do
    [ -e "$ROOT$lib" ] || copy "$lib"
  done
}

copy "$(readlink -f "$PYTHON")"
ln -s "$(basename "$(readlink -f "$PYTHON")")" "$ROOT/usr/bin/python3"
copy_libs "$PYTHON"
STDLIB=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
# Landmarks Python uses to find its prefix.
copy "$STDLIB/os.py"
mkdir -p "$ROOT$STDLIB/lib-dynload"

# Every module the CLI imports, found by running it (it stops at resolving the family, after its
# imports; the ones it makes later are covered by running a dump through the spec's parser too).
MODULES=$(mktemp)
"$PYTHON" -S - "$CLI" --spec "$REPO/docs/netlink/vdp.yaml" --no-schema --dump stats > "$MODULES" 2>/dev/null <<PY || true
import sys, runpy
sys.path.append("$DIST")
cli = sys.argv[1]
sys.argv = sys.argv[1:]
try:
    runpy.run_path(cli, run_name="__main__")
except BaseException:
    pass
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None)
    if path:
        print(path)
PY
grep -q "/yaml/" "$MODULES" || die "could not list the CLI's modules"
# And those the scenarios' own scripts import beyond the CLI's: pty and its helpers
# (guest/pty-run.py gives `vdpctl top` a terminal).
"$PYTHON" -S -c 'import sys, pty, tty, termios, fcntl, select, signal, struct, time
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None)
    if path:
        print(path)' >> "$MODULES"
grep -v "/pyynl/" "$MODULES" | sort -u | while read -r f; do
  [ -f "$f" ] || continue
  copy "$f"
  case "$f" in *.so) copy_libs "$f" ;; esac
done
rm -f "$MODULES"

mkdir -p "$ROOT/vdp/ynl/pyynl/lib"
cp "$SRC"/tools/net/ynl/pyynl/cli.py "$SRC"/tools/net/ynl/pyynl/__init__.py "$ROOT/vdp/ynl/pyynl/"
cp "$SRC"/tools/net/ynl/pyynl/lib/*.py "$ROOT/vdp/ynl/pyynl/lib/"
cp "$REPO/docs/netlink/vdp.yaml" "$ROOT/vdp/vdp.yaml"

mkdir -p "$(dirname "$OUTPUT")"
(cd "$ROOT" && find . -mindepth 1 -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$OUTPUT.tmp"
mv "$OUTPUT.tmp" "$OUTPUT"
echo "[python layer] $OUTPUT ($(du -h "$OUTPUT" | cut -f1))"
