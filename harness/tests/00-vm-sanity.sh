#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e,nvme,virtio-net,pci-testdev,ivshmem
# vm-distro: no (checks the VM, not a vfio-pci build)
#
# Sanity check of the test VM itself, run by harness/run-vm-tests: every
# requested device is there, each in an IOMMU group of its own, the
# emulated Intel IOMMU is active, a secondary bus reset works behind the
# root ports, the VM's own QMP monitor answers, and $VM_OUT is writable.
# If this fails, the other VM tests' results mean nothing.
#
# It deliberately avoids our vfio-pci: bind/unbind are exercised with the
# distro's pci-stub, so a broken driver under development cannot make the
# harness look broken.

set -euo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. "$harness/guest-lib.sh"

if [ -z "${VM_OUT:-}" ]; then
	echo "00-vm-sanity: run inside a VM: harness/vm --devices ... -- $0" >&2
	exit 2
fi

# name -> vendor:device as QEMU 7.2 presents them.
names=(edu e1000e nvme virtio-net pci-testdev ivshmem)
declare -A ids=(
	[edu]=1234:11e8
	[e1000e]=8086:10d3
	[nvme]=1b36:0010
	[virtio-net]=1af4:1041
	[pci-testdev]=1b36:0005
	[ivshmem]=1af4:1110
)

declare -A bdf_of=() owner_of_group=()
for name in "${names[@]}"; do
	if ! bdf=$(find_dev "${ids[$name]}"); then
		fail "$name (${ids[$name]}) is present"
		continue
	fi
	bdf_of[$name]=$bdf
	pass "$name (${ids[$name]}) is present at $bdf"

	if ! group=$(iommu_group "$bdf"); then
		fail "$name has an IOMMU group"
		continue
	fi
	# Bridges (class 0x0604, i.e. its root port) may share the group;
	# any other endpoint would make the device unusable on its own.
	others=
	for d in "/sys/kernel/iommu_groups/$group/devices/"*; do
		d=${d##*/}
		[ "$d" != "$bdf" ] || continue
		read -r class <"/sys/bus/pci/devices/$d/class"
		case $class in
		0x0604*) ;;
		*) others="$others $d" ;;
		esac
	done
	if [ -n "$others" ]; then
		fail "$name ($bdf) alone in IOMMU group $group: shares it with$others"
	elif [ -n "${owner_of_group[$group]:-}" ]; then
		fail "$name ($bdf) alone in IOMMU group $group: ${owner_of_group[$group]} is there too"
	else
		owner_of_group[$group]=$name
		pass "$name ($bdf) is alone in IOMMU group $group"
	fi
done

# intel-iommu registers itself as dmar0, ...
iommus=$(shopt -s nullglob; a=(/sys/class/iommu/*); echo "${a[@]##*/}")
if [ -n "$iommus" ]; then
	pass "an IOMMU is active: $iommus"
else
	fail "an IOMMU is active (/sys/class/iommu is empty)"
fi
# (grep on a captured copy: with pipefail, grep -q quitting early would
# make the dmesg | grep pipeline fail with SIGPIPE.)
log=$(dmesg)
if [[ $log == *"Enabled IRQ remapping"* ]]; then
	pass "interrupt remapping is enabled"
else
	fail "interrupt remapping is enabled"
fi

# Secondary bus reset behind a root port: at QEMU 7.2's default link speed
# the kernel gives up waiting for the link after the reset; harness/vm sets
# x-speed=5 on the ports to avoid it.  edu has no other reset method, so
# this really exercises the bus reset.
if [ -n "${bdf_of[edu]:-}" ]; then
	edu=${bdf_of[edu]}
	if echo 1 >"/sys/bus/pci/devices/$edu/reset" 2>/dev/null; then
		pass "bus reset of edu ($edu) succeeds"
	else
		fail "bus reset of edu ($edu) succeeds (reset_method: $(</"/sys/bus/pci/devices/$edu/reset_method"))"
	fi
fi

# guest-lib's bind/unbind, with the distro's pci-stub.
if [ -n "${bdf_of[pci-testdev]:-}" ]; then
	td=${bdf_of[pci-testdev]}
	check "bind_vfio $td pci-stub" bind_vfio "$td" pci-stub
	check "driver_of $td is pci-stub" test "$(driver_of "$td")" = pci-stub
	check "unbind $td" unbind "$td"
	check "$td has no driver after unbind" test -z "$(driver_of "$td")"
	echo >"/sys/bus/pci/devices/$td/driver_override"
fi

# The VM's own monitor through the virtio-serial port.
if status=$("$harness/qmp" query-status 2>&1) &&
	[[ $status == *'"status": "running"'* ]]; then
	pass "qmp query-status answers running"
else
	fail "qmp query-status answers running (got: $status)"
fi
# A second call must work too: the monitor session outlives the first.
if out=$("$harness/qmp" '{"execute": "query-pci"}' 2>&1) &&
	[[ $out == *'"vendor": 4660'* ]]; then
	pass "qmp query-pci sees the edu device (second call on the port)"
else
	fail "qmp query-pci sees the edu device (got: ${out:0:200})"
fi

# Results directory: writable, and the same path as on the host.
probe=$VM_OUT/sanity-probe.$$
if echo "written in the guest" >"$probe" && [ "$(cat "$probe")" = "written in the guest" ]; then
	pass "\$VM_OUT ($VM_OUT) is writable"
	rm -f "$probe"
else
	fail "\$VM_OUT ($VM_OUT) is writable"
fi
check "the root file system is writable (overlay)" touch /etc/.vm-sanity-probe

finish
