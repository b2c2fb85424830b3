#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: ivshmem
#
# BAR mmap on ivshmem-plain (256-byte register BAR0, 1 GiB memory BAR2):
# vfio_pci_mmap_test checks data through the mapping against the region,
# SIGBUS while memory decode is off and recovery once it is back on, the
# number of faults a 1 GiB-aligned mapping takes (huge PUD/PMD entries),
# the mappable sub-page BAR0, region reads and writes of many lengths at
# unaligned offsets checked byte for byte against the mapping, and a user
# buffer that runs into an unmapped page (a short count, or EFAULT when
# nothing could move).  The fault count is kept in
# $VM_OUT/vfio_pci_mmap_test.log.
#
# VFIO_TEST_DISTRO=1 accepts the distro's modules (see 10-selftests-edu.sh).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
repo=$(dirname "$harness")
# shellcheck source=../guest-lib.sh
. "$harness/guest-lib.sh"

if [ -z "${VM_OUT:-}" ]; then
	echo "41-bar-mmap: run inside a VM: harness/run-vm-tests $0" >&2
	exit 2
fi

bins=${VFIO_SELFTESTS_DIR:-$repo/build/selftests}
prog=$bins/vfio_pci_mmap_test
log=$VM_OUT/vfio_pci_mmap_test.log

load_vfio_pci

if bdf=$(find_dev 1af4:1110) && bind_vfio "$bdf"; then
	pass "ivshmem ($bdf) bound to vfio-pci"
	rc=0
	VFIO_SELFTESTS_BDF=$bdf timeout 300 "$prog" >"$log" 2>&1 || rc=$?
	sed 's/^/    /' "$log"
	totals=$(grep '^# Totals:' "$log" | tail -n 1)
	# Huge PFN mappings need transparent huge pages; the debug kernel has
	# none, and there (only there) huge_faults is expected to skip.
	skips=0
	if [ ! -d /sys/kernel/mm/transparent_hugepage ]; then
		skips=1
		check "huge_faults skipped: kernel without THP" \
			grep -q 'huge_faults # SKIP' "$log"
	fi
	if [ "$rc" -eq 0 ] && echo "$totals" | grep -Eq "fail:0 .*skip:$skips "; then
		pass "vfio_pci_mmap_test on ivshmem ($totals)"
	else
		# Named as harness/compare-results expects, so that a case
		# the distro fails is compared case by case.
		fail "vfio_pci_mmap_test on ivshmem: exit status $rc ($totals)"
	fi
	check "unbind ivshmem ($bdf)" unbind "$bdf"
	echo >"/sys/bus/pci/devices/$bdf/driver_override" || :
else
	fail "ivshmem (1af4:1110) bound to vfio-pci"
fi
check "rmmod vfio-pci" modprobe -r vfio-pci
finish
