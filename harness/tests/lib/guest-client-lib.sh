# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The variables set here for the caller (edu, nvme, nic_a, nic_b, guest_out)
# are the interface:
# shellcheck disable=SC2034
#
# The real-client tests (88-guest-qemu, 89-guest-qemu10): a QEMU inside the
# test VM boots a Linux guest (harness/guest-initramfs.sh: Debian's kernel,
# busybox, harness/guest/init) with the VM's edu, nvme and two wired
# e1000e assigned through vfio-pci, and the guest's own drivers use them.
# Then the VM side checks what the guest reported and what the devices
# look like after the guest shut down and QEMU exited.  Sourcing this
# sources selftest-lib.sh (and so guest-lib.sh) too.
#
# The test's VM needs  # vm-devices: edu,nvme,e1000e-link,e1000e-link
#
#   guest_client_start   load vfio-pci (ours, or the distro's with
#                        VFIO_TEST_DISTRO=1), find and bind the devices,
#                        find the guest image
#   guest_boot LABEL QEMU...
#                        boot the guest with QEMU... (the QEMU command,
#                        e.g. qemu-system-x86_64 or a chroot wrapper) and
#                        the arguments in the array guest_extra_args;
#                        its console is $guest_out (under $VM_OUT)
#   guest_results LABEL  the checks of what the guest reported
#   released_clean LABEL the checks of the devices after QEMU exited
#   reuse_at_once LABEL QEMU...
#                        a second QEMU opens every device straight away
# QEMU... may be a shell function that execs QEMU (a chroot wrapper).
#   nvme_on_disk LABEL   the VM's own nvme driver finds the guest's
#                        pattern on the namespace, then gives it back
#   guest_client_end     unbind, summary, exit

harness=${VM_HARNESS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

# The guest image; built on the host (CI and make check do it before the
# VMs start) and cached.
guest_dir=${VFIO_GUEST_DIR:-}
# The pattern the guest writes to the namespace (harness/guest/init).
guest_seed=vfio-guest-$$
# Guest RAM, MB: all of it is pinned for DMA by type1.
guest_mem=256
# One guest boot, seconds: about 4 minutes under QEMU 7.2 and 8 under
# QEMU 10 with a second VM beside this one, on this 2-core machine.
guest_timeout=1200
# More QEMU arguments for guest_boot (trace options, say).
guest_extra_args=()
# QEMU's accelerator for the guest: TCG, one thread for all (see
# guest_qemu_args for why); a test may choose QEMU's default threading.
guest_accel=tcg,thread=single

guest_client_start() {
	require_vm
	load_vfio_pci
	edu=$(find_dev 1234:11e8) && nvme=$(find_dev 1b36:0010) &&
		nic_a=$(find_dev 8086:10d3 1) && nic_b=$(find_dev 8086:10d3 2) || {
		fail "the VM has edu, nvme and two e1000e"
		finish
	}
	local d ok=1
	for d in "$edu" "$nvme" "$nic_a" "$nic_b"; do
		bind_vfio "$d" || ok=0
	done
	check "edu, nvme and both e1000e bound to vfio-pci through driver_override" test "$ok" = 1
	if [ -z "$guest_dir" ] || [ ! -r "$guest_dir/initramfs.gz" ]; then
		fail "VFIO_GUEST_DIR names the guest image ('$guest_dir': harness/guest-initramfs.sh)"
		finish
	fi
	echo "# guest image $guest_dir"
}

# run_limited SECS CMD...: run CMD, killed after SECS; its exit status, or
# 124 when it had to be killed.  CMD may be a shell function that execs its
# program (the background subshell becomes the program, so the kill
# reaches it).  CMD reads the caller's stdin (an asynchronous command would
# get /dev/null otherwise).
run_limited() {
	local secs=$1 pid i
	shift
	"$@" <&0 &
	pid=$!
	for ((i = 0; i < secs; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
		wait "$pid"
		return 124
	fi
	wait "$pid"
}

# The QEMU arguments of one guest boot, console in file $1.
guest_qemu_args() {
	local console=$1 d
	# The console shows the guest kernel's warnings (loglevel 5), so that
	# a guest that fails says why in the file the test keeps.
	#
	# TCG with one thread by default, as harness/vm runs the VM itself:
	# under QEMU 7.2's default multi-threaded TCG, nested in the VM's
	# TCG, the guest kernel died early in seven of eight boots here (two
	# VMs at a time, as make check runs them): a double fault or a
	# kernel #DB right after the cmpxchg16b of the slab allocator's fast
	# path, with a pointer's bits in EFLAGS, from start_kernel on, before
	# any device was used.  With thread=single it died in one boot of
	# six since, on a host running four VMs, and the boots took as long
	# as before.
	qargs=(-accel "$guest_accel" -machine q35 -m "$guest_mem"
		-nodefaults -display none -no-reboot
		-serial "file:$console"
		-kernel "$guest_dir/vmlinuz" -initrd "$guest_dir/initramfs.gz"
		-append "console=ttyS0 loglevel=5 panic=-1 guest.seed=$guest_seed")
	for d in "$edu" "$nvme" "$nic_a" "$nic_b"; do
		qargs+=(-device "vfio-pci,host=$d")
	done
	qargs+=("${guest_extra_args[@]}")
}

# guest_run LABEL QEMU...: one boot of the guest; QEMU's exit status.
guest_run() {
	local label=$1 rc
	shift
	guest_qemu_args "$guest_out.raw"
	run_limited "$guest_timeout" "$@" "${qargs[@]}" >"$VM_OUT/qemu-$label.log" 2>&1
	rc=$?
	# The serial console ends its lines with CR LF.
	tr -d '\r' <"$guest_out.raw" >"$guest_out" && rm -f "$guest_out.raw"
	return "$rc"
}

# Did the guest kernel die before its init started, that is before any
# driver of an assigned device was loaded?
guest_died_early() {
	! grep -aq '^GUEST-BOOTED' "$guest_out" &&
		grep -aqE 'Kernel panic|Oops|double fault' "$guest_out"
}

# guest_boot LABEL QEMU...: boot the guest and wait for QEMU to exit.
# Nested TCG (a TCG guest's QEMU running a TCG guest) is not as solid as
# the hardware it emulates: now and then the guest kernel takes a fault
# while booting, before it has run anything of ours or used a device,
# always with garbage in EFLAGS (seen here: double faults in the slab
# allocator, a #GP in text_poke_early; most often under multi-threaded
# TCG, see guest_qemu_args, but once in six boots with one thread on a
# host running four VMs).  Such a boot, and only such a boot, is tried
# again, up to guest_boot_tries boots in all; each one's console stays
# as guest-LABEL.console.died-early.N and the log says so.
guest_boot_tries=3
guest_boot() {
	local label=$1 t0 rc try=1
	shift
	guest_out=$VM_OUT/guest-$label.console
	t0=$(date +%s)
	guest_run "$label" "$@"
	rc=$?
	while guest_died_early && [ "$try" -lt "$guest_boot_tries" ]; do
		mv "$guest_out" "$guest_out.died-early.$try"
		echo "# $label: the guest kernel died before its init ran (nested TCG; see $guest_out.died-early.$try): booting again"
		try=$((try + 1))
		guest_run "$label" "$@"
		rc=$?
	done
	guest_died_early &&
		echo "# $label: the guest kernel died before its init ran in all $try boots"
	echo "# $label: QEMU ran $(($(date +%s) - t0)) s; guest: $(grep -a '^GUEST-BOOTED' "$guest_out" 2>/dev/null) $(grep -a '^GUEST-DONE' "$guest_out" 2>/dev/null)"
	echo "# $label: QEMU exit status $rc"
	check "$label: QEMU ran the guest and exited with status 0" test "$rc" -eq 0
	# QEMU says "vfio" when it cannot use a device the way it wants to.
	if grep -qai 'vfio\|error\|warning' "$VM_OUT/qemu-$label.log"; then
		sed 's/^/# qemu: /' "$VM_OUT/qemu-$label.log"
		fail "$label: QEMU printed no error or warning about the devices"
	else
		pass "$label: QEMU printed no error or warning about the devices"
	fi
	check "$label: the guest finished its work and powered off" \
		grep -aq '^GUEST-DONE' "$guest_out"
}

# The value of KEY in the GUEST-RESULT line of DEVICE.
guest_value() { # device key
	sed -n "s/^GUEST-RESULT $1 .*\\b$2=\\([^ ]*\\).*/\\1/p" "$guest_out" | tail -n 1
}

at_least() { # value minimum
	[ -n "$1" ] && [ "$1" -ge "$2" ] 2>/dev/null
}

guest_results() {
	local label=$1 step want got
	grep -a '^GUEST-' "$guest_out" | grep -av '^GUEST-KERNEL' | sed 's/^/# /'
	# The edu driver: each use is a line of its own.
	for step in id factorial msi dma; do
		check "$label: guest edu driver: $step" \
			grep -aq "^GUEST-LOG .* edu_guest .*: $step ok" "$guest_out"
	done
	check "$label: guest edu driver: all its checks passed" \
		test "$(guest_value edu checks)" = passed
	# nvme: the namespace answered, the pattern came back through DMA,
	# completions came by MSI-X.
	check "$label: guest nvme driver: namespace present" \
		test "$(guest_value nvme disk)" = present
	want=$(guest_value nvme pattern_md5)
	got=$(guest_value nvme readback_md5)
	check "$label: guest nvme: the pattern read back from the namespace is the one written" \
		test -n "$want" -a "$want" = "$got"
	check "$label: guest nvme: completions arrived as interrupts" \
		at_least "$(guest_value nvme irqs)" 1
	# e1000e: link up on both, all ten ARP requests answered over the wire.
	check "$label: guest e1000e driver: two NICs" test "$(guest_value e1000e nics)" = 2
	check "$label: guest e1000e: carrier up on both" test "$(guest_value e1000e carrier)" = up
	check "$label: guest e1000e: 10 of 10 ARP requests answered" \
		test "$(guest_value e1000e arping_replies)" = 10
	for got in a_tx b_rx b_tx a_rx; do
		check "$label: guest e1000e: $got counted at least 10 packets" \
			at_least "$(guest_value e1000e "$got")" 10
	done
	check "$label: guest e1000e: interrupts delivered" \
		at_least "$(guest_value e1000e irqs)" 1
	# The guest kernel's own complaints about the devices or their drivers.
	# (Loading edu_guest taints the kernel: out of tree, and said so.)
	if grep -a '^GUEST-KERNEL' "$guest_out" | grep -av 'taints kernel' |
		grep -aiE 'nvme|e1000e|edu_guest|dmar|iommu|pci'; then
		fail "$label: the guest kernel logged no warning about the devices"
	else
		pass "$label: the guest kernel logged no warning about the devices"
	fi
}

# No interrupt of a vfio device left in /proc/interrupts.
no_vfio_irqs() { ! grep -q 'vfio' /proc/interrupts; }

# Bus mastering and MSI/MSI-X off in the config space of BDF $1.
quiesced() {
	local cmd
	cmd=$(setpci -s "$1" COMMAND) || return 1
	[ $((0x$cmd & 0x4)) -eq 0 ] || { gl_err "$1: bus master on (COMMAND $cmd)"; return 1; }
	if lspci -vv -s "$1" | grep -E 'MSI(-X)?: Enable\+'; then
		gl_err "$1: MSI or MSI-X still enabled"
		return 1
	fi
}

# nvme controller enable bit (CC.EN, BAR0 0x14): the guest's shutdown
# leaves it set, a reset clears it.  Memory decoding is turned on just for
# the read and put back.
nvme_cc_en() {
	local cmd
	cmd=$(setpci -s "$1" COMMAND) || return 2
	setpci -s "$1" COMMAND="$(printf %04x $((0x$cmd | 0x2)))"
	python3 - "/sys/bus/pci/devices/$1/resource0" <<'EOF'
import mmap, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_SYNC)
m = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ)
print(struct.unpack_from("<I", m, 0x14)[0] & 1)
EOF
	setpci -s "$1" COMMAND="$cmd"
}

released_clean() {
	local label=$1 d
	check "$label: no vfio interrupt left after QEMU exited" no_vfio_irqs
	for d in "$edu" "$nvme" "$nic_a" "$nic_b"; do
		check "$label: $d quiesced (no bus master, MSI/MSI-X off)" quiesced "$d"
		check "$label: $d still bound to vfio-pci" test "$(driver_of "$d")" = vfio-pci
	done
	check "$label: nvme was reset on release (CC.EN clear)" test "$(nvme_cc_en "$nvme")" = 0
}

# reuse_at_once LABEL QEMU...: another QEMU opens all four devices at once
# and shows them to its (never started) guest.
reuse_at_once() {
	local label=$1 d out id
	shift
	local args=(-machine q35 -m 64 -nodefaults -display none -S -monitor stdio)
	for d in "$edu" "$nvme" "$nic_a" "$nic_b"; do
		args+=(-device "vfio-pci,host=$d")
	done
	out=$(run_limited 120 "$@" "${args[@]}" < <(printf 'info pci\nquit\n') 2>&1)
	echo "$out" >"$VM_OUT/qemu-$label-reuse.log"
	for id in 1234:11e8 1b36:0010 8086:10d3; do
		check "$label: a second QEMU at once sees $id" grep -q "PCI device $id" <<<"$out"
	done
	check "$label: ... both e1000e" test "$(grep -c 'PCI device 8086:10d3' <<<"$out")" -eq 2
	check "$label: ... with no vfio error" eval '! grep -qi "vfio.*\(error\|fail\)" <<<"$out"'
}

# The VM's own nvme driver takes the namespace back and finds the guest's
# pattern where the guest wrote it; then the device goes back to vfio-pci.
nvme_on_disk() {
	local label=$1 want got disk ctrl
	want=$(yes "$guest_seed" | head -c 1048576 | md5sum | cut -d' ' -f1)
	unbind "$nvme" && echo >"/sys/bus/pci/devices/$nvme/driver_override"
	modprobe nvme
	echo "$nvme" >/sys/bus/pci/drivers_probe 2>/dev/null
	disk=
	for _ in $(seq 60); do
		ctrl=$(ls "/sys/bus/pci/devices/$nvme/nvme" 2>/dev/null | head -n 1)
		[ -n "$ctrl" ] && [ -b "/dev/${ctrl}n1" ] && { disk=/dev/${ctrl}n1; break; }
		sleep 1
	done
	check "$label: the VM's nvme driver probes the device after the guest" test -n "$disk"
	got=$(dd if="$disk" bs=65536 skip=16 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
	check "$label: the guest's pattern is on the namespace" test "$want" = "$got"
	bind_vfio "$nvme"
	check "$label: nvme back on vfio-pci" test "$(driver_of "$nvme")" = vfio-pci
}

guest_client_end() {
	local d
	for d in "$edu" "$nvme" "$nic_a" "$nic_b"; do
		unbind "$d"
		echo >"/sys/bus/pci/devices/$d/driver_override"
	done
	finish
}
