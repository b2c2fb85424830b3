#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/build-selftests.sh - build tools/testing/selftests/vfio outside a
# kernel tree.
#
# The tests include "../kselftest_harness.h" the way in-tree selftests do.
# We do not keep a copy of the harness in this repository: it is taken from
# the distro's linux-source-6.12 tarball into build/ksft/ (once; later runs
# reuse it), and build/ksft/vfio/ is an empty directory put on the include
# path so that "../kselftest_harness.h" resolves to the extracted file.
# <linux/vfio.h> must be the 6.12 uAPI, newer than the libc copy in
# /usr/include.  The raw uapi directory of linux-headers-*-common cannot go
# on the include path as a whole (its linux/types.h refuses user space and
# pulls in kernel-internal headers), so build/ksft/uapi/linux/vfio.h is a
# symlink to that one header, searched before the system directories; the
# headers it includes still come from libc.
#
# Usage: harness/build-selftests.sh [OUTDIR]     (default: build/selftests)
# Env:   KSFT_TARBALL   kernel source tarball (default: Debian's 6.12 one)
#        CC             compiler (default: gcc)

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
src=$root/tools/testing/selftests/vfio
outdir=${1:-$root/build/selftests}
ksft=$root/build/ksft
tarball=${KSFT_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
cc=${CC:-gcc}

# Kernel ABI (e.g. 6.12.117+deb12-amd64) -> headers package version.
if [ -x "$here/kver.sh" ]; then
	kver=$("$here/kver.sh")
else
	# shellcheck source=harness/kernel.env
	kver=$(. "$here/kernel.env" && printf '%s' "$KERNEL_ABI")
fi
uapi=/usr/src/linux-headers-${kver%-*}-common/include/uapi
if [ ! -r "$uapi/linux/vfio.h" ]; then
	echo "build-selftests.sh: $uapi/linux/vfio.h missing" \
	     "(install linux-headers-$kver)" >&2
	exit 1
fi

# Fetch the harness headers once.
if [ ! -s "$ksft/kselftest_harness.h" ] || [ ! -s "$ksft/kselftest.h" ]; then
	if [ ! -r "$tarball" ]; then
		echo "build-selftests.sh: $tarball not found" \
		     "(apt-get install linux-source-6.12)" >&2
		exit 1
	fi
	echo "build-selftests.sh: extracting kselftest headers from $tarball" >&2
	mkdir -p "$ksft"
	tmp=$(mktemp -d "$ksft/.extract.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# The tarball has one top-level directory; match whatever it is called.
	tar -xJf "$tarball" -C "$tmp" --wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h'
	for h in kselftest_harness.h kselftest.h; do
		f=$(find "$tmp" -path "*/tools/testing/selftests/$h" -print -quit)
		if [ -z "$f" ]; then
			echo "build-selftests.sh: $h not in $tarball" >&2
			exit 1
		fi
		mv -f "$f" "$ksft/$h"
	done
	rm -rf "$tmp"
	trap - EXIT
fi
mkdir -p "$ksft/vfio" "$ksft/uapi/linux" "$outdir"
ln -sfn "$uapi/linux/vfio.h" "$ksft/uapi/linux/vfio.h"

cflags=(-O2 -Wall -Wextra -Werror -D_GNU_SOURCE -D__user=
	-isystem "$ksft/vfio" -I "$src" -isystem "$ksft/uapi")

# Every *_test.c is a program, and so is every vfio_pci_bench*.c (a
# benchmark, not a test); every other .c is a helper linked into all.
helpers=()
for f in "$src"/*.c; do
	case $f in *_test.c|*/vfio_pci_bench*.c) ;; *) helpers+=("$f") ;; esac
done

rc=0
for t in "$src"/*_test.c "$src"/vfio_pci_bench*.c; do
	[ -e "$t" ] || continue
	prog=$(basename "$t" .c)
	echo "  CC      $outdir/$prog"
	if ! "$cc" "${cflags[@]}" -o "$outdir/$prog" "$t" "${helpers[@]}"; then
		rc=1
	fi
done
exit $rc
