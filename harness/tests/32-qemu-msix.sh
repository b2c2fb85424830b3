#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: virtio-net
#
# QEMU inside the VM enables MSI-X on a device assigned through vfio-pci.
#
# A nested guest cannot boot in reasonable time under TCG-in-TCG, so the
# nested QEMU is started stopped (-S) with a qtest socket: no guest CPU runs,
# but this script speaks the qtest protocol and does what a guest driver does,
# by hand: assign the BARs through config cycles (0xcf8/0xcfc), enable
# memory decode and bus mastering, program every MSI-X table entry,
# unmasked, and set MSI-X Enable.  QEMU's vfio-pci must then route every
# vector through VFIO_DEVICE_SET_IRQS, which shows in this VM as
# vfio-msix[N](BDF) lines in /proc/interrupts and as MSI-X Enable in the
# real device's config space.  Finally the virtio device behind it is
# brought to DRIVER_OK (common config in BAR memory, also by qtest
# writes), its configuration interrupt is pointed at each vector in turn
# and the link is toggled through the VM's own monitor: the interrupt
# count of that vector in /proc/interrupts must go up, so each vector is
# delivered device -> vfio-pci -> nested QEMU.
#
# What this does not show: a guest OS receiving the interrupt (qtest has
# no CPU to deliver it to).
#
# VFIO_TEST_DISTRO=1 runs the same against the distro's modules.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=../guest-lib.sh
. "$harness/guest-lib.sh"

if [ -z "${VM_OUT:-}" ]; then
	echo "32-qemu-msix: run inside a VM: harness/run-vm-tests $0" >&2
	exit 2
fi

qemu=${QEMU:-qemu-system-x86_64}
sockdir=$(mktemp -d /tmp/qemu-msix.XXXXXX)

load_vfio_pci

if ! bdf=$(find_dev 1af4:1041) || ! bind_vfio "$bdf"; then
	fail "virtio-net bound to vfio-pci"
	finish
fi
pass "virtio-net ($bdf) bound to vfio-pci"
netdev=$(awk '$2 == "virtio-net" { print $1; exit }' "$VM_OUT/.vm/devices")

# The qtest driver.  Prints "ok<TAB>msg" / "fail<TAB>msg" lines.
qtest_drive() {
	python3 - "$qemu" "$bdf" "$sockdir" "$VM_OUT" "$harness/qmp" "$netdev" <<'EOF'
import os, re, socket, subprocess, sys, time

qemu, bdf, sockdir, out, qmp_tool, netdev = sys.argv[1:7]
SLOT = 4                       # nested QEMU: pcie.0, device 4, function 0
MSIX_BAR_BASE = 0xc0000000
OTHER_BAR_BASE = 0xd0000000


def report(ok, msg):
    print("%s\t%s" % ("ok" if ok else "fail", msg), flush=True)


class QTest:
    def __init__(self, conn):
        self.c = conn
        self.f = conn.makefile("rb")

    def cmd(self, line):
        self.c.sendall((line + "\n").encode())
        while True:
            ans = self.f.readline().decode().strip()
            if not ans:
                raise EOFError("qtest connection closed")
            if ans.startswith("IRQ"):
                continue
            if not ans.startswith("OK"):
                raise RuntimeError("%s -> %s" % (line, ans))
            return int(ans.split()[1], 16) if len(ans.split()) > 1 else None

    def cfg_addr(self, reg):
        return 0x80000000 | (SLOT << 11) | (reg & 0xfc)

    def cfg_rd(self, reg):
        self.cmd("outl 0xcf8 %#x" % self.cfg_addr(reg))
        return self.cmd("inl 0xcfc")

    def cfg_wr(self, reg, val):
        self.cmd("outl 0xcf8 %#x" % self.cfg_addr(reg))
        self.cmd("outl 0xcfc %#x" % val)

    def cfg_rd8(self, reg):
        return (self.cfg_rd(reg) >> (8 * (reg & 3))) & 0xff


def find_caps(qt):
    caps = {}
    pos = qt.cfg_rd8(0x34) & ~3
    while pos and len(caps) < 48:
        cid = qt.cfg_rd8(pos)
        caps.setdefault(cid, []).append(pos)
        pos = qt.cfg_rd8(pos + 1) & ~3
    return caps


def assign_bars(qt):
    """Give every memory BAR an address; return {bar: base}."""
    bases, nxt, bar = {}, OTHER_BAR_BASE, 0
    while bar < 6:
        reg = 0x10 + 4 * bar
        orig = qt.cfg_rd(reg)
        qt.cfg_wr(reg, 0xffffffff)
        size_mask = qt.cfg_rd(reg)
        is64 = (orig & 0x7) == 0x4
        if orig & 1 or size_mask == 0:
            bar += 1
            continue
        size = (~(size_mask & ~0xf) & 0xffffffff) + 1
        base = MSIX_BAR_BASE if bar == msix_bir else nxt
        if bar != msix_bir:
            nxt = (nxt + max(size, 0x1000) + 0xfffff) & ~0xfffff
        qt.cfg_wr(reg, base)
        if is64:
            qt.cfg_wr(reg + 4, 0)
        bases[bar] = base
        bar += 2 if is64 else 1
    return bases


def proc_counts():
    """{vector: count} of this device's vfio-msix lines."""
    res = {}
    pat = re.compile(r"vfio-msix\[(\d+)\]\(%s\)" % re.escape(bdf))
    with open("/proc/interrupts") as f:
        for line in f:
            m = pat.search(line)
            if m:
                res[int(m.group(1))] = int(line.split()[1])
    return res


def host_msix_enabled():
    cfg = open("/sys/bus/pci/devices/%s/config" % bdf, "rb").read(256)
    pos = cfg[0x34] & ~3
    while pos:
        if cfg[pos] == 0x11:
            return bool(cfg[pos + 3] & 0x80)
        pos = cfg[pos + 1] & ~3
    return False


def set_link(up):
    arg = '{"name": "%s", "up": %s}' % (netdev, "true" if up else "false")
    return subprocess.run([qmp_tool, "set_link", arg],
                          stdout=subprocess.DEVNULL).returncode == 0


path = os.path.join(sockdir, "qtest.sock")
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
errf = open(os.path.join(out, "qemu-msix.stderr"), "w")
# Debian's QEMU has no qtest accelerator; -qtest with a stopped TCG
# machine (-S) serves the protocol just the same.
proc = subprocess.Popen([qemu, "-M", "q35", "-S", "-accel", "tcg",
                         "-qtest", "unix:" + path, "-qtest-log", "/dev/null",
                         "-m", "128",
                         "-nodefaults", "-display", "none",
                         "-device", "vfio-pci,host=%s,id=hostdev0,bus=pcie.0,"
                         "addr=%#x" % (bdf, SLOT)],
                        stdin=subprocess.DEVNULL, stdout=errf, stderr=errf)
srv.settimeout(120)
try:
    conn, _ = srv.accept()
except socket.timeout:
    report(False, "nested QEMU connects to the qtest socket")
    proc.kill()
    sys.exit(1)
conn.settimeout(60)
qt = QTest(conn)
ok = True
try:
    ids = qt.cfg_rd(0)
    report(ids == 0x10411af4, "nested QEMU sees the device (ids %#010x)" % ids)
    caps = find_caps(qt)
    report(0x11 in caps, "nested QEMU exposes the MSI-X capability")
    cap = caps[0x11][0]
    ctrl = qt.cfg_rd(cap) >> 16
    nvec = (ctrl & 0x7ff) + 1
    table = qt.cfg_rd(cap + 4)
    msix_bir, toff = table & 7, table & ~7
    bars = assign_bars(qt)
    qt.cfg_wr(0x04, (qt.cfg_rd(0x04) & 0xffff0000) | 0x6)
    tbase = bars[msix_bir] + toff
    for i in range(nvec):
        e = tbase + 16 * i
        qt.cmd("writel %#x 0xfee00000" % e)
        qt.cmd("writel %#x 0x0" % (e + 4))
        qt.cmd("writel %#x %#x" % (e + 8, 0x40 + i))
        qt.cmd("writel %#x 0x0" % (e + 12))
    qt.cfg_wr(cap, (qt.cfg_rd(cap) & 0xffff) | (0x8000 << 16))
    time.sleep(1)
    counts = proc_counts()
    report(sorted(counts) == list(range(nvec)),
           "nested QEMU routed all %d vectors through vfio-pci "
           "(/proc/interrupts vfio-msix vectors %s)" % (nvec, sorted(counts)))
    report(host_msix_enabled(), "MSI-X Enable is set on the real device")

    # The virtio device: DRIVER_OK, then a config interrupt per vector.
    common = None
    for pos in caps.get(0x09, []):
        if qt.cfg_rd8(pos + 3) == 1:            # VIRTIO_PCI_CAP_COMMON_CFG
            common = bars[qt.cfg_rd8(pos + 4)] + qt.cfg_rd(pos + 8)
    report(common is not None, "virtio common config found")
    qt.cmd("writeb %#x 0x0" % (common + 0x14))
    qt.cmd("writeb %#x 0x3" % (common + 0x14))
    qt.cmd("writel %#x 0x1" % (common + 0x00))
    hi = qt.cmd("readl %#x" % (common + 0x04))
    qt.cmd("writel %#x 0x0" % (common + 0x08))
    qt.cmd("writel %#x 0x0" % (common + 0x0c))
    qt.cmd("writel %#x 0x1" % (common + 0x08))
    qt.cmd("writel %#x %#x" % (common + 0x0c, hi & 3))
    qt.cmd("writeb %#x 0xb" % (common + 0x14))
    st = qt.cmd("readb %#x" % (common + 0x14))
    report(st & 8, "virtio FEATURES_OK (status %#x)" % st)
    qt.cmd("writeb %#x 0xf" % (common + 0x14))
    up, delivered = True, []
    for v in range(nvec):
        qt.cmd("writew %#x %#x" % (common + 0x10, v))
        before = proc_counts().get(v, 0)
        up = not up
        if not set_link(up):
            report(False, "set_link through the VM's monitor")
            break
        deadline = time.time() + 5
        while time.time() < deadline and proc_counts().get(v, 0) <= before:
            time.sleep(0.05)
        if proc_counts().get(v, 0) > before:
            delivered.append(v)
    report(delivered == list(range(nvec)),
           "device interrupts delivered to the nested QEMU on vectors %s"
           % delivered)
    if not up:
        set_link(True)

    # Disable MSI-X again: the vectors must go away.
    qt.cfg_wr(cap, qt.cfg_rd(cap) & 0x7fffffff)
    time.sleep(0.5)
    report(not proc_counts(), "MSI-X disable releases every vector")
except Exception as e:  # the conversation broke: say so
    report(False, "qtest conversation: %s" % e)
    ok = False
conn.close()
# QEMU must have lived through it all and leave cleanly: on SIGTERM it
# shuts down and exits 0.  A crash at device teardown counts too.
running = proc.poll() is None
proc.terminate()
try:
    rc = proc.wait(30)
except subprocess.TimeoutExpired:
    proc.kill()
    rc = "none (killed: SIGTERM ignored for 30 s)"
report(running, "nested QEMU still running at the end")
report(rc == 0, "nested QEMU exits with status 0 (got %s)" % rc)
sys.exit(0 if ok else 1)
EOF
}

while IFS=$'\t' read -r verdict msg; do
	case $verdict in
	ok) pass "$msg" ;;
	fail) fail "$msg" ;;
	*) echo "# $verdict $msg" ;;
	esac
done < <(qtest_drive 2>&1 || echo "fail	qtest driver failed")
check "unbind virtio-net" unbind "$bdf"
echo >"/sys/bus/pci/devices/$bdf/driver_override" || :
check "rmmod vfio-pci" modprobe -r vfio-pci
finish
