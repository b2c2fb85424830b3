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
# here.  A run that has not finished a minute after its time budget is
# stuck: the kernel stacks of its threads and the blocked-task list go into
# the log.  Afterwards the device must pass the sanity check.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=../guest-lib.sh
. "$harness/guest-lib.sh"

if [ -z "${VM_OUT:-}" ]; then
	echo "73-reset-fault-race: run inside a VM: harness/run-vm-tests $0" >&2
	exit 2
fi
bins=${VFIO_SELFTESTS_DIR:-$harness/../build/selftests}
prog=$bins/vfio_pci_fault_test
[ -x "$prog" ] || "$harness/build-selftests.sh" "$bins"
seconds=${VFIO_RACE_SECONDS:-10}

declare -A ids=([edu]=1234:11e8 [e1000e]=8086:10d3 [nvme]=1b36:0010)

# Wait up to SECS for PID; if it is still there, append the kernel stacks
# of its threads and the blocked-task list to LOG and return 1.
wait_or_dump() { # pid secs log
	local i task
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	{
		echo "=== still running after $2 s; kernel stacks:"
		for task in /proc/"$1"/task/*; do
			echo "--- task ${task##*/} ($(cat "$task/wchan" 2>/dev/null))"
			cat "$task/stack" 2>/dev/null
		done
	} >>"$3"
	echo w >/proc/sysrq-trigger 2>/dev/null
	kill -9 "$1" 2>/dev/null
	return 1
}

check "modprobe vfio-pci" modprobe vfio-pci
[ "${VFIO_TEST_DISTRO:-0}" = 1 ] || check "vfio-pci modules are our build" check_modules_ours

for name in edu e1000e nvme; do
	if ! bdf=$(find_dev "${ids[$name]}") || ! bind_vfio "$bdf"; then
		fail "$name present and bound to vfio-pci"
		continue
	fi
	log=$VM_OUT/reset-race-$name.log
	VFIO_SELFTESTS_BDF=$bdf "$prog" reset-race "$seconds" >"$log" 2>&1 &
	pid=$!
	if ! wait_or_dump "$pid" $((seconds + 60)) "$log"; then
		fail "$name: reset/fault race finishes (deadlock? stacks in $log)"
		grep -E '^(---|\[<)' "$log" | head -n 40
		# The device cannot be used again; the rest would only hang too.
		break
	fi
	wait "$pid"
	rc=$?
	grep -E '^#|^(not )?ok' "$log"
	check "$name: reset/fault race and sanity pass (status $rc)" test "$rc" -eq 0
	check "$name: unbinds" unbind "$bdf"
	echo >"/sys/bus/pci/devices/$bdf/driver_override"
done

finish
