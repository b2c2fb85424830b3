#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: nvme
#
# VFIO_DEVICE_RESET on a function that has FLR (QEMU's nvme): the reset
# clears device state, keeps the user's config space, zaps BAR mappings,
# and a new user of the device finds it reset (vfio_pci_reset_test -f
# function_reset).
#
# VFIO_TEST_DISTRO=1 runs the same against the distro's modules:
#     harness/vm --devices nvme --modroot / -- \
#         env VFIO_TEST_DISTRO=1 VFIO_SELFTESTS_DIR=DIR harness/tests/50-reset.sh

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=harness/tests/lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm

vfio_lib_start
if nvme=$(find_dev 1b36:0010) && bind_vfio "$nvme"; then
	pass "nvme ($nvme) bound to vfio-pci"
	echo "# reset_method: $(cat "/sys/bus/pci/devices/$nvme/reset_method")"
	run_selftest vfio_pci_reset_test "function_reset on nvme" \
		-f function_reset -- VFIO_SELFTESTS_BDF="$nvme"
	check "unbind nvme" unbind "$nvme"
else
	fail "nvme bound to vfio-pci"
fi
vfio_lib_end
