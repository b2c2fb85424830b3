#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: e1000e,nvme
#
# Runtime power management of vfio-pci devices, on QEMU's e1000e (it has a
# PCI PM capability; edu has none and never leaves D0):
#   - bound but unopened, the device idles in D3hot (runtime suspended);
#   - vfio_pci_power_test: awake while open, and the LOW_POWER_* features;
#   - after the last close it goes back to D3hot;
#   - with disable_idle_d3=1 it stays in D0 and runtime active while idle,
#     and the low-power features still work (the same selftest passes);
#   - unbinding hands it back in D0;
#   - D3hot written to PMCSR by the user: e1000e (NoSoftRst-) gets its
#     config state restored on D0, nvme (NoSoftRst+) is left alone.
#
# VFIO_TEST_DISTRO=1 runs the same against the distro's modules:
#     harness/vm --devices e1000e --modroot / -- \
#         env VFIO_TEST_DISTRO=1 VFIO_SELFTESTS_DIR=DIR harness/tests/60-power.sh

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm

# Still in that state after a while, not just passing through it.
pm_stays() {
	sleep 1
	pm_is "$@" 1
}

vfio_lib_start
if ! nic=$(find_dev 8086:10d3); then
	fail "e1000e is present"
	finish
fi

# access_in_flight_keeps_device_awake stalls a read with a userfaultfd; a
# kernel without one (the debug kernel) skips that case, and only that.
skips=0
if [ ! -e /proc/sys/vm/unprivileged_userfaultfd ]; then
	skips=1
	echo "# kernel $(uname -r) has no userfaultfd (CONFIG_USERFAULTFD):" \
		"power.access_in_flight_keeps_device_awake skips"
fi

check "e1000e ($nic) bound to vfio-pci" bind_vfio "$nic"
check "idle e1000e runtime suspends to D3hot" pm_is "$nic" suspended D3hot
run_selftest --skips "$skips" vfio_pci_power_test "power selftest" -- \
	VFIO_SELFTESTS_BDF="$nic"
check "idle again after the last close: D3hot" pm_is "$nic" suspended D3hot
check "unbind e1000e" unbind "$nic"
check "unbound e1000e is back in D0" pm_is "$nic" active D0
check "rmmod vfio-pci" modprobe -r vfio-pci

check "modprobe vfio-pci disable_idle_d3=1" modprobe vfio-pci disable_idle_d3=1
check "e1000e bound to vfio-pci (disable_idle_d3=1)" bind_vfio "$nic"
check "idle e1000e stays in D0 with disable_idle_d3=1" pm_stays "$nic" active D0
run_selftest --skips "$skips" vfio_pci_power_test \
	"power selftest, disable_idle_d3=1" -- VFIO_SELFTESTS_BDF="$nic"
check "still D0 after the last close with disable_idle_d3=1" pm_stays "$nic" active D0
check "unbind e1000e" unbind "$nic"
echo >"/sys/bus/pci/devices/$nic/driver_override"

# The NoSoftRst+ side of the PMCSR test (e1000e ran the NoSoftRst- side).
if nvme=$(find_dev 1b36:0010); then
	check "nvme ($nvme) bound to vfio-pci" bind_vfio "$nvme"
	run_selftest vfio_pci_power_test "PMCSR D3hot on NoSoftRst+ nvme" \
		-t pmcsr_d3hot_restores_lost_state -- VFIO_SELFTESTS_BDF="$nvme"
	check "unbind nvme" unbind "$nvme"
	echo >"/sys/bus/pci/devices/$nvme/driver_override"
else
	fail "nvme is present"
fi
vfio_lib_end
