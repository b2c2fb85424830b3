#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck source-path=SCRIPTDIR
#
# harness/pkg-guest.sh - the in-VM half of harness/pkg-check.sh: what a
# VM booted on the host's own module tree (harness/vm --modroot /) loads
# after our modules were installed there by DKMS or by the Debian package,
# and after they were removed again.
#
# Usage (inside harness/vm):
#   pkg-guest.sh installed   modprobe vfio-pci loads the modules DKMS put in
#                            updates/dkms/ (the loaded build ID is that
#                            file's, not the distro's), an edu device binds
#                            through driver_override and passes
#                            vfio_pci_device_test, mlx5-vfio-pci loads on
#                            the kernel's real mlx5_core
#   pkg-guest.sh removed     the same modprobe loads the distro's in-tree
#                            vfio-pci again and nothing of ours is left
#   pkg-guest.sh enforce     booted with module.sig_enforce=1 and
#                            lockdown=integrity (what Secure Boot puts
#                            Debian's kernel in): our module is refused
#                            because its signing key (the DKMS MOK) is not
#                            enrolled, while the distro's signed in-tree
#                            vfio-pci still loads
# Env: VFIO_SELFTESTS_DIR as for the other tests (default build/selftests).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")" && pwd)}
# shellcheck source=tests/lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
mode=${1:-}
kver=$(uname -r)
dkms_dir=/lib/modules/$kver/updates/dkms
intree_dir=/lib/modules/$kver/kernel/drivers/vfio/pci
tmp=$(mktemp -d)
edu=1234:11e8

# The GNU build ID of a module file (compressed or not), as hex.
file_build_id() {
	local f=$1 ko=$tmp/build-id.ko
	case $f in
	*.xz) xz -dc "$f" >"$ko" ;;
	*.zst) zstd -q -dc "$f" >"$ko" ;;
	*.gz) gzip -dc "$f" >"$ko" ;;
	*) cp "$f" "$ko" ;;
	esac || return 1
	readelf -n "$ko" | sed -n 's/^ *Build ID: *//p'
}

# The build ID of a loaded module, from the ELF note the kernel exposes in
# sysfs: 12 bytes of note header, "GNU\0", then the ID.
loaded_build_id() {
	od -An -v -tx1 -j16 "/sys/module/$1/notes/.note.gnu.build-id" |
		tr -d ' \n'
}

# The loaded module $1 is the file modprobe resolves for name $2, and that
# file lies in $3.
loaded_from() {
	local mod=$1 name=$2 dir=$3 file want got
	file=$(modinfo -F filename "$name") || return 1
	case $file in
	"$dir"/*) ;;
	*) echo "# $name resolves to $file, not under $dir"; return 1 ;;
	esac
	want=$(file_build_id "$file")
	got=$(loaded_build_id "$mod")
	echo "# $mod: loaded build ID ${got:-none}, $file has ${want:-none}"
	[ -n "$want" ] && [ "$want" = "$got" ]
}

# "O" in the taint flags: the kernel saw a module built outside its tree.
out_of_tree() {
	local taint
	read -r taint <"/sys/module/$1/taint"
	echo "# $1 taint flags: '$taint'"
	[[ $taint == *O* ]]
}

# vfio_pci_device_test on edu, bound the way a user binds a device.
use_edu() {
	local bdf
	if ! bdf=$(find_dev "$edu"); then
		fail "edu ($edu) is present"
		return
	fi
	check "edu ($bdf) binds to vfio-pci through driver_override" \
		bind_vfio "$bdf"
	[ "$(driver_of "$bdf")" = vfio-pci ] || return
	run_selftest vfio_pci_device_test "vfio_pci_device_test on edu ($bdf)" \
		-- VFIO_SELFTESTS_BDF="$bdf"
	check "unbind edu ($bdf)" unbind "$bdf"
	echo >"/sys/bus/pci/devices/$bdf/driver_override"
}

case $mode in
installed)
	need_selftests vfio_pci_device_test
	for m in vfio-pci-core vfio-pci mlx5-vfio-pci; do
		check "$m is installed in updates/dkms" \
			test -n "$(ls "$dkms_dir/$m.ko"* 2>/dev/null)"
	done
	check "modprobe vfio-pci" modprobe vfio-pci
	check "loaded vfio_pci is the one in updates/dkms (build ID)" \
		loaded_from vfio_pci vfio-pci "$dkms_dir"
	check "loaded vfio_pci_core is the one in updates/dkms (build ID)" \
		loaded_from vfio_pci_core vfio-pci-core "$dkms_dir"
	check "vfio_pci is not the in-tree build (taint O)" out_of_tree vfio_pci
	use_edu
	check "rmmod vfio-pci" modprobe -r vfio-pci
	# The variant links against Debian's real mlx5_core: it loads with
	# it (no ConnectX here: it binds nothing).
	check "modprobe mlx5-vfio-pci (with Debian's mlx5_core)" \
		modprobe mlx5-vfio-pci
	check "loaded mlx5_vfio_pci is the one in updates/dkms (build ID)" \
		loaded_from mlx5_vfio_pci mlx5-vfio-pci "$dkms_dir"
	check "rmmod mlx5-vfio-pci" modprobe -r mlx5-vfio-pci
	;;
removed)
	need_selftests vfio_pci_device_test
	check "nothing of ours is left in updates/" \
		test -z "$(find "/lib/modules/$kver/updates" -name '*vfio*' 2>/dev/null)"
	check "mlx5-vfio-pci is gone (Debian's kernel has none)" \
		bash -c '! modinfo mlx5-vfio-pci >/dev/null 2>&1'
	check "modprobe vfio-pci" modprobe vfio-pci
	check "loaded vfio_pci is the distro's in-tree one (build ID)" \
		loaded_from vfio_pci vfio-pci "$intree_dir"
	check "loaded vfio_pci_core is the distro's in-tree one (build ID)" \
		loaded_from vfio_pci_core vfio-pci-core "$intree_dir"
	check "vfio_pci is not out-of-tree" bash -c '! grep -q O /sys/module/vfio_pci/taint'
	use_edu
	check "rmmod vfio-pci" modprobe -r vfio-pci
	;;
enforce)
	[ -e /sys/kernel/security/lockdown ] ||
		mount -t securityfs securityfs /sys/kernel/security
	read -r lockdown </sys/kernel/security/lockdown
	check "the kernel is locked down ($lockdown)" \
		test "$lockdown" = "none [integrity] confidentiality"
	read -r enforced </sys/module/module/parameters/sig_enforce
	check "module signatures are enforced (sig_enforce=$enforced)" \
		test "$enforced" = Y
	check "updates/dkms holds our signed vfio-pci-core" \
		test -n "$(ls "$dkms_dir"/vfio-pci-core.ko* 2>/dev/null)"
	if modprobe vfio-pci 2>"$tmp/modprobe.err"; then
		fail "modprobe vfio-pci is refused"
	else
		pass "modprobe vfio-pci is refused: $(head -n 1 "$tmp/modprobe.err")"
	fi
	check "vfio_pci_core is not loaded" test ! -d /sys/module/vfio_pci_core
	# The kernel found a signature and parsed it, but has no such key
	# (an unsigned module would read "unsigned module"): enrolling the
	# MOK is what is missing.
	check "the kernel refused it for its unknown key" \
		grep -q 'Loading of module with unavailable key is rejected' \
		<(dmesg)
	# Enforcement refuses only what the kernel cannot verify: the distro's
	# modules are signed by Debian's built-in key.
	check "the distro's signed vfio-pci loads by path" load_intree_vfio_pci
	check "rmmod the distro's vfio-pci" modprobe -r vfio-pci
	;;
*)
	echo "usage: $0 installed|removed|enforce" >&2
	exit 2
	;;
esac

rm -rf "$tmp"
finish
