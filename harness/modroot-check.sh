#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/modroot-check.sh - is a module tree made by harness/mkmodroot.sh
# at least as new as what our modules are built from?  A VM would otherwise
# test the modules of an older build, and a fix would seem not to work (or
# a regression seem not to be there).
#
# Usage: harness/modroot-check.sh MODROOT KVER
#
# Ours are the *vfio*.ko in MODROOT/lib/modules/KVER/updates/.  They are
# stale when a file under drivers/vfio/pci/ or one of our headers in
# include/linux/ was changed after the oldest of them was put there, or
# when a newer *vfio*.ko has been built into the oot/ directory next to
# MODROOT (build/oot for build/modroot, build/debug/oot for
# build/debug/modroot) since.  A tree with none of ours (the distro's
# modules only, e.g. --modroot /) has nothing to be stale against.
#
# Exit: 0 fresh, 1 stale (why on stdout, one line per reason), 2 usage.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

[ $# -eq 2 ] || { sed -n '/^# Usage:/p' "$0" | sed 's/^# //' >&2; exit 2; }
modroot=$1 kver=$2
updates=$modroot/lib/modules/$kver/updates

oldest=
if [ -d "$updates" ]; then
	oldest=$(find "$updates" -name '*vfio*.ko' -printf '%T@ %p\n' |
		sort -n | head -n 1 | cut -d' ' -f2-)
fi
[ -n "$oldest" ] || exit 0

sources=("$repo/drivers/vfio/pci")
for h in include/linux/vfio_pci_core.h include/linux/mlx5/vfio_pci.h; do
	[ -e "$repo/$h" ] && sources+=("$repo/$h")
done
oot=$(dirname "$modroot")/oot/drivers/vfio/pci
[ -d "$oot" ] && sources+=("$oot")

rc=0
newer=$(find "${sources[@]}" -type f \( -path "$oot/*" -name '*vfio*.ko' -o ! -path "$oot/*" \) \
	-newer "$oldest" -print | head -n 3)
if [ -n "$newer" ]; then
	while IFS= read -r f; do
		echo "${f#"$repo"/} is newer than ${oldest#"$repo"/}"
	done <<<"$newer"
	rc=1
fi
exit "$rc"
