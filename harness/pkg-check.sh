#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/pkg-check.sh - the packaging stage of `make check`: our modules
# installed on this host the three ways a user installs them, for the
# pinned kernel (harness/kver.sh), and a VM booted on the host's own
# module tree (harness/vm --modroot /) to see what modprobe then loads.
#
#   make install    INSTALL_MOD_PATH=a scratch root: the three modules in
#                   updates/vfio-pci/, depmod's index has their vfio_pci:
#                   aliases and resolves the names there; make uninstall
#                   takes them out again
#   DKMS            make dkms-source, dkms add/build/install -k KVER: the
#                   three modules in updates/dkms/, each carrying an
#                   appended PKCS#7 signature that openssl verifies against
#                   DKMS's MOK certificate (and that fails on a changed
#                   byte or another certificate); a VM loads them with
#                   modprobe (harness/pkg-guest.sh installed: the loaded
#                   build IDs are those files', edu binds and passes
#                   vfio_pci_device_test, mlx5-vfio-pci loads on Debian's
#                   mlx5_core); uninstalled, the kernel install hook
#                   (/etc/kernel/postinst.d/dkms, what a new kernel
#                   package runs) installs them again (AUTOINSTALL);
#                   after dkms remove a VM loads the distro's vfio-pci
#   Debian package  make deb, dpkg -i: the postinst builds and installs
#                   the same signed modules; a VM booted with
#                   module.sig_enforce=1 in lockdown refuses ours for want
#                   of the enrolled key and still loads the distro's
#                   signed vfio-pci; after dpkg -r a VM loads the
#                   distro's again
#
# It changes the host (/usr/src, /var/lib/dkms, /lib/modules/KVER and its
# module index, the dpkg database), so it refuses to start over an install
# of ours it did not make, holds a lock against a second run, and on any
# exit removes what it added: the module index comes back byte for byte
# (checked), and DKMS's MOK key pair is deleted if this run generated it.
# VMs booted with --modroot / see the host's tree, so nothing else may
# boot such VMs meanwhile: make check runs this stage on its own.
#
# Usage: harness/pkg-check.sh   (as root)
# Output: "ok"/"FAIL" per check, then "pkg-check: N passed, M failed";
# VM results in build/vm-runs/pkg-check/.  Exit status 1 on any failure.

set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 2
here=$repo/harness

die() { echo "pkg-check: $*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "must run as root: it installs on this host"
command -v dkms >/dev/null || die "dkms is missing (run harness/setup.sh)"
kver=$("$here/kver.sh") || die "no kernel (run harness/setup.sh)"
conf_value() { sed -n "s/^$1=\"\\(.*\\)\"\$/\\1/p" "$repo/dkms.conf"; }
name=$(conf_value PACKAGE_NAME)
version=$(conf_value PACKAGE_VERSION)
pkg=vfio-pci-dkms
moddir=/lib/modules/$kver
dkms_dir=$moddir/updates/dkms
intree_dir=$moddir/kernel/drivers/vfio/pci
src=/usr/src/$name-$version
force=/usr/share/dkms/modules_to_force_install/$name
mok_key=/var/lib/dkms/mok.key
mok_cert=/var/lib/dkms/mok.pub
modules=(vfio-pci-core vfio-pci mlx5-vfio-pci)
out=$repo/build/vm-runs/pkg-check
selftest=$repo/build/selftests/vfio_pci_device_test

[ -x "$selftest" ] || die "$selftest missing (make selftests)"

# One run at a time on this host, from any checkout.
exec 9>/run/lock/vfio-pci-pkg-check.lock
flock -w 900 9 || die "another pkg-check holds /run/lock/vfio-pci-pkg-check.lock"

# Someone's own install of ours is not ours to remove.
[ -z "$(dkms status -m "$name" 2>/dev/null)" ] ||
	die "DKMS already has $name ($(dkms status -m "$name" 2>/dev/null | head -n 1)): remove it first"
! dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^[ih]' ||
	die "$pkg is installed: dpkg -r $pkg first"
for f in "$src" "$force"; do
	[ ! -e "$f" ] || die "$f exists: left by an earlier install? remove it first"
done
[ -z "$(find "$moddir/updates" -name '*vfio*' 2>/dev/null)" ] ||
	die "$moddir/updates already holds vfio modules: remove them first"

rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)

# ---- what to give back --------------------------------------------------
# The module index and the names in the trees we touch, as they are now.
snapshot() {
	(cd "$moddir" && md5sum modules.*)
	find "$moddir" /usr/src /usr/share/dkms /var/lib/dkms -maxdepth 3 \
		-path "$moddir/build" -prune -o -print 2>/dev/null | sort
}
snapshot >"$out/host-before"
had_mok=0
[ -e "$mok_key" ] && had_mok=1
# Directories this run may create, removed again if they were not there.
new_dirs=()
for d in /usr/share/dkms/modules_to_force_install /usr/share/dkms \
	"$dkms_dir" "$moddir/updates"; do
	[ -d "$d" ] || new_dirs+=("$d")
done

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
bad() { failed=$((failed + 1)); echo "FAIL - $*"; }
fails() { ! "$@"; }
check() { # message command...
	local msg=$1
	shift
	if "$@"; then ok "$msg"; else bad "$msg"; fi
}
# Run a step whose output goes to $out/LOG.log; shown when it fails.
step() { # log message command...
	local log=$out/$1.log msg=$2
	shift 2
	if "$@" >"$log" 2>&1; then
		ok "$msg"
		return 0
	fi
	bad "$msg (see $log)"
	tail -n 20 "$log" | sed 's/^/    /'
	return 1
}

cleanup() {
	local d
	trap - EXIT INT TERM
	if dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^[ih]'; then
		dpkg -r "$pkg" >>"$out/cleanup.log" 2>&1
	fi
	if [ -n "$(dkms status -m "$name" 2>/dev/null)" ]; then
		dkms remove -m "$name" -v "$version" --all >>"$out/cleanup.log" 2>&1
	fi
	rm -rf "$src" "$force" "$tmp"
	if [ "$had_mok" -eq 0 ]; then
		rm -f "$mok_key" "$mok_cert"
	fi
	for d in "${new_dirs[@]}"; do
		rmdir "$d" 2>/dev/null
	done
	# Anything not given back is a failure of this test, and worth a
	# look before the next stage boots VMs on this tree.
	if ! diff -u "$out/host-before" <(snapshot) >"$out/host-diff"; then
		bad "host left as found (see $out/host-diff)"
	else
		ok "host left as found: module index, /usr/src, DKMS tree"
	fi
	echo "pkg-check: $passed passed, $failed failed"
	# (A bare exit in a trap would give the status from before it.)
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}
trap cleanup EXIT
trap 'bad "interrupted"; exit 130' INT TERM

# ---- signatures ------------------------------------------------------------
# A signed module ends in the PKCS#7 signature (DER), a 12-byte
# struct module_signature whose last 4 bytes are the signature's length
# (big endian) and whose id_type (byte 2) is 2 for PKCS#7, and the
# 28-byte marker "~Module signature appended~\n".  The signature covers
# everything before it, and sign-file leaves the certificate out.
# verify_sig MODULE CERT_DER [tamper]: openssl verifies the signature
# against CERT, taken as the only trusted certificate; 0 if it holds.
# "tamper" changes one byte of the signed content first.
verify_sig() {
	local mod=$1 cert=$2 tamper=${3:-} d=$tmp/sig size b siglen clen
	rm -rf "$d"
	mkdir -p "$d"
	case $mod in
	*.xz) xz -dc "$mod" ;;
	*.zst) zstd -q -dc "$mod" ;;
	*.gz) gzip -dc "$mod" ;;
	*) cat "$mod" ;;
	esac >"$d/ko" || return 1
	size=$(stat -c %s "$d/ko")
	if [ "$(tail -c 28 "$d/ko" | tr '\n' '|')" != '~Module signature appended~|' ]; then
		echo "# $mod: no appended signature"
		return 1
	fi
	read -r -a b < <(tail -c 40 "$d/ko" | head -c 12 | od -An -v -tu1 | tr -s ' \n' ' ')
	if [ "${b[2]}" != 2 ]; then
		echo "# $mod: signature id_type ${b[2]}, not PKCS#7 (2)"
		return 1
	fi
	siglen=$(((b[8] << 24) | (b[9] << 16) | (b[10] << 8) | b[11]))
	clen=$((size - 40 - siglen))
	[ "$clen" -gt 0 ] || { echo "# $mod: signature length $siglen too large"; return 1; }
	head -c "$clen" "$d/ko" >"$d/content"
	tail -c $((siglen + 40)) "$d/ko" | head -c "$siglen" >"$d/sig.der"
	if [ "$tamper" = tamper ]; then
		printf '\xff' | dd of="$d/content" bs=1 seek=$((clen / 2)) conv=notrunc status=none
	fi
	openssl x509 -inform DER -in "$cert" -out "$d/cert.pem" || return 1
	openssl cms -verify -binary -inform DER -in "$d/sig.der" -content "$d/content" \
		-certfile "$d/cert.pem" -CAfile "$d/cert.pem" -purpose any \
		-out /dev/null 2>"$d/openssl.err"
}

# The file modprobe would load for module name $1 in KVER's tree, under
# the root $2 if given (modinfo -b).
resolves() {
	modinfo ${2:+-b "$2"} -k "$kver" -F filename "$1" 2>/dev/null
}
resolves_under() { # name dir
	local f
	f=$(resolves "$1")
	case $f in
	"$2"/*) return 0 ;;
	esac
	echo "# $1 resolves to '${f:-nothing}', not under $2"
	return 1
}

# Our three modules installed by DKMS for KVER, signed with the MOK, and
# preferred by modprobe over the kernel's own.
check_installed() { # how
	local m f
	check "$1: dkms status says installed for $kver" \
		grep -q ": installed\$" <(dkms status -m "$name" -v "$version" -k "$kver" 2>/dev/null)
	for m in "${modules[@]}"; do
		f=$(find "$dkms_dir" -name "$m.ko*" 2>/dev/null | head -n 1)
		if [ -z "$f" ]; then
			bad "$1: $m is in $dkms_dir"
			continue
		fi
		ok "$1: $m is in $dkms_dir"
		check "$1: $m is signed with DKMS's MOK (openssl verifies it)" \
			verify_sig "$f" "$mok_cert"
	done
	check "$1: modprobe resolves vfio-pci to updates/dkms" resolves_under vfio-pci "$dkms_dir"
	check "$1: modprobe resolves vfio-pci-core to updates/dkms" \
		resolves_under vfio-pci-core "$dkms_dir"
}

# Nothing of ours left; modprobe resolves the kernel's own again.
check_removed() { # how
	check "$1: dkms knows no $name" test -z "$(dkms status -m "$name" 2>/dev/null)"
	check "$1: no vfio module left in updates/" \
		test -z "$(find "$moddir/updates" -name '*vfio*' 2>/dev/null)"
	check "$1: modprobe resolves vfio-pci to the kernel's" resolves_under vfio-pci "$intree_dir"
	check "$1: modprobe resolves vfio-pci-core to the kernel's" \
		resolves_under vfio-pci-core "$intree_dir"
	check "$1: no mlx5-vfio-pci (Debian's kernel has none)" test -z "$(resolves mlx5-vfio-pci)"
}

# A VM on the host's module tree runs harness/pkg-guest.sh MODE.
vm() { # name mode [--append ARGS]
	local name=$1 mode=$2 rc=0
	shift 2
	"$here/vm" --devices edu --modroot / --out "$out/$name" "$@" \
		-- "$here/pkg-guest.sh" "$mode" >"$out/$name.log" 2>&1 || rc=$?
	grep -E '^(ok|not ok) ' "$out/$name/output.log" 2>/dev/null | sed 's/^/    /'
	if [ "$rc" -eq 0 ]; then
		ok "VM $name: pkg-guest.sh $mode passed"
	else
		bad "VM $name: pkg-guest.sh $mode (status $rc, see $out/$name.log)"
		tail -n 8 "$out/$name.log" | sed 's/^/    /'
	fi
}

# ---- make install -----------------------------------------------------------
root=$tmp/root
mkdir -p "$root"
if step make-install "make install INSTALL_MOD_PATH=<scratch root>" \
	make -s install INSTALL_MOD_PATH="$root"; then
	for m in "${modules[@]}"; do
		check "make install: $m is in updates/vfio-pci/" \
			test -n "$(find "$root$moddir/updates/vfio-pci" -name "$m.ko*")"
	done
	check "make install: modules.alias has vfio-pci's vfio_pci: alias" \
		grep -qx 'alias vfio_pci:v\*d\*sv\*sd\*bc\*sc\*i\* vfio_pci' "$root$moddir/modules.alias"
	check "make install: modules.alias has mlx5-vfio-pci's vfio_pci: aliases" \
		grep -q '^alias vfio_pci:v000015B3d0000101E.* mlx5_vfio_pci$' "$root$moddir/modules.alias"
	check "make install: the index resolves vfio-pci to updates/vfio-pci" \
		grep -q "^$root$moddir/updates/vfio-pci/vfio-pci\\.ko" <(resolves vfio-pci "$root")
	step make-uninstall "make uninstall INSTALL_MOD_PATH=<scratch root>" \
		make -s uninstall INSTALL_MOD_PATH="$root" &&
		check "make uninstall: no module and no vfio_pci: alias left" \
			test -z "$(find "$root" -name '*.ko*'; grep vfio_pci: "$root$moddir/modules.alias")"
fi

# ---- DKMS --------------------------------------------------------------------
if step dkms-source "make dkms-source: $src" make -s dkms-source &&
	step dkms-add "dkms add -m $name -v $version" dkms add -m "$name" -v "$version" &&
	step dkms-build "dkms build -k $kver" dkms build -m "$name" -v "$version" -k "$kver" &&
	step dkms-install "dkms install -k $kver" dkms install -m "$name" -v "$version" -k "$kver"; then
	check_installed dkms
	# The verification can fail: on a changed byte, and with a key that
	# did not sign.
	f=$(find "$dkms_dir" -name 'vfio-pci.ko*' | head -n 1)
	if [ -n "$f" ]; then
		check "a changed byte fails the signature check" \
			fails verify_sig "$f" "$mok_cert" tamper
		openssl req -new -x509 -nodes -days 1 -subj "/CN=not the MOK" \
			-newkey rsa:2048 -keyout "$tmp/other.key" -outform DER \
			-out "$tmp/other.der" 2>/dev/null
		check "another certificate fails the signature check" \
			fails verify_sig "$f" "$tmp/other.der"
	fi
	vm dkms-installed installed
	# What Debian's kernel packages run for a new kernel: dkms_autoinstaller
	# installs every AUTOINSTALL module that is not installed for it.
	if step dkms-uninstall "dkms uninstall -k $kver" \
		dkms uninstall -m "$name" -v "$version" -k "$kver"; then
		check "uninstalled: no module in updates/dkms" \
			test -z "$(find "$dkms_dir" -name '*vfio*' 2>/dev/null)"
		step autoinstall "/etc/kernel/postinst.d/dkms $kver (a new kernel's hook)" \
			/etc/kernel/postinst.d/dkms "$kver" &&
			check_installed autoinstall
	fi
	step dkms-remove "dkms remove --all" dkms remove -m "$name" -v "$version" --all &&
		check_removed "dkms remove" &&
		vm dkms-removed removed
fi
rm -rf "$src" "$force"

# ---- the Debian package ----------------------------------------------------
deb=
if step make-deb "make deb" make -s deb; then
	deb=$(tail -n 1 "$out/make-deb.log")
fi
if [ -n "$deb" ]; then
	# shellcheck disable=SC2016  # (dpkg-deb's fields, not the shell's)
	check "the .deb is $pkg, architecture all, depends on dkms" \
		grep -qx "$pkg all dkms (>= 3.0), make, rsync, xz-utils" \
		<(dpkg-deb -W --showformat='${Package} ${Architecture} ${Depends}\n' "$deb")
	check "the .deb ships the DKMS sources and the version override" \
		test "$(dpkg-deb -c "$deb" | grep -cE " \./(usr/src/$name-$version/(dkms\.conf|Makefile|drivers/vfio/pci/vfio_pci_core\.c)|usr/share/dkms/modules_to_force_install/$name)\$")" = 4
	if step dpkg-install "dpkg -i $(basename "$deb")" dpkg -i "$deb"; then
		check "dpkg: $pkg is installed" \
			grep -q '^ii' <(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg")
		check_installed "dpkg -i"
		vm deb-sig-enforce enforce --append "module.sig_enforce=1 lockdown=integrity"
		step dpkg-remove "dpkg -r $pkg" dpkg -r "$pkg" &&
			check "dpkg -r: $src is gone" test ! -e "$src" &&
			check_removed "dpkg -r" &&
			vm deb-removed removed
	fi
fi
