#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e,pci-testdev
#
# Run the kselftests of tools/testing/selftests/vfio inside the VM:
# vfio_pci_device_test against every device listed below, and
# vfio_pci_edu_test against the edu device, each device bound to vfio-pci
# through driver_override the way a user would.
#
# By default the loaded vfio-pci modules must be our out-of-tree build
# (harness/vm mounts build/modroot).  VFIO_TEST_DISTRO=1 runs the same
# tests against the distro's modules instead, which is how the tests are
# checked to describe upstream behaviour:
#     harness/vm --devices edu,e1000e,pci-testdev --modroot /  -- \
#         env VFIO_TEST_DISTRO=1 harness/tests/10-selftests-edu.sh
#
# The test programs come from build/selftests (harness/build-selftests.sh);
# when they are missing they are built here, which is slow under TCG.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
repo=$(dirname "$harness")
# shellcheck source=../guest-lib.sh
. "$harness/guest-lib.sh"

if [ -z "${VM_OUT:-}" ]; then
	echo "10-selftests-edu: run inside a VM: harness/run-vm-tests $0" >&2
	exit 2
fi

bins=${VFIO_SELFTESTS_DIR:-$repo/build/selftests}
# name -> vendor:device as QEMU 7.2 presents them.
devs=(edu e1000e pci-testdev)
declare -A ids=([edu]=1234:11e8 [e1000e]=8086:10d3 [pci-testdev]=1b36:0005)

# Run one kselftest program; its TAP output is indented as a subtest and
# kept in $VM_OUT.  Passes only when the program exits 0 and reports every
# planned test as passed (no failures, no skips).
run_selftest() { # prog bdf label
	local prog=$1 bdf=$2 label=$3 log totals rc=0
	log=$VM_OUT/$(basename "$prog")-$bdf.log
	VFIO_SELFTESTS_BDF=$bdf timeout 300 "$prog" >"$log" 2>&1 || rc=$?
	sed 's/^/    /' "$log"
	totals=$(grep '^# Totals:' "$log" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		fail "$label: exit status $rc ($totals)"
	elif ! echo "$totals" | grep -Eq 'pass:[1-9][0-9]* fail:0 .*skip:0 error:0'; then
		fail "$label: not every test passed ($totals)"
	else
		pass "$label ($totals)"
	fi
}

if [ ! -x "$bins/vfio_pci_device_test" ] || [ ! -x "$bins/vfio_pci_edu_test" ]; then
	echo "# $bins lacks the test programs: building them in the guest"
	check "harness/build-selftests.sh builds the tests" \
		"$harness/build-selftests.sh" "$bins"
fi

load_vfio_pci

declare -A bdf_of=()
for name in "${devs[@]}"; do
	if ! bdf=$(find_dev "${ids[$name]}"); then
		fail "$name (${ids[$name]}) is present"
		continue
	fi
	if bind_vfio "$bdf"; then
		pass "$name ($bdf) bound to vfio-pci"
		bdf_of[$name]=$bdf
	else
		fail "$name ($bdf) bound to vfio-pci"
	fi
done

for name in "${devs[@]}"; do
	[ -n "${bdf_of[$name]:-}" ] || continue
	run_selftest "$bins/vfio_pci_device_test" "${bdf_of[$name]}" \
		"vfio_pci_device_test on $name (${bdf_of[$name]})"
done
if [ -n "${bdf_of[edu]:-}" ]; then
	run_selftest "$bins/vfio_pci_edu_test" "${bdf_of[edu]}" \
		"vfio_pci_edu_test on edu (${bdf_of[edu]})"
fi

# Give the devices back; a driver that cannot be unbound is a bug too.
for name in "${devs[@]}"; do
	[ -n "${bdf_of[$name]:-}" ] || continue
	check "unbind $name (${bdf_of[$name]}) from vfio-pci" unbind "${bdf_of[$name]}"
	echo >"/sys/bus/pci/devices/${bdf_of[$name]}/driver_override" || :
done
check "rmmod vfio-pci" modprobe -r vfio-pci

finish
