#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: nvme-sriov
# vm-timeout: 1800
# vm-distro: no (Debian's kernel has no mlx5-vfio-pci)
#
# VFIO DMA logging of mlx5-vfio-pci through the PF's page tracker, on the
# test-only model of mlx5_core (as 81-mlx5-migration), whose VF "writes"
# memory by DMA when told to through debugfs (vfN/dma_write):
#   - on a kernel that cannot fill a dirty bitmap (no CONFIG_IOMMUFD_DRIVER:
#     Debian's, whose iova_bitmap helpers are empty stubs) the driver must
#     not offer DMA logging: the three features answer ENOTTY.  That is
#     all this test can check there, and it says so;
#   - where the kernel can (the debug kernel), vfio_pci_dirty_test: a
#     report after known writes names exactly the written pages inside
#     the tracked ranges, over 100000 of them across dozens of messages;
#     partial reports at coarser granules; more ranges than the tracker
#     takes (merged); the tracking page sizes; refused requests with their
#     errnos; tracker errors at once and in mid-report (EIO, then a new
#     start works); a reset keeps the log; stop/start against a thread in
#     mid-report;
#   - a user killed while logging and the PF disabling the VF while a
#     user logs: the model's PF holds no queue, tracker or buffer after;
#   - firmware without a page tracker: not offered either.
# VFIO_MLX5_MODEL_KO names the model (make test-modules).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"
# shellcheck source=lib/mlx5-model-lib.sh
. "$harness/tests/lib/mlx5-model-lib.sh"

require_vm
need_selftests vfio_pci_dirty_test

drv=mlx5_vfio_pci
prog=$bins/vfio_pci_dirty_test
max_ranges=4
mlx5_model_start

# The model's PF holds none of what a tracker uses.
nothing_held() {
	local bad
	bad=$(awk '$1 != "mkeys" && $1 != "pds" && $2 != 0' "$dbg/resources")
	[ -z "$bad" ] && return 0
	echo "# resources:"
	sed 's/^/#   /' "$dbg/resources"
	return 1
}

setup() { # [MODEL-PARAM...]: one VF, $vf0
	mlx5_model_up 1 "$@"
}

teardown() {
	if [ -e "$sys/$pf/virtfn0" ]; then
		unbind "$vf0"
		check "sriov_numvfs=0" sh -c "echo 0 >$sys/$pf/sriov_numvfs"
	fi
	check "unbind the PF from the model" unbind "$pf"
	echo >"$sys/$pf/driver_override"
	check "rmmod $drv" modprobe -r "$drv"
	check "rmmod the model" \
		sh -c "! test -d /sys/module/mlx5_core || rmmod mlx5_core"
	check "rmmod vfio-pci-core" \
		sh -c "! test -d /sys/module/vfio_pci_core || modprobe -r vfio-pci-core"
}

dirty() { # LABEL TEST [VAR=VALUE...]
	local label=$1 t=$2
	shift 2
	run_selftest --timeout 900 vfio_pci_dirty_test "$label" -t "$t" -- \
		VFIO_SELFTESTS_BDF="$vf0" VFIO_DIRTY_WRITE="$dbg/vf0/dma_write" \
		VFIO_DIRTY_INJECT="$dbg/inject" \
		VFIO_DIRTY_MAX_RANGES="$max_ranges" "$@"
}

# A kernel built with IOMMUFD_DRIVER has the real iova_bitmap_set().
if ! grep -qw iova_bitmap_set /proc/kallsyms; then
	echo "# this kernel has no CONFIG_IOMMUFD_DRIVER: DMA logging must not"
	echo "# be offered, and only that is checked here (the debug kernel"
	echo "# of make check-debug runs the rest)"
	setup
	dirty "no IOMMUFD_DRIVER: DMA logging not offered" probe \
		VFIO_DIRTY_EXPECT=none
	teardown
	finish
fi

setup track_max_ranges=$max_ranges
dirty "DMA logging offered" probe
dirty "known writes reported exactly, then cleared" exact
dirty "over 100000 dirty pages in dozens of messages" many_pages
dirty "partial reports at coarser granules" partial_reports
dirty "more ranges than the tracker takes" merged_ranges
dirty "tracking page sizes" page_sizes
dirty "refused requests, each with its errno" refused
dirty "tracker errors: at once and in mid-report" tracker_errors
dirty "a reset keeps the log" reset_keeps_log
dirty "stop and start against reports in flight" stop_while_reporting
check "no tracker, queue or buffer left after the cases" nothing_held

fifodir=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d -p /run) ||
	fifodir=$(mktemp -d)
hold() { # LOG FD: a holder logging on VF0, waiting for a line on FD
	local fifo=$fifodir/hold-$2
	rm -f "$fifo"
	mkfifo "$fifo" || return 1
	VFIO_SELFTESTS_BDF=$vf0 VFIO_DIRTY_WRITE=$dbg/vf0/dma_write \
		"$prog" hold <"$fifo" >"$1" 2>&1 &
	held=$!
	eval "exec $2>\"\$fifo\""
	wait_line "$1" '^ready' 60
}

if hold "$VM_OUT/hold-kill.log" 7; then
	pass "a user logging on the VF"
	kill -9 "$held"
	check "the killed user is gone" wait_gone "$held" 60
	exec 7>&-
	sleep 1
	check "nothing left after the killed user" nothing_held
else
	fail "a user logging on the VF"
	sed 's/^/#   /' "$VM_OUT/hold-kill.log"
	kill "$held" 2>/dev/null
	exec 7>&-
fi

if hold "$VM_OUT/hold-numvfs.log" 7; then
	pass "a user logging on the VF, before sriov_numvfs=0"
	(echo 0 >"$sys/$pf/sriov_numvfs") 2>"$VM_OUT/numvfs.err" &
	numvfs=$!
	check "sriov_numvfs=0 waits for the user" \
		wait_in_kernel 60 vfio_unregister_group_dev "$numvfs"
	check "the tracker went with the VF" nothing_held
	echo go >&7
	exec 7>&-
	check "the user finishes" wait_gone "$held" 60
	sed 's/^/#   /' "$VM_OUT/hold-numvfs.log"
	check "its report fails with ENODEV (19)" \
		grep -qx "report 19" "$VM_OUT/hold-numvfs.log"
	check "its stop succeeds" grep -qx "stop 0" "$VM_OUT/hold-numvfs.log"
	check "sriov_numvfs=0 completes" wait_gone "$numvfs" 60
else
	fail "a user logging on the VF, before sriov_numvfs=0"
	sed 's/^/#   /' "$VM_OUT/hold-numvfs.log"
	kill "$held" 2>/dev/null
	exec 7>&-
fi
teardown

setup tracking_caps=0
dirty "firmware without a page tracker: not offered" probe \
	VFIO_DIRTY_EXPECT=none
teardown
finish
