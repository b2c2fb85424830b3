#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: nvme-sriov
# vm-timeout: 1800
# vm-distro: no (Debian's kernel has no mlx5-vfio-pci)
#
# VFIO migration v2 of mlx5-vfio-pci end to end, on the test-only model of
# mlx5_core (tools/testing/selftests/vfio/mlx5_core_model) bound to QEMU's
# nvme SR-IOV PF, whose two VFs report 15b3:101e:
#   - the model loads as mlx5_core, the PF binds to it, sriov_numvfs=2,
#     and both VFs bind to mlx5_vfio_pci (modprobe'd, driver_override);
#   - vfio_pci_mig_test, VF0 the source and VF1 the target, one case at a
#     time: the migration flags, QEMU's pre-copy sequence with the stream
#     written to the target in several segmentations, stop-copy alone,
#     the temporary end of a pre-copy (ENOMSG) and a change after it,
#     every (from, to) request, the data fd rules, a data fd closed in
#     mid-save, two readers on one fd, unknown optional and mandatory
#     records, cut streams, resets in mid-session; after every load the
#     model's digest of the target's state must equal the source's, taken
#     when the source stopped after its save;
#   - firmware faults through the model's debugfs inject: failed and
#     never-answered commands, corrupt and short images; each shows as a
#     clean errno, the device is in ERROR where the arc failed, and
#     VFIO_DEVICE_RESET recovers it;
#   - a reset through sysfs while a save is held open, a user killed in
#     mid-save, and sriov_numvfs=0 while both VFs are held mid-migration:
#     nothing hangs, the held fds fail cleanly, the VFs go away, and the
#     model's PF holds no mkey after;
#   - the same protocol cases (fewer of them) again with the firmware
#     saving in chunks, and with firmware without dirty tracking and
#     multi-load, whose VFs offer no PRE_COPY;
#   - unbind and unload everything (harness/vm checks the kernel log).
# VFIO_MLX5_MODEL_KO names the model (make test-modules).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"
# shellcheck source=lib/mlx5-model-lib.sh
. "$harness/tests/lib/mlx5-model-lib.sh"

require_vm
need_selftests vfio_pci_mig_test

drv=mlx5_vfio_pci
prog=$bins/vfio_pci_mig_test
hooklog=$VM_OUT/mig-hook.log
mlx5_model_start

mig_has() { # N LINE: the model's vf<N>/migration shows LINE
	grep -qx "$2" "$dbg/vf$1/migration" && return 0
	echo "# vf$1/migration:"
	sed 's/^/#   /' "$dbg/vf$1/migration"
	return 1
}

mkeys_are() { # N
	grep -qx "mkeys $1" "$dbg/resources" && return 0
	echo "# resources: $(cat "$dbg/resources")"
	return 1
}

# The hook vfio_pci_mig_test runs (VFIO_MIG_HOOK): logs the model's digest
# of the source when it has saved and of the target when it has loaded,
# and arms ($MIG_FAULT) and clears the model's fault injection.
hook=$VM_OUT/mig-hook.sh
cat >"$hook" <<-EOF
	#!/bin/bash
	case \$1 in
	source-saved) echo "saved \$2 \$(cat $dbg/vf0/state)" >>$hooklog ;;
	target-loaded) echo "loaded \$2 \$(cat $dbg/vf1/state)" >>$hooklog ;;
	precopy-idle) echo 3 >$dbg/vf0/state ;;
	fault-arm) echo "\$MIG_FAULT" >$dbg/inject ;;
	fault-disarm) echo clear >$dbg/inject ;;
	esac
EOF
chmod +x "$hook"

# Every load since the last call: the target's digest equals the one the
# source had at its last save.
digests_match() {
	local what label state want='' n=0 bad=0
	[ -f "$hooklog" ] || { echo "# no hook log"; return 1; }
	while read -r what label state; do
		case $what in
		saved) want=$state ;;
		loaded)
			n=$((n + 1))
			if [ "$state" != "$want" ]; then
				echo "# $label: target '$state', source '$want'"
				bad=$((bad + 1))
			fi ;;
		esac
	done <"$hooklog"
	mv "$hooklog" "$hooklog.$(date +%s%N)"
	echo "# $n loads compared, $bad differ"
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

mig() { # LABEL TEST [VAR=VALUE...]: one case of vfio_pci_mig_test
	local label=$1 t=$2
	shift 2
	run_selftest --timeout 900 vfio_pci_mig_test "$label" -t "$t" -- \
		VFIO_SELFTESTS_BDF="$vf0" VFIO_MIG_TARGET_BDF="$vf1" \
		VFIO_MIG_HOOK="$hook" "$@"
}

# ---- setup: the model, its PF, two VFs under mlx5_vfio_pci ----
# setup [MODEL-PARAM...]: VF0 the source, VF1 the target.
setup() {
	mlx5_model_up 2 "$@"
}

# teardown: VFs, PF and modules gone.
teardown() {
	if [ -e "$sys/$pf/virtfn0" ]; then
		unbind "$vf0"
		unbind "$vf1"
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

setup

# ---- the protocol ----
mig "migration flags: stop_copy, p2p, pre_copy" probe
mig "pre-copy migration, five write segmentations" migrate \
	VFIO_MIG_SEGMENTS=whole,1,odd,page,4097
check "target state equals source state after every load" digests_match
mig "stop-copy migration" migrate_stop_copy
check "stop-copy: target state equals source state" digests_match
# The model's VFs change a page every dirty_interval_ms while running:
# held still, a pre-copy reaches its temporary end, and the hook's page
# write must come out of it as dirty data.
params=/sys/module/mlx5_core/parameters
interval=$(cat "$params/dirty_interval_ms")
echo 0 >"$params/dirty_interval_ms"
mig "pre-copy: temporary end (ENOMSG), then dirty data" precopy_end
echo "$interval" >"$params/dirty_interval_ms"
mig "every request from every state" state_pairs
mig "data fd rules" data_fd_rules
mig "data fd closed in mid-save" close_mid_save
mig "two readers on one fd" concurrent_readers
mig "unknown optional records are skipped" optional_record
mig "an unknown mandatory record is refused" mandatory_record
mig "cut streams are refused" truncated
check "loads after edits and refusals: target equals source" digests_match
mig "VFIO_DEVICE_RESET in mid-session" reset_mid_session
check "no mkey left after the protocol cases" mkeys_are "$mkeys0"

# ---- firmware faults ----
# fault LABEL INJECT FROM TO ERRNOS EXPECT_ERROR
fault() {
	mig "fault: $1" fault_arc MIG_FAULT="$2" VFIO_MIG_FAULT_FROM="$3" \
		VFIO_MIG_FAULT_TO="$4" VFIO_MIG_FAULT_ERRNOS="$5" \
		VFIO_MIG_FAULT_EXPECT_ERROR="$6"
	check "fault: $1: injection cleared" \
		sh -c "[ -z \"\$(cat $dbg/inject)\" ]"
}
fault "SUSPEND fails (running -> stop)" "fail 0x115 0x4" running stop EIO 1
fault "RESUME fails (stop -> running)" "fail 0x116 0x4" stop running EIO 1
fault "QUERY fails (running -> pre_copy)" "fail 0x117 0x4" \
	running pre_copy EIO ""
fault "SAVE fails (stop -> stop_copy)" "fail 0x118 0x4" stop stop_copy EIO ""
fault "LOAD fails (resuming -> stop)" "fail 0x119 0x4" resuming stop EIO 1
fault "SUSPEND never answered" "hang 0x115" running stop ETIMEDOUT 1
fault "SAVE never answered" "hang 0x118" stop stop_copy ETIMEDOUT ""
fault "LOAD never answered" "hang 0x119" resuming stop ETIMEDOUT 1
fault "corrupt image" corrupt resuming stop "" 1
fault "image one byte short" truncate resuming stop "" 1
check "no mkey left after the faults" mkeys_are "$mkeys0"
mig "a clean migration after the faults" migrate_stop_copy
check "after the faults: target equals source" digests_match

# ---- pulling the device away from a migration ----
# hold BDF STATE BYTES LOG FD: vfio_pci_mig_test hold, its stdin a fifo
# that this shell holds open for writing on FD (7 or 8); its pid in $held.
# A line written to FD (or closing FD) lets it go on.
hold() {
	local fifo=$fifodir/hold-$5
	rm -f "$fifo"
	mkfifo "$fifo" || return 1
	VFIO_SELFTESTS_BDF=$1 "$prog" hold "$2" "$3" <"$fifo" >"$4" 2>&1 &
	held=$!
	eval "exec $5>\"\$fifo\""
	wait_line "$4" '^ready' 60
}

show() { sed 's/^/#   /' "$1"; }

# Fifos cannot live on the 9p share $VM_OUT is on.
fifodir=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d -p /run) ||
	fifodir=$(mktemp -d)

# A reset through sysfs while the source is held in STOP_COPY.
if hold "$vf0" stop_copy 4096 "$VM_OUT/hold-reset.log" 7; then
	pass "source held in STOP_COPY"
	check "reset of the source through sysfs" \
		sh -c "echo 1 >$sys/$vf0/reset"
	echo go >&7
	exec 7>&-
	check "the holder finishes" wait_gone "$held" 60
	show "$VM_OUT/hold-reset.log"
	check "after the reset the state is RUNNING" \
		grep -qx '# state: running' "$VM_OUT/hold-reset.log"
	check "the save fd fails after the reset" \
		grep -qE '^# data fd read: -1 E' "$VM_OUT/hold-reset.log"
else
	fail "source held in STOP_COPY"
	show "$VM_OUT/hold-reset.log"
	kill "$held" 2>/dev/null
	exec 7>&-
fi

# A reset while an arc holds the state lock: SUSPEND is left unanswered
# (the model times it out after cmd_timeout_ms), and the source is reset
# through sysfs meanwhile.  The PCI core calls reset_done with the device
# lock held, so the driver must not wait for the arc: the reset returns
# while the arc still hangs, and whoever releases the state lock applies
# it, so the failed arc leaves RUNNING rather than ERROR.
timeout_ms=$(cat "$params/cmd_timeout_ms")
echo 6000 >"$params/cmd_timeout_ms"
echo "hang 0x115" >"$dbg/inject"
VFIO_SELFTESTS_BDF=$vf0 "$prog" hold stop </dev/null \
	>"$VM_OUT/hold-arc-reset.log" 2>&1 &
held=$!
sleep 1
check "reset of the source through sysfs during a hanging arc" \
	sh -c "echo 1 >$sys/$vf0/reset"
check "the reset returned while the arc still hung" \
	sh -c "! grep -q 'failed:' $VM_OUT/hold-arc-reset.log"
check "the arc's holder finishes" wait_gone "$held" 60
show "$VM_OUT/hold-arc-reset.log"
check "the arc failed with ETIMEDOUT" \
	grep -q 'running -> stop failed: ETIMEDOUT' "$VM_OUT/hold-arc-reset.log"
check "the deferred reset left the device RUNNING" \
	grep -qx '# state after the failed arc: running' \
	"$VM_OUT/hold-arc-reset.log"
echo clear >"$dbg/inject"
echo "$timeout_ms" >"$params/cmd_timeout_ms"

# A user killed in mid-save (PRE_COPY, part of the stream read).
if hold "$vf0" pre_copy 8192 "$VM_OUT/hold-kill.log" 7; then
	pass "source held in PRE_COPY"
	kill -9 "$held"
	check "the killed holder is gone" wait_gone "$held" 60
	exec 7>&-
	sleep 1
	check "the VHCA runs again after the close" mig_has 0 "state running"
	check "dirty tracking is off after the close" mig_has 0 "tracking off"
	check "no mkey left after the close" mkeys_are "$mkeys0"
	mig "a migration after the killed user" migrate_stop_copy
	check "after the kill: target equals source" digests_match
else
	fail "source held in PRE_COPY"
	show "$VM_OUT/hold-kill.log"
	kill "$held" 2>/dev/null
	exec 7>&-
fi

# sriov_numvfs=0 with the source held in STOP_COPY and the target in
# RESUMING: the PF tells the variant first, the VF removal then waits for
# the users, who find their fds and the state machine gone, and close.
src_ok=0 dst_ok=0
hold "$vf0" stop_copy 4096 "$VM_OUT/hold-src.log" 7 && src_ok=1
src_pid=$held
hold "$vf1" resuming 0 "$VM_OUT/hold-dst.log" 8 && dst_ok=1
dst_pid=$held
check "source held in STOP_COPY, target in RESUMING" \
	test "$src_ok$dst_ok" = 11
(echo 0 >"$sys/$pf/sriov_numvfs") 2>"$VM_OUT/numvfs.err" &
numvfs=$!
# The removal waits in vfio for the users to close their devices.
check "sriov_numvfs=0 waits for the users" \
	wait_in_kernel 60 vfio_unregister_group_dev "$numvfs"
echo go >&7
echo go >&8
exec 7>&- 8>&-
check "the source's holder finishes" wait_gone "$src_pid" 60
check "the target's holder finishes" wait_gone "$dst_pid" 60
show "$VM_OUT/hold-src.log"
show "$VM_OUT/hold-dst.log"
check "the source's save fd fails after the PF took the VF" \
	grep -qE '^# data fd read: -1 E' "$VM_OUT/hold-src.log"
check "the target's resume fd fails after the PF took the VF" \
	grep -qE '^# data fd write: -1 E' "$VM_OUT/hold-dst.log"
check "the source's state machine answers ENODEV" \
	grep -qx '# -> running: ENODEV' "$VM_OUT/hold-src.log"
if dump_stuck "$numvfs" 60 "$VM_OUT/numvfs.err"; then
	pass "sriov_numvfs=0 completes once the users closed"
else
	fail "sriov_numvfs=0 completes once the users closed"
	print_stacks "$VM_OUT/numvfs.err"
fi
check "the VFs are gone" test ! -e "$sys/$pf/virtfn0"
check "the model dropped the VFs" test ! -e "$dbg/vf0"
check "the PF holds no mkey" mkeys_are 0

rm -rf "$fifodir"

teardown

# ---- the firmware saving in chunks ----
# A bounded chunk size makes every whole image several SAVEs.
setup migration_in_chunks=1 chunk_size=65536
mig "chunks: flags" probe
mig "chunks: pre-copy migration" migrate VFIO_MIG_SEGMENTS=whole,odd
mig "chunks: stop-copy migration" migrate_stop_copy
mig "chunks: data fd closed in mid-save" close_mid_save
mig "chunks: two readers on one fd" concurrent_readers
mig "chunks: cut streams are refused" truncated
mig "chunks: VFIO_DEVICE_RESET in mid-session" reset_mid_session
fault "chunks: SAVE fails" "fail 0x118 0x4" stop stop_copy EIO ""
mig "chunks: a clean migration after the fault" migrate_stop_copy
check "chunks: target equals source after every load" digests_match
check "chunks: no mkey left" mkeys_are "$mkeys0"
teardown

# ---- firmware without tracking and multi-load: no PRE_COPY ----
setup migration_tracking_state=0 migration_multi_load=0
mig "no tracking: flags stop_copy, p2p" probe \
	VFIO_MIG_EXPECT_FLAGS=stop_copy,p2p
mig "no tracking: stop-copy migration" migrate_stop_copy
mig "no tracking: every request from every state" state_pairs
mig "no tracking: two readers on one fd" concurrent_readers
mig "no tracking: unknown optional records are skipped" optional_record
mig "no tracking: cut streams are refused" truncated
check "no tracking: target equals source after every load" digests_match
teardown
finish
