#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e,nvme,pci-testdev-pair
# vm-timeout: 900
#
# tools/vfio-pci-bind, the best-match VFIO driver binding tool:
#   - on the VM's module index: edu and e1000e have one candidate,
#     vfio_pci by its match-all alias (7 wildcards); the tool loads it
#     and binds both; --dry-run prints the steps and changes nothing;
#     --restore gives e1000e back to e1000e and edu back to no driver and
#     clears driver_override; a second --restore has no state and fails;
#   - on module trees made here (depmod -b, used through --moddir): the
#     fixture module vfio_bind_fixture_a (harness/tests/bind-fixture) wins
#     over vfio_pci for edu by vendor/device and for e1000e by class code
#     (5 wildcards against 7), --list shows both with their rank, and the
#     tool binds edu to it; with vfio_bind_fixture_b (e1000e by
#     vendor/device, also 5) in the tree too, the tie for e1000e is
#     reported and A, first by name, is chosen; --driver picks B;
#   - every failure has its exit code, and leaves the device as it was:
#     usage 2, no such device 3, no match 4 (a tree without vfio_pci for
#     nvme), module load failure 5 (fixture init failing through a
#     modprobe.d option, and a module that does not exist), probe failure
#     6 (fixture fail_probe=1), device in use 7 (its group file held open
#     by a process: the tool's policy, the kernel would let the unbind
#     through), group with a device on a host driver 8 (the two
#     functions of pci-testdev-pair share a group; one on the fixture, a
#     host driver, blocks the other; on vfio-pci it does not);
#   - Debian's driverctl set-override binds e1000e to vfio-pci and
#     unset-override gives it back to e1000e.
# VFIO_BIND_FIXTURE_DIR names the fixture modules' directory (make
# test-modules), VFIO_PCI_BIND the tool (make tools); both default to
# their place under build/.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"
# shellcheck source=lib/bind-tool-lib.sh
. "$harness/tests/lib/bind-tool-lib.sh"

require_vm

repo=$(dirname "$harness")
tool=${VFIO_PCI_BIND:-$repo/build/tools/vfio-pci-bind/vfio-pci-bind}
fixdir=${VFIO_BIND_FIXTURE_DIR:-$repo/build/test-modules/bind-fixture}
sys=/sys/bus/pci/devices
kver=$(uname -r)
state=/run/vfio-pci-bind
trees=/tmp/bind-trees

if [ ! -x "$tool" ]; then
	fail "vfio-pci-bind is built (make tools)"
	finish
fi
if [ ! -f "$fixdir/vfio_bind_fixture_a.ko" ] ||
	[ ! -f "$fixdir/vfio_bind_fixture_b.ko" ]; then
	fail "the fixture modules are built (make test-modules)"
	finish
fi

edu=$(find_dev 1234:11e8) || { fail "edu is present"; finish; }
e1000e=$(find_dev 8086:10d3) || { fail "e1000e is present"; finish; }
nvme=$(find_dev 1b36:0010) || { fail "nvme is present"; finish; }
tdev0=$(find_dev 1b36:0005 1) || { fail "pci-testdev-pair is present"; finish; }
tdev1=$(find_dev 1b36:0005 2) || { fail "pci-testdev-pair is present"; finish; }
echo "# edu $edu, e1000e $e1000e, nvme $nvme, pci-testdev-pair $tdev0 $tdev1"

# snapshot BDF: what a dry run or a refused run must leave as it was.
snapshot() {
	local o m
	read -r o <"$sys/$1/driver_override"
	m=$(cut -d' ' -f1 /proc/modules | grep -E '^(vfio|vfio_pci|vfio_pci_core|vfio_bind_fixture_a|vfio_bind_fixture_b)$' | sort | tr '\n' ' ')
	echo "driver=$(driver_of "$1") override=$o modules=$m state=$(find "$state" -mindepth 1 -printf '%f ' 2>/dev/null)"
}
same_as() { # bdf earlier-snapshot
	local now
	now=$(snapshot "$1")
	[ "$now" = "$2" ] && return 0
	echo "# before: $2"
	echo "# after:  $now"
	return 1
}

# mktree NAME KO...: a module tree with only these modules, indexed.
mktree() {
	local name=$1 dir
	shift
	dir=$trees/$name/lib/modules/$kver
	rm -rf "${trees:?}/$name"
	mkdir -p "$dir/extra" || return 1
	cp "$@" "$dir/extra/" || return 1
	depmod -b "$trees/$name" "$kver" 2>"$VM_OUT/depmod-$name.log" ||
		{ cat "$VM_OUT/depmod-$name.log"; return 1; }
}

ALL7='vfio_pci:v*d*sv*sd*bc*sc*i*'

# ---- usage and lookups that change nothing ----
check "--help lists every exit code" \
	sh -c "'$tool' --help | grep -cE '^  [0-8]  ' | grep -qx 9"
check "no argument: usage error, exit 2" rc_is 2
check "not a PCI address: usage error, exit 2" rc_is 2 0000:zz:00.0
check "no such device: exit 3" rc_is 3 0000:7f:1f.7
check "no such device: says so" err_has 'no such PCI device'
check "vfio_pci is not loaded yet" test ! -d /sys/module/vfio_pci
check "edu: --list ranks vfio_pci first, by its match-all alias" \
	list_is "$edu" -- "1 7 vfio_pci $ALL7" "chosen: vfio_pci"
check "e1000e: --list ranks vfio_pci first, by its match-all alias" \
	list_is "$e1000e" -- "1 7 vfio_pci $ALL7" "chosen: vfio_pci"

check "modprobe e1000e" modprobe e1000e
check "e1000e is bound to e1000e" drv_is "$e1000e" e1000e

# ---- dry run ----
before=$(snapshot "$e1000e")
check "--dry-run e1000e: exit 0" rc_is 0 --dry-run "$e1000e"
check "--dry-run prints the load, override, unbind and probe steps" \
	sh -c "grep -q '^would load module vfio_pci' '$VM_OUT/bt.out' &&
		grep -q '^would set driver_override' '$VM_OUT/bt.out' &&
		grep -q '^would unbind from e1000e' '$VM_OUT/bt.out' &&
		grep -q '^would probe the device' '$VM_OUT/bt.out'"
check "--dry-run changed nothing (driver, override, modules, state)" \
	same_as "$e1000e" "$before"

# ---- binding on the VM's own index ----
check "bind e1000e: exit 0" rc_is 0 "$e1000e"
check "e1000e is bound to vfio-pci" drv_is "$e1000e" vfio-pci
check "... with driver_override vfio-pci" override_is "$e1000e" vfio-pci
check "the tool loaded vfio_pci" test -d /sys/module/vfio_pci
if [ "${VFIO_TEST_DISTRO:-0}" = 1 ]; then
	skip "check_modules_ours (VFIO_TEST_DISTRO=1: testing the distro's modules)"
else
	check "vfio-pci modules are our out-of-tree build" check_modules_ours
fi
check "its state file keeps driver e1000e" \
	grep -qx driver=e1000e "$state/$e1000e"
check "bind edu: exit 0" rc_is 0 "$edu"
check "edu is bound to vfio-pci" drv_is "$edu" vfio-pci
check "binding edu again: exit 0, already bound" rc_is 0 "$edu"
check "binding edu again: says it is already bound" grep -q 'already bound to vfio-pci' "$VM_OUT/bt.out"

# ---- in use: a process holds edu's group file open ----
# The holder has only the group open: the kernel would let an unbind
# through (only an open device blocks it), so the refusal is the tool's
# alone.  It lets go by itself after two minutes, so that no run can hang
# on it.
group=$(iommu_group "$edu")
python3 -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
print("ready", flush=True)
time.sleep(120)' "/dev/vfio/$group" >"$VM_OUT/holder.log" 2>&1 &
holder=$!
if check "a process holds edu's group file open" \
	wait_line "$VM_OUT/holder.log" '^ready' 60; then
	before=$(snapshot "$edu")
	check "--restore edu while in use: exit 7" rc_is 7 --restore "$edu"
	check "in use: the holder is named" err_has "in use: process $holder holds /dev/vfio/$group open"
	check "rebind edu while in use: exit 7" rc_is 7 --driver vfio_pci "$edu"
	check "in use: edu was left as it was" same_as "$edu" "$before"
fi
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# ---- restore ----
check "--restore e1000e from vfio-pci: exit 0" rc_is 0 --restore "$e1000e"
check "e1000e is back on e1000e from vfio-pci" drv_is "$e1000e" e1000e
check "... with driver_override cleared, from vfio-pci" override_is "$e1000e" ''
check "... and its state file gone" test ! -e "$state/$e1000e"
check "--restore edu from vfio-pci: exit 0" rc_is 0 --restore "$edu"
check "edu has no driver again, from vfio-pci" drv_is "$edu" ''
check "... with driver_override cleared, edu" override_is "$edu" ''
check "--restore edu again: no state, exit 1" rc_is 1 --restore "$edu"

# ---- Debian's driverctl on our modules ----
if command -v driverctl >/dev/null; then
	check "driverctl set-override e1000e vfio-pci" \
		driverctl --nosave set-override "$e1000e" vfio-pci
	check "e1000e is bound to vfio-pci by driverctl" drv_is "$e1000e" vfio-pci
	check "... with driver_override vfio-pci, by driverctl" \
		override_is "$e1000e" vfio-pci
	check "driverctl unset-override e1000e" \
		driverctl --nosave unset-override "$e1000e"
	check "e1000e is back on e1000e after driverctl" drv_is "$e1000e" e1000e
	check "... with driver_override cleared by driverctl" \
		override_is "$e1000e" ''
else
	fail "driverctl is installed (harness/setup.sh)"
fi

# ---- module trees with the fixtures ----
a=$fixdir/vfio_bind_fixture_a.ko
b=$fixdir/vfio_bind_fixture_b.ko
vp=$(modinfo -n vfio_pci)
check "tree with vfio_pci and fixture A" mktree fix "$vp" "$a"
check "tree with vfio_pci and fixtures A and B" mktree tie "$vp" "$a" "$b"
check "tree with fixture A only" mktree nopci "$a"
fix=$trees/fix/lib/modules/$kver
tie=$trees/tie/lib/modules/$kver
nopci=$trees/nopci/lib/modules/$kver

check "edu: --list ranks fixture A (vendor/device) over vfio_pci" \
	list_is -m "$fix" "$edu" -- \
	"1 5 vfio_bind_fixture_a vfio_pci:v00001234d000011E8sv*sd*bc*sc*i*" \
	"2 7 vfio_pci $ALL7" "chosen: vfio_bind_fixture_a"
check "e1000e: --list ranks fixture A (class code) over vfio_pci" \
	list_is -m "$fix" "$e1000e" -- \
	"1 5 vfio_bind_fixture_a vfio_pci:v*d*sv*sd*bc02sc00i*" \
	"2 7 vfio_pci $ALL7" "chosen: vfio_bind_fixture_a"
check "nvme: --list has vfio_pci only" \
	list_is -m "$fix" "$nvme" -- "1 7 vfio_pci $ALL7" "chosen: vfio_pci"
check "... and no tie is reported" sh -c "! grep -q tie '$VM_OUT/bt.err'"
check "e1000e with fixture B too: --list has the tie" \
	list_is -m "$tie" "$e1000e" -- \
	"1 5 vfio_bind_fixture_a vfio_pci:v*d*sv*sd*bc02sc00i*" \
	"2 5 vfio_bind_fixture_b vfio_pci:v00008086d000010D3sv*sd*bc*sc*i*" \
	"3 7 vfio_pci $ALL7" "chosen: vfio_bind_fixture_a"
check "... and reports it on stderr" \
	err_has 'tie: vfio_bind_fixture_a and vfio_bind_fixture_b both match with 5 wildcards'

check "fixture A is not loaded yet" test ! -d /sys/module/vfio_bind_fixture_a
check "bind edu on the fixture tree: exit 0" rc_is 0 -m "$fix" "$edu"
check "edu is bound to fixture A's driver" drv_is "$edu" vfio-bind-fixture-a
check "the tool loaded fixture A" test -d /sys/module/vfio_bind_fixture_a
check "--restore edu from fixture A: exit 0" rc_is 0 --restore "$edu"
check "edu has no driver again, from fixture A" drv_is "$edu" ''

check "bind e1000e on the tie tree: exit 0" rc_is 0 -m "$tie" "$e1000e"
check "... reports the tie" err_has 'tie: vfio_bind_fixture_a and vfio_bind_fixture_b'
check "e1000e is bound to fixture A's driver (first by name)" \
	drv_is "$e1000e" vfio-bind-fixture-a
check "--driver vfio_bind_fixture_b e1000e: exit 0" \
	rc_is 0 -m "$tie" --driver vfio_bind_fixture_b "$e1000e"
check "e1000e is bound to fixture B's driver" drv_is "$e1000e" vfio-bind-fixture-b
check "the state file still keeps driver e1000e" \
	grep -qx driver=e1000e "$state/$e1000e"
check "--restore e1000e from fixture B: exit 0" rc_is 0 --restore "$e1000e"
check "e1000e is back on e1000e from fixture B" drv_is "$e1000e" e1000e
check "... with driver_override cleared, from fixture B" override_is "$e1000e" ''

# ---- failures ----
before=$(snapshot "$nvme")
check "nvme on a tree without vfio_pci: no match, exit 4" rc_is 4 -m "$nopci" "$nvme"
check "no match: says so" err_has 'no module has a vfio_pci: alias matching'
check "no match: nvme was left as it was" same_as "$nvme" "$before"

check "rmmod the fixtures" rmmod vfio_bind_fixture_a vfio_bind_fixture_b
echo "options vfio_bind_fixture_a fail_init=1" >/etc/modprobe.d/92-bind-tool.conf
before=$(snapshot "$edu")
check "fixture A failing to load: exit 5" rc_is 5 -m "$fix" "$edu"
check "load failure: says so" err_has 'loading module vfio_bind_fixture_a failed'
check "load failure: edu was left as it was" same_as "$edu" "$before"
rm -f /etc/modprobe.d/92-bind-tool.conf
check "--driver naming no module: exit 5" rc_is 5 --driver no_such_module "$edu"
check "--driver naming no module: says so" err_has 'module no_such_module is not in the module index'

check "load fixture A" modprobe -d "$trees/fix" vfio_bind_fixture_a
echo 1 >/sys/module/vfio_bind_fixture_a/parameters/fail_probe
before=$(snapshot "$e1000e")
check "fixture A refusing the probe: exit 6" rc_is 6 -m "$fix" "$e1000e"
check "probe failure: says so" err_has 'probe failed: vfio-bind-fixture-a did not take the device'
check "probe failure: e1000e is back on e1000e, as it was" same_as "$e1000e" "$before"
echo 0 >/sys/module/vfio_bind_fixture_a/parameters/fail_probe

# ---- a group with a device on a host driver ----
g0=$(iommu_group "$tdev0")
g1=$(iommu_group "$tdev1")
if check "pci-testdev-pair's functions share an IOMMU group" test "$g0" = "$g1"; then
	echo vfio-bind-fixture-a >"$sys/$tdev1/driver_override"
	echo "$tdev1" >/sys/bus/pci/drivers_probe
	check "function 1 is on fixture A (a host driver)" \
		drv_is "$tdev1" vfio-bind-fixture-a
	before=$(snapshot "$tdev0")
	check "bind function 0: other device on a host driver, exit 8" rc_is 8 "$tdev0"
	check "host driver in the group: the device is named" err_has "IOMMU group has $tdev1 bound to host driver vfio-bind-fixture-a"
	check "host driver in the group: function 0 was left as it was" same_as "$tdev0" "$before"
	check "function 1 to vfio-pci through the tool: exit 0" rc_is 0 "$tdev1"
	check "function 1 is on vfio-pci" drv_is "$tdev1" vfio-pci
	check "bind function 0 beside a vfio-pci function: exit 0" rc_is 0 "$tdev0"
	check "function 0 is on vfio-pci" drv_is "$tdev0" vfio-pci
	check "--restore function 0: exit 0" rc_is 0 --restore "$tdev0"
	check "--restore function 1: back on fixture A" rc_is 0 --restore "$tdev1"
	check "function 1 is on fixture A again" drv_is "$tdev1" vfio-bind-fixture-a
	check "... with its driver_override as it was" \
		override_is "$tdev1" vfio-bind-fixture-a
	unbind "$tdev1"
	echo >"$sys/$tdev1/driver_override"
fi

check "rmmod fixture A" rmmod vfio_bind_fixture_a
check "rmmod vfio-pci" modprobe -r vfio-pci
finish
