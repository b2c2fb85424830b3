#!/bin/bash
# The demo, from a fresh machine: install what is missing, build our
# modules, boot a VM with emulated PCI devices, bind them to our vfio-pci
# through driver_override and hand one to a QEMU running inside the VM.
#
# Usage: harness/demo.sh      (what `make demo` runs)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

harness/setup.sh
make -s modroot
exec harness/vm --devices edu,e1000e,nvme,virtio-net -- harness/demo-guest.sh
