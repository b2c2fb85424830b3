#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu
# vm-timeout: 600
# vm-distro: no (Debian's kernel has no mlx5-vfio-pci)
# vm-needs: CONFIG_MLX5_CORE
#
# libvirt picks the VFIO driver from the same modules.alias lines as
# tools/vfio-pci-bind, and lands on the same driver:
#   - Debian 13's libvirtd (11.x, from the Debian 13 root, run chrooted in
#     a private mount namespace with the VM's /dev, /proc, /sys and module
#     tree) runs with its QEMU and node device drivers; virsh reaches it;
#   - edu made to report 15b3:101e by pci-id-spoof: vfio-pci-bind --list
#     chooses mlx5_vfio_pci, and virsh nodedev-detach, given no driver,
#     loads mlx5_vfio_pci itself (libvirt runs modprobe) and binds the
#     function to it through driver_override: the tool's choice;
#   - with mlx5_vfio_pci unloaded (the distro's mlx5_core would otherwise
#     probe the spoofed function once driver_override is cleared, and wait
#     for firmware), nodedev-reattach clears driver_override and leaves it
#     unbound, as it was;
#   - edu with its own IDs: the tool chooses vfio_pci, nodedev-detach binds
#     it to vfio-pci (our build, from updates/), nodedev-reattach gives it
#     back unbound.
# VFIO_TRIXIE_ROOT names the Debian 13 root (harness/trixie-root.sh),
# VFIO_PCI_ID_SPOOF_KO pci_id_spoof.ko (make test-modules), VFIO_PCI_BIND
# the tool (make tools; defaults to its place under build/).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"
# shellcheck source=lib/bind-tool-lib.sh
. "$harness/tests/lib/bind-tool-lib.sh"

require_vm

# As in 82: loading mlx5_vfio_pci needs the distro's mlx5_core.
if ! modinfo -n mlx5_core >/dev/null 2>&1; then
	skip_kernel "kernel $(uname -r) has no mlx5_core (CONFIG_MLX5_CORE)"
	finish
fi

repo=$(dirname "$harness")
tool=${VFIO_PCI_BIND:-$repo/build/tools/vfio-pci-bind/vfio-pci-bind}
root=${VFIO_TRIXIE_ROOT:-$("$harness/trixie-root.sh" 2>/dev/null)}
ko=${VFIO_PCI_ID_SPOOF_KO:-}
sys=/sys/bus/pci/devices
drv=mlx5_vfio_pci
uri=qemu:///system

if [ ! -x "$tool" ]; then
	fail "vfio-pci-bind is built (make tools)"
	finish
fi
if [ -z "$root" ] || [ ! -x "$root/usr/sbin/libvirtd" ]; then
	fail "VFIO_TRIXIE_ROOT names the Debian 13 root with libvirt ('$root': harness/trixie-root.sh)"
	finish
fi
if [ -z "$ko" ] || [ ! -f "$ko" ]; then
	fail "VFIO_PCI_ID_SPOOF_KO names pci_id_spoof.ko (make test-modules)"
	finish
fi
if ! edu=$(find_dev 1234:11e8); then
	fail "edu is present"
	finish
fi
nodedev=pci_${edu//[:.]/_}
echo "# edu at $edu ($nodedev), Debian 13 root $root"

# libvirt's run directory (its sockets): on the VM's /run, bind-mounted
# into the root, so that every chrooted virsh finds the daemon's socket.
run=$(mktemp -d -p /run lv93.XXXXXX) || { fail "a run directory"; finish; }

# in_root CMD...: CMD in the Debian 13 root, in a mount namespace of its
# own: the VM's /dev, /proc, /sys, the run directory as /run, and the VM's
# module tree (ours in updates/) where libvirt and its modprobe look.
# It execs unshare, which execs the chroot, which execs CMD: run it in a
# subshell; $! of a background in_root is CMD's pid, and the mounts go
# away with it.
in_root() {
	# shellcheck disable=SC2016  # (expanded by the inner sh)
	exec unshare -m --propagation private sh -c '
		r=$1 w=$2
		shift 2
		mkdir -p "$r/usr/lib/modules" &&
			mount --rbind /dev "$r/dev" && mount -t proc proc "$r/proc" &&
			mount --rbind /sys "$r/sys" && mount --bind "$w" "$r/run" &&
			mount --bind /lib/modules "$r/usr/lib/modules" || exit 1
		exec chroot "$r" env PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"' \
		sh "$root" "$run" "$@"
}

# virsh ARGS...: run virsh against the daemon, output echoed as comments.
virsh() {
	local rc
	(in_root virsh -c "$uri" "$@") >"$VM_OUT/virsh.out" 2>&1
	rc=$?
	echo "# \$ virsh $* -> $rc"
	sed 's/^/#   /' "$VM_OUT/virsh.out"
	return "$rc"
}

chosen_is() { # bdf module: vfio-pci-bind --list chooses module
	local got
	"$tool" --list "$1" >"$VM_OUT/list.out" 2>&1
	sed 's/^/#   /' "$VM_OUT/list.out"
	got=$(sed -n 's/^chosen: //p' "$VM_OUT/list.out")
	[ "$got" = "$2" ] && return 0
	echo "# the tool chooses '$got', want $2"
	return 1
}

libvirtd_up() {
	local i
	for ((i = 0; i < 120; i++)); do
		[ -S "$run/libvirt/libvirt-sock" ] && return 0
		kill -0 "$lvpid" 2>/dev/null || break
		sleep 1
	done
	sed 's/^/# /' "$VM_OUT/libvirtd.log"
	return 1
}

# libvirt refuses VFIO assignment on a host without /dev/vfio/vfio: load
# the VFIO core and type1 as a host set up for assignment has them.
check "modprobe vfio_iommu_type1" modprobe vfio_iommu_type1

# ---- libvirtd ----
(in_root libvirtd) >"$VM_OUT/libvirtd.log" 2>&1 &
lvpid=$!
if ! check "libvirtd (Debian 13) is up" libvirtd_up; then
	kill "$lvpid" 2>/dev/null
	finish
fi
daemon_runs_qemu10() {
	virsh version || return 1
	grep -q '^Running hypervisor: QEMU 10\.' "$VM_OUT/virsh.out"
}
check "virsh reaches it: its QEMU driver, on QEMU 10" daemon_runs_qemu10
lists_edu() {
	virsh nodedev-list --cap pci >/dev/null || return 1
	grep -qx "$nodedev" "$VM_OUT/virsh.out"
}
check "virsh lists edu as a node device" lists_edu

# ---- edu reporting 15b3:101e ----
if check "edu reports 15b3:101e (pci_id_spoof)" \
	insmod "$ko" bdf="$edu" vendor=0x15b3 device=0x101e; then
	check "vfio-pci-bind chooses $drv for it" chosen_is "$edu" "$drv"
	# Held for a driver that does not exist while libvirt loads the
	# modules: the distro's mlx5_core, pulled in by mlx5_vfio_pci,
	# would probe it (see 82).
	echo none >"$sys/$edu/driver_override"
	check "$drv is not loaded yet" test ! -d "/sys/module/$drv"
	check "virsh nodedev-detach (no driver named)" virsh nodedev-detach "$nodedev"
	check "libvirt loaded $drv" test -d "/sys/module/$drv"
	check "spoofed edu is bound to $drv, the tool's choice" drv_is "$edu" "$drv"
	check "... through driver_override $drv" override_is "$edu" "$drv"
	check "$drv under it is our build, on our vfio-pci-core" \
		sh -c "grep -q O /sys/module/$drv/taint && grep -q O /sys/module/vfio_pci_core/taint"
	check "rmmod $drv and what it pulled in" modprobe -r "$drv"
	check "virsh nodedev-reattach" virsh nodedev-reattach "$nodedev"
	check "spoofed edu is unbound again" drv_is "$edu" ''
	check "... with driver_override cleared" override_is "$edu" ''
	check "rmmod pci_id_spoof" rmmod pci_id_spoof
fi

# ---- edu with its own IDs ----
check "vfio-pci-bind chooses vfio_pci for edu" chosen_is "$edu" vfio_pci
check "virsh nodedev-detach edu" virsh nodedev-detach "$nodedev"
check "edu is bound to vfio-pci, the tool's choice" drv_is "$edu" vfio-pci
check "... through driver_override vfio-pci" override_is "$edu" vfio-pci
check "vfio-pci modules are our out-of-tree build" check_modules_ours
check "virsh nodedev-reattach edu" virsh nodedev-reattach "$nodedev"
check "edu is unbound again" drv_is "$edu" ''
check "... with driver_override cleared, edu" override_is "$edu" ''

kill "$lvpid"
check "libvirtd exits on SIGTERM" wait_gone "$lvpid" 30
check "rmmod vfio-pci" modprobe -r vfio-pci
finish
