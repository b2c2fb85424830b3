#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: vga@root
# vm-append: vga=0x317
# vm-needs: CONFIG_FB_VESA
#
# A VGA device that backs the boot framebuffer: the guest boots in a VESA
# mode, so vesafb claims the framebuffer in BAR0 of QEMU's standard VGA for
# the console.  Binding the device to vfio-pci removes that driver (it would
# otherwise keep drawing into a device the user owns, and its claim on the
# BAR keeps the user from mapping it), and the user can then map the BAR
# and write through it (vfio_pci_vga_test -t framebuffer_bar_mmap).
#
# In a VESA mode the legacy 0xa0000 window is not RAM any more, so the VGA
# region tests of 42-vga run in a VM of their own, in text mode.
#
# VFIO_TEST_DISTRO=1 accepts the distro's modules (for comparison).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=../guest-lib.sh
. "$harness/guest-lib.sh"

repo=$(dirname "$harness")
bins=${VFIO_SELFTESTS_DIR:-$repo/build/selftests}

fb_claimed() { grep -q vesafb /proc/iomem; }

vga=$(find_dev 1234:1111) || { fail "no VGA device"; finish; }

# Without vesafb (the debug kernel has no framebuffer drivers) there is
# nothing to remove: an honest skip, which the runner turns into a failure
# on a kernel that has CONFIG_FB_VESA.
if ! fb_claimed; then
	skip_kernel "no framebuffer driver claimed the VGA (CONFIG_FB_VESA)"
	finish
fi
pass "vesafb claims the VGA framebuffer before binding"
check "bind VGA $vga to vfio-pci" bind_vfio "$vga"
if [ "${VFIO_TEST_DISTRO:-}" != 1 ]; then
	check "loaded modules are ours" check_modules_ours
fi
if fb_claimed; then
	fail "binding the VGA device removed vesafb"
else
	pass "binding the VGA device removed vesafb"
fi
if env VFIO_SELFTESTS_BDF="$vga" "$bins/vfio_pci_vga_test" \
	-t framebuffer_bar_mmap >"$VM_OUT/vga-fb.log" 2>&1; then
	pass "the user maps and writes the framebuffer BAR"
else
	sed 's/^/    /' "$VM_OUT/vga-fb.log"
	fail "the user maps and writes the framebuffer BAR"
fi
check "unbind VGA" unbind "$vga"
check "rmmod vfio-pci" rmmod vfio-pci
finish
