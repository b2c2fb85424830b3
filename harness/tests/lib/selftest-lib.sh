# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The variables set here for the caller (bdf, bdf_of, holder, watched_rc,
# selftest_log) and read from it (ids) are the interface:
# shellcheck disable=SC2034,SC2154
#
# Helpers shared by the harness/tests/*.sh scripts that drive the selftest
# programs of tools/testing/selftests/vfio.  Sourcing it with $harness set
# sources harness/guest-lib.sh too.  It lives in a subdirectory so that
# run-vm-tests, which runs every harness/tests/*.sh, does not take it for a
# test.
#
# Start and end of a test:
#   require_vm           exit 2 with a hint unless running inside a VM
#   need_selftests PROG...
#                        set $bins ($VFIO_SELFTESTS_DIR, default
#                        build/selftests next to $harness); if a PROG is
#                        missing there, build them all (as a check)
#   vfio_lib_start       set $bins as above (no build), load vfio-pci and
#                        check that it is our build (unless
#                        VFIO_TEST_DISTRO=1, which only notes it)
#   vfio_lib_end         rmmod vfio-pci, print the summary, exit
#   load_distro_vfio_pci load the distro's vfio-pci and vfio-pci-core by
#                        path (a test result); status says if it worked
#   distro_to_ours       unload them, modprobe ours and check it is ours
# Devices (NAME is a key of the caller's associative array ids, whose
# values are VENDOR:DEVICE):
#   bind_named [-q] NAME find NAME, bind it to vfio-pci and leave its BDF in
#                        $bdf; reports a failure (and, without -q, the
#                        success) as a test result
#   bind_devices NAME... bind_named each NAME, filling the caller's
#                        associative array bdf_of for the bound ones
# Running selftest programs:
#   run_selftest [--skips-ok] [--timeout SECS] PROG LABEL [HARNESS-ARGS...]
#                -- [VAR=VALUE...]
#                        run one selftest program with the given kselftest
#                        harness arguments (e.g. -f FIXTURE) and environment;
#                        passes only if it exits 0 and every test it ran
#                        passed: no failure and, unless --skips-ok, no skip.
#                        Its log is $selftest_log.
#   device_sanity BDF    vfio_pci_fault_test's sanity check of BDF
#   start_holder BDF LOG ARGS...
#                        start vfio_pci_fault_test hold ARGS on BDF in the
#                        background (pid in $holder) and wait until it is
#                        ready
#   run_watched SECS LOG CMD...
#                        run CMD in the background with its output in LOG;
#                        0 with its status in $watched_rc when it ends
#                        within SECS, else 1 after dump_stuck
#   print_stacks LOG     the kernel stacks that dump_stuck put in LOG
# Waiting:
#   wait_gone PID SECS   until PID has exited
#   wait_line FILE RE SECS
#                        until a line of FILE matches the regex RE
#   wait_path PATH gone|there SECS
#                        until PATH has disappeared / appeared
#   wait_in_kernel SECS FUNC [PID...]
#                        until a thread of one of the PIDs (default: any
#                        task, kernel workers included) is in kernel
#                        function FUNC (its /proc stack names it): blocked
#                        there, not merely slow to get anywhere
#   pm_is BDF RUNTIME_STATUS POWER_STATE [SECS]
#                        until sysfs reports that power state (default 5 s)
#   dump_stuck PID SECS LOG
#                        record in LOG that PID still runs after SECS, with
#                        the kernel stacks of its threads, the blocked-task
#                        list and the end of the kernel log; kill it

# shellcheck source=../../guest-lib.sh
. "$harness/guest-lib.sh"

require_vm() {
	[ -n "${VM_OUT:-}" ] && return 0
	echo "$(basename "$0" .sh): run inside a VM: harness/run-vm-tests $0" >&2
	exit 2
}

need_selftests() {
	local p
	bins=${VFIO_SELFTESTS_DIR:-$(dirname "$harness")/build/selftests}
	for p in "$@"; do
		[ -x "$bins/$p" ] && continue
		echo "# $bins lacks $p: building the selftests in the guest"
		check "harness/build-selftests.sh builds the tests" \
			"$harness/build-selftests.sh" "$bins"
		return
	done
}

vfio_lib_start() {
	bins=${VFIO_SELFTESTS_DIR:-$(dirname "$harness")/build/selftests}
	check "modprobe vfio-pci" modprobe vfio-pci
	if [ "${VFIO_TEST_DISTRO:-0}" = 1 ]; then
		echo "# VFIO_TEST_DISTRO=1: testing the distro's modules"
	else
		check "vfio-pci modules are our out-of-tree build" check_modules_ours
	fi
}

vfio_lib_end() {
	check "rmmod vfio-pci" modprobe -r vfio-pci
	finish
}

# The in-tree modules are loaded by path; that they are then not ours
# proves modprobe's choice from updates/ was bypassed.
load_distro_vfio_pci() {
	if load_intree_vfio_pci && ! check_modules_ours 2>/dev/null; then
		pass "distro vfio-pci-core and vfio-pci loaded by path"
		return 0
	fi
	fail "distro vfio-pci-core and vfio-pci loaded by path"
	return 1
}

distro_to_ours() {
	check "rmmod distro vfio-pci" rmmod vfio_pci
	check "rmmod distro vfio-pci-core" rmmod vfio_pci_core
	check "modprobe vfio-pci (ours)" modprobe vfio-pci
	check "vfio-pci modules are our out-of-tree build" check_modules_ours
}

bind_named() {
	local quiet=0 name
	if [ "$1" = -q ]; then
		quiet=1
		shift
	fi
	name=$1
	if ! bdf=$(find_dev "${ids[$name]}"); then
		fail "$name (${ids[$name]}) is present"
		return 1
	fi
	if ! bind_vfio "$bdf"; then
		fail "$name ($bdf) bound to vfio-pci"
		return 1
	fi
	[ "$quiet" = 1 ] || pass "$name ($bdf) bound to vfio-pci"
}

bind_devices() {
	local name
	for name in "$@"; do
		bind_named "$name" && bdf_of["$name"]=$bdf
	done
}

run_selftest() {
	local skips_ok=0 skips=0 secs=300 prog label totals want rc=0
	local -a args=() envs=()
	while :; do
		case $1 in
		--skips-ok) skips_ok=1; shift ;;
		--skips) skips=$2; shift 2 ;;
		--timeout) secs=$2; shift 2 ;;
		*) break ;;
		esac
	done
	prog=$1 label=$2
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	envs=("$@")
	selftest_log=$VM_OUT/$prog-${label//[^A-Za-z0-9_.-]/_}.log
	if [ ! -x "$bins/$prog" ]; then
		fail "$label: $bins/$prog missing (harness/build-selftests.sh)"
		return
	fi
	env "${envs[@]}" timeout "$secs" "$bins/$prog" "${args[@]}" \
		>"$selftest_log" 2>&1 || rc=$?
	sed 's/^/    /' "$selftest_log"
	totals=$(grep '^# Totals:' "$selftest_log" | tail -n 1)
	# Tests that do not apply to a device skip; some callers accept that,
	# any number of them or (--skips N) exactly the N they expect.
	want="pass:[1-9][0-9]* fail:0 .*skip:$skips error:0"
	[ "$skips_ok" = 1 ] && want='pass:[1-9][0-9]* fail:0 .*error:0'
	if [ "$rc" -ne 0 ]; then
		fail "$label: exit status $rc ($totals)"
	elif ! echo "$totals" | grep -Eq "$want"; then
		fail "$label: not every test passed ($totals)"
	else
		pass "$label ($totals)"
	fi
}

device_sanity() {
	VFIO_SELFTESTS_BDF=$1 "$bins/vfio_pci_fault_test" sanity
}

start_holder() {
	local bdf=$1 log=$2
	shift 2
	VFIO_SELFTESTS_BDF=$bdf "$bins/vfio_pci_fault_test" hold "$@" \
		>"$log" 2>&1 &
	holder=$!
	wait_line "$log" '^ready' 30
}

run_watched() {
	local secs=$1 log=$2 pid
	shift 2
	"$@" >"$log" 2>&1 &
	pid=$!
	dump_stuck "$pid" "$secs" "$log" || return 1
	watched_rc=0
	wait "$pid" || watched_rc=$?
}

print_stacks() {
	grep -E '^(---|\[<)' "$1" | head -n 40
}

wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

wait_line() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

wait_path() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		if [ "$2" = gone ]; then
			[ -e "$1" ] || return 0
		else
			[ -e "$1" ] && return 0
		fi
		sleep 0.1
	done
	return 1
}

wait_in_kernel() {
	local secs=$1 fn=$2 i p t stack
	local -a pids
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		pids=("$@")
		if [ $# -eq 0 ]; then
			# Every task, looked up anew: a worker may start
			# meanwhile.
			pids=(/proc/[0-9]*)
			pids=("${pids[@]#/proc/}")
		fi
		for p in "${pids[@]}"; do
			for t in /proc/"$p"/task/*/stack; do
				# read, not grep: an exec costs 0.1 s under TCG.
				stack=
				read -r -d '' stack <"$t" 2>/dev/null
				[[ $stack == *"$fn"* ]] && return 0
			done
		done
		sleep 0.1
	done
	echo "# no thread of ${*:-any task} in $fn after $secs s"
	return 1
}

pm_is() {
	local dev=/sys/bus/pci/devices/$1 i status state
	for ((i = 0; i < ${4:-5} * 10; i++)); do
		read -r status <"$dev/power/runtime_status"
		read -r state <"$dev/power_state"
		[ "$status" = "$2" ] && [ "$state" = "$3" ] && return 0
		sleep 0.1
	done
	echo "# $1: runtime_status $status, power_state $state (wanted $2, $3)"
	return 1
}

dump_stuck() {
	local task
	wait_gone "$1" "$2" && return 0
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
