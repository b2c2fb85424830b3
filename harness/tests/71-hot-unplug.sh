#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e
# vm-timeout: 600
#
# Fault scenario: surprise-free hot-unplug (QEMU device_del through the
# VM's own monitor, pciehp in the guest) of a device a user holds open,
# with BARs mapped, an IRQ wired and two threads busy on it.
#   1. The holder has a REQ eventfd: the kernel asks, the holder closes, the
#      device goes away (DEVICE_DELETED) and the holder saw the request.
#   2. The device is plugged back (device_add on the same root port) and
#      must come back, bind to vfio-pci and pass the sanity check.
#   3. The holder has no REQ eventfd: the removal waits for it (the
#      kernel task removing it blocks in vfio_unregister_group_dev while
#      the device is still there and the holder alive), and completes once
#      the holder is killed.
# After each: no stuck task (the runner's hung-task check), clean log.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_fault_test

declare -A ids=([edu]=1234:11e8 [e1000e]=8086:10d3)
declare -A drivers=([edu]=edu [e1000e]=e1000e)

vfio_lib_start

for name in edu e1000e; do
	read -r qid _ port < <(awk -v n="$name" '$2 == n' "$VM_OUT/.vm/devices")
	bind_named -q "$name" || continue
	dev=/sys/bus/pci/devices/$bdf

	# 1. Unplug with a cooperative holder.
	log=$VM_OUT/unplug-$name-req.log
	check "$name: holder (REQ, busy, IRQ) ready" \
		start_holder "$bdf" "$log" --req --busy --irq
	check "$name: device_del completes (DEVICE_DELETED)" \
		"$harness/qmp" --timeout 60 --event DEVICE_DELETED \
		device_del "{\"id\": \"$qid\"}"
	check "$name: device gone from sysfs" wait_path "$dev" gone 30
	check "$name: holder released on request" wait_line "$log" '^released on request' 10
	wait "$holder"
	check "$name: holder exited 0" test $? -eq 0

	# 2. Plug it back; it must work again.
	check "$name: device_add on $port" "$harness/qmp" device_add \
		"{\"driver\": \"${drivers[$name]}\", \"id\": \"$qid\", \"bus\": \"$port\"}"
	if ! wait_path "$dev" there 30; then
		fail "$name: device back in sysfs after device_add"
		continue
	fi
	pass "$name: device back in sysfs after device_add"
	echo vfio-pci >"$dev/driver_override"
	check "$name: rebinds to vfio-pci" bind_vfio "$bdf"
	check "$name: sanity after replug" device_sanity "$bdf"

	# 3. Unplug with a holder that ignores the kernel: removal waits.
	log=$VM_OUT/unplug-$name-noreq.log
	check "$name: holder (no REQ, busy) ready" start_holder "$bdf" "$log" --busy
	"$harness/qmp" --timeout 120 --event DEVICE_DELETED \
		device_del "{\"id\": \"$qid\"}" >"$VM_OUT/unplug-$name-qmp.log" 2>&1 &
	qmp=$!
	# The removal runs in a kernel worker (ACPI or native PCIe hotplug,
	# whichever QEMU offers); waiting for the user, it sits in vfio's
	# unregister.
	check "$name: removal waits in vfio while the user holds the device" \
		wait_in_kernel 60 vfio_unregister_group_dev
	check "$name: device still there while the removal waits" test -e "$dev"
	check "$name: holder still running" kill -0 "$holder"
	kill -9 "$holder"
	wait "$holder" 2>/dev/null
	check "$name: device gone once the holder is killed" wait_path "$dev" gone 60
	wait "$qmp"
	check "$name: DEVICE_DELETED after the kill" test $? -eq 0
done
check "rmmod vfio-pci" modprobe -r vfio-pci

finish
