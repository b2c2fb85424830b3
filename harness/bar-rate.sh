#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/bar-rate.sh - compare the read() rate of BAR regions under our
# vfio-pci and under the distro's, in one VM so both see the same machine:
# 4 KiB preads of ivshmem's RAM BAR2 and of edu's register BAR0, for
# $BAR_RATE_SECS (default 3) seconds each, with each driver in turn, for
# $BAR_RATE_ROUNDS (default 2) rounds: alternating evens out a host whose
# load changes meanwhile.  A measurement for reports, not a test: it prints
# figures and fails only if something could not be run.
#
#	harness/vm --devices ivshmem,edu -- harness/bar-rate.sh

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")" && pwd)}
# shellcheck source=harness/tests/lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_bar_rate_test
secs=${BAR_RATE_SECS:-3}
rounds=${BAR_RATE_ROUNDS:-2}

declare -A ids=([ivshmem]=1af4:1110 [edu]=1234:11e8)

# measure LABEL: one figure per device, with whatever vfio-pci is loaded.
measure() {
	local -A bdf_of=()
	local name region
	bind_devices ivshmem edu
	for name in ivshmem edu; do
		[ -n "${bdf_of[$name]:-}" ] || continue
		region=0
		[ "$name" = ivshmem ] && region=2
		echo "# $1 $name: $(VFIO_SELFTESTS_BDF=${bdf_of[$name]} \
			"$bins/vfio_pci_bar_rate_test" "$region" "$secs" 2>&1)"
		check "unbind $name" unbind "${bdf_of[$name]}"
	done
}

for ((round = 1; round <= rounds; round++)); do
	check "modprobe vfio-pci" modprobe vfio-pci
	check "vfio-pci modules are our out-of-tree build" check_modules_ours
	measure "round $round ours"
	check "rmmod vfio-pci" modprobe -r vfio-pci
	load_distro_vfio_pci || break
	measure "round $round distro"
	check "rmmod distro vfio-pci" rmmod vfio_pci
	check "rmmod distro vfio-pci-core" rmmod vfio_pci_core
done
finish
