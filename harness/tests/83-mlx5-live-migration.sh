#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: nvme-sriov
# vm-mem: 2048
# vm-timeout: 1200
# vm-distro: no (Debian's kernel has no mlx5-vfio-pci)
#
# QEMU 10 live-migrates a guest with an mlx5 VF from one QEMU to another,
# both in this VM, on the test-only model of mlx5_core (as 81: the model on
# QEMU's nvme SR-IOV PF, whose two VFs report 15b3:101e and are bound to
# mlx5_vfio_pci).  Debian 12's QEMU 7.2 has no VFIO migration v2, so QEMU
# comes from the Debian 13 root (harness/trixie-root.sh, $VFIO_TRIXIE_ROOT),
# run chrooted in a private mount namespace.  The guest is firmware of our
# own (harness/guest-fw/counter.s): it counts, dirties RAM pages as it
# goes, and reports the count on isa-debugcon.
#   - VF0 goes to the source QEMU, VF1 to a destination started with
#     -incoming defer; migration over a unix socket, pre-copy with the
#     VF's own pre-copy data; QEMU's figures (total time, downtime, setup
#     time, RAM) land in $VM_OUT/migrate-*.json and a summary line;
#   - the VF writes a page of guest RAM by DMA (the model's vfN/dma_write
#     with a byte: it really writes the memory behind the IOVA), once
#     before the migration and again once pre-copy has sent all of RAM
#     (held there by a low max-bandwidth and a 1 ms downtime limit).
#     No CPU of the guest wrote it: the destination has the second value
#     only if the dirty page tracking QEMU uses saw the VF's write.  On a
#     kernel with IOMMUFD_DRIVER (the debug kernel) the VF offers DMA
#     logging and QEMU uses it: the VF's tracker on the PF runs during
#     pre-copy and QEMU does not warn; logging ends when the source's
#     guest runs on after a failed or cancelled migration, and only with
#     the source QEMU's close after a completed one (QEMU postpones the
#     stop until the guest runs, which it never does there).  Elsewhere
#     (Debian's kernel) QEMU warns that there is no device dirty
#     tracking, falls back to the type1 container's, and no tracker runs;
#   - after it: the source is postmigrate, the destination was paused
#     (-S) with VF1 holding exactly the state VF0 had when the source
#     stopped (the model's digests; a running VF changes its state every
#     dirty_interval_ms, a stopped one does not), then runs on, and the
#     guest's counter there goes on from the source's, not from zero;
#   - the target's LOAD fails (the model's fault injection): the migration
#     fails, the source guest keeps running, the destination (started
#     with exit-on-error off) stays up, reports the failed load, and
#     quits cleanly; a migration to a fresh destination on the same VF
#     then succeeds;
#   - a migration cancelled in mid pre-copy (held there by a tiny
#     max-bandwidth): the source keeps running, the destination reports
#     its cut stream and quits cleanly, a retry succeeds;
#   - the QEMUs quit, the VFs are still bound and work, no mkey is left,
#     and everything unbinds and unloads (harness/vm checks the log).
#
# What QEMU 10 needs, and why the parameters below:
#   - enable-migration=on on the vfio-pci device.  On Debian's kernel
#     the VF offers no device dirty tracking (mlx5-vfio-pci offers DMA
#     logging only where the kernel has IOMMUFD_DRIVER) and there is no
#     IOMMUFD dirty tracking, so with the default (auto) QEMU adds a
#     migration blocker; with "on" it only warns ("VFIO device doesn't
#     support device and IOMMU dirty tracking") and tracks guest RAM
#     through the type1 container, which reports every mapped page dirty
#     at every sync;
#   - so there every pre-copy round sends all 64 MiB of guest RAM again, and
#     under QEMU's default 300 ms downtime limit it never ends: tried
#     here, after 400 s and 1611 rounds QEMU still expected 25 s of
#     downtime.  downtime-limit is raised to 600 s, so the switchover
#     comes once the first rounds are through; the downtime QEMU reports
#     is the one it really had;
#   - the return-path capability: without it the source never hears of
#     the destination failing to load, and reports "completed" when the
#     failing LOAD comes after its last byte was sent (seen here);
#   - switchover-ack: the source waits for the destination to have
#     loaded the VF's initial pre-copy data before it stops the guest,
#     which is what that data is for.
# VFIO_MLX5_MODEL_KO names the model (make test-modules).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"
# shellcheck source=lib/mlx5-model-lib.sh
. "$harness/tests/lib/mlx5-model-lib.sh"

require_vm

drv=mlx5_vfio_pci
# The root is built on the host (it needs the network); asking the script
# only finds one built before.
root=${VFIO_TRIXIE_ROOT:-$("$harness/trixie-root.sh" 2>/dev/null)}
qmp=$harness/qmp
# Rounds of the guest's loop between two reports (REPORT_SHIFT).
shift_bits=12
step=$((1 << shift_bits))
# ms: long enough that pre-copy ends (see the header), and not forever.
downtime_limit=600000
# Guest RAM the VF writes by DMA: above the 1 MiB a real-mode guest
# reaches, so only the VF writes it; QEMU maps guest RAM at IOVA = GPA.
dma_page=0x200000
# A kernel built with IOMMUFD_DRIVER can fill dirty bitmaps: there the VF
# offers DMA logging (as in 84).
device_tracking=0
grep -qw iova_bitmap_set /proc/kallsyms && device_tracking=1

mlx5_model_start
if [ -z "$root" ] || [ ! -x "$root/usr/bin/qemu-system-x86_64" ]; then
	fail "VFIO_TRIXIE_ROOT names the Debian 13 root ('$root': harness/trixie-root.sh)"
	finish
fi
echo "# Debian 13 root $root"

# Sockets and the QEMUs' files: not on the 9p share $VM_OUT is on.  The
# directory is bind-mounted into the root at the same path, so paths are
# the same inside and outside the chroot.
work=$(mktemp -d -p /run lm83.XXXXXX) || { fail "a work directory"; finish; }

# ---- the QEMUs ----
declare -A qpid=()

# qemu_start NAME VF [ARGS...]: QEMU 10 from the Debian 13 root with VF
# assigned, QMP on $work/NAME.qmp, the guest's reports in $work/NAME.count;
# its pid in qpid[NAME].  unshare execs the chroot, which execs QEMU: the
# pid is QEMU's, and the mounts go away with it.
qemu_start() {
	local name=$1 vf=$2
	shift 2
	rm -f "$work/$name.qmp" "$work/$name.count"
	# shellcheck disable=SC2016  # (expanded by the inner sh)
	unshare -m --propagation private sh -c '
		r=$1 w=$2
		shift 2
		mount --rbind /dev "$r/dev" && mount -t proc proc "$r/proc" &&
			mount --rbind /sys "$r/sys" && mkdir -p "$r$w" &&
			mount --bind "$w" "$r$w" || exit 1
		exec chroot "$r" "$@"' sh "$root" "$work" \
		qemu-system-x86_64 -machine q35 -accel tcg,tb-size=32 -m 64 \
		-nodefaults -no-user-config -display none \
		-bios "$work/fw.bin" \
		-chardev "file,id=dc,path=$work/$name.count" \
		-device isa-debugcon,iobase=0xe9,chardev=dc \
		-device "vfio-pci,host=$vf,id=vf,enable-migration=on,rombar=0" \
		-qmp "unix:$work/$name.qmp,server=on,wait=off" \
		"$@" >"$VM_OUT/qemu-$name.log" 2>&1 &
	qpid[$name]=$!
	# Its monitor answering is its being up.
	local i
	for ((i = 0; i < 600; i++)); do
		"$qmp" --socket "$work/$name.qmp" --timeout 10 query-status \
			>/dev/null 2>&1 && return 0
		kill -0 "${qpid[$name]}" 2>/dev/null || break
		sleep 0.5
	done
	echo "# QEMU $name did not come up:"
	sed 's/^/#   /' "$VM_OUT/qemu-$name.log"
	return 1
}

q() { # NAME COMMAND [ARGS-JSON]: one QMP command, the answer on stdout
	local name=$1
	shift
	"$qmp" --socket "$work/$name.qmp" --timeout 60 "$@"
}

qok() { # NAME COMMAND [ARGS-JSON]: one QMP command that must succeed
	q "$@" >/dev/null
}

# qemu_quit NAME: quit through QMP, kill if that does not work; fails
# unless QEMU quit by itself with status 0.
qemu_quit() {
	local pid=${qpid[$1]:-} rc=0
	[ -n "$pid" ] || return 0
	q "$1" quit >/dev/null 2>&1
	wait_gone "$pid" 60 || { kill -9 "$pid" 2>/dev/null; rc=1; }
	wait "$pid" 2>/dev/null || rc=1
	unset "qpid[$1]"
	[ "$rc" = 0 ] && return 0
	echo "# QEMU $1 did not quit cleanly"
	return 1
}

# incoming_failed NAME WORDS: the destination NAME is still up, and its
# incoming migration failed with an error that says WORDS.
incoming_failed() {
	local r
	kill -0 "${qpid[$1]}" 2>/dev/null || { echo "# $1 is gone"; return 1; }
	wait_mig "$1" 120 failed >/dev/null
	r=$(q "$1" query-migrate) || { echo "# $1: $r"; return 1; }
	[[ $r =~ \"error-desc\":\ \"([^\"]*)\" ]] &&
		echo "# $1: ${BASH_REMATCH[1]}"
	[[ $r == *'"status": "failed"'* && $r == *"$2"* ]] && return 0
	echo "# $1: $r"
	return 1
}

status_is() { # NAME RUNSTATE: query-status reports that run state
	local r
	r=$(q "$1" query-status) || { echo "# $1: query-status: $r"; return 1; }
	[[ $r == *"\"status\": \"$2\""* ]] && return 0
	echo "# $1: $r"
	return 1
}

# mig_status NAME: the status of query-migrate (empty if none).
mig_status() {
	local r
	r=$(q "$1" query-migrate) || return 1
	[[ $r =~ \"status\":\ \"([a-z-]+)\" ]] && echo "${BASH_REMATCH[1]}"
}

# wait_mig NAME SECS STATUS...: until query-migrate on NAME shows one of
# the STATUSes; prints the last status seen.
wait_mig() {
	local name=$1 end=$((SECONDS + $2)) st='' want
	shift 2
	while [ "$SECONDS" -lt "$end" ]; do
		st=$(mig_status "$name")
		for want in "$@"; do
			[ "$st" = "$want" ] && { echo "$st"; return 0; }
		done
		sleep 1
	done
	echo "$st"
	return 1
}

# The guest's last complete report in NAME's file, as a number.
last_count() {
	local line
	line=$(grep -E '^count [0-9a-f]{8}$' "$work/$1.count" 2>/dev/null | tail -n 1)
	[ -n "$line" ] || { echo -1; return; }
	echo $((16#${line#count }))
}

first_count() {
	local line
	line=$(grep -E '^count [0-9a-f]{8}$' "$work/$1.count" 2>/dev/null | head -n 1)
	[ -n "$line" ] || { echo -1; return; }
	echo $((16#${line#count }))
}

# counting NAME: the guest of QEMU NAME reports a higher count than now,
# within a minute (it reports every $step rounds).
counting() {
	local from i
	from=$(last_count "$1")
	for ((i = 0; i < 600; i++)); do
		[ "$(last_count "$1")" -gt "$from" ] && return 0
		sleep 0.1
	done
	echo "# $1: count stuck at $from"
	return 1
}

# digest N: the model's digest of VF N's state.
digest() { cat "$dbg/vf$1/state"; }

# vf_running N: the model's VHCA of VF N runs: migration state running,
# and its state changes (a page every dirty_interval_ms).
vf_running() {
	local d i
	grep -qx 'state running' "$dbg/vf$1/migration" || {
		echo "# vf$1/migration:"
		sed 's/^/#   /' "$dbg/vf$1/migration"
		return 1
	}
	d=$(digest "$1")
	for ((i = 0; i < 100; i++)); do
		[ "$(digest "$1")" != "$d" ] && return 0
		sleep 0.1
	done
	echo "# vf$1: state unchanged at $d"
	return 1
}

# vf_dma N ADDR BYTE: VF N writes BYTE over the page of guest RAM at ADDR.
vf_dma() {
	echo "$2 4096 $3" >"$dbg/vf$1/dma_write"
}

# page_is NAME ADDR BYTE: the page of guest RAM at ADDR holds BYTE, as
# QEMU NAME's monitor shows its first and last 8 bytes.
page_is() {
	local want='' a r i
	for ((i = 0; i < 8; i++)); do want+=" $(printf '0x%02x' "$3")"; done
	for a in $(($2)) $(($2 + 4088)); do
		r=$(q "$1" human-monitor-command \
			"{\"command-line\": \"xp /8xb $(printf '0x%x' "$a")\"}") ||
			{ echo "# $1: xp: $r"; return 1; }
		[[ $r == *":$want"* ]] || { echo "# $1 at $a: $r"; return 1; }
	done
}

# ram_sent_once NAME: the migration of QEMU NAME is active and has sent
# all of guest RAM once: its first dirty bitmap (all of RAM) is used up,
# or a later one was taken.
ram_sent_once() {
	q "$1" query-migrate | python3 -S -c '
import json, sys
r = json.load(sys.stdin)["return"]
ram = r.get("ram", {})
done = ram.get("dirty-sync-count", 0) >= 2 or (
    ram.get("remaining", 1) == 0 and ram.get("transferred", 0) > 0)
sys.exit(0 if r.get("status") == "active" and done else 1)'
}

# wait_sent_once NAME: until ram_sent_once NAME (two minutes).
wait_sent_once() {
	local i
	for ((i = 0; i < 240; i++)); do
		ram_sent_once "$1" && return 0
		sleep 0.5
	done
	echo "# $1: $(q "$1" query-migrate)"
	return 1
}

# no_tracker N: DMA logging of VF N stopped: its tracker is gone (a
# minute: QEMU stops logging once it cleaned the migration up).
no_tracker() {
	local i
	for ((i = 0; i < 60; i++)); do
		[ -z "$(cat "$dbg/vf$1/tracker")" ] && return 0
		sleep 1
	done
	echo "# vf$1/tracker: $(cat "$dbg/vf$1/tracker")"
	return 1
}

# dma_refused N ADDR ERROR: VF N's DMA write of a page at ADDR is refused
# with ERROR (strerror's words).
dma_refused() {
	local err
	err=$(printf "%s 4096 0x11\n" "$2" 2>&1 >"$dbg/vf$1/dma_write") && {
		echo "# the write was taken"
		return 1
	}
	[[ $err == *"$3"* ]] && return 0
	echo "# $err"
	return 1
}

tracking_is() { # N on|off: the model's dirty tracking of VF N's VHCA
	grep -qx "tracking $2" "$dbg/vf$1/migration" && return 0
	echo "# vf$1/migration:"
	sed 's/^/#   /' "$dbg/vf$1/migration"
	return 1
}

# wait_status_of NAME RUNSTATE: until query-status says so (a minute).
wait_status_of() {
	local i
	for ((i = 0; i < 60; i++)); do
		status_is "$1" "$2" >/dev/null && return 0
		sleep 1
	done
	status_is "$1" "$2"
}

mkeys_are() { # N
	grep -qx "mkeys $1" "$dbg/resources" && return 0
	echo "# resources: $(cat "$dbg/resources")"
	return 1
}

# QEMU's figures of one migration, from query-migrate's answer in FILE.
summary() {
	python3 -S - "$1" <<-'EOF'
	import json, sys
	r = json.load(open(sys.argv[1]))["return"]
	ram = r.get("ram", {})
	print("# migration: total %s ms, downtime %s ms, setup %s ms; "
	      "RAM %s bytes sent in %s syncs (%s pages with data, "
	      "%s zero), VFIO device data %s bytes" % (
	      r.get("total-time"), r.get("downtime"), r.get("setup-time"),
	      ram.get("transferred"), ram.get("dirty-sync-count"),
	      ram.get("normal"), ram.get("duplicate"),
	      r.get("vfio", {}).get("transferred")))
	EOF
}

# Migration capabilities and parameters of every migration here, on
# source and destination alike (see the header).
mig_params() { # NAME
	qok "$1" migrate-set-capabilities '{"capabilities": [
		{"capability": "return-path", "state": true},
		{"capability": "switchover-ack", "state": true}]}' &&
		qok "$1" migrate-set-parameters \
			"{\"downtime-limit\": $downtime_limit}"
}

# start_dst NAME: a destination on VF1, paused after the migration (-S)
# so that VF1's state can be compared before it runs, listening on
# $work/NAME.sock.  A failed incoming migration does not end it
# (exit-on-error off): it stays up to show the error and quit as a
# management tool would make it.
start_dst() {
	qemu_start "$1" "$vf1" -S -incoming defer || return 1
	mig_params "$1" &&
		q "$1" migrate-incoming \
			"{\"uri\": \"unix:$work/$1.sock\", \"exit-on-error\": false}" \
			>/dev/null
}

# migrate SRC DST LABEL: start a migration; its figures are saved once
# it ends, in $VM_OUT/migrate-LABEL.json; its final status in $mig_end.
migrate_to() {
	q "$1" migrate "{\"uri\": \"unix:$work/$2.sock\"}" >/dev/null
}
migrate_end() { # SRC LABEL SECS
	mig_end=$(wait_mig "$1" "$3" completed failed cancelled)
	q "$1" query-migrate >"$VM_OUT/migrate-$2.json"
	echo "# $2: migration $mig_end"
}

# retry_to DST LABEL: after a failed migration, the source migrates again
# to a new destination DST, which then holds VF0's state and runs on.
retry_to() {
	start_dst "$1" || fail "$1 waits for a migration"
	check "migrate starts again" migrate_to src "$1"
	migrate_end src "$2" 1200
	check "the retried migration completed" test "$mig_end" = completed
	summary "$VM_OUT/migrate-$2.json"
	check "$1 paused after the migration" wait_status_of "$1" paused
	check "after the retry VF1 holds VF0's state" \
		test "$(digest 0)" = "$(digest 1)"
	check "cont on $1" qok "$1" cont
	check "the guest counts on at $1" counting "$1"
}

# ---- setup: the model, its PF, two VFs under mlx5_vfio_pci ----
# VF0 goes to the source QEMU, VF1 to the destinations.
mlx5_model_up 2
check "the guest firmware assembles" \
	"$harness/guest-fw/build.sh" "$work/fw.bin" "REPORT_SHIFT=$shift_bits"
echo "# $(chroot "$root" qemu-system-x86_64 --version | head -n 1)"

# ---- a migration that succeeds ----
if ! qemu_start src "$vf0"; then
	fail "source QEMU starts with VF0"
	finish
fi
pass "source QEMU starts with VF0"
check "migration capabilities and parameters set" mig_params src
check "the source guest counts" counting src
if start_dst dst1; then
	pass "destination QEMU waits for a migration with VF1"
else
	fail "destination QEMU waits for a migration with VF1"
fi
check "VF0 writes 0x5a over a page of guest RAM by DMA" \
	vf_dma 0 "$dma_page" 0x5a
check "the source guest's RAM has it" page_is src "$dma_page" 0x5a
# 256 MiB: past the guest's 64 MiB of RAM, so nothing is mapped there.
check "a DMA write where QEMU mapped nothing is refused (EFAULT)" \
	dma_refused 0 0x10000000 "Bad address"
# Pre-copy held: at 4 MiB/s QEMU allows 4 KiB of downtime data in 1 ms,
# less than the 64 pages the guest dirties all the time.
check "max-bandwidth 4 MiB/s, downtime-limit 1 ms" \
	qok src migrate-set-parameters \
	'{"max-bandwidth": 4194304, "downtime-limit": 1}'
check "migrate starts" migrate_to src dst1
check "pre-copy has sent all of RAM once" wait_sent_once src
check "still active: pre-copy held" test "$(mig_status src)" = active
if [ "$device_tracking" = 1 ]; then
	check "QEMU logs VF0's DMA through its tracker" \
		grep -q '^id ' "$dbg/vf0/tracker"
else
	check "no tracker: QEMU cannot use one here" \
		test -z "$(cat "$dbg/vf0/tracker")"
fi
echo "# VF0's trackers: $(cat "$dbg/vf0/tracker")"
check "VF0 writes 0xa5 over the page, already sent" \
	vf_dma 0 "$dma_page" 0xa5
check "migration parameters set again: pre-copy may end" \
	qok src migrate-set-parameters \
	"{\"max-bandwidth\": 1073741824, \"downtime-limit\": $downtime_limit}"
migrate_end src ok 1200
check "the migration completed" test "$mig_end" = completed
summary "$VM_OUT/migrate-ok.json"
src_last=$(last_count src)
check "the source is postmigrate" status_is src postmigrate
# Both VFs are stopped now: the source's since the switchover, the
# destination's until it runs.
src_digest=$(digest 0)
check "destination paused after the migration" \
	wait_status_of dst1 paused
dst_digest=$(digest 1)
echo "# VF0 at the switchover: $src_digest; VF1 loaded: $dst_digest"
check "VF1 holds the state VF0 had when the source stopped" \
	test "$src_digest" = "$dst_digest"
check "the destination's RAM has the VF's last write" \
	page_is dst1 "$dma_page" 0xa5
check "the stopped VF0 does no DMA (EBUSY)" \
	dma_refused 0 "$dma_page" "Device or resource busy"
if [ "$device_tracking" = 1 ]; then
	check "QEMU used the VF's dirty tracking (no warning)" \
		sh -c "! grep -q 'support device and IOMMU dirty tracking' $VM_OUT/qemu-src.log"
else
	check "QEMU warned it has no device dirty tracking" \
		grep -q 'support device and IOMMU dirty tracking' "$VM_OUT/qemu-src.log"
fi
# QEMU postpones the end of dirty logging until the guest runs again,
# which on a source that migrated away it never does: the VF still logs.
if [ "$device_tracking" = 1 ]; then
	check "the postmigrate source still logs VF0's DMA" \
		grep -q '^id ' "$dbg/vf0/tracker"
fi
check "the stopped source VF does not change" \
	test "$(digest 0)" = "$src_digest"
check "cont on the destination" qok dst1 cont
check "the destination is running" status_is dst1 running
check "the guest counts on at the destination" counting dst1
dst_first=$(first_count dst1)
echo "# last count on the source $src_last, first on the destination $dst_first"
# The source stopped less than one report after its last one; the
# destination's first complete report is the next or, if the switchover
# cut a report in half, the one after.
check "the count goes on from the source's" \
	test "$src_last" -ge 0 -a "$dst_first" -gt "$src_last" \
	-a "$dst_first" -le $((src_last + 2 * step))
check "the source guest stays stopped" \
	test "$(last_count src)" -eq "$src_last"
check "QEMU src quits cleanly" qemu_quit src
check "DMA logging ended with the source QEMU (close)" no_tracker 0
check "QEMU dst1 quits cleanly" qemu_quit dst1
check "no mkey left after the migration" mkeys_are "$mkeys0"

# ---- the target's LOAD fails ----
qemu_start src "$vf0" || fail "source QEMU starts again"
check "migration capabilities and parameters set" mig_params src
check "the source guest counts" counting src
start_dst dst2 || fail "destination 2 waits for a migration"
# LOAD_VHCA_STATE (0x119) fails with BAD_SYS_STATE, once: the first
# image the destination's VF writes.
check "fault armed: the next LOAD fails" sh -c "echo 'fail 0x119 0x4' >$dbg/inject"
check "migrate starts" migrate_to src dst2
migrate_end src load-fails 1200
check "the migration failed" test "$mig_end" = failed
check "the fault was consumed" sh -c "[ -z \"\$(cat $dbg/inject)\" ]"
echo clear >"$dbg/inject"
check "the destination is up and reports the failed load" \
	incoming_failed dst2 'load of migration failed'
check "the destination quits cleanly" qemu_quit dst2
# After a failure in stop-copy QEMU restarts the source by itself; after
# one in pre-copy it never stopped.
check "the source runs on" status_is src running
check "the source guest still counts" counting src
check "the source's VF changes again (running)" vf_running 0
check "DMA logging stopped as the source ran on" no_tracker 0
retry_to dst3 retry-after-load
check "QEMU src quits cleanly" qemu_quit src
check "QEMU dst3 quits cleanly" qemu_quit dst3
check "no mkey left after the failed load" mkeys_are "$mkeys0"

# ---- cancelled in mid pre-copy ----
qemu_start src "$vf0" || fail "source QEMU starts a third time"
check "migration capabilities and parameters set" mig_params src
check "the source guest counts" counting src
start_dst dst4 || fail "destination 4 waits for a migration"
# At 16 KiB/s and with 1 ms of downtime allowed pre-copy cannot end.
check "max-bandwidth 16 KiB/s, downtime-limit 1 ms" \
	qok src migrate-set-parameters \
	'{"max-bandwidth": 16384, "downtime-limit": 1}'
check "migrate starts" migrate_to src dst4
st=$(wait_mig src 300 active)
check "the migration is active" test "$st" = active
# Some pre-copy rounds, including the VF's pre-copy data.
sleep 5
check "still active: pre-copy held" test "$(mig_status src)" = active
# The VF is in PRE_COPY: its VHCA tracks its own dirty state.
check "the source's VF is in pre-copy (tracking on)" tracking_is 0 on
check "migrate_cancel" qok src migrate_cancel
migrate_end src cancelled 300
check "the migration was cancelled" test "$mig_end" = cancelled
check "the source runs on" status_is src running
check "the source guest still counts" counting src
# Its tracking stays armed: mlx5 has no command to disarm it, and
# PRE_COPY -> RUNNING sends none; the next save arms it anew, the last
# close's reset clears it.
check "the source's VF changes again (running)" vf_running 0
check "DMA logging stopped as the source ran on" no_tracker 0
# The destination saw its stream cut.
check "the cancelled destination is up and reports it" \
	incoming_failed dst4 'failed'
check "the cancelled destination quits cleanly" qemu_quit dst4
check "max-bandwidth back to 1 GiB/s" \
	qok src migrate-set-parameters '{"max-bandwidth": 1073741824}'
check "downtime-limit set again" mig_params src
retry_to dst5 retry-after-cancel
check "QEMU src quits cleanly" qemu_quit src
check "QEMU dst5 quits cleanly" qemu_quit dst5

# ---- afterwards ----
for vf in "$vf0" "$vf1"; do
	check "VF $vf still bound to $drv" test "$(driver_of "$vf")" = "$drv"
done
check "no mkey left" mkeys_are "$mkeys0"
check "VF0 runs after the last close (reset)" vf_running 0
check "VF0's dirty tracking was cleared by that reset" tracking_is 0 off
unbind "$vf0"
unbind "$vf1"
check "sriov_numvfs=0" sh -c "echo 0 >$sys/$pf/sriov_numvfs"
check "the PF holds no mkey" mkeys_are 0
check "unbind the PF from the model" unbind "$pf"
echo >"$sys/$pf/driver_override"
check "rmmod $drv" modprobe -r "$drv"
check "rmmod the model" sh -c "! test -d /sys/module/mlx5_core || rmmod mlx5_core"
check "rmmod vfio-pci-core" \
	sh -c "! test -d /sys/module/vfio_pci_core || modprobe -r vfio-pci-core"
for name in "${!qpid[@]}"; do kill -9 "${qpid[$name]}" 2>/dev/null; done
rm -rf "$work"
finish
