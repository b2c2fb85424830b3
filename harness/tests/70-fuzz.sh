#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e,nvme,virtio-net,pci-testdev
# vm-distro: no (random operations: nothing to compare check by check)
# vm-timeout: 900
#
# uAPI fuzzing: vfio_pci_fuzz_test against each emulated device in turn,
# bounded in time (VFIO_FUZZ_SECONDS per device, default 15; seed from
# VFIO_FUZZ_SEED or the clock, printed either way so a failure can be
# replayed).  It must get through at least VFIO_FUZZ_MIN_OPS operations
# (default 20 a second of the budget; Debian's kernel under TCG does 400 or
# more, the debug kernel several times fewer): a fuzzer that barely ran
# proves nothing.  After each device: the fuzzer's own sanity check (reopen,
# GET_INFO, ids, BAR0, edu identification and liveness), the device must
# unbind and rebind cleanly, and the guest kernel log (checked by the
# runner) must stay clean.
#
# VFIO_TEST_DISTRO=1 runs it against the distro's modules.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_fuzz_test

devs=(edu e1000e nvme virtio-net pci-testdev)
declare -A ids=([edu]=1234:11e8 [e1000e]=8086:10d3 [nvme]=1b36:0010
	[virtio-net]=1af4:1041 [pci-testdev]=1b36:0005)
# BAR ranges the fuzzer never writes (vfio_pci_fuzz_test --no-write).
# QEMU 7.2's e1000e model asserts that its interrupt throttling timers
# fire in the interrupt mode that armed them: with ITR (0xc4) set and a
# legacy interrupt pending, enabling MSI-X aborted the whole VM (seen in
# a make check run, seed 1779608405), and the EITR timers (0xe8-0xfb)
# assert the reverse.  That tests QEMU, not vfio-pci.
declare -A no_write=([e1000e]=0:0xc4:4,0:0xe8:0x14)
seconds=${VFIO_FUZZ_SECONDS:-15}
min_ops=${VFIO_FUZZ_MIN_OPS:-$((seconds * 20))}

load_vfio_pci

for name in "${devs[@]}"; do
	bind_named -q "$name" || continue
	log=$VM_OUT/fuzz-$name.log
	# A run that does not end within a minute of its time budget is
	# stuck in the kernel: record where, then give up on this device.
	if ! run_watched $((seconds + 60)) "$log" env VFIO_SELFTESTS_BDF="$bdf" \
		VFIO_FUZZ_SECONDS="$seconds" \
		VFIO_FUZZ_NO_WRITE="${no_write[$name]:-}" \
		"$bins/vfio_pci_fuzz_test"; then
		fail "$name: fuzzer finished within $((seconds + 60)) s (deadlock? stacks in $log)"
		print_stacks "$log"
		# The stuck device takes its locks with it: stop here.
		break
	fi
	rc=$watched_rc
	# The summary lines, so the console shows seed and rate.
	grep -E '^# (fuzzing|no writes|[0-9]+ operations|results|sanity)|^(not )?ok|^FAIL' "$log"
	check "$name: fuzzer and sanity check pass (status $rc, log $log)" \
		test "$rc" -eq 0
	ops=$(sed -n 's/^# \([0-9]*\) operations in .*/\1/p' "$log")
	check "$name: at least $min_ops operations (${ops:-none reported})" \
		test "${ops:-0}" -ge "$min_ops"
	check "$name: unbinds after fuzzing" unbind "$bdf"
	check "$name: rebinds after fuzzing" bind_vfio "$bdf"
	check "$name: unbinds again" unbind "$bdf"
	echo >"/sys/bus/pci/devices/$bdf/driver_override" || :
done
check "rmmod vfio-pci" modprobe -r vfio-pci

finish
