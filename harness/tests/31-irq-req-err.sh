#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,virtio-net-aer
# vm-needs: CONFIG_PCIEAER
#
# The two notification interrupts of vfio-pci, driven by real events:
#
#   REQ  edu is held open with a REQ eventfd while it is unbound from
#        vfio-pci in the background: the eventfd must fire, the unbind must
#        wait while the device is held, and finish once it is released.
#   ERR  an uncorrectable, non-fatal AER error (poisoned TLP) is injected
#        into a virtio-net function with AER (a PCI Express endpoint behind
#        its own root port) through the VM's QEMU monitor; the guest's AER
#        driver reports it to vfio-pci, which must fire the ERR eventfd.
#        (QEMU 7.2's e1000e keeps its error reporting enables read-only
#        zero, so it never sends the error message.)  Skipped only on a
#        kernel without AER; the device not keeping its enables is a
#        failure.
#
# VFIO_TEST_DISTRO=1 runs the same against the distro's modules (see
# 10-selftests-edu.sh).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
repo=$(dirname "$harness")
# shellcheck source=../guest-lib.sh
. "$harness/guest-lib.sh"

if [ -z "${VM_OUT:-}" ]; then
	echo "31-irq-req-err: run inside a VM: harness/run-vm-tests $0" >&2
	exit 2
fi

bins=${VFIO_SELFTESTS_DIR:-$repo/build/selftests}
prog=$bins/vfio_pci_irq_test

qemu_id() { # name
	awk -v n="$1" '$2 == n { print $1; exit }' "$VM_OUT/.vm/devices"
}

# Does BDF's extended config space list capability ID (hex, e.g. 0001)?
has_ext_cap() { # bdf id
	python3 -S - "/sys/bus/pci/devices/$1/config" "$2" <<'EOF'
import struct, sys
cfg = open(sys.argv[1], "rb").read()
want, pos, ttl = int(sys.argv[2], 16), 0x100, 64
while len(cfg) >= 0x104 and pos >= 0x100 and ttl:
    hdr = struct.unpack_from("<I", cfg, pos)[0]
    if hdr & 0xffff == want:
        sys.exit(0)
    pos, ttl = hdr >> 20, ttl - 1
sys.exit(1)
EOF
}

# Run the named test of the program; it must pass, not skip: each skip
# reason of these tests (a variable unset, the wrong device, error reporting
# enables that do not stick) is this VM set up wrong.
run_one() { # label bdf test [env...]
	local label=$1 bdf=$2 t=$3 log rc=0
	shift 3
	log=$VM_OUT/irq-$t.log
	env VFIO_SELFTESTS_BDF="$bdf" "$@" timeout 300 "$prog" -t "$t" \
		>"$log" 2>&1 || rc=$?
	sed 's/^/    /' "$log"
	if [ "$rc" -eq 0 ] && grep -q "^ok [0-9]* irq\.$t # SKIP" "$log"; then
		fail "$label: skipped: $(sed -n 's/.*# SKIP //p' "$log" | head -n 1)"
	elif [ "$rc" -eq 0 ] && grep -q "^ok [0-9]* irq\.$t\$" "$log"; then
		pass "$label"
	else
		fail "$label (exit $rc)"
	fi
}

[ -x "$prog" ] || check "harness/build-selftests.sh builds the tests" \
	"$harness/build-selftests.sh" "$bins"

load_vfio_pci

# ---- REQ ----
if edu=$(find_dev 1234:11e8) && bind_vfio "$edu"; then
	pass "edu ($edu) bound to vfio-pci"
	run_one "REQ fires on unbind, unbind completes on release" "$edu" \
		req_on_unbind VFIO_IRQ_TEST_REQ=1
	check "edu is unbound afterwards" test -z "$(driver_of "$edu")"
	# And the device can be taken again and works.
	if bind_vfio "$edu"; then
		run_one "edu usable after the REQ unbind" "$edu" \
			edu_intx_automask_unmask_ioctl
		check "unbind edu" unbind "$edu"
	else
		fail "edu rebound to vfio-pci"
	fi
	echo >"/sys/bus/pci/devices/$edu/driver_override" || :
else
	fail "edu bound to vfio-pci"
fi

# ---- ERR ----
if nic=$(find_dev 1af4:1041) && bind_vfio "$nic"; then
	pass "virtio-net-aer ($nic) bound to vfio-pci"
	if has_ext_cap "$nic" 0001; then
		pass "virtio-net-aer has an AER capability"
		# The AER driver, which tells vfio-pci, keeps statistics in
		# sysfs for each device with the capability.
		if [ -e "/sys/bus/pci/devices/$nic/aer_dev_nonfatal" ]; then
			run_one "ERR fires on an injected AER error" "$nic" \
				err_on_aer_injection \
				VFIO_IRQ_TEST_AER_ID="$(qemu_id virtio-net-aer)"
		else
			skip_kernel "ERR on an injected AER error: kernel $(uname -r) has no AER driver"
		fi
		dmesg | grep -i 'aer' | tail -n 8 | sed 's/^/# dmesg: /'
		# What decides whether QEMU forwards the error message.
		lspci -vvv -s "$nic" 2>/dev/null | grep -E 'DevCtl:|UESta|UEMsk|UESvrt' -A1 |
			sed 's/^/# virtio-net-aer: /'
		lspci -vvv -s "$(basename "$(dirname "$(readlink -f "/sys/bus/pci/devices/$nic")")")" 2>/dev/null |
			grep -E 'BridgeCtl|DevCtl:|RootCmd|RootCtl' -A1 | sed 's/^/# root port: /'
	else
		fail "virtio-net-aer has an AER capability"
	fi
	check "unbind virtio-net-aer" unbind "$nic"
	echo >"/sys/bus/pci/devices/$nic/driver_override" || :
else
	fail "virtio-net-aer bound to vfio-pci"
fi

check "rmmod vfio-pci" modprobe -r vfio-pci
finish
