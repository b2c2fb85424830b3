#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/coverage.sh - line coverage of our modules over one run of the
# VM suite on the debug kernel (harness/check-debug.sh; each test VM leaves
# its gcov data in RUN/TEST/gcov, see harness/vm VFIO_VM_GCOV).  The
# counters of all tests are merged (gcov-tool), then gcov reports per
# source file.
#
# Usage: harness/coverage.sh [RUN [OBJDIR]]
#   RUN     a build/vm-runs/tests-* directory (default: the newest one that
#           holds gcov data)
#   OBJDIR  where our objects and .gcno files are (default: the one
#           check-debug recorded in RUN/.debug-build, else
#           build/debug/oot/drivers/vfio/pci)
# Prints "file  lines  covered%" and a total; the merged data and gcov's
# annotated sources (*.gcov) are left in RUN/coverage.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

run=${1:-}
if [ -z "$run" ]; then
	# Directory names start with the date: the last match is the newest.
	for d in "$repo"/build/vm-runs/tests-*; do
		compgen -G "$d/*/gcov" >/dev/null && run=$d
	done
fi
if [ -z "$run" ] || [ ! -d "$run" ]; then
	echo "coverage: no run with gcov data (make check-debug first)" >&2
	exit 1
fi
objdir=${2:-}
if [ -z "$objdir" ]; then
	if [ -f "$run/.debug-build" ]; then
		objdir=$(cat "$run/.debug-build")/oot/drivers/vfio/pci
	else
		objdir=$repo/build/debug/oot/drivers/vfio/pci
	fi
fi
compgen -G "$objdir/*.gcno" >/dev/null || { echo "coverage: no .gcno files in $objdir" >&2; exit 1; }

out=$run/coverage
rm -rf "$out"
mkdir -p "$out/merged"
# In each VM's copy the data sits under the path the objects were built
# at (normally $objdir); find it by the name of one of our objects.
probe=$(basename "$(compgen -G "$objdir/*.gcno" | grep -v '\.mod\.gcno$' | head -n 1)" .gcno).gcda
n=0
for g in "$run"/*/gcov; do
	d=$(find "$g" -name "$probe" -printf '%h\n' | head -n 1)
	[ -n "$d" ] || continue
	if [ "$n" -eq 0 ]; then
		cp "$d"/*.gcda "$out/merged/"
	else
		rm -rf "$out/next"
		gcov-tool merge "$d" "$out/merged" -o "$out/next" >/dev/null
		rm -rf "$out/merged"
		mv "$out/next" "$out/merged"
	fi
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "coverage: no data for $objdir in $run" >&2; exit 1; }

# gcov wants notes and data side by side.
cp "$objdir"/*.gcno "$out/merged/"
total=0 hit=0
printf '%-28s %7s %9s\n' file lines covered
for gcno in "$out"/merged/*.gcno; do
	base=$(basename "$gcno" .gcno)
	case $base in *.mod) continue ;; esac	# generated module info
	src=$objdir/$base.c
	[ -f "$src" ] || continue
	[ -f "$out/merged/$base.gcda" ] || {
		printf '%-28s %7s %9s\n' "$base.c" "-" "not run"
		continue
	}
	res=$(cd "$out" && gcov -o merged "$src" 2>/dev/null |
		awk -v f="$base.c" '
			/^File / { cur = ($2 == "\x27" f "\x27" || $2 ~ "/" f "\x27$") }
			cur && /^Lines executed:/ {
				split($2, a, ":"); sub("%", "", a[2]); print a[2], $4; exit
			}')
	[ -n "$res" ] || continue
	read -r pct lines <<<"$res"
	covered=$(awk -v p="$pct" -v n="$lines" 'BEGIN { printf "%d", p * n / 100 + 0.5 }')
	total=$((total + lines))
	hit=$((hit + covered))
	printf '%-28s %7d %8.1f%%\n' "$base.c" "$lines" "$pct"
done
awk -v h="$hit" -v t="$total" -v n="$n" \
	'BEGIN { printf "%-28s %7d %8.1f%%   (%d test VMs merged)\n", "total", t, t ? 100 * h / t : 0, n }'
echo "coverage: annotated sources in $out/*.gcov"
