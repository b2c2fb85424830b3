#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/docs/build.sh - build Documentation/driver-api/vfio-pci/ into
# HTML with Debian's Sphinx and the kernel's kernel-doc extension, and
# check the result.  The repository's `make docs` and the `docs` step of
# harness/lint.sh run it.
#
# Fails on:
#   - any Sphinx warning (-W; --keep-going so one run shows them all);
#   - any kernel-doc warning: the extension prints kernel-doc's stderr
#     without telling Sphinx, so -W alone would let them through;
#   - an exported symbol of drivers/vfio/pci/ or struct
#     vfio_pci_core_device missing from the rendered pages
#     (harness/docs/check-exports.py).
#
# Every build starts from scratch (-E -a): Sphinx does not repeat the
# warnings of pages it did not rebuild, so an incremental build could pass
# over a warning an earlier one printed.  The pages take seconds.
#
# Usage: harness/docs/build.sh [OUT]    (default OUT: build/docs)
# Output: OUT/html/index.html; OUT/build.log
# Exit status: 0 clean, 1 findings, 2 environment problem.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/build/docs}

if ! command -v sphinx-build >/dev/null; then
	echo "docs: sphinx-build not found (apt-get install python3-sphinx," \
	     "or harness/setup.sh)" >&2
	exit 2
fi
if ! ksrc=$("$repo/harness/ksrc.sh"); then
	echo "docs: no kernel source tree (harness/ksrc.sh failed)" >&2
	exit 2
fi
for f in Documentation/sphinx/kerneldoc.py scripts/kernel-doc; do
	if [ ! -e "$ksrc/$f" ]; then
		echo "docs: $ksrc lacks $f" >&2
		exit 2
	fi
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$out/build.log
rm -rf "$out/html" "$out/doctrees"

# The kernel's extension finds its own helpers (kernellog) next to it;
# conf.py puts that directory on sys.path.
rc=0
VFIO_DOCS_KSRC=$ksrc VFIO_DOCS_SRCTREE=$repo \
	sphinx-build -q -E -a -W --keep-going -b html \
	-c "$here" -d "$out/doctrees" \
	"$repo/Documentation/driver-api/vfio-pci" "$out/html" \
	>"$log" 2>&1 || rc=$?

failed=0
if [ "$rc" -ne 0 ]; then
	echo "docs: sphinx-build failed (exit $rc):"
	cat "$log"
	failed=1
fi
# kernel-doc's own lines look like "FILE:LINE: warning: ..." (or error).
n=$(grep -cE ':[0-9]+: (warning|error):' "$log" || true)
if [ "$n" -ne 0 ]; then
	echo "docs: $n kernel-doc warnings during the build:"
	grep -E ':[0-9]+: (warning|error):' "$log"
	failed=1
fi
# The check reads the inventory with Sphinx's own module, so it runs
# on the interpreter sphinx-build runs on (Debian's /usr/bin/python3; a
# python3 earlier in PATH may not have Sphinx).
py=$(sed -n '1s/^#! *//p' "$(command -v sphinx-build)")
case $py in /*python*) ;; *) py=python3 ;; esac
if [ -f "$out/html/objects.inv" ]; then
	$py "$here/check-exports.py" "$out/html/objects.inv" "$repo" ||
		failed=1
else
	echo "docs: no objects.inv in $out/html: cannot check the exports"
	failed=1
fi

[ "$failed" -eq 0 ] && echo "docs: built $out/html/index.html"
exit "$failed"
