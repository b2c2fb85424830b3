// SPDX-License-Identifier: GPL-2.0-only
/*
 * The region table: what VFIO_DEVICE_GET_REGION_INFO reports for the fixed
 * VFIO_PCI_*_REGION_INDEX regions, and the device-specific regions that
 * variant drivers (and vfio-pci itself, for Intel graphics) append after
 * them.
 */
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

/*
 * A mappable BAR holding the MSI-X table is mappable as a whole: the IOMMU's
 * interrupt remapping keeps the user's writes to the table from forging
 * interrupts, so it need not punch a hole around the table.  The MSIX_MAPPABLE
 * capability tells the user so (without it, QEMU would avoid the table).
 */
static int vfio_pci_bar_info(struct vfio_pci_core_device *vdev,
			     struct vfio_region_info *info,
			     struct vfio_info_cap *caps)
{
	struct vfio_info_cap_header msix_cap = {
		.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
		.version = 1,
	};
	struct pci_dev *pdev = vdev->pdev;
	unsigned int bar = info->index;

	info->size = pci_resource_len(pdev, bar);
	if (!info->size) {
		info->flags = 0;
		return 0;
	}
	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	if (!vdev->bar_mmap_supported[bar])
		return 0;
	info->flags |= VFIO_REGION_INFO_FLAG_MMAP;
	if (bar != vdev->msix_bar)
		return 0;
	return vfio_info_add_capability(caps, &msix_cap, sizeof(msix_cap));
}

static void vfio_pci_rom_info(struct vfio_pci_core_device *vdev,
			      struct vfio_region_info *info)
{
	info->size = vdev->rom_size;
	info->flags = info->size ? VFIO_REGION_INFO_FLAG_READ : 0;
}

static int vfio_pci_dev_region_info(struct vfio_pci_core_device *vdev,
				    struct vfio_region_info *info,
				    struct vfio_info_cap *caps)
{
	struct vfio_region_info_cap_type type_cap = {
		.header.id = VFIO_REGION_INFO_CAP_TYPE,
		.header.version = 1,
	};
	struct vfio_pci_region *region;
	int ret;

	region = &vdev->region[info->index - VFIO_PCI_NUM_REGIONS];
	info->size = region->size;
	info->flags = region->flags;

	type_cap.type = region->type;
	type_cap.subtype = region->subtype;
	ret = vfio_info_add_capability(caps, &type_cap.header,
				       sizeof(type_cap));
	if (ret)
		return ret;

	if (region->ops->add_capability)
		return region->ops->add_capability(vdev, region, caps);
	return 0;
}

/**
 * vfio_pci_region_info - fill in the size and flags of one region
 * @vdev: the device
 * @info: in: index; out: size, flags and offset
 * @caps: capability chain to append to
 *
 * Return: 0, -EINVAL for an index the device does not have, or another
 * negative errno.
 */
int vfio_pci_region_info(struct vfio_pci_core_device *vdev,
			 struct vfio_region_info *info,
			 struct vfio_info_cap *caps)
{
	struct pci_dev *pdev = vdev->pdev;

	info->offset = VFIO_PCI_INDEX_TO_OFFSET(info->index);

	switch (info->index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info->size = pdev->cfg_size;
		info->flags = VFIO_REGION_INFO_FLAG_READ |
			      VFIO_REGION_INFO_FLAG_WRITE;
		return 0;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		return vfio_pci_bar_info(vdev, info, caps);
	case VFIO_PCI_ROM_REGION_INDEX:
		vfio_pci_rom_info(vdev, info);
		return 0;
	case VFIO_PCI_VGA_REGION_INDEX:
		return vfio_pci_vga_info(vdev, info);
	default:
		if (info->index >= VFIO_PCI_NUM_REGIONS + vdev->num_regions)
			return -EINVAL;
		info->index = array_index_nospec(info->index,
						 VFIO_PCI_NUM_REGIONS +
						 vdev->num_regions);
		return vfio_pci_dev_region_info(vdev, info, caps);
	}
}

/**
 * vfio_pci_dev_region_rw - read() or write() of a device-specific region
 * @vdev: the device
 * @index: region index, at least VFIO_PCI_NUM_REGIONS and already checked
 * @buf: user buffer
 * @count: bytes requested
 * @ppos: file position
 * @iswrite: direction
 *
 * Return: bytes moved or a negative errno.
 */
ssize_t vfio_pci_dev_region_rw(struct vfio_pci_core_device *vdev,
			       unsigned int index, char __user *buf,
			       size_t count, loff_t *ppos, bool iswrite)
{
	struct vfio_pci_region *region;

	region = &vdev->region[index - VFIO_PCI_NUM_REGIONS];
	if (iswrite && !(region->flags & VFIO_REGION_INFO_FLAG_WRITE))
		return -EINVAL;
	if (!iswrite && !(region->flags & VFIO_REGION_INFO_FLAG_READ))
		return -EINVAL;
	return region->ops->rw(vdev, buf, count, ppos, iswrite);
}

/**
 * vfio_pci_dev_region_mmap - mmap() of a device-specific region
 * @vdev: the device
 * @index: region index, at least VFIO_PCI_NUM_REGIONS and already checked
 * @vma: the new mapping
 *
 * Only shared mappings, as for BARs: a private one would give the user
 * copy-on-write copies that stop tracking the region once written, and the
 * pages behind a region may be device memory that must never be copied.
 * Variants' mmap callbacks can rely on it.
 *
 * Return: 0 or a negative errno; -EINVAL for a private mapping or a region
 * that cannot be mapped.
 */
int vfio_pci_dev_region_mmap(struct vfio_pci_core_device *vdev,
			     unsigned int index, struct vm_area_struct *vma)
{
	struct vfio_pci_region *region;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	region = &vdev->region[index - VFIO_PCI_NUM_REGIONS];
	if (!(region->flags & VFIO_REGION_INFO_FLAG_MMAP) ||
	    !region->ops->mmap)
		return -EINVAL;
	return region->ops->mmap(vdev, region, vma);
}

/**
 * vfio_pci_core_register_dev_region - append a device-specific region
 * @vdev: the device
 * @type: VFIO_REGION_TYPE_* reported in the type capability
 * @subtype: VFIO_REGION_SUBTYPE_* reported in the type capability
 * @ops: access callbacks; @ops->rw is required
 * @size: region size
 * @flags: VFIO_REGION_INFO_FLAG_* for the user
 * @data: private data handed back through @ops
 *
 * Called while the device is being opened (typically from a variant's
 * open_device, between vfio_pci_core_enable() and
 * vfio_pci_core_finish_enable()).  Regions are dropped, and @ops->release
 * called, when the device is disabled at last close.
 *
 * Return: 0 or a negative errno.
 */
int vfio_pci_core_register_dev_region(struct vfio_pci_core_device *vdev,
				      unsigned int type, unsigned int subtype,
				      const struct vfio_pci_regops *ops,
				      size_t size, u32 flags, void *data)
{
	struct vfio_pci_region *regions;

	if (!ops || !ops->rw)
		return -EINVAL;

	regions = krealloc_array(vdev->region, vdev->num_regions + 1,
				 sizeof(*regions), GFP_KERNEL_ACCOUNT);
	if (!regions)
		return -ENOMEM;

	regions[vdev->num_regions] = (struct vfio_pci_region) {
		.type = type,
		.subtype = subtype,
		.ops = ops,
		.size = size,
		.flags = flags,
		.data = data,
	};
	vdev->region = regions;
	vdev->num_regions++;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_register_dev_region);

/**
 * vfio_pci_release_dev_regions - drop all device-specific regions
 * @vdev: the device, no longer accessible to the user
 */
void vfio_pci_release_dev_regions(struct vfio_pci_core_device *vdev)
{
	int i;

	for (i = 0; i < vdev->num_regions; i++)
		if (vdev->region[i].ops->release)
			vdev->region[i].ops->release(vdev, &vdev->region[i]);
	kfree(vdev->region);
	vdev->region = NULL;
	vdev->num_regions = 0;
}
