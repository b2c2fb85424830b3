#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu
# vm-needs: CONFIG_IOMMUFD,CONFIG_VFIO_DEVICE_CDEV
#
# The cdev/iommufd path: /dev/vfio/devices/vfioN bound to an iommufd with
# an IOAS attached, GET_INFO, config and BAR reads, edu DMA through the
# IOAS, hot reset by device ID (vfio_pci_cdev_test).  Needs a kernel with
# IOMMUFD and VFIO_DEVICE_CDEV: the debug kernel (make check-debug).  On
# Debian's kernel, which has neither, the test skips (exit 4); on a kernel
# with both, harness/run-vm-tests counts a skip as a failure.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_cdev_test

# iommufd is a module on the debug kernel; vfio loads it only if present.
modprobe iommufd 2>/dev/null || :
vfio_lib_start

if bdf=$(find_dev 1234:11e8) && bind_vfio "$bdf"; then
	pass "edu ($bdf) bound to vfio-pci"
	if [ ! -e /dev/iommu ] || [ ! -d "/sys/bus/pci/devices/$bdf/vfio-dev" ]; then
		skip_kernel "kernel $(uname -r) has no iommufd / VFIO device cdev"
	else
		log=$VM_OUT/cdev-edu.log
		VFIO_SELFTESTS_BDF=$bdf timeout 300 "$bins/vfio_pci_cdev_test" >"$log" 2>&1
		rc=$?
		grep -E '^(not )?ok|^# (FAIL|PASSED|SKIP|Totals)|^#.*(Expected|BIND|IOAS|ATTACH|HOT_RESET)' "$log"
		check "cdev/iommufd tests pass (status $rc, log $log)" test "$rc" -eq 0
	fi
	check "edu unbinds" unbind "$bdf"
	echo >"/sys/bus/pci/devices/$bdf/driver_override"
else
	fail "edu bound to vfio-pci"
fi
check "rmmod vfio-pci" modprobe -r vfio-pci

finish
