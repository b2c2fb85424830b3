#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: pci-testdev-pair,edu
#
# Device sets and hot reset on two functions of one device behind one root
# port (pci-testdev-pair: neither function can be reset alone, so they form
# one vfio device set that only a slot reset resets), plus an edu device
# in a group of its own:
#   no_reset           function 0 offers no VFIO_DEVICE_RESET
#   hot_reset          INFO lists both functions; the group's owner resets
#                      both (state gone, mappings zapped); a foreign group
#                      fd or bad arguments reset nothing
#   set_reset          the set is reset when its last user closes, not
#                      while one function is still open
#   hot_reset_blocked  with function 1 bound to pci-stub, nobody may reset
#                      the pair
#
# VFIO_TEST_DISTRO=1 runs the same against the distro's modules.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=harness/tests/lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm

vfio_lib_start

if ! { f0=$(find_dev 1b36:0005 1) && f1=$(find_dev 1b36:0005 2) &&
	edu=$(find_dev 1234:11e8); }; then
	fail "pci-testdev pair and edu present"
	finish
fi
for d in "$f0" "$f1" "$edu"; do
	echo "# $d reset_method: $(cat "/sys/bus/pci/devices/$d/reset_method" 2>/dev/null)" \
	     "group: $(iommu_group "$d")"
done
bound=1
for d in "$f0" "$f1" "$edu"; do
	check "$d bound to vfio-pci" bind_vfio "$d" || bound=0
done
[ "$bound" = 1 ] || vfio_lib_end

run_selftest vfio_pci_reset_test "no_reset on $f0" -f no_reset -- \
	VFIO_SELFTESTS_BDF="$f0"
run_selftest vfio_pci_reset_test "hot_reset on $f0+$f1" -f hot_reset -- \
	VFIO_SELFTESTS_BDF="$f0" VFIO_SELFTESTS_BDF2="$f1" \
	VFIO_SELFTESTS_OTHER_BDF="$edu"
run_selftest vfio_pci_reset_test "set_reset on $f0+$f1" -f set_reset -- \
	VFIO_SELFTESTS_BDF="$f0" VFIO_SELFTESTS_BDF2="$f1"

# Function 1 to another driver: pci-stub leaves the group viable (it
# does no DMA), so function 0 can still be opened.
if bind_vfio "$f1" pci-stub; then
	pass "$f1 bound to pci-stub"
	run_selftest vfio_pci_reset_test "hot_reset_blocked on $f0" \
		-f hot_reset_blocked -- VFIO_SELFTESTS_BDF="$f0"
else
	fail "$f1 bound to pci-stub"
fi

for d in "$f0" "$f1" "$edu"; do
	check "unbind $d" unbind "$d"
	echo >"/sys/bus/pci/devices/$d/driver_override" || :
done
vfio_lib_end
