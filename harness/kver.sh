#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
#
# harness/kver.sh - print the kernel ABI string (uname -r of the guest and
# the /lib/modules directory name) that builds and VMs should use.
#
# Why a script: harness/kernel.env pins one Debian build, but setup.sh may
# have had to fall back to a newer 6.12 upload when the pinned one left the
# archive.  Everything asks this script instead of reading kernel.env, so the
# fallback is decided in exactly one place: the pinned ABI when its image is
# installed, otherwise the newest installed generic 6.12 amd64 image.
#
# Usage: harness/kver.sh            -> e.g. 6.12.117+deb12-amd64

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=kernel.env
. "$here/kernel.env"

if [ -e "/boot/vmlinuz-$KERNEL_ABI" ]; then
	printf '%s\n' "$KERNEL_ABI"
	exit 0
fi

# Fallback: only the generic flavour (not -rt-, -cloud-), sorted by version.
newest=$(find /boot -maxdepth 1 -name 'vmlinuz-6.12.*-amd64' -printf '%f\n' |
	sed 's/^vmlinuz-//' | grep -Ev -- '-(rt|cloud)-' | sort -V | tail -n 1)
if [ -z "$newest" ]; then
	echo "kver.sh: no /boot/vmlinuz-6.12.*-amd64 installed; run harness/setup.sh" >&2
	exit 1
fi
echo "kver.sh: pinned $KERNEL_ABI not installed, using $newest" >&2
printf '%s\n' "$newest"
