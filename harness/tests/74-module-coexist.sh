#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu
# vm-distro: no (it loads both builds itself)
#
# Our vfio-pci and the kernel's own build of it must never be loaded side
# by side: they carry the same module names and export the same symbols.
#   - with ours loaded, insmod of the in-tree vfio-pci-core.ko (by path)
#     must fail and leave ours in place and working;
#   - same for the in-tree vfio-pci.ko;
#   - modprobe picks ours from updates/ (check_modules_ours).
# Skipped under VFIO_TEST_DISTRO=1 (there is only one build then).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_fault_test

if [ "${VFIO_TEST_DISTRO:-0}" = 1 ]; then
	skip "only one vfio-pci build under VFIO_TEST_DISTRO=1"
	finish
fi

kdir=/lib/modules/$(uname -r)/kernel/drivers/vfio/pci

check "modprobe vfio-pci" modprobe vfio-pci
check "the loaded vfio-pci modules are our build" check_modules_ours
bdf=$(find_dev 1234:11e8) && check "edu bound to vfio-pci" bind_vfio "$bdf"
srcver=$(cat /sys/module/vfio_pci_core/srcversion 2>/dev/null)

for m in vfio-pci-core vfio-pci; do
	if ! f=$(intree_module "$m"); then
		fail "in-tree $m.ko present under $kdir"
		continue
	fi
	err=$(insmod "$f" 2>&1)
	rc=$?
	echo "# insmod $f: status $rc: $err"
	check "insmod of the in-tree $m is refused while ours is loaded" test "$rc" -ne 0
done
check "ours still loaded, same module" \
	test "$(cat /sys/module/vfio_pci_core/srcversion 2>/dev/null)" = "$srcver"
check "modules still ours" check_modules_ours
[ -n "${bdf:-}" ] && check "edu still works" device_sanity "$bdf"
[ -n "${bdf:-}" ] && check "edu unbinds" unbind "$bdf"
check "rmmod vfio-pci" modprobe -r vfio-pci

finish
