#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,e1000e,nvme,virtio-net,pci-testdev,ivshmem
# vm-distro: no (compares ours with the distro itself)
# vm-timeout: 1500
#
# QEMU inside the VM must read the same config space through our vfio-pci
# as through the distro's.  For each device, a nested QEMU is started
# stopped (-S) with the device assigned and a qtest socket; this script
# reads the device's whole config space the way a guest would: the first
# 256 bytes through 0xcf8/0xcfc config cycles, all 4096 through the q35
# MMCONFIG window (enabled by hand in the MCH's PCIEXBAR, as firmware
# would).  That is QEMU's own view, built from what vfio-pci gives it.
# The dumps taken with the distro's modules (loaded by path) and with ours
# must be identical.
#
# Dumps are kept in $VM_OUT/qemu-cfg-{distro,ours}-NAME.txt.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm

qemu=${QEMU:-qemu-system-x86_64}
devs=(edu e1000e nvme virtio-net pci-testdev ivshmem)
declare -A ids=([edu]=1234:11e8 [e1000e]=8086:10d3 [nvme]=1b36:0010
	[virtio-net]=1af4:1041 [pci-testdev]=1b36:0005 [ivshmem]=1af4:1110)
declare -A bdf_of=()
for name in "${devs[@]}"; do
	bdf_of[$name]=$(find_dev "${ids[$name]}") || fail "$name present"
done

# Dump config space as the nested QEMU presents it, one "offset value"
# line per dword, to stdout.  Exit status 0 if the conversation worked and
# QEMU, still running at the end, exited 0 when told to terminate.
qemu_dump() { # bdf
	python3 - "$qemu" "$1" <<'PY'
import os, socket, subprocess, sys, tempfile

qemu, bdf = sys.argv[1], sys.argv[2]
SLOT = 4                  # nested QEMU: pcie.0, device 4, function 0
MMCFG = 0xb0000000        # where we put the MMCONFIG window

tmp = tempfile.mkdtemp(prefix="qemu-cfg.")
path = os.path.join(tmp, "qtest.sock")
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
srv.settimeout(120)
err = open(os.path.join(tmp, "stderr"), "w")
proc = subprocess.Popen([qemu, "-M", "q35", "-S", "-accel", "tcg",
                         "-qtest", "unix:" + path, "-qtest-log", "/dev/null",
                         "-m", "128", "-nodefaults", "-display", "none",
                         "-device", "vfio-pci,host=%s,bus=pcie.0,addr=%#x"
                         % (bdf, SLOT)],
                        stdin=subprocess.DEVNULL, stdout=err, stderr=err)
conn, _ = srv.accept()
f = conn.makefile("rb")


def cmd(line):
    conn.sendall((line + "\n").encode())
    while True:
        ans = f.readline().decode().strip()
        if not ans:
            raise EOFError("qtest closed")
        if ans.startswith("IRQ"):
            continue
        if not ans.startswith("OK"):
            raise RuntimeError("%s -> %s" % (line, ans))
        parts = ans.split()
        return int(parts[1], 16) if len(parts) > 1 else None


def cf8(dev, reg):
    cmd("outl 0xcf8 %#x" % (0x80000000 | (dev << 11) | reg))


try:
    # PCIEXBAR of the MCH (0:0.0, 0x60): base, 256 buses, enabled.
    cf8(0, 0x60)
    cmd("outl 0xcfc %#x" % (MMCFG | 1))
    cf8(0, 0x64)
    cmd("outl 0xcfc 0")
    for reg in range(0, 0x100, 4):
        cf8(SLOT, reg)
        print("cf8 %03x %08x" % (reg, cmd("inl 0xcfc")))
    for reg in range(0, 0x1000, 4):
        print("ecam %03x %08x" % (reg, cmd("readl %#x" % (MMCFG + (SLOT << 15) + reg))))
finally:
    conn.close()
    running = proc.poll() is None
    proc.terminate()
    rc = proc.wait(30)
# On SIGTERM QEMU shuts down and exits 0; anything else (a crash at device
# teardown, a death before) makes the dump worthless.
if not running or rc != 0:
    sys.stderr.write("nested QEMU %s, exit status %s; its stderr:\n%s"
                     % ("ran to the end" if running else "died early", rc,
                        open(os.path.join(tmp, "stderr")).read()))
    sys.exit(1)
PY
}

dump_all() { # label
	local name
	for name in "${devs[@]}"; do
		[ -n "${bdf_of[$name]:-}" ] || continue
		if ! bind_vfio "${bdf_of[$name]}"; then
			fail "$1: bind $name"
			continue
		fi
		if qemu_dump "${bdf_of[$name]}" >"$VM_OUT/qemu-cfg-$1-$name.txt" \
			2>"$VM_OUT/qemu-cfg-$1-$name.err"; then
			pass "$1: nested QEMU read the config space of $name"
		else
			fail "$1: nested QEMU read the config space of $name"
			sed 's/^/    /' "$VM_OUT/qemu-cfg-$1-$name.err"
		fi
		unbind "${bdf_of[$name]}"
	done
}

# The distro's modules, loaded by path, then ours.
load_distro_vfio_pci && dump_all distro
distro_to_ours
dump_all ours

for name in "${devs[@]}"; do
	a=$VM_OUT/qemu-cfg-distro-$name.txt b=$VM_OUT/qemu-cfg-ours-$name.txt
	if [ ! -s "$a" ] || [ ! -s "$b" ]; then
		fail "$name: both dumps exist"
	elif cmp -s "$a" "$b"; then
		pass "$name: nested QEMU sees identical config space ($(wc -l <"$a") dwords)"
	else
		fail "$name: nested QEMU sees different config space"
		diff "$a" "$b" | head -n 20 | sed 's/^/    /'
	fi
done
check "rmmod vfio-pci" modprobe -r vfio-pci
finish
