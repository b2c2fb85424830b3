# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# harness/guest-lib.sh - helpers for test scripts that run inside a
# harness/vm guest.  Source it:
#
#     . "$VM_HARNESS/guest-lib.sh"
#
# Written in plain POSIX sh (no bashisms) so tests may be sh or bash
# scripts, and it changes no shell options: a test running under set -e
# calls the predicates below in `if` / `||` context.
#
# Device helpers (messages go to stderr, status says whether it worked):
#   find_dev VENDOR:DEVICE [N]  print the BDF of the Nth (default 1st) match
#   driver_of BDF               print the bound driver's name ('' if none)
#   unbind BDF                  detach BDF from its driver, if any
#   bind_vfio BDF [DRIVER]      bind BDF to DRIVER (default vfio-pci) the
#                               way a user would: modprobe, driver_override,
#                               drivers_probe, then check the driver link
#   iommu_group BDF             print BDF's IOMMU group number
#   check_modules_ours          loaded vfio_pci/vfio_pci_core are our
#                               out-of-tree build, not the distro's
#   load_vfio_pci               modprobe vfio-pci and check it is ours
#                               (skipped with VFIO_TEST_DISTRO=1), as
#                               pass/fail results
# Result helpers (TAP-style output, counting failures):
#   pass MSG / fail MSG
#   skip MSG                    a check this run leaves out on purpose (a
#                               mode such as VFIO_TEST_DISTRO=1); does not
#                               change the test's verdict
#   skip_kernel MSG             a check the running kernel cannot do: it
#                               lacks a feature (MSG says which).  The test
#                               then counts as skipped, and harness/run-vm-
#                               tests holds it to its "# vm-needs:" line
#   check MSG CMD [ARGS...]     pass if CMD succeeds, fail otherwise
#   finish                      print the plan and a summary, then exit:
#                               1 if anything failed or nothing was tested,
#                               else 4 (kselftest's "skip") if any check
#                               was a skip_kernel, else 0

GL_SYS_PCI=/sys/bus/pci
gl_tests=0
gl_failed=0
gl_skipped=0
gl_kskipped=0
gl_kskip_why=

gl_err() { echo "$*" >&2; }

# Under TCG every exec costs 0.1-0.2 s (dynamic linking is emulated), so
# these helpers stick to shell builtins: read instead of cat/sed, parameter
# expansion instead of basename, cd -P instead of readlink.

find_dev() {
	gl_want=0x${1%%:*}:0x${1#*:}
	gl_want=$(echo "$gl_want" | tr 'A-F' 'a-f')
	gl_nth=${2:-1}
	gl_seen=0
	for gl_d in "$GL_SYS_PCI"/devices/*; do
		[ -r "$gl_d/vendor" ] || continue
		read -r gl_v <"$gl_d/vendor"
		read -r gl_i <"$gl_d/device"
		if [ "$gl_v:$gl_i" = "$gl_want" ]; then
			gl_seen=$((gl_seen + 1))
			if [ "$gl_seen" -eq "$gl_nth" ]; then
				echo "${gl_d##*/}"
				return 0
			fi
		fi
	done
	gl_err "find_dev: no PCI device $1 (match $gl_nth)"
	return 1
}

# Print the last component of the directory symlink $1 points to.
gl_link_name() {
	gl_p=$(cd -P "$1" 2>/dev/null && pwd) || return 1
	echo "${gl_p##*/}"
}

driver_of() {
	if [ -L "$GL_SYS_PCI/devices/$1/driver" ]; then
		gl_link_name "$GL_SYS_PCI/devices/$1/driver"
	fi
}

unbind() {
	[ -d "$GL_SYS_PCI/devices/$1" ] || { gl_err "unbind: no device $1"; return 1; }
	[ -L "$GL_SYS_PCI/devices/$1/driver" ] || return 0
	echo "$1" >"$GL_SYS_PCI/devices/$1/driver/unbind" || {
		gl_err "unbind: writing $1 to $(driver_of "$1")/unbind failed"
		return 1
	}
	if [ -L "$GL_SYS_PCI/devices/$1/driver" ]; then
		gl_err "unbind: $1 is still bound to $(driver_of "$1")"
		return 1
	fi
}

bind_vfio() {
	bv_dev=$GL_SYS_PCI/devices/$1
	bv_drv=${2:-vfio-pci}
	[ -d "$bv_dev" ] || { gl_err "bind_vfio: no device $1"; return 1; }
	# A user loads the driver first; modprobe picks our build from
	# updates/ when the module tree has one.
	if [ ! -d "$GL_SYS_PCI/drivers/$bv_drv" ]; then
		modprobe "$bv_drv" || { gl_err "bind_vfio: modprobe $bv_drv failed"; return 1; }
	fi
	[ "$(driver_of "$1")" = "$bv_drv" ] && return 0
	unbind "$1" || return 1
	# driver_override makes only $bv_drv eligible, even though it has no
	# ID table entry for this device; drivers_probe asks the core to match
	# now.  Its write fails when the probe fails: report via the check.
	echo "$bv_drv" >"$bv_dev/driver_override" || {
		gl_err "bind_vfio: cannot set driver_override of $1"
		return 1
	}
	echo "$1" >"$GL_SYS_PCI/drivers_probe" 2>/dev/null || :
	bv_now=$(driver_of "$1")
	if [ "$bv_now" != "$bv_drv" ]; then
		gl_err "bind_vfio: $1 bound to '${bv_now:-nothing}', wanted $bv_drv (see dmesg)"
		return 1
	fi
}

iommu_group() {
	[ -L "$GL_SYS_PCI/devices/$1/iommu_group" ] || {
		gl_err "iommu_group: $1 has no IOMMU group"
		return 1
	}
	gl_link_name "$GL_SYS_PCI/devices/$1/iommu_group"
}

check_modules_ours() {
	cm_rc=0
	for cm_mod in vfio_pci_core vfio_pci; do
		case $cm_mod in
		vfio_pci) cm_name=vfio-pci ;;
		*) cm_name=vfio-pci-core ;;
		esac
		if [ ! -d "/sys/module/$cm_mod" ]; then
			gl_err "check_modules_ours: $cm_mod is not loaded"
			cm_rc=1
			continue
		fi
		# 'O' = out-of-tree module: the distro's in-tree copy lacks it.
		cm_taint=
		read -r cm_taint <"/sys/module/$cm_mod/taint" || :
		case $cm_taint in
		*O*) ;;
		*) gl_err "check_modules_ours: $cm_mod is not out-of-tree (taint '$cm_taint')"
		   cm_rc=1 ;;
		esac
		cm_file=$(modinfo -F filename "$cm_name" 2>/dev/null) || cm_file=
		case $cm_file in
		*/updates/*) ;;
		*) gl_err "check_modules_ours: modprobe would load $cm_name from '${cm_file:-nowhere}', not updates/"
		   cm_rc=1 ;;
		esac
		# Where both carry a srcversion, the loaded module must be that file.
		cm_loaded=
		[ -r "/sys/module/$cm_mod/srcversion" ] && read -r cm_loaded <"/sys/module/$cm_mod/srcversion"
		cm_ondisk=$(modinfo -F srcversion "$cm_name" 2>/dev/null) || cm_ondisk=
		if [ -n "$cm_loaded" ] && [ -n "$cm_ondisk" ] && [ "$cm_loaded" != "$cm_ondisk" ]; then
			gl_err "check_modules_ours: loaded $cm_mod ($cm_loaded) is not $cm_file ($cm_ondisk)"
			cm_rc=1
		fi
	done
	return "$cm_rc"
}

pass() {
	gl_tests=$((gl_tests + 1))
	echo "ok $gl_tests - $*"
}

fail() {
	gl_tests=$((gl_tests + 1))
	gl_failed=$((gl_failed + 1))
	echo "not ok $gl_tests - $*"
}

skip() {
	gl_tests=$((gl_tests + 1))
	gl_skipped=$((gl_skipped + 1))
	echo "ok $gl_tests - # SKIP $*"
}

# A skip for want of kernel support taints the whole test, not just this
# check: a kernel that has the feature after all must not pass with the
# check quietly left out, so the runner has to see the skip to judge it.
skip_kernel() {
	skip "$@"
	gl_kskipped=$((gl_kskipped + 1))
	gl_kskip_why="$gl_kskip_why# SKIP $*
"
}

check() {
	ck_msg=$1
	shift
	if "$@"; then
		pass "$ck_msg"
	else
		fail "$ck_msg"
	fi
}

finish() {
	echo "1..$gl_tests"
	if [ "$gl_tests" -eq 0 ]; then
		echo "# no tests were run"
		exit 1
	fi
	echo "# $((gl_tests - gl_failed - gl_skipped)) passed, $gl_failed failed, $gl_skipped skipped"
	# A failure outranks any skip.
	[ "$gl_failed" -eq 0 ] || exit 1
	if [ "$gl_kskipped" -gt 0 ]; then
		# harness/run-vm-tests shows the first of these as the reason.
		printf '%s' "$gl_kskip_why"
		exit 4
	fi
	exit 0
}

# The usual start of a test: load vfio-pci as a user would and make sure it
# is our build, unless VFIO_TEST_DISTRO=1 asks for the distro's on purpose.
load_vfio_pci() {
	check "modprobe vfio-pci" modprobe vfio-pci
	if [ "${VFIO_TEST_DISTRO:-0}" = 1 ]; then
		skip "check_modules_ours (VFIO_TEST_DISTRO=1: testing the distro's modules)"
	else
		check "vfio-pci modules are our out-of-tree build" check_modules_ours
	fi
}

# Path of the running kernel's own (in-tree) module NAME under
# drivers/vfio/pci, whatever its compression: Debian's are .ko.xz, a kernel
# built here may install plain .ko files.
intree_module() { # name
	local dir f
	dir=/lib/modules/$(uname -r)/kernel/drivers/vfio/pci
	for f in "$dir/$1.ko" "$dir/$1.ko.xz" "$dir/$1.ko.zst" "$dir/$1.ko.gz"; do
		[ -e "$f" ] && { echo "$f"; return 0; }
	done
	gl_err "intree_module: no $1 module under $dir"
	return 1
}

# Load the in-tree vfio-pci-core and vfio-pci by path (modprobe would pick
# ours from updates/), with what they depend on.  Fails if either is missing
# or does not load.
load_intree_vfio_pci() {
	local core pci dep
	core=$(intree_module vfio-pci-core) || return 1
	pci=$(intree_module vfio-pci) || return 1
	modprobe vfio && modprobe vfio_iommu_type1 || return 1
	for dep in $(modinfo -F depends "$core" | tr , ' '); do
		modprobe "$dep" || return 1
	done
	insmod "$core" && insmod "$pci" && [ -d /sys/module/vfio_pci ]
}
