#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,virtio-net,e1000e
#
# Interrupts through vfio-pci: vfio_pci_irq_test (GET_IRQ_INFO, SET_IRQS
# on every index with every action and data type, bad input, INTx
# automasking, MSI, a reconfiguration storm while edu fires, and real
# MSI-X on every vector of virtio-net, toggled through the VM's own QEMU
# monitor, including vectors added while MSI-X is live and vectors whose
# table entry the user clobbered through the BAR; INTx held masked
# while the device is runtime suspended), run against edu,
# virtio-net and e1000e.  Then vfio-pci is reloaded with nointxmask=1 and
# the edu INTx tests run again, the storm included: INTx must still work,
# masked at the interrupt controller instead of through DisINTx.  Last,
# e1000e is made to report an Intel X710's ID (8086:1572) by the
# pci-id-spoof test module: INTx of such a device has no working status
# bit and must be hidden (count 0, pin 0, DisINTx held set), unless
# nointxmask=1 gives it an exclusive line.
#
# VFIO_TEST_DISTRO=1 runs the same against the distro's modules (see
# 10-selftests-edu.sh).  VFIO_PCI_ID_SPOOF_KO may name a prebuilt
# pci_id_spoof.ko; otherwise it is built here (slow under TCG).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_irq_test
devs=(edu virtio-net e1000e)
declare -A ids=([edu]=1234:11e8 [virtio-net]=1af4:1041 [e1000e]=8086:10d3)

# QEMU id of the first device of a kind, from harness/vm's device list.
qemu_id() { # name
	awk -v n="$1" '$2 == n { print $1; exit }' "$VM_OUT/.vm/devices"
}

# Run the test program; passes when it exits 0 and reports no failure.
# Skips are fine here: device-specific tests skip on other devices.
run_irq_test() { # label bdf [env...] -- [harness args...]
	local label=$1 bdf=$2
	local -a envs=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	run_selftest --skips-ok --timeout 600 vfio_pci_irq_test "$label" "$@" \
		-- VFIO_SELFTESTS_BDF="$bdf" "${envs[@]}"
}

# Ids of the tests that must have passed (not skipped) in a log.
expect_passed() { # label log test...
	local label=$1 log=$2 t
	shift 2
	for t in "$@"; do
		if grep -q "^ok [0-9]* irq\.$t\$" "$log"; then
			pass "$label: $t ran and passed"
		else
			fail "$label: $t ran and passed"
		fi
	done
}

load_vfio_pci

declare -A bdf_of=()
bind_devices "${devs[@]}"

if [ -n "${bdf_of[edu]:-}" ]; then
	run_irq_test "irq test on edu" "${bdf_of[edu]}"
	expect_passed edu "$selftest_log" \
		edu_intx_automask_unmask_ioctl edu_intx_automask_unmask_bool \
		edu_intx_automask_unmask_eventfd edu_intx_mask_and_command \
		edu_intx_masked_while_suspended edu_msi_every_raise edu_storm \
		bad_input
fi
if [ -n "${bdf_of[virtio-net]:-}" ]; then
	run_irq_test "irq test on virtio-net" "${bdf_of[virtio-net]}" \
		VFIO_IRQ_TEST_NETDEV="$(qemu_id virtio-net)"
	expect_passed virtio-net "$selftest_log" \
		virtio_msix_device_every_vector virtio_msix_grow_live \
		virtio_msix_table_clobbered vector_eventfd_changes \
		loopback_every_index
fi
if [ -n "${bdf_of[e1000e]:-}" ]; then
	run_irq_test "irq test on e1000e" "${bdf_of[e1000e]}"
fi
grep -h 'MSI-X: .* vectors' "$VM_OUT"/vfio_pci_irq_test-*.log | sed 's/^/# /'

# nointxmask=1: every device gets an exclusive, controller-masked INTx.
for name in "${devs[@]}"; do
	[ -n "${bdf_of[$name]:-}" ] || continue
	check "unbind $name" unbind "${bdf_of[$name]}"
done
check "rmmod vfio-pci" modprobe -r vfio-pci
check "modprobe vfio-pci nointxmask=1" modprobe vfio-pci nointxmask=1
check "nointxmask parameter reads Y" \
	grep -qx Y /sys/module/vfio_pci/parameters/nointxmask
if [ -n "${bdf_of[edu]:-}" ] && bind_vfio "${bdf_of[edu]}"; then
	pass "edu rebound with nointxmask=1"
	run_irq_test "irq test on edu nointxmask" "${bdf_of[edu]}" \
		VFIO_IRQ_EXPECT_NOINTXMASK=1 VFIO_IRQ_STORM_SECONDS=3 -- \
		-t edu_intx_automask_unmask_ioctl \
		-t edu_intx_automask_unmask_bool \
		-t edu_intx_automask_unmask_eventfd \
		-t edu_intx_mask_and_command \
		-t edu_intx_masked_while_suspended -t edu_storm -t bad_input
	expect_passed "edu nointxmask" "$selftest_log" \
		edu_intx_automask_unmask_ioctl edu_intx_mask_and_command \
		edu_storm
	check "unbind edu" unbind "${bdf_of[edu]}"
fi

# pci_id_spoof.ko: $VFIO_PCI_ID_SPOOF_KO, or built from the test's source.
spoof_ko() {
	local work
	if [ -n "${VFIO_PCI_ID_SPOOF_KO:-}" ]; then
		echo "$VFIO_PCI_ID_SPOOF_KO"
		return
	fi
	work=$(mktemp -d)
	cp "$harness/tests/pci-id-spoof/"* "$work/"
	make -s -C "/usr/src/linux-headers-$(uname -r)" M="$work" modules \
		>"$VM_OUT/pci-id-spoof-build.log" 2>&1 && echo "$work/pci_id_spoof.ko"
}

# INTx hidden: e1000e as an X710 (8086:1572), vfio-pci without nointxmask.
check "rmmod vfio-pci" modprobe -r vfio-pci
if [ -n "${bdf_of[e1000e]:-}" ]; then
	nic=${bdf_of[e1000e]}
	ko=$(spoof_ko)
	if [ -f "$ko" ] && check "e1000e reports 8086:1572 (pci_id_spoof)" \
		insmod "$ko" bdf="$nic" device=0x1572; then
		if bind_vfio "$nic"; then
			pass "e1000e as 8086:1572 bound to vfio-pci"
			run_irq_test "irq test on e1000e as 8086:1572" "$nic" \
				VFIO_IRQ_EXPECT_NOINTX=1
			expect_passed "e1000e as 8086:1572" "$selftest_log" \
				intx_hidden info_flags_and_counts bad_input
		else
			fail "e1000e as 8086:1572 bound to vfio-pci"
		fi
		check "unbind e1000e" unbind "$nic"
		# nointxmask: an exclusive line, so INTx is offered again.
		check "modprobe vfio-pci nointxmask=1" sh -c \
			"modprobe -r vfio-pci && modprobe vfio-pci nointxmask=1"
		if bind_vfio "$nic"; then
			run_irq_test "e1000e as 8086:1572, nointxmask" "$nic" -- \
				-t info_flags_and_counts -t intx_hidden
			expect_passed "e1000e as 8086:1572, nointxmask" \
				"$selftest_log" info_flags_and_counts
			check "unbind e1000e" unbind "$nic"
		else
			fail "e1000e as 8086:1572 bound with nointxmask=1"
		fi
		check "rmmod pci_id_spoof" rmmod pci_id_spoof
	else
		fail "pci_id_spoof.ko loaded (see pci-id-spoof-build.log)"
	fi
fi

for name in "${devs[@]}"; do
	[ -n "${bdf_of[$name]:-}" ] || continue
	echo >"/sys/bus/pci/devices/${bdf_of[$name]}/driver_override" || :
done
check "rmmod vfio-pci" modprobe -r vfio-pci

finish
