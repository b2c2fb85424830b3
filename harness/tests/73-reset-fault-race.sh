#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e,nvme
# vm-timeout: 600
#
# Fault scenario: VFIO_DEVICE_RESET in a loop while three threads keep
# faulting BAR pages in through mmap (each reset zaps the mappings, each
# touch faults them back, or gets SIGBUS while memory decode is off).  The
# reset path and the fault path share locks (the memory lock, the PCI
# config access lock, mmap_lock); a wrong order between them deadlocks
# here.  At least ten resets must zap pages faulted back in since the
# reset before (the program runs on for up to the budget again to get
# them), and every device must be resettable and mappable: a skip (status
# 4) fails.  A run that has not finished a minute after twice its time
# budget is stuck: the kernel stacks of its threads and the blocked-task
# list go into the log.  Afterwards the device must pass the sanity check.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_fault_test
seconds=${VFIO_RACE_SECONDS:-10}

declare -A ids=([edu]=1234:11e8 [e1000e]=8086:10d3 [nvme]=1b36:0010)

vfio_lib_start

for name in edu e1000e nvme; do
	bind_named -q "$name" || continue
	log=$VM_OUT/reset-race-$name.log
	if ! run_watched $((2 * seconds + 60)) "$log" env VFIO_SELFTESTS_BDF="$bdf" \
		"$bins/vfio_pci_fault_test" reset-race "$seconds"; then
		fail "$name: reset/fault race finishes (deadlock? stacks in $log)"
		print_stacks "$log"
		# The device cannot be used again; the rest would only hang too.
		break
	fi
	rc=$watched_rc
	grep -E '^#|^(not )?ok' "$log"
	check "$name: reset/fault race and sanity pass (status $rc)" test "$rc" -eq 0
	check "$name: unbinds" unbind "$bdf"
	echo >"/sys/bus/pci/devices/$bdf/driver_override"
done

finish
