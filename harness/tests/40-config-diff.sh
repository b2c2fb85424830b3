#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e,nvme,virtio-net,pci-testdev,ivshmem
# vm-distro: no (compares ours with the distro itself)
#
# Differential test of the config space a vfio-pci user sees.  In one VM,
# the distro's in-tree vfio-pci-core/vfio-pci are loaded by path (modprobe
# would pick ours from updates/), every device is bound to them and
# vfio_pci_config_test runs against it, recording in $VM_OUT/cfg-distro-*
# what it saw: the initial view, an all-ones write to every dword and what
# read back, the view after writing the originals back, and targeted
# COMMAND/PMCSR/MSI writes.  Then the devices are unbound, the distro
# modules removed, ours loaded with modprobe, and the same again into
# $VM_OUT/cfg-ours-*.  The dumps must match line for line, except for the
# deliberate differences listed in explain() below; every kselftest in the
# program must pass under both drivers (it asserts, among others, the
# errno of bad accesses, so both drivers agree on those too).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
repo=$(dirname "$harness")
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm

bins=${VFIO_SELFTESTS_DIR:-$repo/build/selftests}
prog=$bins/vfio_pci_config_test
devs=(edu e1000e nvme virtio-net pci-testdev ivshmem)
declare -A ids=([edu]=1234:11e8 [e1000e]=8086:10d3 [nvme]=1b36:0010
		[virtio-net]=1af4:1041 [pci-testdev]=1b36:0005
		[ivshmem]=1af4:1110)
declare -A bdf_of=()

[ -x "$prog" ] || { fail "$prog is built (harness/build-selftests.sh)"; finish; }

for name in "${devs[@]}"; do
	if bdf=$(find_dev "${ids[$name]}"); then
		bdf_of[$name]=$bdf
	else
		fail "$name (${ids[$name]}) is present"
	fi
done

# Bind every device to the loaded vfio-pci and run the test on it.
run_all() { # label
	local label=$1 name bdf log totals rc
	for name in "${devs[@]}"; do
		bdf=${bdf_of[$name]:-}
		[ -n "$bdf" ] || continue
		if ! bind_vfio "$bdf"; then
			fail "$label: $name ($bdf) bound to vfio-pci"
			continue
		fi
		log=$VM_OUT/cfg-$label-$name.log
		rm -f "$VM_OUT/cfg-$label-$name.txt"
		# A first open and close leaves the device as the driver's
		# close path leaves it, not as firmware did (SeaBIOS turns on
		# bus mastering of the devices it can boot from).
		VFIO_SELFTESTS_BDF=$bdf timeout 300 "$prog" >"$log.warmup" 2>&1 ||
			fail "$label: warm-up run on $name"
		rc=0
		VFIO_SELFTESTS_BDF=$bdf VFIO_CONFIG_DUMP=$VM_OUT/cfg-$label-$name.txt \
			timeout 300 "$prog" >"$log" 2>&1 || rc=$?
		totals=$(grep '^# Totals:' "$log" | tail -n 1)
		if [ "$rc" -eq 0 ] && echo "$totals" | grep -q 'fail:0'; then
			pass "$label: vfio_pci_config_test on $name ($totals)"
		else
			sed 's/^/    /' "$log"
			fail "$label: vfio_pci_config_test on $name (exit $rc, $totals)"
		fi
	done
	for name in "${devs[@]}"; do
		bdf=${bdf_of[$name]:-}
		[ -n "$bdf" ] || continue
		unbind "$bdf" || fail "$label: unbind $name"
		echo >"/sys/bus/pci/devices/$bdf/driver_override" || :
	done
}

# The distro's modules, loaded by path, then ours.
load_distro_vfio_pci && run_all distro
distro_to_ours
run_all ours

# Compare.  Differences are allowed only where explain() has a reason.
# Prints "ok|fail<TAB>message" lines; a crash of the comparison itself is
# reported by the caller.
compare() { # name
	python3 - "$VM_OUT/cfg-distro-$1.txt" "$VM_OUT/cfg-ours-$1.txt" <<'EOF'
import sys


def load(path):
    with open(path) as f:
        return [line.split() for line in f]


def caps(lines):
    cfg = bytearray(4096)
    for w in lines:
        if w[0] == "init":
            off = int(w[1], 16)
            cfg[off:off + 4] = int(w[2], 16).to_bytes(4, "little")
    found, pos, ttl = {}, cfg[0x34] & ~3 if cfg[6] & 0x10 else 0, 48
    while pos >= 0x40 and ttl:
        found.setdefault(cfg[pos], pos)
        pos, ttl = cfg[pos + 1] & ~3, ttl - 1
    return found


def explain(a, b, capmap):
    """Why line a (distro) may differ from line b (ours), or None."""
    if a[0] != b[0] or a[:2] != b[:2]:
        return None
    msi = capmap.get(0x05)
    if a[0] == "ones" and msi is not None and int(a[1], 16) == msi:
        x = int(a[3], 16) ^ int(b[3], 16)
        if x and not x & ~0x000e0000:
            # MSI Multiple Message Capable is read-only in the spec;
            # upstream keeps it as a virtual writable field, so an
            # all-ones write makes the function claim 128 vectors.
            return "MSI flags QMASK stays read-only, upstream lets it be written"
    return None


da, db = load(sys.argv[1]), load(sys.argv[2])
capmap = caps(da)
bad = 0
if len(da) != len(db):
    print("fail\tdump lengths differ: distro %d lines, ours %d" %
          (len(da), len(db)))
    sys.exit(0)
for a, b in zip(da, db):
    if a == b:
        continue
    why = explain(a, b, capmap)
    if why:
        print("ok\texplained: distro '%s' ours '%s': %s" %
              (" ".join(a), " ".join(b), why))
    else:
        bad += 1
        print("fail\tdistro '%s' ours '%s'" % (" ".join(a), " ".join(b)))
print("%s\t%d lines compared, %d unexplained differences" %
      ("ok" if not bad else "fail", len(da), bad))
EOF
}

for name in "${devs[@]}"; do
	[ -n "${bdf_of[$name]:-}" ] || continue
	if [ ! -s "$VM_OUT/cfg-distro-$name.txt" ] || [ ! -s "$VM_OUT/cfg-ours-$name.txt" ]; then
		fail "$name: both dumps exist"
		continue
	fi
	while IFS=$'\t' read -r verdict msg; do
		case $verdict in
		ok) pass "$name: $msg" ;;
		*) fail "$name: $msg" ;;
		esac
	done < <(compare "$name" ||
		printf 'fail\tcomparing the dumps crashed (status %s)\n' "$?")
done

check "rmmod vfio-pci" modprobe -r vfio-pci
finish
