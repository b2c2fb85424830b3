#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/debug-kernel.sh - build (once, then reuse) the debug kernel that
# `make check-debug` runs the VM suite on: linux-source-6.12 configured from
# allnoconfig plus harness/debug-kernel.config (KASAN, lockdep, kmemleak,
# UBSAN, gcov, the VFIO core as modules), and print its directory.
#
# Usage: harness/debug-kernel.sh            build if needed, print DIR
#        harness/debug-kernel.sh --print    print DIR only if already built
#
# DIR (~/.cache/vfio-pci-dev/debug-kernel-KEY, KEY a hash of the config
# fragment, the build recipe and the source package version) holds:
#   bzImage        the kernel
#   kver           its release string (uname -r in the guest)
#   lib/modules/KVER/   its modules, installed and indexed (depmod)
#   obj/           the O= build tree: external modules build against it
#                  (make -C DIR/obj M=...; it has scripts/ and
#                  Module.symvers)
#   build-seconds  how long the build took
# harness/vm --kernel DIR (or VFIO_VM_KERNEL=DIR) boots it.
#
# The source tree is never written to: kbuild puts everything in obj/.  The
# build runs niced (nice 19, idle I/O class) with -j2, through ccache when
# it is installed, so that other users of the machine keep their CPUs and a
# config tweak does not cost a full rebuild.  Env: DEBUG_KERNEL_JOBS (2).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
frag=$here/debug-kernel.config
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vfio-pci-dev
jobs=${DEBUG_KERNEL_JOBS:-2}

print_only=0
case ${1:-} in
--print) print_only=1 ;;
'') ;;
*) sed -n '/^# Usage:/,/^# DIR/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) || {
	echo "debug-kernel.sh: linux-source-6.12 is not installed" >&2
	exit 1
}
# Bump when the way the kernel is built changes (not for comment edits).
recipe=1
key=$( { printf '%s\n' "$ver" "$recipe"; grep -v -e '^#' -e '^$' "$frag"; } |
	sha256sum | cut -c1-16)
dir=$cache/debug-kernel-$key

if [ -f "$dir/.complete" ]; then
	printf '%s\n' "$dir"
	exit 0
fi
if [ "$print_only" = 1 ]; then
	echo "debug-kernel.sh: not built yet ($dir); run harness/debug-kernel.sh" >&2
	exit 1
fi

mkdir -p "$cache"
exec 9>"$cache/.debug-kernel-$key.lock"
flock 9
if [ -f "$dir/.complete" ]; then
	printf '%s\n' "$dir"
	exit 0
fi

src=$("$here/ksrc.sh")
mkdir -p "$dir/obj"
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"
# Quiet and polite: the machine is shared.
mk() {
	nice -n 19 ionice -c3 make -s -C "$src" O="$dir/obj" CC="$cc" "$@"
}

echo "debug-kernel.sh: building in $dir (log: $dir/build.log)" >&2
start=$SECONDS
KCONFIG_ALLCONFIG=$frag mk allnoconfig >"$dir/build.log" 2>&1 || {
	echo "debug-kernel.sh: allnoconfig failed; see $dir/build.log" >&2
	exit 1
}

# An option kconfig could not honour (a missing dependency) would silently
# give a weaker kernel than the fragment promises: refuse it, before the
# long part.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		opt=${line%%=*}
		grep -qxF -- "$line" "$dir/obj/.config" || {
			echo "debug-kernel.sh: wanted $line, got: $(grep -E "^(# )?${opt}[= ]" "$dir/obj/.config" || echo unset)" >&2
			bad=1
		} ;;
	'# CONFIG_'*' is not set')
		opt=${line#\# }; opt=${opt%% *}
		if grep -qE "^$opt=[ym]" "$dir/obj/.config"; then
			echo "debug-kernel.sh: wanted $opt off, got it on" >&2
			bad=1
		fi ;;
	esac
done <"$frag"
[ "$bad" = 0 ] || exit 1

mk -j"$jobs" bzImage modules >>"$dir/build.log" 2>&1 || {
	echo "debug-kernel.sh: build failed; tail of $dir/build.log:" >&2
	tail -n 30 "$dir/build.log" >&2
	exit 1
}

kver=$(cat "$dir/obj/include/config/kernel.release")
rm -rf "${dir:?}/lib"
mk INSTALL_MOD_PATH="$dir" modules_install >>"$dir/build.log" 2>&1
# External modules build against obj/ (make -C DIR/obj M=...).
cp "$dir/obj/arch/x86/boot/bzImage" "$dir/bzImage"
printf '%s\n' "$kver" >"$dir/kver"
echo $((SECONDS - start)) >"$dir/build-seconds"
touch "$dir/.complete"
echo "debug-kernel.sh: $kver built in $((SECONDS - start))s" >&2
printf '%s\n' "$dir"
