#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,ivshmem,e1000e
#
# VFIO_DEVICE_IOEVENTFD (vfio_pci_ioeventfd_test): argument checks,
# duplicates, removal and the limit of 1000 on edu; writes landing in edu's
# liveness register, stopping after removal or close, dropped while memory
# decode is off; every width byte-exact in ivshmem's RAM BAR; the MSI-X
# table of e1000e refused.
#
# VFIO_TEST_DISTRO=1 runs the same against the distro's modules.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=harness/tests/lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm

vfio_lib_start

declare -A bdf=()
for spec in edu=1234:11e8 ivshmem=1af4:1110 e1000e=8086:10d3; do
	name=${spec%%=*}
	if d=$(find_dev "${spec#*=}") && bind_vfio "$d"; then
		pass "$name ($d) bound to vfio-pci"
		bdf[$name]=$d
	else
		fail "$name bound to vfio-pci"
	fi
done

if [ -n "${bdf[edu]:-}" ]; then
	run_selftest vfio_pci_ioeventfd_test "ioeventfd+edu on edu" \
		-f ioeventfd -f edu -- VFIO_SELFTESTS_BDF="${bdf[edu]}"
fi
if [ -n "${bdf[ivshmem]:-}" ]; then
	run_selftest vfio_pci_ioeventfd_test "ivshmem on ivshmem" \
		-f ivshmem -- VFIO_SELFTESTS_BDF="${bdf[ivshmem]}"
fi
if [ -n "${bdf[e1000e]:-}" ]; then
	run_selftest vfio_pci_ioeventfd_test "msix on e1000e" \
		-f msix -- VFIO_SELFTESTS_BDF="${bdf[e1000e]}"
fi

for name in "${!bdf[@]}"; do
	check "unbind $name" unbind "${bdf[$name]}"
	echo >"/sys/bus/pci/devices/${bdf[$name]}/driver_override" || :
done
vfio_lib_end
