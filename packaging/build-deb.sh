#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# packaging/build-deb.sh - build vfio-pci-dkms, a Debian package of the
# DKMS sources, with dpkg-deb from the control files in packaging/debian/
# (no debhelper: the package is a source tree plus two maintainer scripts).
#
# Usage: packaging/build-deb.sh OUTDIR   (what `make deb` runs)
#
# The package ships what `make dkms-source` installs (/usr/src/NAME-VERSION
# and the DKMS version override), the copyright and changelog; its postinst
# runs dkms add/build/install for every kernel with headers, its prerm dkms
# remove.  NAME and VERSION come from dkms.conf; the Debian revision from
# packaging/debian/changelog, whose upstream part must be that VERSION.
# Prints the path of the .deb.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
deb=$here/debian
pkg=vfio-pci-dkms

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)

conf_value() { # variable of dkms.conf
	sed -n "s/^$1=\"\\(.*\\)\"\$/\\1/p" "$repo/dkms.conf"
}
name=$(conf_value PACKAGE_NAME)
version=$(conf_value PACKAGE_VERSION)
if [ -z "$name" ] || [ -z "$version" ]; then
	echo "build-deb: no PACKAGE_NAME/PACKAGE_VERSION in dkms.conf" >&2
	exit 1
fi
# "vfio-pci-dkms (1.0-1) unstable; urgency=medium"
deb_version=$(sed -n "1s/^$pkg (\\([^)]*\\)).*/\\1/p" "$deb/changelog")
case $deb_version in
"$version"-*) ;;
*)
	echo "build-deb: changelog's version '$deb_version' is not dkms.conf's $version-N" >&2
	exit 1
	;;
esac

stage=$out/stage
rm -rf "$stage"
make -s -C "$repo" dkms-source DESTDIR="$stage"
doc=$stage/usr/share/doc/$pkg
mkdir -p "$doc" "$stage/DEBIAN"
cp "$deb/copyright" "$doc/"
# -n: no name or time stamp in the gzip header, so equal input gives an
# equal file.
gzip -9n <"$deb/changelog" >"$doc/changelog.Debian.gz"
chmod 644 "$doc"/*

# Installed-Size is in KiB, of everything but the control area.
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@DEB_VERSION@/$deb_version/" -e "s/@INSTALLED_SIZE@/$size/" \
	"$deb/control" >"$stage/DEBIAN/control"
for script in postinst prerm; do
	sed -e "s/@NAME@/$name/" -e "s/@VERSION@/$version/" \
		"$deb/$script" >"$stage/DEBIAN/$script"
	chmod 755 "$stage/DEBIAN/$script"
done
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' |
	sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

file=$out/${pkg}_${deb_version}_all.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$file" >/dev/null
rm -rf "$stage"
echo "$file"
