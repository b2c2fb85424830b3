#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,nvme,e1000e
# vm-timeout: 1800
# vm-needs: CONFIG_FAULT_INJECTION,CONFIG_FAULT_INJECTION_STACKTRACE_FILTER
#
# Error paths under injected allocation failures (vfio_pci_fault_inject_test):
# the first open of edu, MSI and MSI-X enabling (edu, nvme), an ioeventfd,
# a BAR mmap, and the open of a device whose variant driver registers a
# device-specific region (e1000e bound to the variant fixture with
# region_pages=2) are each repeated with the 1st, 2nd, ... allocation of
# the calling thread failing.  Each must succeed or fail with ENOMEM, and
# the device must work afterwards; the debug kernel's kmemleak scan at the
# end of the run catches what an error path forgot to free.
#
# Needs a kernel with fault injection (the debug kernel of
# harness/debug-kernel.sh); on one without, the test skips and says so.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=harness/tests/lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm

if [ ! -e /proc/self/fail-nth ]; then
	skip_kernel "kernel without fault injection (CONFIG_FAULT_INJECTION)"
	finish
fi
dbg=/sys/kernel/debug
[ -d "$dbg/failslab" ] || mount -t debugfs none "$dbg"
if [ ! -e "$dbg/failslab/reject-start" ]; then
	skip_kernel "kernel without CONFIG_FAULT_INJECTION_STACKTRACE_FILTER"
	finish
fi

# Let fail-nth reach every allocation a syscall makes: by default both
# spare allocations that may sleep, and fail_page_alloc single pages.
# Quietly: an injected failure is expected here, not news.
fault_setup() {
	local d=$1
	[ -d "$dbg/$d" ] || return 1
	echo N >"$dbg/$d/ignore-gfp-wait" &&
	echo 0 >"$dbg/$d/verbose" || return 1
	if [ "$d" = fail_page_alloc ]; then
		echo N >"$dbg/$d/ignore-gfp-highmem" &&
		echo 0 >"$dbg/$d/min-order" || return 1
	fi
}
check "failslab set up for fail-nth" fault_setup failslab
check "fail_page_alloc set up for fail-nth" fault_setup fail_page_alloc

# The ACPI interpreter (ACPICA) does not survive a failed allocation: its
# namespace reference counts go wrong and a later _PRT lookup (in
# pci_enable_device()) reads freed memory.  That is a kernel bug of its
# own, not an error path of ours: no failure is injected while ACPICA is
# on the stack.  Its code is linked as one block: the longest run of its
# functions in address order (a few others may sit in between, and a few
# of its names also occur elsewhere), up to the first function after it.
acpica_range() {
	awk '$2 ~ /^[tT]$/ { print $1, $3 }' /proc/kallsyms | sort | awk '
	{ addr[NR] = $1 }
	$2 ~ /^acpi_(ds|ev|ex|hw|ns|ps|rs|tb|ut)_/ {
		if (!n || NR - last > 20) { first = NR; n = 0 }
		n++; last = NR
		if (n > best) { best = n; bfirst = first; blast = last }
	}
	END { if (best) print "0x" addr[bfirst], "0x" addr[blast + 1] }'
}
reject_acpica() {
	local lo hi d
	read -r lo hi < <(acpica_range) || return 1
	[ -n "$hi" ] || return 1
	for d in failslab fail_page_alloc; do
		[ -e "$dbg/$d/reject-start" ] || return 1
		echo "$lo" >"$dbg/$d/reject-start" &&
		echo "$hi" >"$dbg/$d/reject-end" || return 1
	done
	echo "# ACPICA text: $lo-$hi"
}
check "no failures injected inside ACPICA" reject_acpica

vfio_lib_start
if ! { edu=$(find_dev 1234:11e8) && nvme=$(find_dev 1b36:0010) &&
	nic=$(find_dev 8086:10d3); }; then
	fail "edu, nvme and e1000e present"
	finish
fi
check "edu ($edu) bound to vfio-pci" bind_vfio "$edu"
check "nvme ($nvme) bound to vfio-pci" bind_vfio "$nvme"
run_selftest --timeout 2400 vfio_pci_fault_inject_test \
	"injected failures on edu and nvme" -f edu -f msix -- \
	VFIO_SELFTESTS_BDF="$edu" VFIO_SELFTESTS_MSIX_BDF="$nvme"

ko=${VFIO_VARIANT_FIXTURE_KO:-}
if [ -n "$ko" ] && [ -f "$ko" ]; then
	check "insmod the variant fixture, region_pages=2" insmod "$ko" region_pages=2
	if check "e1000e ($nic) bound to the variant fixture" \
		bind_vfio "$nic" vfio-pci-variant-fixture; then
		run_selftest --timeout 2400 vfio_pci_fault_inject_test \
			"injected failures opening a device with a region" \
			-f region -- VFIO_SELFTESTS_REGION_BDF="$nic"
	fi
	check "unbind e1000e" unbind "$nic"
	check "rmmod the variant fixture" rmmod vfio_pci_variant_fixture
else
	fail "VFIO_VARIANT_FIXTURE_KO names the variant fixture module"
fi

for d in "$edu" "$nvme"; do
	check "$d still passes the sanity check" device_sanity "$d"
	check "unbind $d" unbind "$d"
done
vfio_lib_end
