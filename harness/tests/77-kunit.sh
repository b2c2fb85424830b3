#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu
# vm-distro: no (the KUnit suites test our code only)
# vm-needs: CONFIG_KUNIT
#
# The KUnit tests of vfio-pci (drivers/vfio/pci/vfio_pci_kunit.c): loading
# vfio_pci_kunit.ko runs its suites, which report in KTAP on the kernel log.
# Every suite must end "ok", with no failed case.
#
# Only a kernel with KUnit can run them: the debug kernel (make check-debug)
# builds and runs them; on Debian's kernel, which has no KUnit, the module
# is not built and the test skips (exit 4).  On a kernel with KUnit a skip
# (say, vfio_pci_kunit.ko was not built) is a failure of harness/run-vm-tests.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=../guest-lib.sh
. "$harness/guest-lib.sh"

if [ -z "${VM_OUT:-}" ]; then
	echo "77-kunit: run inside a VM: harness/run-vm-tests $0" >&2
	exit 2
fi

suites=(vfio_pci_match_options vfio_pci_igd_opregion)

if ! modinfo kunit >/dev/null 2>&1 || ! modinfo vfio_pci_kunit >/dev/null 2>&1; then
	skip_kernel "no KUnit in kernel $(uname -r) (the debug kernel runs these)"
	finish
fi

# KUnit runs nothing at module load unless enabled.
check "modprobe kunit enable=1" modprobe kunit enable=1
mark="vfio-pci kunit start $$"
echo "$mark" >/dev/kmsg
check "modprobe vfio_pci_kunit" modprobe vfio_pci_kunit
log=$VM_OUT/kunit.log
dmesg | sed -n "/$mark/,\$p" | sed 's/^\[[ 0-9.]*\] //' >"$log"
sed 's/^/    /' "$log"

for s in "${suites[@]}"; do
	check "suite $s ends ok" grep -Eq "^ *ok [0-9]+ $s\$" "$log"
done
grep -E '^ *# Totals:' "$log" | sed 's/^ *# /# kunit /'
check "no failed KUnit case" sh -c "! grep -q 'not ok' '$log'"
check "rmmod vfio_pci_kunit" modprobe -r vfio_pci_kunit
finish
