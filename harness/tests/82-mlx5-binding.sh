#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu
# vm-timeout: 1200
# vm-distro: no (Debian's kernel has no mlx5-vfio-pci)
# vm-needs: CONFIG_MLX5_CORE
#
# How mlx5-vfio-pci is picked, and that it is vfio-pci where it cannot
# migrate:
#   - modinfo mlx5_vfio_pci (our build, from updates/) lists exactly the
#     three vfio_pci: aliases (ConnectX VF 15b3:101e, BlueField 15b3:6001,
#     virtio-net 1af4:1042 with subvendor 15b3) and no pci: alias, so it
#     never binds by itself;
#   - depmod -b on a module tree holding exactly our three modules (the
#     files the VM loads, from updates/) and the bind fixture A (for the
#     class-code form: harness/tests/bind-fixture) writes exactly the
#     modules.alias lines the ID tables mean, spelled out below: the
#     vendor/device form with uppercase hex, the subvendor form, the
#     class-code form, vfio_pci's match-all line, none for vfio_pci_core,
#     and no plain pci: line; the VM's own index (made by
#     harness/mkmodroot.sh) has the same four lines for our modules;
#   - tools/vfio-pci-bind reads both indexes: for edu with its own IDs
#     vfio_pci is the only candidate in the VM's index (and fixture A
#     beats it in the staged tree); edu made to report 15b3:101e by
#     pci-id-spoof ranks mlx5_vfio_pci (5 wildcards) first and vfio_pci
#     (7) second in either index;
#   - the tool binds edu with its own IDs to vfio-pci and gives it back
#     (--restore); a ConnectX VF is not a migratable function here: on
#     the spoofed edu, held with driver_override "none" while modules
#     load (the distro's mlx5_core would probe it), the tool loads
#     mlx5_vfio_pci as modprobe would and binds it through
#     driver_override; mlx5_vfio_pci passes vfio_pci_device_test and the
#     interrupt selftest with the same result for every case as vfio-pci
#     (bound by hand) on the same function, and
#     VFIO_DEVICE_FEATURE_MIGRATION and the other migration features fail
#     with ENOTTY; --restore gives the function back unbound with its
#     driver_override "none";
#   - the module loads against the distro's mlx5_core (not our model);
#   - without driver_override, binding the spoofed edu to it fails.
# VFIO_PCI_ID_SPOOF_KO names pci_id_spoof.ko and VFIO_BIND_FIXTURE_DIR the
# bind fixtures' directory (make test-modules), VFIO_PCI_BIND the tool
# (make tools); the last two default to their place under build/.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"
# shellcheck source=lib/bind-tool-lib.sh
. "$harness/tests/lib/bind-tool-lib.sh"

require_vm
need_selftests vfio_pci_device_test vfio_pci_irq_test vfio_pci_mig_test

# The debug kernel has no mlx5_core: there the variant runs on the model
# only (80, 81), and what this test proves needs the distro's.
if ! modinfo -n mlx5_core >/dev/null 2>&1; then
	skip_kernel "kernel $(uname -r) has no mlx5_core (CONFIG_MLX5_CORE)"
	finish
fi

repo=$(dirname "$harness")
tool=${VFIO_PCI_BIND:-$repo/build/tools/vfio-pci-bind/vfio-pci-bind}
fixdir=${VFIO_BIND_FIXTURE_DIR:-$repo/build/test-modules/bind-fixture}
sys=/sys/bus/pci/devices
drv=mlx5_vfio_pci
kver=$(uname -r)
aliases=/lib/modules/$kver/modules.alias
stage=/tmp/alias-tree
staged=$stage/lib/modules/$kver

# What the ID tables mean as modules.alias lines, written out by hand from
# the tables (not from modpost): an entry that is driver_override-only for
# VFIO becomes a "vfio_pci:" alias; a field the entry gives is printed as 8
# digits of uppercase hex, one it leaves as PCI_ANY_ID is "*", and so are
# the class fields unless a class mask asks for them (2 digits each).
#   vfio_pci:       PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID)
#   mlx5_vfio_pci:  15b3:101e and 15b3:6001 by vendor/device; 1af4:1042 with
#                   subvendor 15b3 (PCI_DEVICE_SUB, override_only)
#   fixture A:      1234:11e8 by vendor/device; class 02 00 (Ethernet) with
#                   mask 0xffff00 and every ID PCI_ANY_ID
#   vfio_pci_core:  no ID table, no line
ALL7='vfio_pci:v*d*sv*sd*bc*sc*i*'
OURS_ALIASES="alias $ALL7 vfio_pci
alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci
alias vfio_pci:v000015B3d00006001sv*sd*bc*sc*i* mlx5_vfio_pci
alias vfio_pci:v00001AF4d00001042sv000015B3sd*bc*sc*i* mlx5_vfio_pci"
FIXTURE_ALIASES="alias vfio_pci:v00001234d000011E8sv*sd*bc*sc*i* vfio_bind_fixture_a
alias vfio_pci:v*d*sv*sd*bc02sc00i* vfio_bind_fixture_a"

# ---- the module's aliases ----
mod_aliases_ok() {
	local -a got want
	local file
	file=$(modinfo -F filename "$drv") || return 1
	echo "# $drv: $file"
	case $file in
	*/updates/*) ;;
	*) echo "# not our build from updates/"; return 1 ;;
	esac
	mapfile -t got < <(modinfo -F alias "$drv" | LC_ALL=C sort)
	mapfile -t want < <(LC_ALL=C sort <<-EOF
		vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*
		vfio_pci:v000015B3d00006001sv*sd*bc*sc*i*
		vfio_pci:v00001AF4d00001042sv000015B3sd*bc*sc*i*
	EOF
	)
	printf '#   alias %s\n' "${got[@]}"
	[ "${got[*]}" = "${want[*]}" ] && return 0
	echo "# want exactly:"
	printf '#   alias %s\n' "${want[@]}"
	return 1
}

# stage_tree: a module tree with exactly our three modules, the very files
# the VM's index names (ours, from updates/), and fixture A; indexed by
# depmod -b as a distribution's packaging would.
stage_tree() {
	local m f
	rm -rf "$stage"
	mkdir -p "$staged/extra" || return 1
	for m in vfio_pci_core vfio_pci mlx5_vfio_pci; do
		f=$(modinfo -n "$m") || return 1
		echo "# $m: $f"
		case $f in
		*/updates/*) ;;
		*) echo "# not our build from updates/"; return 1 ;;
		esac
		cp "$f" "$staged/extra/" || return 1
	done
	cp "$fixdir/vfio_bind_fixture_a.ko" "$staged/extra/" || return 1
	depmod -b "$stage" "$kver" 2>"$VM_OUT/depmod.log" ||
		{ sed 's/^/# /' "$VM_OUT/depmod.log"; return 1; }
}

# lines_are FILE WANT: FILE's lines, comments dropped, are WANT's (order
# aside).
lines_are() {
	LC_ALL=C sort <<<"$2" >"$VM_OUT/lines.want"
	if diff "$VM_OUT/lines.want" <(grep -v '^#' "$1" | LC_ALL=C sort) \
		>"$VM_OUT/lines.diff"; then
		sed 's/^/#   /' "$VM_OUT/lines.want"
		return 0
	fi
	echo "# $1, want (<) and got (>):"
	sed 's/^/#   /' "$VM_OUT/lines.diff"
	return 1
}

# The lines of the VM's whole index that name one of our modules.
ours_in_index() {
	grep -E ' (vfio_pci|vfio_pci_core|mlx5_vfio_pci)$' "$aliases" \
		>"$VM_OUT/ours.alias"
	lines_are "$VM_OUT/ours.alias" "$OURS_ALIASES"
}

# The per-case result lines ("ok N name", "ok N name # SKIP ...", "not ok
# ...") of a kselftest log, numbering and reasons dropped.
results_of() {
	awk '/^(not )?ok [0-9]+ / {
		skip = $0 ~ /# SKIP/ ? " SKIP" : ""
		if ($1 == "not") print "not ok", $4 skip
		else print "ok", $3 skip
	}' "$1"
}

same_results() { # log-a log-b
	if diff <(results_of "$1") <(results_of "$2") >"$VM_OUT/results.diff"; then
		echo "# $(results_of "$1" | wc -l) cases, the same results"
		return 0
	fi
	sed 's/^/# /' "$VM_OUT/results.diff"
	return 1
}

if [ ! -x "$tool" ]; then
	fail "vfio-pci-bind is built (make tools)"
	finish
fi
if [ ! -f "$fixdir/vfio_bind_fixture_a.ko" ]; then
	fail "the bind fixture modules are built (make test-modules)"
	finish
fi
if ! edu=$(find_dev 1234:11e8); then
	fail "edu is present"
	finish
fi
echo "# edu at $edu"

check "modinfo $drv: exactly the three vfio_pci: aliases" mod_aliases_ok

# ---- the index depmod makes of our modules ----
check "depmod -b on a tree of our three modules and fixture A" stage_tree
check "the staged tree holds exactly those four modules" \
	sh -c "[ \"\$(ls '$staged/extra' | LC_ALL=C sort | tr '\n' ' ')\" = \
'mlx5-vfio-pci.ko vfio-pci-core.ko vfio-pci.ko vfio_bind_fixture_a.ko ' ]"
check "staged modules.alias: exactly the lines the ID tables mean" \
	lines_are "$staged/modules.alias" "$OURS_ALIASES
$FIXTURE_ALIASES"
check "staged modules.alias: no pci: alias for any of them" \
	sh -c "! grep -E '^alias pci:' '$staged/modules.alias'"
check "staged modules.dep: vfio-pci and mlx5-vfio-pci need vfio-pci-core" \
	sh -c "grep -qx 'extra/vfio-pci.ko: extra/vfio-pci-core.ko' '$staged/modules.dep' &&
		grep -qx 'extra/mlx5-vfio-pci.ko: extra/vfio-pci-core.ko' '$staged/modules.dep'"
check "the VM's index: the same four lines for our modules, no other" \
	ours_in_index

# ---- the tool on edu with its own IDs ----
read -r own <"$sys/$edu/modalias"
echo "# modalias $own"
check "edu: --list on the VM's index has vfio_pci only" \
	list_is "$edu" -- "1 7 vfio_pci $ALL7" "chosen: vfio_pci"
check "edu: --list on the staged tree ranks fixture A over vfio_pci" \
	list_is -m "$staged" "$edu" -- \
	"1 5 vfio_bind_fixture_a vfio_pci:v00001234d000011E8sv*sd*bc*sc*i*" \
	"2 7 vfio_pci $ALL7" "chosen: vfio_bind_fixture_a"
check "edu: the tool binds it: exit 0" rc_is 0 "$edu"
check "edu with its own IDs is bound to vfio-pci" drv_is "$edu" vfio-pci
check "... with driver_override vfio-pci" override_is "$edu" vfio-pci
check "edu: --restore: exit 0" rc_is 0 --restore "$edu"
check "edu has no driver again" drv_is "$edu" ''
check "... and no driver_override" override_is "$edu" ''

ko=${VFIO_PCI_ID_SPOOF_KO:-}
if [ -z "$ko" ] || [ ! -f "$ko" ]; then
	fail "VFIO_PCI_ID_SPOOF_KO names pci_id_spoof.ko (make test-modules)"
	finish
fi
if ! check "edu reports 15b3:101e (pci_id_spoof)" \
	insmod "$ko" bdf="$edu" vendor=0x15b3 device=0x101e; then
	finish
fi
check "vendor reads 0x15b3" grep -qx 0x15b3 "$sys/$edu/vendor"
check "device reads 0x101e" grep -qx 0x101e "$sys/$edu/device"
read -r spoofed <"$sys/$edu/modalias"
echo "# modalias $spoofed"
MLX5_101E='vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*'
check "spoofed edu: --list on the staged tree ranks $drv, then vfio_pci" \
	list_is -m "$staged" "$edu" -- "1 5 $drv $MLX5_101E" \
	"2 7 vfio_pci $ALL7" "chosen: $drv"
check "spoofed edu: --list on the VM's index ranks $drv, then vfio_pci" \
	list_is "$edu" -- "1 5 $drv $MLX5_101E" \
	"2 7 vfio_pci $ALL7" "chosen: $drv"

# ---- under vfio-pci first, for the comparison ----
load_vfio_pci
if check "spoofed edu bound to vfio-pci" bind_vfio "$edu"; then
	run_selftest vfio_pci_device_test "device test, vfio-pci" \
		-- VFIO_SELFTESTS_BDF="$edu"
	ref_dev=$selftest_log
	run_selftest --skips-ok --timeout 600 vfio_pci_irq_test \
		"irq test, vfio-pci" -- VFIO_SELFTESTS_BDF="$edu"
	ref_irq=$selftest_log
	check "unbind edu from vfio-pci" unbind "$edu"
fi
echo >"$sys/$edu/driver_override"
check "rmmod vfio-pci" modprobe -r vfio-pci

# ---- under mlx5_vfio_pci, bound by the tool ----
# Loading mlx5_vfio_pci pulls in the distro's mlx5_core, whose own
# (auto-probing) ID table has 15b3:101e: it would take the spoofed edu and
# wait two minutes for firmware that is not there.  Hold the function for
# a driver that does not exist while the modules load, as an admin
# reserving it would; the tool keeps that as the state to restore.
echo none >"$sys/$edu/driver_override"
check "$drv is not loaded yet" test ! -d "/sys/module/$drv"
if check "spoofed edu: the tool binds it: exit 0" rc_is 0 "$edu"; then
	check "the tool loaded $drv" test -d "/sys/module/$drv"
	check "spoofed edu is bound to $drv" drv_is "$edu" "$drv"
	check "... through driver_override $drv" override_is "$edu" "$drv"
	check "it loaded against the distro's mlx5_core" \
		sh -c "! grep -q O /sys/module/mlx5_core/taint"
	check "vfio-pci-core under it is our build" \
		sh -c "grep -q O /sys/module/vfio_pci_core/taint"
	run_selftest vfio_pci_device_test "device test, $drv" \
		-- VFIO_SELFTESTS_BDF="$edu"
	[ -n "${ref_dev:-}" ] &&
		check "device test: every case as under vfio-pci" \
			same_results "$ref_dev" "$selftest_log"
	run_selftest --skips-ok --timeout 600 vfio_pci_irq_test \
		"irq test, $drv" -- VFIO_SELFTESTS_BDF="$edu"
	[ -n "${ref_irq:-}" ] &&
		check "irq test: every case as under vfio-pci" \
			same_results "$ref_irq" "$selftest_log"
	run_selftest vfio_pci_mig_test "not a VF: migration features ENOTTY" \
		-t probe -- VFIO_SELFTESTS_BDF="$edu" VFIO_MIG_EXPECT_FLAGS=none
	check "spoofed edu: --restore: exit 0" rc_is 0 --restore "$edu"
	check "spoofed edu has no driver again" drv_is "$edu" ''
	check "... and its driver_override 'none' back" override_is "$edu" none
fi
echo >"$sys/$edu/driver_override"
# Its ID table is override-only: a direct bind without driver_override
# finds no match (and asks no other driver).
bind_refused() {
	! echo "$edu" >"/sys/bus/pci/drivers/$drv/bind" 2>/dev/null
}
check "without driver_override $drv refuses the spoofed edu" bind_refused
check "... which stays unbound" unbound "$edu"
check "rmmod $drv and what it pulled in" modprobe -r "$drv"
check "rmmod pci_id_spoof" rmmod pci_id_spoof
check "edu reads 1234:11e8 again" \
	sh -c "grep -qx 0x1234 $sys/$edu/vendor && grep -qx 0x11e8 $sys/$edu/device"
finish
