#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e,nvme,virtio-net,pci-testdev
# vm-timeout: 900
#
# uAPI fuzzing: vfio_pci_fuzz_test against each emulated device in turn,
# bounded in time (VFIO_FUZZ_SECONDS per device, default 15; seed from
# VFIO_FUZZ_SEED or the clock, printed either way so a failure can be
# replayed).  After each device: the fuzzer's own sanity check (reopen,
# GET_INFO, ids, BAR0, edu identification and liveness), the device must
# unbind and rebind cleanly, and the guest kernel log (checked by the
# runner) must stay clean.
#
# VFIO_TEST_DISTRO=1 runs it against the distro's modules.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=../guest-lib.sh
. "$harness/guest-lib.sh"

if [ -z "${VM_OUT:-}" ]; then
	echo "70-fuzz: run inside a VM: harness/run-vm-tests $0" >&2
	exit 2
fi
bins=${VFIO_SELFTESTS_DIR:-$harness/../build/selftests}
if [ ! -x "$bins/vfio_pci_fuzz_test" ]; then
	echo "# $bins lacks vfio_pci_fuzz_test: building the selftests in the guest"
	check "harness/build-selftests.sh builds the tests" \
		"$harness/build-selftests.sh" "$bins"
fi

devs=(edu e1000e nvme virtio-net pci-testdev)
declare -A ids=([edu]=1234:11e8 [e1000e]=8086:10d3 [nvme]=1b36:0010
	[virtio-net]=1af4:1041 [pci-testdev]=1b36:0005)
seconds=${VFIO_FUZZ_SECONDS:-15}

# Wait up to SECS for PID; if it is still there, append the kernel stacks
# of all its threads and the blocked-task list to LOG and return 1.
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
	dmesg | tail -n 200 >>"$3"
	kill -9 "$1" 2>/dev/null
	return 1
}

load_vfio_pci

for name in "${devs[@]}"; do
	if ! bdf=$(find_dev "${ids[$name]}"); then
		fail "$name (${ids[$name]}) is present"
		continue
	fi
	if ! bind_vfio "$bdf"; then
		fail "$name ($bdf) bound to vfio-pci"
		continue
	fi
	log=$VM_OUT/fuzz-$name.log
	VFIO_SELFTESTS_BDF=$bdf VFIO_FUZZ_SECONDS=$seconds \
		"$bins/vfio_pci_fuzz_test" >"$log" 2>&1 &
	pid=$!
	# A run that does not end within a minute of its time budget is
	# stuck in the kernel: record where, then give up on this device.
	if ! wait_or_dump "$pid" $((seconds + 60)) "$log"; then
		fail "$name: fuzzer finished within $((seconds + 60)) s (deadlock? stacks in $log)"
		grep -E '^(---|\[<)' "$log" | head -n 40
		# The stuck device takes its locks with it: stop here.
		break
	fi
	wait "$pid"
	rc=$?
	# The summary lines, so the console shows seed and rate.
	grep -E '^# (fuzzing|[0-9]+ operations|results|sanity)|^(not )?ok|^FAIL' "$log"
	check "$name: fuzzer and sanity check pass (status $rc, log $log)" \
		test "$rc" -eq 0
	check "$name: unbinds after fuzzing" unbind "$bdf"
	check "$name: rebinds after fuzzing" bind_vfio "$bdf"
	check "$name: unbinds again" unbind "$bdf"
	echo >"/sys/bus/pci/devices/$bdf/driver_override" || :
done
check "rmmod vfio-pci" modprobe -r vfio-pci

finish
