#!/bin/bash
# Runs inside the demo VM (harness/demo.sh): what an administrator and QEMU
# do with vfio-pci, step by step, with the commands shown as they run.
#
# Usage: harness/demo-guest.sh GUEST_DIR   (harness/guest-initramfs.sh)
set -euo pipefail

guest=${1:?usage: demo-guest.sh GUEST_DIR}

harness=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=guest-lib.sh
. "$harness/guest-lib.sh"

say() { printf '\n### %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

say "Load vfio-pci the way a user would; modprobe picks our build from updates/"
show modprobe vfio-pci
show modinfo -F filename vfio-pci vfio-pci-core
check_modules_ours

say "The driver_override-only ID table, as modules.alias shows it"
show grep vfio_pci: "/lib/modules/$(uname -r)/modules.alias"

edu=$(find_dev 1234:11e8)
e1000e=$(find_dev 8086:10d3)
nvme=$(find_dev 1b36:0010)

say "Bind edu ($edu), e1000e ($e1000e) and nvme ($nvme) through driver_override"
for bdf in "$edu" "$e1000e" "$nvme"; do
	echo "  $bdf: was '$(driver_of "$bdf")'"
	bind_vfio "$bdf"
	echo "  $bdf: now '$(driver_of "$bdf")', IOMMU group $(iommu_group "$bdf")"
done
show ls -l /dev/vfio

say "Hand edu to a QEMU inside this VM and ask it what the guest would see"
printf 'info pci\nquit\n' |
	qemu-system-x86_64 -M q35 -m 128 -nodefaults -display none -S \
		-monitor stdio -device "vfio-pci,host=$edu,id=hostdev0" 2>&1 |
	sed -n '/Bus  0, device   [0-9]*, function 0:/,$p' | grep -v '^(qemu)' |
	sed 's/^/  /'

say "Boot a Linux guest with all three; its own drivers use them (about 4 minutes under TCG)"
echo "  guest: Debian's kernel, busybox and harness/guest/init from $guest"
console=$(mktemp /tmp/demo-guest.XXXXXX)
show qemu-system-x86_64 -M q35 -m 256 -nodefaults -display none -no-reboot \
	-serial "file:$console" -kernel "$guest/vmlinuz" -initrd "$guest/initramfs.gz" \
	-append "console=ttyS0 quiet panic=-1" \
	-device "vfio-pci,host=$edu" -device "vfio-pci,host=$e1000e" \
	-device "vfio-pci,host=$nvme"
echo "  what the guest reported on its console:"
grep -a '^GUEST-' "$console" | grep -av '^GUEST-KERNEL' | sed 's/^/  /'
grep -aq "^GUEST-RESULT edu checks=passed" "$console" ||
	{ echo "demo: the guest's edu driver did not pass its checks"; exit 1; }
grep -aq "^GUEST-RESULT nvme disk=present" "$console" ||
	{ echo "demo: the guest found no nvme namespace"; exit 1; }
rm -f "$console"

say "Give the devices back"
for bdf in "$edu" "$e1000e" "$nvme"; do
	unbind "$bdf"
	echo > "/sys/bus/pci/devices/$bdf/driver_override"
	echo "$bdf" > /sys/bus/pci/drivers_probe || true
	echo "  $bdf: '$(driver_of "$bdf")'"
done
show rmmod vfio-pci vfio-pci-core
echo
echo "demo: done"
