#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e,nvme
#
# Security regressions (vfio_pci_security_test): MMIO with memory decode
# off, SET_IRQS start/count/argsz overflows, region/IRQ index bounds, MSI-X
# table protection, INTx teardown/masking race, hot reset with foreign fds,
# VF token on a non-PF.  Run on edu (INTx), e1000e and nvme (MSI-X tables).
# VFIO_TEST_DISTRO=1 runs them against the distro's modules.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_security_test

declare -A ids=([edu]=1234:11e8 [e1000e]=8086:10d3 [nvme]=1b36:0010)

vfio_lib_start

for name in edu e1000e nvme; do
	bind_named -q "$name" || continue
	log=$VM_OUT/security-$name.log
	VFIO_SELFTESTS_BDF=$bdf timeout 300 "$bins/vfio_pci_security_test" >"$log" 2>&1
	rc=$?
	grep -E '^(not )?ok|^# (FAIL|PASSED|SKIP|Totals)|^#.*(Expected|TH_LOG|reads|did not)' "$log"
	check "$name: security regressions pass (status $rc, log $log)" test "$rc" -eq 0
	check "$name: unbinds" unbind "$bdf"
	echo >"/sys/bus/pci/devices/$bdf/driver_override"
done
check "rmmod vfio-pci" modprobe -r vfio-pci

finish
