#!/bin/bash
# The demo, from a fresh machine: install what is missing, build our
# modules, boot a VM with emulated PCI devices, bind them to our vfio-pci
# through driver_override and hand them to a QEMU running inside the VM,
# whose Linux guest uses them with its own drivers.
#
# Usage: harness/demo.sh      (what `make demo` runs)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

harness/setup.sh
make -s modroot
# The guest QEMU boots inside the VM: Debian's kernel and a small
# initramfs, built once and cached.
guest=$(harness/guest-initramfs.sh)
exec harness/vm --devices edu,e1000e,nvme,virtio-net --mem 2048 --timeout 900 \
	-- harness/demo-guest.sh "$guest"
