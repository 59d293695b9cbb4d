#!/usr/bin/env bash
# `make deb`: the Debian packages vdpctl (amd64) and vdp-dkms (all), built by dpkg-buildpackage
# from a staging copy in $VDP_OUT/deb (never in the source tree), then checked by lintian.
#
#   scripts/deb.sh          writes $VDP_OUT/deb/vdpctl_VERSION_amd64.deb, vdp-dkms_VERSION_all.deb
#                           and vdp_VERSION_amd64.changes; fails on a lintian error
#
# VERSION is kmod/core/mod.rs's VERSION, the one the module reports (MODULE_VERSION, modinfo).
# Debian's tools (debhelper, dh-dkms, dkms, lintian) are installed by scripts/deps.sh.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${VDP_OUT:-$REPO/out}
DEB=$OUT/deb

log() { printf '[deb] %s\n' "$*"; }
die() { printf '[deb] error: %s\n' "$*" >&2; exit 1; }

VERSION=$(sed -n 's/^pub const VERSION: &str = "\([^"]*\)";$/\1/p' "$REPO/kmod/core/mod.rs")
[ -n "$VERSION" ] || die "no VERSION in kmod/core/mod.rs"

log "building vdpctl (release)"
(cd "$REPO/userspace" && cargo build --release --quiet -p vdpctl) || die "cargo build of vdpctl failed"
VDPCTL=$REPO/userspace/target/release/vdpctl

# The staging copy: what debian/rules and the .install files name, from the files git knows
# (tracked, or new and not ignored), so build products lying in the tree never get in.
STAGE=$DEB/vdp-$VERSION
rm -rf "$DEB"
mkdir -p "$STAGE/bin"
(cd "$REPO" && git ls-files -z -c -o --exclude-standard -- Kbuild kmod packaging docs/examples/system.toml docs/coordinator.md docs/system-config.md docs/cli.md docs/packaging.md \
   | xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh \
   | tar --null -T - -cf -) | tar -xf - -C "$STAGE" || die "cannot stage the source"
mv "$STAGE/packaging/debian" "$STAGE/debian"
install -m 755 "$VDPCTL" "$STAGE/bin/vdpctl"

# debian/changelog carries the version; its date is the last commit's, so that two builds of
# one commit give the same packages.
MAINT=$(sed -n 's/^Maintainer: //p' "$STAGE/debian/control")
DATE=$(cd "$REPO" && git log -1 --format=%cD 2>/dev/null || date -R)
cat > "$STAGE/debian/changelog" <<CHANGELOG
vdp ($VERSION) unstable; urgency=medium

  * vdp $VERSION, built from its source tree by make deb.

 -- $MAINT  $DATE
CHANGELOG

log "dpkg-buildpackage -b in $STAGE"
(cd "$STAGE" && SOURCE_DATE_EPOCH=$(date -d "$DATE" +%s) dpkg-buildpackage -b -us -uc > "$DEB/build.log" 2>&1) \
  || { tail -n 40 "$DEB/build.log" >&2; die "dpkg-buildpackage failed; full log in $DEB/build.log"; }

CHANGES=$DEB/vdp_${VERSION}_amd64.changes
[ -f "$CHANGES" ] || die "dpkg-buildpackage wrote no $CHANGES"
log "lintian $(basename "$CHANGES")"
# --fail-on error: warnings are printed; the real ones are fixed, the others overridden with
# their reasons in packaging/debian/*.lintian-overrides.
lintian --info --display-info --fail-on error "$CHANGES" | tee "$DEB/lintian.log" \
  || die "lintian found errors (see above, or $DEB/lintian.log)"
log "lintian: $(grep -c '^E:' "$DEB/lintian.log" || true) errors, $(grep -c '^W:' "$DEB/lintian.log" || true) warnings, $(grep -c '^I:' "$DEB/lintian.log" || true) notes"
for f in "$DEB"/*.deb; do log "built $f"; done
