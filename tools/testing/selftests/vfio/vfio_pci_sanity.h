/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * "Does the device still work?" - the check the fuzzer and the fault
 * scenarios run after they have done their worst.
 */
#ifndef VFIO_PCI_SELFTEST_SANITY_H
#define VFIO_PCI_SELFTEST_SANITY_H

#include <stddef.h>

/*
 * Open @bdf afresh (group, container, device fd) and check that
 * GET_INFO answers, that the vendor and device IDs read through the config
 * region match sysfs, that BAR0 (when it is memory) can be read, which
 * needs memory decode back on, and for QEMU's edu device that the
 * identification register and the liveness register behave.  Returns 0, or
 * -1 with the reason in @msg.
 */
int vfio_pci_sanity_check(const char *bdf, char *msg, size_t len);

#endif /* VFIO_PCI_SELFTEST_SANITY_H */
