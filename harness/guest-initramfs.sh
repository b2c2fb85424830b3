#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/guest-initramfs.sh - the nested guest of the real-client tests:
# Debian's kernel (the one harness/kver.sh pins) and a busybox initramfs
# whose /init (harness/guest/init) uses assigned devices with the guest's
# own drivers: Debian's nvme and e1000e modules, and our edu driver
# (harness/guest/edu-guest, built here against Debian's kernel headers).
# Built once and cached; prints the directory, which holds
#     vmlinuz          the guest kernel
#     initramfs.gz     the initramfs
#
# Usage: harness/guest-initramfs.sh
#
# The directory is ~/.cache/vfio-pci-dev/guest-HASH, HASH covering the
# kernel release, busybox's version and every file the image is made of,
# so a change of any of them builds a new one.  It is made in a temporary
# directory and renamed into place when complete.  Inside a harness/vm
# guest the host's / is visible, so the directory is found at the same
# path there, whichever kernel the VM itself boots.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$here/guest
kver=$("$here/kver.sh")
# The guest's drivers, dependencies resolved by modprobe.
guest_mods=(nvme e1000e)
# Bump when the way the image is made changes in a way its inputs do not show.
recipe=1

log() { echo "guest-initramfs: $*" >&2; }

kernel=/boot/vmlinuz-$kver
kbuild=/lib/modules/$kver/build
[ -r "$kernel" ] || { log "$kernel missing (run harness/setup.sh)"; exit 1; }
[ -d "$kbuild" ] || { log "$kbuild missing (run harness/setup.sh)"; exit 1; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/vfio-pci-dev
mkdir -p "$cache"
key=$({
	echo "$kver $recipe ${guest_mods[*]}"
	dpkg-query -W -f='${Version}\n' busybox-static
	cat "${BASH_SOURCE[0]}" "$src/init" "$src"/edu-guest/*
} | sha256sum | cut -c1-16)
dir=$cache/guest-$key

if [ -r "$dir/initramfs.gz" ]; then
	echo "$dir"
	exit 0
fi

exec 9>"$cache/.guest.lock"
flock 9
if [ -r "$dir/initramfs.gz" ]; then
	echo "$dir"
	exit 0
fi

rm -rf "$cache"/.guest-tmp.*
tmp=$(mktemp -d "$cache/.guest-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The edu driver, against the guest kernel's headers.
mkdir "$tmp/edu"
cp "$src"/edu-guest/* "$tmp/edu/"
make -s -C "$kbuild" M="$tmp/edu" modules >&2

root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,modules}
cp /bin/busybox "$root/bin/busybox"
cp "$src/init" "$root/init"
chmod 0755 "$root/init"

# Dependencies first, as modprobe orders them; busybox insmod cannot read
# compressed modules, so they are unpacked here.
: >"$root/modules.order"
modprobe -S "$kver" -a --show-depends "${guest_mods[@]}" | awk '$1 == "insmod" { print $2 }' |
while read -r path; do
	name=${path##*/}
	name=${name%%.ko*}
	grep -qx "$name" "$root/modules.order" && continue
	case $path in
	*.ko.xz) xz -dc "$path" >"$root/modules/$name.ko" ;;
	*.ko.zst) zstd -qdc "$path" >"$root/modules/$name.ko" ;;
	*.ko.gz) gzip -dc "$path" >"$root/modules/$name.ko" ;;
	*.ko) cp "$path" "$root/modules/$name.ko" ;;
	*) log "unexpected module file $path"; exit 1 ;;
	esac
	echo "$name" >>"$root/modules.order"
done
cp "$tmp/edu/edu_guest.ko" "$root/modules/"
echo edu_guest >>"$root/modules.order"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 >"$tmp/initramfs.gz"
cp "$kernel" "$tmp/vmlinuz"
rm -rf "$root" "$tmp/edu"
chmod 0755 "$tmp"
mv -T "$tmp" "$dir"
trap - EXIT
log "built $dir: initramfs of $(stat -c %s "$dir/initramfs.gz") bytes"
echo "$dir"
