#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: e1000e-rom,e1000e-badrom
#
# The expansion ROM region on two e1000e NICs: one with QEMU's iPXE option
# ROM, one whose ROM BAR holds blank flash (all ones, no 0x55 0xAA image
# header; harness/vm's e1000e-badrom).  vfio_pci_device_test's ROM tests
# run on both:
#   - rom_region: with an image, the region is the ROM BAR and reads as
#     the image the host reads through sysfs, then all ones; without one,
#     the region is empty (size 0, no flags) although the BAR exists;
#   - rom_concurrent_reads: two threads read random ranges of the ROM at
#     once and always get the image (each read maps the ROM and unmapping
#     turns its decode off: readers must not overlap).
#
# VFIO_TEST_DISTRO=1 runs the same against the distro's modules.  Their
# ROM reads are not serialised and fail rom_concurrent_reads, a difference
# listed in harness/distro-differences.
#     harness/vm --devices e1000e-rom,e1000e-badrom --modroot / -- \
#         env VFIO_TEST_DISTRO=1 harness/tests/45-rom.sh

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_device_test
sys=/sys/bus/pci/devices

# rom_image BDF: whether the host finds an image in BDF's ROM BAR.
rom_image() {
	local f=$sys/$1/rom sig
	[ -e "$f" ] || return 1
	echo 1 >"$f"
	sig=$(head -c 2 "$f" 2>/dev/null | od -An -tx1 | tr -d ' \n')
	echo 0 >"$f"
	[ "$sig" = 55aa ]
}

load_vfio_pci

with_image=
without_image=
for n in 1 2; do
	bdf=$(find_dev 8086:10d3 "$n") || { fail "e1000e number $n is present"; continue; }
	if rom_image "$bdf"; then
		with_image=$bdf
	elif [ -e "$sys/$bdf/rom" ]; then
		without_image=$bdf
	fi
done
check "an e1000e with a ROM image ($with_image)" test -n "$with_image"
check "an e1000e with a ROM BAR but no image ($without_image)" \
	test -n "$without_image"

for bdf in $with_image $without_image; do
	check "bind $bdf to vfio-pci" bind_vfio "$bdf" || continue
	run_selftest vfio_pci_device_test "rom_region on $bdf" \
		-t rom_region -- VFIO_SELFTESTS_BDF="$bdf"
	run_selftest vfio_pci_device_test "rom_concurrent_reads on $bdf" \
		-t rom_concurrent_reads -- VFIO_SELFTESTS_BDF="$bdf"
	check "unbind $bdf" unbind "$bdf"
	echo >"$sys/$bdf/driver_override"
done

check "rmmod vfio-pci" modprobe -r vfio-pci
finish
