#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e
#
# The real user of vfio-pci: QEMU, started inside the VM with a device
# assigned through vfio-pci.  The nested QEMU is only created (-S: its
# guest never runs), then asked over QMP what it sees: the vendor/device
# IDs and the BARs (count, sizes, I/O or memory, 32/64-bit, prefetchable)
# must be those of the host device in sysfs.  Afterwards QEMU must quit
# cleanly with no vfio message, error or warning on its stderr (kept in
# $VM_OUT/qemu-NAME.stderr).
#
# VFIO_TEST_DISTRO=1 accepts the distro's vfio-pci modules (see
# 10-selftests-edu.sh); by default they must be our out-of-tree build.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm

devs=(edu e1000e)
# QMP sockets cannot live on the 9p results directory: use the guest's /tmp.
sockdir=$(mktemp -d /tmp/qemu-vfio.XXXXXX)
declare -A ids=([edu]=1234:11e8 [e1000e]=8086:10d3)
qemu=${QEMU:-qemu-system-x86_64}

# Talk QMP to the nested QEMU: wait for its socket, query-pci, print what
# it says about device id hostdev0 compared with sysfs as lines
# "ok<TAB>message" or "fail<TAB>message", then quit.  Exit status 0 when
# the conversation itself worked.
qmp_check() { # socket bdf
	python3 - "$1" "$2" <<'EOF'
import json, os, socket, sys, time

sock_path, bdf = sys.argv[1], sys.argv[2]
dev_dir = "/sys/bus/pci/devices/" + bdf
IORESOURCE_IO, IORESOURCE_MEM = 0x100, 0x200
IORESOURCE_PREFETCH, IORESOURCE_MEM_64 = 0x2000, 0x100000


def report(ok, msg):
    print("%s\t%s" % ("ok" if ok else "fail", msg), flush=True)


class Qmp:
    def __init__(self, path, timeout=120):
        deadline = time.time() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.s.settimeout(timeout)
        self.f = self.s.makefile("rb")
        greeting = self.read()
        if "QMP" not in greeting:
            raise RuntimeError("no QMP greeting: %r" % greeting)
        self.cmd("qmp_capabilities")

    def read(self):
        line = self.f.readline()
        if not line:
            raise EOFError("QMP connection closed")
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.s.sendall((json.dumps(msg) + "\n").encode())
        while True:
            r = self.read()
            if "event" in r:
                continue
            if "error" in r:
                raise RuntimeError("%s: %s" % (name, r["error"]))
            return r["return"]


def sysfs_int(attr):
    with open(os.path.join(dev_dir, attr)) as f:
        return int(f.read().strip(), 0)


def sysfs_bars():
    bars = {}
    with open(os.path.join(dev_dir, "resource")) as f:
        for i, line in enumerate(f):
            if i > 6:
                break
            start, end, flags = (int(x, 16) for x in line.split())
            if start or end:
                bars[i] = (end - start + 1, flags)
    return bars


def find_dev(buses, qdev_id):
    for bus in buses:
        for d in bus.get("devices", []):
            if d.get("qdev_id") == qdev_id:
                return d
            sub = d.get("pci_bridge", {}).get("devices")
            if sub:
                found = find_dev([{"devices": sub}], qdev_id)
                if found:
                    return found
    return None


try:
    q = Qmp(sock_path)
    status = q.cmd("query-status")
    report(status.get("status") == "prelaunch",
           "nested QEMU is waiting in prelaunch (status %s)"
           % status.get("status"))
    dev = find_dev(q.cmd("query-pci"), "hostdev0")
except Exception as e:  # the conversation failed: nothing to compare
    report(False, "QMP query-pci: %s" % e)
    sys.exit(1)

if dev is None:
    report(False, "query-pci lists hostdev0")
    q.cmd("quit")
    sys.exit(0)
report(True, "query-pci lists hostdev0")

vid, did = sysfs_int("vendor"), sysfs_int("device")
report(dev["id"]["vendor"] == vid,
       "vendor id %#06x (sysfs %#06x)" % (dev["id"]["vendor"], vid))
report(dev["id"]["device"] == did,
       "device id %#06x (sysfs %#06x)" % (dev["id"]["device"], did))
cls = sysfs_int("class") >> 8
report(dev["class_info"]["class"] == cls,
       "class %#06x (sysfs %#06x)" % (dev["class_info"]["class"], cls))

host = sysfs_bars()
seen = {r["bar"]: r for r in dev.get("regions", [])}
host_bars = sorted(b for b in host if b < 6)
seen_bars = sorted(b for b in seen if b < 6)
report(host_bars == seen_bars,
       "BARs present: QEMU %s, sysfs %s" % (seen_bars, host_bars))
for b in host_bars:
    if b not in seen:
        continue
    size, flags = host[b]
    r = seen[b]
    want = "io" if flags & IORESOURCE_IO else "memory"
    report(r["type"] == want and r["size"] == size,
           "BAR%d: QEMU %s size %#x, sysfs %s size %#x"
           % (b, r["type"], r["size"], want, size))
    if want == "memory":
        w64 = bool(flags & IORESOURCE_MEM_64)
        pf = bool(flags & IORESOURCE_PREFETCH)
        report(r.get("mem_type_64") == w64 and r.get("prefetch") == pf,
               "BAR%d: QEMU 64-bit %s prefetch %s, sysfs 64-bit %s prefetch %s"
               % (b, r.get("mem_type_64"), r.get("prefetch"), w64, pf))
# The ROM is exposed only if it could be read; then its size must match.
if 6 in seen:
    report(6 in host and seen[6]["size"] == host[6][0],
           "ROM BAR: QEMU size %#x, sysfs %s"
           % (seen[6]["size"], hex(host[6][0]) if 6 in host else "none"))

try:
    q.cmd("quit")
except (EOFError, OSError):
    pass  # QEMU may close the socket before answering
sys.exit(0)
EOF
}

# Whether BDF has a PCI Express capability (walks the config space list).
is_pcie() { # bdf
	python3 - "/sys/bus/pci/devices/$1/config" <<'EOF'
import sys
cfg = open(sys.argv[1], "rb").read(256)
pos, ttl = (cfg[0x34] & ~3) if cfg[6] & 0x10 else 0, 48
while pos >= 0x40 and ttl:
    if cfg[pos] == 0x10:
        sys.exit(0)
    pos, ttl = cfg[pos + 1] & ~3, ttl - 1
sys.exit(1)
EOF
}

load_vfio_pci

for name in "${devs[@]}"; do
	bind_named "$name" || continue

	sock=$sockdir/$name.qmp
	err=$VM_OUT/qemu-$name.stderr
	rm -f "$sock"
	"$qemu" -M q35 -m 128 -nodefaults -display none -S \
		-qmp "unix:$sock,server=on,wait=off" \
		-device "vfio-pci,host=$bdf,id=hostdev0" \
		</dev/null >"$VM_OUT/qemu-$name.stdout" 2>"$err" &
	qpid=$!

	qmp_ok=1
	while IFS=$'\t' read -r verdict msg; do
		case $verdict in
		ok) pass "$name: $msg" ;;
		*) fail "$name: $msg" ;;
		esac
	done < <(qmp_check "$sock" "$bdf" || echo "fail	QMP conversation failed")

	# quit was sent; QEMU must go away by itself, with status 0.
	if ! wait_gone "$qpid" 60; then
		fail "$name: nested QEMU exits after quit"
		kill -KILL "$qpid" 2>/dev/null
		wait "$qpid" 2>/dev/null
		qmp_ok=0
	fi
	if [ "$qmp_ok" = 1 ]; then
		rc=0
		wait "$qpid" || rc=$?
		check "$name: nested QEMU exit status 0 (got $rc)" test "$rc" -eq 0
	fi
	# QEMU asks for the error-reporting IRQ; only PCI Express functions
	# have one, so for conventional PCI devices (edu) it warns that error
	# recovery is unavailable.  That one warning is expected there.
	allowed='^$'
	is_pcie "$bdf" || allowed='Could not enable error recovery for the device$'
	if grep -Ev "$allowed" "$err" | grep -Eiq 'vfio|error|fail|warn'; then
		fail "$name: nested QEMU stderr is free of vfio errors"
		sed 's/^/    /' "$err"
	else
		pass "$name: nested QEMU stderr is free of vfio errors"
	fi

	check "unbind $name ($bdf) from vfio-pci" unbind "$bdf"
	echo >"/sys/bus/pci/devices/$bdf/driver_override" || :
done

finish
