#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
#
# harness/setup.sh - install, from Debian packages only, everything needed to
# build the out-of-tree VFIO PCI modules and test them in QEMU VMs.
#
# Idempotent and cheap when everything is present: the common case (a machine
# that was already set up) is answered from the dpkg database alone, without
# touching the network or the apt lists, in well under a second.
#
# Kernel choice: harness/kernel.env pins one Debian build.  If that exact
# package is no longer offered by the archive (Debian security uploads
# replace each other), we fall back to the newest generic signed
# linux-image-6.12.*+deb12-amd64 the archive offers, and harness/kver.sh will
# then pick it up automatically because the pinned /boot/vmlinuz is absent.
#
# Usage: harness/setup.sh [--dry-run]   (as root, or via sudo if available)
#   --dry-run   decide and print what would be installed, install nothing

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=kernel.env
. "$here/kernel.env"

export DEBIAN_FRONTEND=noninteractive

dry_run=0
case ${1:-} in
--dry-run) dry_run=1 ;;
'') ;;
*) echo "usage: $0 [--dry-run]" >&2; exit 2 ;;
esac

# Userspace tools: QEMU and image tools for the VMs, busybox for the VM
# initramfs, kmod for depmod/modinfo, sparse for C=1 builds, what the
# kernel's kbuild needs to build external modules, pciutils (lspci,
# setpci) for poking at devices inside the VMs, debootstrap for the Debian
# 13 root with a newer QEMU (harness/trixie-root.sh), and binutils for the
# tests' guest firmware (harness/guest-fw).  DPDK's dpdk-testpmd, a real
# user of vfio-pci (harness/tests/91-dpdk-testpmd.sh), comes with dpdk-dev
# (the dpdk package has only the Python helpers); the e1000 poll-mode
# driver that runs the VM's e1000e NICs is only recommended, and
# recommends are not installed here, so it is named, as is the ring
# mempool driver that holds every packet buffer.  libkmod-dev is for
# tools/vfio-pci-bind, which looks up and loads the VFIO driver of a
# device through libkmod (the guest runs it on the host's libkmod2).
# driverctl, Debian's tool for driver overrides, is checked against our
# modules in the same test (harness/tests/92-bind-tool.sh).
# python3-sphinx builds Documentation/driver-api/vfio-pci with the kernel's
# kernel-doc extension (harness/docs/build.sh, a lint step); it brings the
# alabaster theme and docutils with it.  dkms builds, signs and installs
# our modules the way users install them (dkms.conf, the Debian package of
# `make deb`), and openssl verifies those signatures (harness/pkg-check.sh).
base_pkgs=(qemu-system-x86 qemu-utils busybox-static kmod sparse cpio bc
	flex bison libelf-dev libssl-dev xz-utils zstd gcc make python3 perl
	pciutils rsync debootstrap binutils
	dpdk-dev librte-net-e1000-23 librte-mempool-ring23 libkmod-dev
	driverctl python3-sphinx dkms openssl)

log() { echo "setup.sh: $*" >&2; }

# Is package $1 installed (and, if $2 is given, at exactly version $2)?
is_installed() {
	local st v
	# Status-Abbrev is three characters ("ii " when installed and ok).
	st=$(dpkg-query -W -f='${db:Status-Abbrev}|${Version}' "$1" 2>/dev/null) || return 1
	v=${st#*|}
	case $st in
	ii*) [ -z "${2:-}" ] || [ "$v" = "$2" ] ;;
	*) return 1 ;;
	esac
}

# Candidate version apt would install for $1, empty if the archive has none.
candidate() {
	apt-cache policy "$1" 2>/dev/null |
		sed -n 's/^ *Candidate: *//p' | grep -v '^(none)$' || true
}

# Does the archive offer package $1 at exactly version $2?
offers_version() {
	apt-cache madison "$1" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' |
		grep -Fxq -- "$2"
}

missing_base() {
	local p
	for p in "${base_pkgs[@]}"; do
		is_installed "$p" || printf '%s\n' "$p"
	done
}

# Image, headers and source of one build are installed, at version $2.
kernel_set_ok() {
	is_installed "linux-image-$1" "$2" &&
		is_installed "linux-headers-$1" "$2" &&
		is_installed linux-source-6.12
}
kernel_pkgs_ok() {
	local abi v
	if kernel_set_ok "$KERNEL_ABI" "$KERNEL_PKG_VERSION"; then
		return 0
	fi
	# A fallback chosen by an earlier run counts too, as long as it is
	# newer than the pin (otherwise kernel.env was bumped: install that).
	abi=$("$here/kver.sh" 2>/dev/null) || return 1
	v=$(dpkg-query -W -f='${Version}' "linux-image-$abi" 2>/dev/null) || return 1
	dpkg --compare-versions "$v" gt "$KERNEL_PKG_VERSION" && kernel_set_ok "$abi" "$v"
}

# ---- fast path: nothing to do -------------------------------------------
if kernel_pkgs_ok && [ -z "$(missing_base)" ]; then
	log "all packages present (kernel $("$here/kver.sh" 2>/dev/null))"
	exit 0
fi

if [ "$(id -u)" -ne 0 ] && [ "$dry_run" -eq 0 ]; then
	if command -v sudo >/dev/null; then
		exec sudo -E "$0" "$@"
	fi
	log "must run as root to install packages"
	exit 1
fi

# apt lists may be absent or stale on a fresh machine; refresh them at most
# once per run and only when a lookup actually needs them.
updated=0
apt_update() {
	[ "$updated" -eq 0 ] || return 0
	if [ "$dry_run" -eq 1 ]; then
		log "(dry run) would run apt-get update; using the current lists"
		updated=1
		return 0
	fi
	log "apt-get update"
	apt-get update -q >&2
	updated=1
}

# ---- choose the kernel build --------------------------------------------
abi=$KERNEL_ABI
ver=$KERNEL_PKG_VERSION
pinned_available() {
	is_installed "linux-image-$abi" "$ver" || offers_version "linux-image-$abi" "$ver"
}
if ! pinned_available; then
	apt_update
fi
if ! pinned_available; then
	# The pinned upload left the archive.  Consider only generic signed
	# images (the name pattern rules out -rt-, -cloud-, -dbg, -unsigned)
	# and take the highest version that has an installable candidate.
	abi=
	for name in $(apt-cache pkgnames linux-image-6.12. |
		grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' | sort -rV); do
		c=$(candidate "$name")
		if [ -n "$c" ]; then
			abi=${name#linux-image-}
			ver=$c
			break
		fi
	done
	if [ -z "$abi" ]; then
		log "no linux-image-6.12.*+deb12-amd64 in the archive"
		exit 1
	fi
	log "pinned $KERNEL_ABI ($KERNEL_PKG_VERSION) unavailable; falling back to $abi ($ver)"
fi

want=("linux-image-$abi=$ver")
if offers_version "linux-headers-$abi" "$ver" || is_installed "linux-headers-$abi" "$ver"; then
	want+=("linux-headers-$abi=$ver")
else
	want+=("linux-headers-$abi")
fi
# linux-source is not ABI-named; pin it to the same upload when possible so
# the in-tree reference matches the running kernel.
if offers_version linux-source-6.12 "$ver" || is_installed linux-source-6.12 "$ver"; then
	want+=("linux-source-6.12=$ver")
else
	want+=(linux-source-6.12)
fi
mapfile -t missing < <(missing_base)
want+=("${missing[@]}")

install() {
	apt-get install -y -q --no-install-recommends "${want[@]}" >&2
}
if [ "$dry_run" -eq 1 ]; then
	log "(dry run) would install: ${want[*]}"
	exit 0
fi
log "installing: ${want[*]}"
if ! install; then
	# The most common cause is stale lists pointing at superseded .debs.
	if [ "$updated" -eq 0 ]; then
		apt_update
		install
	else
		exit 1
	fi
fi
log "done; kernel for tests: $("$here/kver.sh")"
