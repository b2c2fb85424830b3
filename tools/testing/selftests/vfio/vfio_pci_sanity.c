// SPDX-License-Identifier: GPL-2.0-only
/*
 * The after-the-storm device check; see vfio_pci_sanity.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "vfio_pci_sanity.h"
#include "vfio_pci_util.h"

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_ID		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_ID_LOW_BYTE		0xed

static int edu_check(struct vfio_pci_dev *dev, uint32_t id, char *msg,
		     size_t len)
{
	uint32_t probe = 0x5a5aa5a5, v = 0;

	if ((id & 0xff) != EDU_ID_LOW_BYTE) {
		snprintf(msg, len, "edu identification register reads %#x",
			 id);
		return -1;
	}
	if (vfio_region_write(dev, VFIO_PCI_BAR0_REGION_INDEX,
			      EDU_REG_LIVENESS, &probe, 4) != 4 ||
	    vfio_region_read(dev, VFIO_PCI_BAR0_REGION_INDEX,
			     EDU_REG_LIVENESS, &v, 4) != 4 || v != ~probe) {
		snprintf(msg, len, "edu liveness register: wrote %#x, read %#x",
			 probe, v);
		return -1;
	}
	return 0;
}

int vfio_pci_sanity_check(const char *bdf, char *msg, size_t len)
{
	struct vfio_pci_dev dev;
	struct vfio_region_info bar0;
	uint64_t sys_vendor, sys_device;
	uint16_t ids[2] = { 0, 0 };
	uint32_t id = 0;
	int rc = -1;

	if (vfio_pci_dev_open(&dev, bdf, msg, len))
		return -1;
	if (vfio_region_read(&dev, VFIO_PCI_CONFIG_REGION_INDEX,
			     PCI_VENDOR_ID, ids, sizeof(ids)) != sizeof(ids) ||
	    sysfs_read_u64(bdf, "vendor", &sys_vendor) ||
	    sysfs_read_u64(bdf, "device", &sys_device) ||
	    ids[0] != sys_vendor || ids[1] != sys_device) {
		snprintf(msg, len, "config ids %04x:%04x do not match sysfs",
			 ids[0], ids[1]);
		goto out;
	}
	if (!vfio_region_info(dev.device_fd, VFIO_PCI_BAR0_REGION_INDEX,
			      &bar0) && bar0.size >= 4 &&
	    vfio_region_read(&dev, VFIO_PCI_BAR0_REGION_INDEX, EDU_REG_ID,
			     &id, 4) != 4) {
		snprintf(msg, len, "BAR0 read: %s", strerror(errno));
		goto out;
	}
	if (ids[0] == EDU_VENDOR && ids[1] == EDU_DEVICE &&
	    edu_check(&dev, id, msg, len))
		goto out;
	snprintf(msg, len, "%s reopened, ids %04x:%04x, BAR0 readable", bdf,
		 ids[0], ids[1]);
	rc = 0;
out:
	vfio_pci_dev_close(&dev);
	return rc;
}
