#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: vga@root,edu
#
# The VGA region of a standard VGA device bound to vfio-pci: legacy ports,
# the 0xa0000 window, holes, window ends; a non-VGA device (edu) has none;
# and with disable_vga=1 the VGA device has none either.
#
# VFIO_TEST_DISTRO=1 accepts the distro's modules (for comparison).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=../guest-lib.sh
. "$harness/guest-lib.sh"

repo=$(dirname "$harness")
bins=${VFIO_SELFTESTS_DIR:-$repo/build/selftests}

vga=$(find_dev 1234:1111) || { fail "no VGA device"; finish; }
edu=$(find_dev 1234:11e8) || { fail "no edu device"; finish; }

run_vga_test() { # label env...
	local label=$1
	shift
	if env "$@" VFIO_SELFTESTS_BDF="$vga" "$bins/vfio_pci_vga_test" \
		>"$VM_OUT/vga-$label.log" 2>&1; then
		pass "vfio_pci_vga_test ($label)"
	else
		sed 's/^/    /' "$VM_OUT/vga-$label.log"
		fail "vfio_pci_vga_test ($label)"
	fi
}

check "bind VGA $vga to vfio-pci" bind_vfio "$vga"
if [ "${VFIO_TEST_DISTRO:-}" != 1 ]; then
	check "loaded modules are ours" check_modules_ours
fi
run_vga_test enabled
check "bind edu $edu to vfio-pci" bind_vfio "$edu"
# A device that is not VGA has no VGA region.
if env VFIO_SELFTESTS_BDF="$edu" VFIO_VGA_EXPECT_NONE=1 \
	"$bins/vfio_pci_vga_test" -t region_info >"$VM_OUT/vga-edu.log" 2>&1; then
	pass "edu has no VGA region"
else
	fail "edu has no VGA region"
fi

check "unbind VGA" unbind "$vga"
check "unbind edu" unbind "$edu"
check "rmmod vfio-pci" rmmod vfio-pci
check "modprobe vfio-pci disable_vga=1" modprobe vfio-pci disable_vga=1
check "rebind VGA $vga" bind_vfio "$vga"
run_vga_test disabled VFIO_VGA_EXPECT_NONE=1
check "unbind VGA again" unbind "$vga"
finish
