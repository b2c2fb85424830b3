#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e-rom,pci-testdev
#
# Run the kselftests of tools/testing/selftests/vfio inside the VM:
# vfio_pci_device_test against every device listed below, and
# vfio_pci_edu_test against the edu device, each device bound to vfio-pci
# through driver_override the way a user would.  e1000e keeps QEMU's
# option ROM (iPXE), so its ROM region is read whole and compared with the
# image the host reads through sysfs.
#
# By default the loaded vfio-pci modules must be our out-of-tree build
# (harness/vm mounts build/modroot).  VFIO_TEST_DISTRO=1 runs the same
# tests against the distro's modules instead, which is how the tests are
# checked to describe upstream behaviour:
#     harness/vm --devices edu,e1000e-rom,pci-testdev --modroot /  -- \
#         env VFIO_TEST_DISTRO=1 harness/tests/10-selftests-edu.sh
#
# The test programs come from build/selftests (harness/build-selftests.sh);
# when they are missing they are built here, which is slow under TCG.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_device_test vfio_pci_edu_test vfio_pci_dma_test
# name -> vendor:device as QEMU 7.2 presents them.
devs=(edu e1000e pci-testdev)
declare -A ids=([edu]=1234:11e8 [e1000e]=8086:10d3 [pci-testdev]=1b36:0005)

load_vfio_pci

declare -A bdf_of=()
bind_devices "${devs[@]}"

# Each program passes only when it exits 0 and reports every planned test
# as passed (no failures, no skips).
for name in "${devs[@]}"; do
	[ -n "${bdf_of[$name]:-}" ] || continue
	run_selftest vfio_pci_device_test \
		"vfio_pci_device_test on $name (${bdf_of[$name]})" -- \
		VFIO_SELFTESTS_BDF="${bdf_of[$name]}"
done
if [ -n "${bdf_of[edu]:-}" ]; then
	run_selftest vfio_pci_edu_test "vfio_pci_edu_test on edu (${bdf_of[edu]})" \
		-- VFIO_SELFTESTS_BDF="${bdf_of[edu]}"
	run_selftest vfio_pci_dma_test "type1 DMA on edu (${bdf_of[edu]})" \
		-- VFIO_SELFTESTS_BDF="${bdf_of[edu]}"
fi

# Give the devices back; a driver that cannot be unbound is a bug too.
for name in "${devs[@]}"; do
	[ -n "${bdf_of[$name]:-}" ] || continue
	check "unbind $name (${bdf_of[$name]}) from vfio-pci" unbind "${bdf_of[$name]}"
	echo >"/sys/bus/pci/devices/${bdf_of[$name]}/driver_override" || :
done
check "rmmod vfio-pci" modprobe -r vfio-pci

finish
