#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu
#
# vfio-pci's Intel graphics (IGD) regions, and with them the core's
# device-specific regions (register, REGION_INFO type capability, reads
# through the region ops, release at close), on a fake IGD.
#
# The VM has no Intel graphics, so the igd-fixture test module
# (harness/tests/igd-fixture/igd_fixture.c) makes one out of the edu
# device, which sits alone behind its own PCIe root port: it removes edu,
# wraps its bus's config accessors so that the function reads as Intel
# 8086:0f1d, class VGA (0x030000), with ASLS (0xfc) pointing to an OpRegion
# it built in memory below 4 GiB, and rescans, so the PCI core, the VGA
# arbiter and vfio-pci see an Intel VGA device from the start.  The bytes
# vfio-pci should hand out are in debugfs (igd_fixture/opregion); rmmod
# brings edu back.  Each fixture mode is bound to vfio-pci and checked by
# vfio_pci_igd_test:
#   - OpRegion 2.1 with a raw VBT right after it, and after a gap;
#   - 2.0 with the raw VBT at a physical address (reads as 2.1, RVDA 8192);
#   - 2.0 with RVDA but RVDS 0, and 1.0 (no raw VBT: RVDA reads as 0);
#   - ASLS 0: the device opens without extra regions;
#   - a bad signature: opening the device fails with EINVAL.
# At the end edu must be back with its own IDs and still bind to vfio-pci.
#
# VFIO_TEST_DISTRO=1 runs the same against the distro's modules; where they
# differ (the first ASLS value the user reads when there is a raw VBT) is
# listed in harness/distro-differences.
#     harness/vm --devices edu --modroot / -- \
#         env VFIO_TEST_DISTRO=1 harness/tests/44-igd.sh
# VFIO_IGD_FIXTURE_KO may name a prebuilt igd_fixture.ko (make
# test-modules); otherwise it is built here (slow under TCG).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
repo=$(dirname "$harness")
# shellcheck source=../guest-lib.sh
. "$harness/guest-lib.sh"

[ -n "${VM_OUT:-}" ] || { echo "44-igd: run inside a VM (harness/run-vm-tests)" >&2; exit 2; }

bins=${VFIO_SELFTESTS_DIR:-$repo/build/selftests}
sys=/sys/bus/pci/devices

# Called through check, which shellcheck cannot follow.
# shellcheck disable=SC2317
ids_are() { # bdf vendor device class
	local v d c
	read -r v <"$sys/$1/vendor"
	read -r d <"$sys/$1/device"
	read -r c <"$sys/$1/class"
	[ "$v:$d:$c" = "$2:$3:$4" ] && return 0
	echo "# $1 reads $v:$d class $c, want $2:$3 class $4"
	return 1
}

edu=$(find_dev 1234:11e8) || { fail "edu is present"; finish; }
echo "# edu at $edu"

ko=${VFIO_IGD_FIXTURE_KO:-}
if [ -z "$ko" ]; then
	work=$(mktemp -d)
	cp "$harness/tests/igd-fixture/"* "$work/"
	if make -s -C "/usr/src/linux-headers-$(uname -r)" M="$work" modules \
		>"$VM_OUT/igd-fixture-build.log" 2>&1; then
		ko=$work/igd_fixture.ko
	fi
fi
if [ -z "$ko" ] || [ ! -f "$ko" ]; then
	fail "igd_fixture.ko built (see igd-fixture-build.log)"
	finish
fi
[ -d /sys/kernel/debug/igd_fixture ] || mountpoint -q /sys/kernel/debug ||
	mount -t debugfs none /sys/kernel/debug

load_vfio_pci

# run_mode LABEL EXPECT PASSES SKIPS FIXTURE-ARGS...: fake IGD in one mode,
# bound to vfio-pci, vfio_pci_igd_test must pass exactly PASSES tests and
# skip SKIPS (the tests of the other modes).
run_mode() {
	local label=$1 expect=$2 passes=$3 skips=$4 log totals rc=0
	shift 4
	echo "# ---- $label: igd_fixture $*"
	if ! insmod "$ko" bdf="$edu" "$@"; then
		fail "$label: insmod igd_fixture $*"
		return
	fi
	pass "$label: insmod igd_fixture $*"
	check "$label: $edu reads as Intel VGA 8086:0f1d" \
		ids_are "$edu" 0x8086 0x0f1d 0x030000
	if check "$label: bind to vfio-pci" bind_vfio "$edu"; then
		log=$VM_OUT/igd-$label.log
		env VFIO_SELFTESTS_BDF="$edu" VFIO_IGD_EXPECT="$expect" \
			timeout 300 "$bins/vfio_pci_igd_test" >"$log" 2>&1 || rc=$?
		sed 's/^/    /' "$log"
		totals=$(grep '^# Totals:' "$log" | tail -n 1)
		if [ "$rc" -eq 0 ] && echo "$totals" |
			grep -q "pass:$passes fail:0 xfail:0 xpass:0 skip:$skips error:0"; then
			pass "$label: vfio_pci_igd_test ($totals)"
		elif [ "$rc" -ne 0 ]; then
			fail "$label: vfio_pci_igd_test: exit status $rc ($totals)"
		else
			echo "# want pass:$passes skip:$skips"
			fail "$label: vfio_pci_igd_test: not every test passed ($totals)"
		fi
		check "$label: unbind" unbind "$edu"
	fi
	check "$label: rmmod igd_fixture" rmmod igd_fixture
	check "$label: edu is back" ids_are "$edu" 0x1234 0x11e8 0x00ff00
}

run_mode v2.1-vbt regions 10 1 version=0x0201 vbt_size=4660
run_mode v2.1-vbt-gap regions 10 1 version=0x0201 vbt_size=3001 vbt_gap=12345
run_mode v2.0-vbt regions 10 1 version=0x0200 vbt_size=6007 vbt_gap=777
run_mode v2.0-no-rvds regions 10 1 version=0x0200 vbt_size=0
run_mode v1.0 regions 10 1 version=0x0100
run_mode no-asls none 3 8 no_asls=1
run_mode bad-sig einval 1 10 bad_sig=1

check "edu has its own IDs" ids_are "$edu" 0x1234 0x11e8 0x00ff00
check "edu binds to vfio-pci again" bind_vfio "$edu"
check "unbind edu" unbind "$edu"
dmesg >"$VM_OUT/igd-dmesg.txt"
finish
