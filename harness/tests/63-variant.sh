#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu
# vm-distro: no (the variant fixture links against our core only)
#
# vfio-pci-core under a variant driver: the test-only
# vfio-pci-variant-fixture (harness/tests/variant-fixture), built on the
# core's exported blocks only, bound to edu through driver_override.
#   - a device bound to it passes vfio_pci_device_test, the core selftest
#     every driver on the core must pass;
#   - its reset_prepare_count and reset_done_count attributes exist,
#     read-only, start at 0, and count one call each for a reset through
#     the PCI core (sysfs "reset");
#   - region_pages=N: the device-specific region it registers at each open
#     is reported with its type, reads and writes its memory, maps shared
#     with the data written through the fd, and refuses private mappings
#     (the core's rule, vfio_pci_variant_test);
#   - migration ops missing a callback, migration ops without STOP_COPY,
#     and dirty logging ops missing a callback make the core refuse the
#     device at registration: the bind fails, with the reason in the log.
#
# The fixture is built against our vfio_pci_core.h and module symbols and
# cannot load on the distro's core: with VFIO_TEST_DISTRO=1 this test only
# reports a skip.
# VFIO_VARIANT_FIXTURE_KO names the fixture (make test-modules).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
need_selftests vfio_pci_device_test vfio_pci_variant_test

drv=vfio-pci-variant-fixture
sys=/sys/bus/pci/devices
params=/sys/module/vfio_pci_variant_fixture/parameters

if [ "${VFIO_TEST_DISTRO:-0}" = 1 ]; then
	skip "the fixture is built on our core's interface, not the distro's"
	finish
fi
ko=${VFIO_VARIANT_FIXTURE_KO:-}
if [ -z "$ko" ] || [ ! -f "$ko" ]; then
	fail "VFIO_VARIANT_FIXTURE_KO names the fixture module (make test-modules)"
	finish
fi
edu=$(find_dev 1234:11e8) || { fail "edu is present"; finish; }
echo "# edu at $edu"

core_is_ours() {
	local taint=
	read -r taint <"/sys/module/vfio_pci_core/taint" || :
	case $taint in *O*) return 0 ;; esac
	echo "# vfio_pci_core taint '$taint': not our out-of-tree build"
	return 1
}

# attr_is NAME VALUE: the fixture's attribute of edu, read-only, reads VALUE.
attr_is() {
	local f=$sys/$edu/$1 mode val
	[ -e "$f" ] || { echo "# $f missing"; return 1; }
	mode=$(stat -c %a "$f")
	read -r val <"$f"
	[ "$mode" = 444 ] && [ "$val" = "$2" ] && return 0
	echo "# $f: mode $mode, value '$val' (want 444, '$2')"
	return 1
}

# log_has REGEX: the kernel log since the last mark shows REGEX.
log_has() {
	dmesg | sed -n "/$mark/,\$p" | grep -E "$1" && return 0
	echo "# no kernel log line matches '$1'"
	return 1
}

check "modprobe vfio-pci-core" modprobe vfio-pci-core
check "vfio-pci-core is our build" core_is_ours

# ---- a working variant ----
if check "insmod the fixture" insmod "$ko"; then
	if check "edu binds to $drv" bind_vfio "$edu" "$drv"; then
		check "reset_prepare_count is read-only and 0" \
			attr_is reset_prepare_count 0
		check "reset_done_count is read-only and 0" \
			attr_is reset_done_count 0
		# A reset through the PCI core calls both handlers once.
		if echo 1 >"$sys/$edu/reset"; then
			check "host reset: reset_prepare_count is 1" \
				attr_is reset_prepare_count 1
			check "host reset: reset_done_count is 1" \
				attr_is reset_done_count 1
		else
			fail "host reset of edu through sysfs"
		fi
		run_selftest vfio_pci_device_test "vfio_pci_device_test on edu under $drv" \
			-- VFIO_SELFTESTS_BDF="$edu"
		run_selftest --skips-ok vfio_pci_variant_test "no region with region_pages=0" \
			-- VFIO_SELFTESTS_BDF="$edu" VFIO_VARIANT_REGION_PAGES=0
		for pages in 1 3; do
			echo "$pages" >"$params/region_pages"
			run_selftest vfio_pci_variant_test "region of $pages pages" \
				-- VFIO_SELFTESTS_BDF="$edu" VFIO_VARIANT_REGION_PAGES="$pages"
		done
		check "unbind edu from $drv" unbind "$edu"
	fi
	echo >"$sys/$edu/driver_override"
	check "rmmod the fixture" rmmod vfio_pci_variant_fixture
fi

# ---- ops the core must refuse ----
# refused PARAM REGEX: with PARAM the bind fails and the log says why.
refused() {
	local param=$1 re=$2
	mark="vfio-variant-test-mark-$param"
	echo "$mark" >/dev/kmsg
	if ! insmod "$ko" "$param=1"; then
		fail "$param: insmod the fixture"
		return
	fi
	if bind_vfio "$edu" "$drv" 2>/dev/null; then
		fail "$param: the core refuses to register the device"
		unbind "$edu"
	else
		pass "$param: the core refuses to register the device"
	fi
	check "$param: edu is left unbound" test -z "$(driver_of "$edu")"
	check "$param: the log says why" log_has "$edu.*$re"
	echo >"$sys/$edu/driver_override"
	check "$param: rmmod the fixture" rmmod vfio_pci_variant_fixture
}

refused incomplete_mig_ops 'migration ops lack'
refused mig_no_stop_copy 'migration ops without VFIO_MIGRATION_STOP_COPY'
refused incomplete_log_ops 'dirty logging ops lack'

check "rmmod vfio-pci-core" modprobe -r vfio-pci-core
finish
