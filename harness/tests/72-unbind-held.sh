#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,nvme
# vm-timeout: 600
#
# Fault scenarios around a device a user holds open (BARs mapped, IRQ
# wired, two threads busy on it):
#   - unbind with a REQ eventfd: the holder is asked, closes, unbind returns;
#   - unbind without one: unbind blocks (the writer waits in vfio's
#     unregister) until the holder is killed, then returns;
#   - rmmod vfio-pci while held: refused (the open device pins the module),
#     the device stays bound and usable; after the close it goes through;
#   - rmmod vfio_pci_core while vfio-pci uses it: refused, nothing changes;
#   - kill -9 of the holder in the middle of its operations: the device is
#     released and works again.
# After each, the device must pass the sanity check (reopen, ids, BAR0,
# edu identification); the runner checks for stuck tasks and a clean log.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_fault_test

declare -A ids=([edu]=1234:11e8 [nvme]=1b36:0010)

# Unbind BDF in the background; print the writer's pid.
unbind_bg() { # bdf
	sh -c "echo $1 >/sys/bus/pci/drivers/vfio-pci/unbind" &
	ub=$!
}

vfio_lib_start

declare -A bdf_of=()
bind_devices edu nvme

for name in "${!bdf_of[@]}"; do
	bdf=${bdf_of[$name]}

	# Unbind, cooperative holder.
	log=$VM_OUT/held-$name-req.log
	check "$name: holder (REQ) ready" start_holder "$bdf" "$log" --req --busy --irq
	unbind_bg "$bdf"
	check "$name: unbind returns once the holder lets go" wait_gone "$ub" 30
	check "$name: holder was asked and released" wait_line "$log" '^released on request' 5
	wait "$holder"
	check "$name: holder exited 0" test $? -eq 0
	check "$name: unbound" test -z "$(driver_of "$bdf")"
	check "$name: rebinds" bind_vfio "$bdf"
	check "$name: sanity after unbind/rebind" device_sanity "$bdf"

	# Unbind, holder that never answers: blocks until it is killed.
	log=$VM_OUT/held-$name-noreq.log
	check "$name: holder (no REQ) ready" start_holder "$bdf" "$log" --busy --irq
	unbind_bg "$bdf"
	check "$name: unbind blocks in vfio while the device is held" \
		wait_in_kernel 30 vfio_unregister_group_dev "$ub"
	check "$name: holder still running while the unbind waits" kill -0 "$holder"
	kill -9 "$holder"
	wait "$holder" 2>/dev/null
	check "$name: unbind returns after the holder is killed" wait_gone "$ub" 30
	check "$name: unbound" test -z "$(driver_of "$bdf")"
	check "$name: rebinds" bind_vfio "$bdf"
	check "$name: sanity after the forced release" device_sanity "$bdf"

	# kill -9 in the middle of operations, device stays bound.
	log=$VM_OUT/held-$name-kill.log
	check "$name: busy holder ready" start_holder "$bdf" "$log" --busy --irq
	sleep 2
	kill -9 "$holder"
	wait "$holder" 2>/dev/null
	check "$name: still bound to vfio-pci after kill -9" \
		test "$(driver_of "$bdf")" = vfio-pci
	check "$name: sanity after kill -9" device_sanity "$bdf"
done

# The core module is in use by vfio-pci: rmmod must refuse.
check "rmmod vfio_pci_core refused while vfio-pci is loaded" \
	eval '! rmmod vfio_pci_core 2>/dev/null'
check "vfio_pci_core still loaded" test -d /sys/module/vfio_pci_core

# rmmod vfio-pci while a user holds a device: an open device pins the
# driver module, so the removal is refused at once (nobody is asked to let
# go, nothing is unbound); once the user has closed it goes through.
if [ -n "${bdf_of[edu]:-}" ]; then
	log=$VM_OUT/held-rmmod.log
	check "edu: holder (REQ) ready for rmmod" start_holder "${bdf_of[edu]}" "$log" --req --busy
	err=$(rmmod vfio_pci 2>&1)
	rc=$?
	echo "# rmmod vfio_pci while held: status $rc: $err"
	check "rmmod vfio-pci refused while a device is open" test "$rc" -ne 0
	check "vfio-pci still loaded" test -d /sys/module/vfio_pci
	check "edu still bound" test "$(driver_of "${bdf_of[edu]}")" = vfio-pci
	check "holder was not asked to release" eval "! grep -q '^released' '$log'"
	kill -9 "$holder"
	wait "$holder" 2>/dev/null
	check "rmmod vfio-pci once the holder is gone" rmmod vfio_pci
	check "devices unbound by rmmod" test -z "$(driver_of "${bdf_of[edu]}")"
	check "modprobe vfio-pci again" modprobe vfio-pci
	check "edu: rebinds after rmmod" bind_vfio "${bdf_of[edu]}"
	check "edu: sanity after rmmod/modprobe" device_sanity "${bdf_of[edu]}"
fi

for bdf in "${bdf_of[@]}"; do
	unbind "$bdf"
	echo >"/sys/bus/pci/devices/$bdf/driver_override"
done
vfio_lib_end
