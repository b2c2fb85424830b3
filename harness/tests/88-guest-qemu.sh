#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: edu,nvme,e1000e-link,e1000e-link
# vm-mem: 2048
# vm-timeout: 1800
#
# A real client end to end: Debian 12's QEMU (7.2), inside the VM, boots a
# Linux guest with the VM's edu, nvme and two e1000e assigned through our
# vfio-pci, and the guest's own drivers use them (harness/guest/init):
# the edu driver reads its ID, computes a factorial, takes MSIs and DMAs a
# page out and back; nvme writes a pattern and reads it back (DMA through
# the type1 IOMMU, completions by MSI-X); the two e1000e, wired to each
# other by the VM's QEMU, bring their links up and answer each other's
# ARP.  After the guest powers off: no interrupt left, the devices
# quiesced and reset, a second QEMU opens them all at once, and the VM's
# own nvme driver finds the guest's pattern on the disk.
#
# VFIO_TEST_DISTRO=1 runs it on the distro's modules (harness/differential).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/guest-client-lib.sh
. "$harness/tests/lib/guest-client-lib.sh"

guest_client_start
echo "# $(qemu-system-x86_64 --version | head -n 1)"
guest_boot qemu7 qemu-system-x86_64
guest_results qemu7
released_clean qemu7
reuse_at_once qemu7 qemu-system-x86_64
nvme_on_disk qemu7
guest_client_end
