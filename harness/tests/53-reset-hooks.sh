#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: nvme,e1000e,pci-testdev-pair
#
# The reset contract variant drivers rely on, and resets from D3hot:
#   - vfio-pci: nvme (FLR, NoSoftRst+) and e1000e (NoSoftRst-) put into
#     D3hot by the user through PMCSR come back to D0 on VFIO_DEVICE_RESET
#     and their BARs answer again (vfio_pci_reset_hooks_test -f from_d3hot);
#   - bound to the counting variant driver of harness/tests/variant-fixture
#     (VFIO_VARIANT_FIXTURE_KO), every reset path calls reset_prepare() and
#     reset_done() exactly once: open, VFIO_DEVICE_RESET, FLR through
#     config space, last close, the D3hot case, a hot reset of the
#     pci-testdev pair and the reset of its device set at last close.
#
# VFIO_TEST_DISTRO=1 runs the D3hot part against the distro's modules (the
# fixture is built against ours only):
#     harness/vm --devices nvme,e1000e --modroot / -- \
#         env VFIO_TEST_DISTRO=1 VFIO_SELFTESTS_DIR=DIR harness/tests/53-reset-hooks.sh

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=harness/tests/lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm

fixture=vfio-pci-variant-fixture

# Bind every given function to DRIVER ($1), checking each.
bind_all() {
	local drv=$1 d ok=0
	shift
	for d in "$@"; do
		check "$d bound to $drv" bind_vfio "$d" "$drv" || ok=1
	done
	return "$ok"
}

release_all() {
	local d
	for d in "$@"; do
		check "unbind $d" unbind "$d"
		echo >"/sys/bus/pci/devices/$d/driver_override" || :
	done
}

vfio_lib_start
if ! { nvme=$(find_dev 1b36:0010) && nic=$(find_dev 8086:10d3) &&
	f0=$(find_dev 1b36:0005 1) && f1=$(find_dev 1b36:0005 2); }; then
	fail "nvme, e1000e and the pci-testdev pair present"
	finish
fi
for d in "$nvme" "$nic" "$f0" "$f1"; do
	echo "# $d reset_method: $(cat "/sys/bus/pci/devices/$d/reset_method" 2>/dev/null)"
done

if bind_all vfio-pci "$nvme" "$nic"; then
	for d in "$nvme" "$nic"; do
		run_selftest vfio_pci_reset_hooks_test "reset from D3hot on $d" \
			-f from_d3hot -- VFIO_SELFTESTS_BDF="$d"
	done
fi
release_all "$nvme" "$nic"

if [ "${VFIO_TEST_DISTRO:-0}" = 1 ]; then
	echo "# the counting variant driver needs our vfio-pci-core: not run"
	vfio_lib_end
fi

ko=${VFIO_VARIANT_FIXTURE_KO:-}
if [ -z "$ko" ] || [ ! -f "$ko" ]; then
	fail "VFIO_VARIANT_FIXTURE_KO names the variant fixture module"
	vfio_lib_end
fi
check "insmod the counting variant driver" insmod "$ko"

if bind_all "$fixture" "$nvme" "$nic"; then
	for d in "$nvme" "$nic"; do
		run_selftest vfio_pci_reset_hooks_test "reset hooks on $d" \
			-f hooks -- VFIO_SELFTESTS_BDF="$d"
		run_selftest vfio_pci_reset_hooks_test \
			"reset hooks from D3hot on $d" -f from_d3hot -- \
			VFIO_SELFTESTS_BDF="$d" VFIO_SELFTESTS_RESET_HOOKS=1
	done
fi

if bind_all "$fixture" "$f0" "$f1"; then
	run_selftest vfio_pci_reset_test "hot reset hooks on $f0+$f1" \
		-f hot_reset -- VFIO_SELFTESTS_BDF="$f0" \
		VFIO_SELFTESTS_BDF2="$f1" VFIO_SELFTESTS_OTHER_BDF="$nvme" \
		VFIO_SELFTESTS_RESET_HOOKS=1
	run_selftest vfio_pci_reset_test "device set reset hooks on $f0+$f1" \
		-f set_reset -- VFIO_SELFTESTS_BDF="$f0" \
		VFIO_SELFTESTS_BDF2="$f1" VFIO_SELFTESTS_RESET_HOOKS=1
fi

release_all "$nvme" "$nic" "$f0" "$f1"
check "rmmod the counting variant driver" rmmod vfio_pci_variant_fixture
vfio_lib_end
