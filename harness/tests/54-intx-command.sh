#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu
#
# A user's COMMAND write must not undo the INTx mask the hard-irq handler
# set in hardware (DisINTx), even when the interrupt arrives between the
# driver's read of COMMAND and its write-back (vfio_pci_intx_command_test
# on edu).  The intx_inject test module raises edu's interrupt at the start
# of the next COMMAND write, which puts the handler exactly there; without
# it that window is a few instructions wide and no emulated device hits it
# on purpose.  VFIO_INTX_INJECT_KO may name a prebuilt intx_inject.ko;
# otherwise it is built in the guest against the running kernel's headers.
#
# The distro's 6.12 vfio-pci does the same read-modify-write of COMMAND
# and fails the interrupt-inside-write case (harness/distro-differences).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=harness/tests/lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm

vfio_lib_start

declare -A ids=([edu]=1234:11e8)
bind_named edu || vfio_lib_end
edu=$bdf

ko=${VFIO_INTX_INJECT_KO:-}
if [ -z "$ko" ]; then
	work=$(mktemp -d)
	cp "$harness/tests/intx-inject/"* "$work/"
	make -s -C "/usr/src/linux-headers-$(uname -r)" M="$work" modules \
		>"$VM_OUT/intx-inject-build.log" 2>&1 && ko=$work/intx_inject.ko
fi
if [ -n "$ko" ] && [ -f "$ko" ] &&
   check "insmod intx_inject bdf=$edu" insmod "$ko" bdf="$edu"; then
	run_selftest vfio_pci_intx_command_test \
		"INTx mask kept by COMMAND writes" -- \
		VFIO_SELFTESTS_BDF="$edu" VFIO_INTX_INJECT=/sys/module/intx_inject
	check "rmmod intx_inject" rmmod intx_inject
else
	fail "intx_inject.ko built and loaded (see intx-inject-build.log)"
fi

check "unbind edu" unbind "$edu"
echo >"/sys/bus/pci/devices/$edu/driver_override" || :
vfio_lib_end
