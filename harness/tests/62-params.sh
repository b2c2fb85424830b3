#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e
#
# vfio-pci module parameters that decide which devices it takes:
#   - without ids=, modprobe vfio-pci binds nothing (driver_override only);
#   - ids=1234:11e8 binds edu at load time without driver_override; empty
#     and malformed entries are skipped; subvendor/subdevice and
#     class/class_mask narrow the match;
#   - the denylist: an e1000e made to report a denylisted ID (Intel QAT
#     DH895XCC, 8086:0435) by the pci-id-spoof test module is refused by
#     vfio-pci, and bound with disable_denylist=1;
#   - nointxmask and disable_idle_d3 are writable at run time (disable_vga
#     is not), and a new value applies where the documentation says: a
#     bound edu uses DisINTx or masks at the interrupt controller as
#     nointxmask says at its next open (vfio_pci_irq_test); a new
#     disable_idle_d3 leaves a bound e1000e as it is and applies from its
#     next bind.
# (disable_idle_d3 at load time is covered by 60-power.sh, enable_sriov by
# 61-sriov.sh.)
#
# VFIO_TEST_DISTRO=1 runs the same against the distro's modules:
#     harness/vm --devices edu,e1000e --modroot / -- \
#         env VFIO_TEST_DISTRO=1 harness/tests/62-params.sh
# The distro's vfio-pci hands its parameters to its core only at load time,
# so the effects of run-time changes differ there (harness/distro-differences).
# VFIO_PCI_ID_SPOOF_KO may name a prebuilt pci_id_spoof.ko; otherwise it is
# built here from harness/tests/pci-id-spoof (slow under TCG).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

[ -n "${VM_OUT:-}" ] || { echo "62-params: run inside a VM (harness/run-vm-tests)" >&2; exit 2; }

sys=/sys/bus/pci/devices

# load_vfio_pci ARGS...: a fresh vfio-pci with these parameters.
load_vfio_pci() {
	modprobe -r vfio-pci 2>/dev/null
	modprobe vfio-pci "$@"
}

bound_without_override() {
	local ovr
	read -r ovr <"$sys/$1/driver_override"
	[ "$(driver_of "$1")" = vfio-pci ] && [ "$ovr" = "(null)" ] && return 0
	echo "# $1: driver '$(driver_of "$1")', driver_override '$ovr'"
	return 1
}

unbound() {
	[ -z "$(driver_of "$1")" ] && return 0
	echo "# $1 is bound to $(driver_of "$1")"
	return 1
}

if ! edu=$(find_dev 1234:11e8) || ! nic=$(find_dev 8086:10d3); then
	fail "edu and e1000e are present"
	finish
fi
read -r subv <"$sys/$edu/subsystem_vendor"
read -r subd <"$sys/$edu/subsystem_device"
read -r class <"$sys/$edu/class"
subv=${subv#0x} subd=${subd#0x} class=${class#0x}
echo "# edu $edu: subsystem $subv:$subd class $class"

check "modprobe vfio-pci" load_vfio_pci
if [ "${VFIO_TEST_DISTRO:-0}" = 1 ]; then
	echo "# VFIO_TEST_DISTRO=1: testing the distro's modules"
else
	check "vfio-pci modules are our out-of-tree build" check_modules_ours
fi
check "without ids=, edu stays unbound" unbound "$edu"

check "modprobe vfio-pci ids=1234:11e8" load_vfio_pci ids=1234:11e8
check "edu bound to vfio-pci without driver_override" \
	bound_without_override "$edu"
check "e1000e not taken" unbound "$nic"
check "rmmod vfio-pci unbinds edu" sh -c "modprobe -r vfio-pci && [ ! -e $sys/$edu/driver ]"

check "ids=,zz,12:,1234:11e8 (junk skipped)" load_vfio_pci "ids=,zz,12:,1234:11e8"
check "edu bound despite the junk entries" bound_without_override "$edu"

check "ids= with another subvendor" load_vfio_pci "ids=1234:11e8:1234:0001"
check "edu not bound: subvendor differs" unbound "$edu"
check "ids= with edu's subsystem IDs" load_vfio_pci "ids=1234:11e8:$subv:$subd"
check "edu bound: subsystem matches" bound_without_override "$edu"

check "ids= with class 020000/ffffff" \
	load_vfio_pci "ids=1234:11e8:ffffffff:ffffffff:020000:ffffff"
check "edu not bound: class differs" unbound "$edu"
check "ids= with edu's class" \
	load_vfio_pci "ids=1234:11e8:ffffffff:ffffffff:$class:ffffff"
check "edu bound: class matches" bound_without_override "$edu"
check "several IDs: ids=8086:10d3,1234:11e8" \
	load_vfio_pci "ids=8086:10d3,1234:11e8"
check "edu bound" bound_without_override "$edu"
check "e1000e bound" bound_without_override "$nic"
check "rmmod vfio-pci" modprobe -r vfio-pci

# ---- parameters changed at run time ----
par=/sys/module/vfio_pci/parameters

mode_is() { # param mode
	local m
	m=$(stat -c %a "$par/$1")
	[ "$m" = "$2" ] && return 0
	echo "# $par/$1: mode $m, want $2"
	return 1
}

set_param() { # param value
	echo "$2" >"$par/$1"
}

# pm_stays BDF STATUS STATE: still so after a second of idling.
pm_stays() {
	sleep 1
	pm_is "$@" 1
}

# intx_round BDF NOINTXMASK LABEL: one INTx automask round of
# vfio_pci_irq_test, which checks how the device is masked.
intx_round() {
	local env=()
	[ "$2" = 1 ] && env=(VFIO_IRQ_EXPECT_NOINTXMASK=1)
	run_selftest vfio_pci_irq_test "$3" -t edu_intx_automask_unmask_ioctl \
		-- VFIO_SELFTESTS_BDF="$1" "${env[@]}"
}

need_selftests vfio_pci_irq_test
check "modprobe vfio-pci" load_vfio_pci
check "nointxmask is writable" mode_is nointxmask 644
check "disable_idle_d3 is writable" mode_is disable_idle_d3 644
check "disable_vga is read-only" mode_is disable_vga 444
check "write 1 to nointxmask" set_param nointxmask 1
check "nointxmask reads Y" grep -qx Y "$par/nointxmask"
check "write 1 to disable_idle_d3" set_param disable_idle_d3 1
check "disable_idle_d3 reads Y" grep -qx Y "$par/disable_idle_d3"
check "write junk to nointxmask fails" sh -c "! echo junk >$par/nointxmask"
check "nointxmask still reads Y" grep -qx Y "$par/nointxmask"

if check "edu bound with nointxmask=1" bind_vfio "$edu"; then
	intx_round "$edu" 1 "nointxmask=1: INTx masked at the controller"
	check "write 0 to nointxmask, edu still bound" set_param nointxmask 0
	intx_round "$edu" 0 "nointxmask=0 at the next open: DisINTx"
	check "unbind edu" unbind "$edu"
fi
echo >"$sys/$edu/driver_override"

if check "e1000e bound with disable_idle_d3=1" bind_vfio "$nic"; then
	check "idle e1000e stays in D0" pm_stays "$nic" active D0
	check "write 0 to disable_idle_d3" set_param disable_idle_d3 0
	check "bound e1000e keeps D0" pm_stays "$nic" active D0
	check "unbind e1000e" unbind "$nic"
	check "e1000e bound again" bind_vfio "$nic"
	check "idle e1000e now suspends to D3hot" \
		pm_is "$nic" suspended D3hot
	check "unbind e1000e" unbind "$nic"
fi
echo >"$sys/$nic/driver_override"
set_param nointxmask 0
set_param disable_idle_d3 0
check "rmmod vfio-pci" modprobe -r vfio-pci

# ---- the denylist ----
ko=${VFIO_PCI_ID_SPOOF_KO:-}
if [ -z "$ko" ]; then
	kbuild=/usr/src/linux-headers-$(uname -r)
	work=$(mktemp -d)
	cp "$harness/tests/pci-id-spoof/"* "$work/"
	if make -s -C "$kbuild" M="$work" modules >"$VM_OUT/pci-id-spoof-build.log" 2>&1; then
		ko=$work/pci_id_spoof.ko
	fi
fi
if [ -z "$ko" ] || [ ! -f "$ko" ]; then
	fail "pci_id_spoof.ko built (see pci-id-spoof-build.log)"
	finish
fi

check "e1000e reports 8086:0435 (pci_id_spoof)" insmod "$ko" bdf="$nic" device=0x0435
check "device ID is now 0x0435" grep -qx 0x0435 "$sys/$nic/device"
check "modprobe vfio-pci" load_vfio_pci
if bind_vfio "$nic" 2>/dev/null; then
	fail "vfio-pci refuses a denylisted device"
else
	pass "vfio-pci refuses a denylisted device"
fi
check "... which stays unbound" unbound "$nic"
check "modprobe vfio-pci disable_denylist=1" load_vfio_pci disable_denylist=1
check "disable_denylist=1 binds the denylisted device" bind_vfio "$nic"
check "unbind e1000e" unbind "$nic"
echo >"$sys/$nic/driver_override"
check "rmmod vfio-pci" modprobe -r vfio-pci
check "rmmod pci_id_spoof" rmmod pci_id_spoof
check "device ID back to 0x10d3" grep -qx 0x10d3 "$sys/$nic/device"
finish
