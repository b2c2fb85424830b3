#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/trixie-root.sh - the Debian 13 (trixie) root: a minimal Debian 13
# system with its QEMU (10.x) and libvirt (11.x), for tests that need a
# newer userspace than the host's Debian 12 (QEMU 7.2 cannot migrate a VFIO
# device with migration v2; libvirt 11 picks a VFIO variant driver from
# modules.alias).  Built once with debootstrap from deb.debian.org and
# cached; prints its path.
#
# Usage: harness/trixie-root.sh        (as root: debootstrap needs it)
#
# The root lives in ~/.cache/vfio-pci-dev/trixie-root-HASH, HASH covering
# everything it is made of (suite, mirror, variant, package list and the
# recipe's version below), so a change of any of them builds a new one
# next to the old.  It is built in a temporary directory beside it and
# renamed into place only when complete: an interrupted build never looks
# like a finished one, and the next run starts afresh.
#
# Inside a harness/vm guest the host's / is visible read-only, so the root
# is found at the same path there; run its programs with chroot, after
# bind-mounting /dev, /proc and /sys into it (in a private mount namespace,
# unshare -m, so that nothing outlives the program).

set -euo pipefail

suite=trixie
mirror=http://deb.debian.org/debian
variant=minbase
# debootstrap installs Depends and Pre-Depends only, never Recommends:
# QEMU's ROMs (seabios, ipxe-qemu) come along as dependencies.
packages=(qemu-system-x86)
# Installed by apt in the new root afterwards, without Recommends: libvirt
# depends on systemd, whose unpacking fails inside debootstrap's base
# stage.  libvirtd with its QEMU and node device drivers, virsh, and kmod
# for the modprobe libvirt runs to load a VFIO variant driver (93).
apt_packages=(libvirt-daemon libvirt-daemon-driver-qemu
	libvirt-daemon-driver-nodedev libvirt-clients kmod)
# Bump when the way the root is made changes in a way the inputs above
# do not show.
recipe=2

log() { echo "trixie-root: $*" >&2; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/vfio-pci-dev
mkdir -p "$cache"
key=$(printf '%s\n' "$suite" "$mirror" "$variant" "${packages[@]}" \
	"${apt_packages[@]}" "$recipe" |
	sha256sum | cut -c1-16)
root=$cache/trixie-root-$key

# The common case: built before.
if [ -x "$root/usr/bin/qemu-system-x86_64" ]; then
	echo "$root"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || { log "debootstrap needs root"; exit 1; }
command -v debootstrap >/dev/null ||
	{ log "debootstrap missing (run harness/setup.sh)"; exit 1; }

# Two callers at once: one builds, the other waits and takes the result.
exec 9>"$cache/.trixie-root.lock"
flock 9
if [ -x "$root/usr/bin/qemu-system-x86_64" ]; then
	echo "$root"
	exit 0
fi

# Leftovers of interrupted builds (of any key) go first.
rm -rf "$cache"/.trixie-root-tmp.*
tmp=$(mktemp -d "$cache/.trixie-root-tmp.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

log "building $root (debootstrap $variant $suite + ${packages[*]}; apt: ${apt_packages[*]})"
t0=$SECONDS
include=$(IFS=,; echo "${packages[*]}")
if ! debootstrap --variant="$variant" --include="$include" \
	"$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1; then
	tail -n 20 "$tmp.log" >&2
	log "debootstrap failed (full log: $tmp.log)"
	exit 1
fi
# apt in the root needs /proc; the mount goes with the namespace.
# shellcheck disable=SC2016  # (expanded by the inner sh)
if ! unshare -m --propagation private sh -c '
	mount -t proc proc "$1/proc" || exit 1
	shift
	exec chroot "$@"' sh "$tmp" "$tmp" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y --no-install-recommends "${apt_packages[@]}" \
	>>"$tmp.log" 2>&1; then
	tail -n 20 "$tmp.log" >&2
	log "apt-get install in the root failed (full log: $tmp.log)"
	exit 1
fi
rm -f "$tmp.log"
# Downloaded packages are of no further use; the root is read-only in use.
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
[ -x "$tmp/usr/bin/qemu-system-x86_64" ] ||
	{ log "no qemu-system-x86_64 in the new root"; exit 1; }
if [ ! -x "$tmp/usr/sbin/libvirtd" ] || [ ! -x "$tmp/usr/bin/virsh" ]; then
	log "no libvirtd or virsh in the new root"
	exit 1
fi
mv -T "$tmp" "$root"
trap - EXIT
log "built in $((SECONDS - t0))s: $(du -sh "$root" | cut -f1), $(chroot "$root" qemu-system-x86_64 --version | head -n 1)"
echo "$root"
