#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: nvme-sriov,edu
#
# SR-IOV on a PF bound to vfio-pci (QEMU's nvme with sriov_max_vfs=2):
#   - without enable_sriov, writing sriov_numvfs fails (ENOENT);
#   - with modprobe vfio-pci enable_sriov=1 it creates the VFs, which come
#     up with driver_override=vfio-pci, bound to vfio-pci and to nothing
#     else, while the PF stays in D0 although nobody uses it;
#   - vfio_pci_sriov_test: the VF token (edu as the device that is neither
#     PF nor VF), and the VF's virtual memory enable bit;
#   - sriov_numvfs=0 removes the VFs and lets the PF idle in D3hot again;
#   - unbinding the PF removes its VFs.
#
# VFIO_TEST_DISTRO=1 runs the same against the distro's modules:
#     harness/vm --devices nvme-sriov,edu --modroot / -- \
#         env VFIO_TEST_DISTRO=1 VFIO_SELFTESTS_DIR=DIR harness/tests/61-sriov.sh

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm

sys=/sys/bus/pci/devices

# set_numvfs PF N EXPECTED-ERROR: write sriov_numvfs; EXPECTED-ERROR is ''
# for success or the strerror text the write must fail with.
set_numvfs() {
	local err
	err=$( { echo "$2" >"$sys/$1/sriov_numvfs"; } 2>&1 )
	if [ -z "$3" ]; then
		[ -z "$err" ] && return 0
	else
		case $err in *"$3"*) return 0 ;; esac
	fi
	echo "# echo $2 > sriov_numvfs: '${err:-success}', wanted '${3:-success}'"
	return 1
}

vf_of() { gl_link_name "$sys/$1/virtfn$2"; }

# Every VF of $1 is reserved for and bound to vfio-pci.
vfs_reserved() {
	local n i vf ovr rc=0
	read -r n <"$sys/$1/sriov_numvfs"
	[ "$n" -gt 0 ] || { echo "# no VFs"; return 1; }
	for ((i = 0; i < n; i++)); do
		vf=$(vf_of "$1" "$i") || { echo "# virtfn$i missing"; return 1; }
		read -r ovr <"$sys/$vf/driver_override"
		if [ "$ovr" != vfio-pci ] || [ "$(driver_of "$vf")" != vfio-pci ]; then
			echo "# VF $vf: driver_override '$ovr', driver '$(driver_of "$vf")'"
			rc=1
		fi
	done
	return "$rc"
}

no_vfs() {
	local n
	read -r n <"$sys/$1/sriov_numvfs"
	[ "$n" -eq 0 ] && [ ! -e "$sys/$1/virtfn0" ]
}

vfio_lib_start
if ! pf=$(find_dev 1b36:0010) || ! edu=$(find_dev 1234:11e8); then
	fail "nvme-sriov and edu are present"
	finish
fi
read -r total <"$sys/$pf/sriov_totalvfs"
check "nvme PF $pf offers VFs (sriov_totalvfs=$total)" test "$total" -ge 1

check "PF bound to vfio-pci" bind_vfio "$pf"
check "without enable_sriov, sriov_numvfs=1 fails with ENOENT" \
	set_numvfs "$pf" 1 "No such file or directory"
check "no VFs were created" no_vfs "$pf"
check "unbind PF" unbind "$pf"
check "rmmod vfio-pci" modprobe -r vfio-pci

check "modprobe vfio-pci enable_sriov=1" modprobe vfio-pci enable_sriov=1
# vfio-pci resets the PF at open or close.  A PF reset clears its SR-IOV
# capability, and QEMU 7.2 drops the VFs; the PF's state restore turns them
# back on, but the kernel's VF devices then read all-ones (seen with the
# distro modules as much as with ours).  So the PF's reset is turned off
# here: what is tested is the VF token, not QEMU's VF re-creation.
echo "# PF reset_method: $(cat "$sys/$pf/reset_method")"
check "PF reset disabled (empty reset_method)" \
	sh -c "echo '' >$sys/$pf/reset_method"
check "PF bound to vfio-pci (enable_sriov=1)" bind_vfio "$pf"
check "unused PF idles in D3hot" pm_is "$pf" suspended D3hot
check "sriov_numvfs=$total" set_numvfs "$pf" "$total" ""
check "VFs have driver_override=vfio-pci and are bound to vfio-pci" \
	vfs_reserved "$pf"
check "PF with VFs stays in D0 although unused" pm_is "$pf" active D0
sleep 1
check "... and is still in D0 a second later" pm_is "$pf" active D0

vf=$(vf_of "$pf" 0)
check "edu bound to vfio-pci" bind_vfio "$edu"
run_selftest vfio_pci_sriov_test "VF token selftest" -- \
	VFIO_SELFTESTS_BDF="$pf" VFIO_SELFTESTS_VF_BDF="$vf" \
	VFIO_SELFTESTS_OTHER_BDF="$edu"

check "sriov_numvfs=0" set_numvfs "$pf" 0 ""
check "VFs are gone" no_vfs "$pf"
check "PF without VFs idles in D3hot again" pm_is "$pf" suspended D3hot

check "sriov_numvfs=1 again" set_numvfs "$pf" 1 ""
check "unbind PF with a VF enabled" unbind "$pf"
check "unbinding the PF removed its VF" no_vfs "$pf"

check "unbind edu" unbind "$edu"
echo default >"$sys/$pf/reset_method"
echo >"$sys/$pf/driver_override"
echo >"$sys/$edu/driver_override"
vfio_lib_end
