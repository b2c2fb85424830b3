#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,nvme,e1000e-link,e1000e-link
# vm-mem: 2048
# vm-timeout: 1800
#
# 88-guest-qemu with Debian 13's QEMU (10.x, from the root of
# harness/trixie-root.sh, run chrooted in a private mount namespace).  The
# newer QEMU uses what 7.2 does not: it reads that MSI-X vectors can be
# added while MSI-X is on (no VFIO_IRQ_INFO_NORESIZE) and then adds the
# guest's vectors one at a time instead of tearing all down for each new
# one.  Its vfio trace events show both; the guest's nvme and e1000e
# drivers use several MSI-X vectors each, so the dynamic path is what
# delivers their interrupts.
#
# VFIO_TEST_DISTRO=1 runs it on the distro's modules (harness/differential).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/guest-client-lib.sh
. "$harness/tests/lib/guest-client-lib.sh"

root=${VFIO_TRIXIE_ROOT:-}

# qemu10 ARGS...: Debian 13's QEMU with the guest image and $VM_OUT
# bind-mounted at their own paths, so paths are the same in and out of the
# chroot; the mounts go away with the namespace.  The caller's shell
# becomes QEMU (unshare, sh and chroot exec each other): call it in a
# subshell or in the background.
qemu10() {
	# shellcheck disable=SC2016  # (expanded by the inner sh)
	exec unshare -m --propagation private sh -c '
		r=$1 g=$2 o=$3
		shift 3
		mount --rbind /dev "$r/dev" && mount -t proc proc "$r/proc" &&
			mount --rbind /sys "$r/sys" &&
			mkdir -p "$r$g" "$r$o" && mount --bind "$g" "$r$g" &&
			mount --bind "$o" "$r$o" || exit 1
		exec chroot "$r" qemu-system-x86_64 "$@"' sh "$root" "$guest_dir" "$VM_OUT" "$@"
}

guest_client_start
if [ -z "$root" ] || [ ! -x "$root/usr/bin/qemu-system-x86_64" ]; then
	fail "VFIO_TRIXIE_ROOT names the Debian 13 root ('$root': harness/trixie-root.sh)"
	guest_client_end
fi
echo "# $(chroot "$root" qemu-system-x86_64 --version | head -n 1)"

trace=$VM_OUT/qemu10.trace
guest_extra_args=(-trace 'vfio_msix_early_setup' -trace 'vfio_msix_vector_do_use'
	-trace 'vfio_msix_enable' -trace 'vfio_msi_enable' -D "$trace")
# The kernel's side of it, whoever implements vfio-pci: a vector added to
# live MSI-X is pci_msix_alloc_irq_at(); a full (re-)enable is
# pci_alloc_irq_vectors().
tracing=/sys/kernel/tracing
[ -e "$tracing/trace" ] || mount -t tracefs tracefs "$tracing"
echo 0 >"$tracing/tracing_on"
echo nop >"$tracing/current_tracer"
printf '%s\n' pci_msix_alloc_irq_at pci_alloc_irq_vectors >"$tracing/set_ftrace_filter"
echo function >"$tracing/current_tracer"
: >"$tracing/trace"
echo 1 >"$tracing/tracing_on"
# QEMU 10 keeps its default, multi-threaded TCG: no guest of it has died
# early here, in any run, and one thread would only make this, the
# longest test, longer.  (88's QEMU 7.2 needs one thread: see
# guest_qemu_args.)
guest_accel=tcg
guest_boot qemu10 qemu10
echo 0 >"$tracing/tracing_on"
grep -v '^#' "$tracing/trace" >"$VM_OUT/qemu10.ftrace"
echo nop >"$tracing/current_tracer"
: >"$tracing/set_ftrace_filter"
guest_results qemu10

# What QEMU learned from the driver: MSI-X can grow while enabled.
# (Devices counted once: a boot tried again sets them up again.)
setup=$(grep -o 'vfio_msix_early_setup [^ ]* .*noresize 0' "$trace" |
	awk '{ print $2 }' | sort -u | wc -l)
echo "# qemu10: QEMU found MSI-X resizable on $setup devices"
check "qemu10: QEMU found MSI-X resizable on nvme and both e1000e" test "$setup" -eq 3
# What it did with it.  Each time a guest driver turns MSI or MSI-X on,
# QEMU enables it on the host once; each further vector the guest unmasks
# is then added to the live MSI-X (pci_msix_alloc_irq_at).  QEMU 7.2, or
# a host driver that says NORESIZE, would instead tear MSI-X down and
# enable it again with one vector more: more enables than the guest did,
# and nothing added.
used=$(grep -c 'vfio_msix_vector_do_use' "$trace")
guest_on=$(grep -c 'vfio_msix\?_enable ' "$trace")
added=$(grep -c 'pci_msix_alloc_irq_at' "$VM_OUT/qemu10.ftrace")
host_on=$(grep -c 'pci_alloc_irq_vectors' "$VM_OUT/qemu10.ftrace")
echo "# qemu10: the guest turned MSI/MSI-X on $guest_on times and used $used MSI-X vectors; the host enabled $host_on times and added $added vectors to live MSI-X"
check "qemu10: vectors were added to live MSI-X" at_least "$added" 3
check "qemu10: ... and the host enabled MSI/MSI-X only when the guest did" \
	test "$host_on" -eq "$guest_on"

released_clean qemu10
reuse_at_once qemu10 qemu10
nvme_on_disk qemu10
guest_client_end
