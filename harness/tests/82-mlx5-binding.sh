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
#   - the best match over modules.alias for the vfio_-prefixed modalias of
#     a 15b3:101e function (fnmatch globbing, fewest '*' wins, as a
#     userspace tool choosing the variant driver does) is mlx5_vfio_pci,
#     and for the same function with its own IDs it is vfio_pci;
#   - edu made to report 15b3:101e by pci-id-spoof is not a VF, so not
#     migratable: loaded the way a user would (modprobe) and bound through
#     driver_override, mlx5_vfio_pci passes vfio_pci_device_test and the
#     interrupt selftest with the same result for every case as vfio-pci
#     on the same function, and VFIO_DEVICE_FEATURE_MIGRATION and the
#     other migration features fail with ENOTTY;
#   - the module loads against the distro's mlx5_core (not our model);
#   - without driver_override, binding the spoofed edu to it fails.
# VFIO_PCI_ID_SPOOF_KO names pci_id_spoof.ko (make test-modules).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_device_test vfio_pci_irq_test vfio_pci_mig_test

# The debug kernel has no mlx5_core: there the variant runs on the model
# only (80, 81), and what this test proves needs the distro's.
if ! modinfo -n mlx5_core >/dev/null 2>&1; then
	skip_kernel "kernel $(uname -r) has no mlx5_core (CONFIG_MLX5_CORE)"
	finish
fi

sys=/sys/bus/pci/devices
drv=mlx5_vfio_pci
aliases=/lib/modules/$(uname -r)/modules.alias

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

# best_match MODALIAS: the module whose modules.alias pattern matches
# MODALIAS with the fewest '*'; the first such line wins a tie.  Only
# patterns that can match a string starting with 'v' are read (a bash loop
# over all of modules.alias is slow under TCG).
best_match() {
	local m=$1 pat mod stars best='' best_stars=''
	while read -r _ pat mod; do
		# shellcheck disable=SC2053 # the pattern is a glob on purpose
		[[ $m == $pat ]] || continue
		stars=${pat//[^*]/}
		stars=${#stars}
		echo "#   $mod matches ($stars *): $pat" >&2
		if [ -z "$best_stars" ] || [ "$stars" -lt "$best_stars" ]; then
			best=$mod
			best_stars=$stars
		fi
	done < <(grep -E '^alias [v*?[]' "$aliases")
	echo "$best"
}

best_is() { # modalias module
	local got
	got=$(best_match "$1")
	[ "$got" = "$2" ] && return 0
	echo "# best match for $1: '$got', want $2"
	return 1
}

unbound() {
	[ -z "$(driver_of "$1")" ] && return 0
	echo "# $1 is bound to $(driver_of "$1")"
	return 1
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

if ! edu=$(find_dev 1234:11e8); then
	fail "edu is present"
	finish
fi
echo "# edu at $edu"

check "modinfo $drv: exactly the three vfio_pci: aliases" mod_aliases_ok
check "no pci: alias of $drv in modules.alias" \
	sh -c "! grep -E '^alias pci:.* $drv\$' '$aliases'"
check "vfio_pci's match-all alias is in modules.alias" \
	grep -qE '^alias vfio_pci:v\*d\*sv\*sd\*bc\*sc\*i\* vfio_pci$' "$aliases"
read -r own <"$sys/$edu/modalias"
check "best match for edu's own IDs is vfio_pci" best_is "vfio_$own" vfio_pci

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
check "best match for a 15b3:101e function is $drv" \
	best_is "vfio_$spoofed" "$drv"

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

# ---- under mlx5_vfio_pci ----
# modprobe pulls in the distro's mlx5_core, whose own (auto-probing) ID
# table has 15b3:101e: it would take the spoofed edu and wait two minutes
# for firmware that is not there.  Keep the function for a driver that
# does not exist while the modules load, as an admin reserving it would.
echo none >"$sys/$edu/driver_override"
check "modprobe $drv" modprobe "$drv"
check "it loaded against the distro's mlx5_core" \
	sh -c "! grep -q O /sys/module/mlx5_core/taint"
check "vfio-pci-core under it is our build" \
	sh -c "grep -q O /sys/module/vfio_pci_core/taint"
echo >"$sys/$edu/driver_override"
# Its ID table is override-only: a direct bind without driver_override
# finds no match (and asks no other driver).
bind_refused() {
	! echo "$edu" >"/sys/bus/pci/drivers/$drv/bind" 2>/dev/null
}
check "without driver_override $drv refuses the spoofed edu" bind_refused
check "... which stays unbound" unbound "$edu"
if check "spoofed edu bound to $drv through driver_override" \
	bind_vfio "$edu" "$drv"; then
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
	check "unbind edu from $drv" unbind "$edu"
fi
echo >"$sys/$edu/driver_override"
check "rmmod $drv and what it pulled in" modprobe -r "$drv"
check "rmmod pci_id_spoof" rmmod pci_id_spoof
check "edu reads 1234:11e8 again" \
	sh -c "grep -qx 0x1234 $sys/$edu/vendor && grep -qx 0x11e8 $sys/$edu/device"
finish
