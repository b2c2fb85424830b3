# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers shared by harness/tests/5x-*.sh (resets, ioeventfd); sourced
# after guest-lib.sh.  It lives in a subdirectory so that run-vm-tests,
# which runs every harness/tests/*.sh, does not take it for a test.
#
#   reset_lib_start      locate the selftests ($VFIO_SELFTESTS_DIR, default
#                        build/selftests next to $harness), load vfio-pci,
#                        check that it is our build (unless
#                        VFIO_TEST_DISTRO=1)
#   run_selftest PROG LABEL [HARNESS-ARGS...] -- [VAR=VALUE...]
#                        run one selftest program with the given kselftest
#                        harness arguments (e.g. -f FIXTURE) and environment;
#                        passes only if it exits 0 and every test it ran
#                        passed: no failure, no skip
#   reset_lib_end        rmmod vfio-pci, print the summary, exit

reset_lib_start() {
	bins=${VFIO_SELFTESTS_DIR:-$(dirname "$harness")/build/selftests}
	check "modprobe vfio-pci" modprobe vfio-pci
	if [ "${VFIO_TEST_DISTRO:-0}" = 1 ]; then
		echo "# VFIO_TEST_DISTRO=1: testing the distro's modules"
	else
		check "vfio-pci modules are our out-of-tree build" check_modules_ours
	fi
}

run_selftest() {
	local prog=$1 label=$2 log totals rc=0
	local -a args=() envs=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	envs=("$@")
	if [ ! -x "$bins/$prog" ]; then
		fail "$label: $bins/$prog missing (harness/build-selftests.sh)"
		return
	fi
	log=$VM_OUT/$prog-${label//[^A-Za-z0-9_.-]/_}.log
	env "${envs[@]}" timeout 300 "$bins/$prog" "${args[@]}" >"$log" 2>&1 || rc=$?
	sed 's/^/    /' "$log"
	totals=$(grep '^# Totals:' "$log" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		fail "$label: exit status $rc ($totals)"
	elif ! echo "$totals" | grep -Eq 'pass:[1-9][0-9]* fail:0 .*skip:0 error:0'; then
		fail "$label: not every test passed ($totals)"
	else
		pass "$label ($totals)"
	fi
}

reset_lib_end() {
	check "rmmod vfio-pci" modprobe -r vfio-pci
	finish
}
