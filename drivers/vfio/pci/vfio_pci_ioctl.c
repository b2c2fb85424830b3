// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device ioctls: VFIO_DEVICE_GET_INFO, GET_REGION_INFO, GET_IRQ_INFO,
 * SET_IRQS.  VFIO_DEVICE_FEATURE lives in vfio_pci_feature.c.
 *
 * Every handler copies in the fixed part of its argument, checks argsz
 * against it, and bounds-checks indexes before they select anything.
 */
#include <linux/nospec.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

/*
 * Copy a capability chain out behind the fixed part of an info structure.
 * If the user's buffer is too small, only argsz is raised to what it takes
 * and the chain is left out, as the uAPI describes.
 */
static int vfio_pci_copy_caps(struct vfio_info_cap *caps, void __user *arg,
			      size_t minsz, u32 *argsz, u32 *cap_offset,
			      u32 *flags, u32 cap_flag)
{
	if (!caps->size)
		return 0;

	*flags |= cap_flag;
	if (*argsz < minsz + caps->size) {
		*argsz = minsz + caps->size;
		*cap_offset = 0;
		return 0;
	}
	vfio_info_cap_shift(caps, minsz);
	if (copy_to_user(arg + minsz, caps->buf, caps->size))
		return -EFAULT;
	*cap_offset = minsz;
	return 0;
}

/**
 * vfio_pci_ioctl_get_info - VFIO_DEVICE_GET_INFO
 * @vdev: the device
 * @arg: user pointer to struct vfio_device_info
 *
 * Return: 0 or a negative errno.
 */
long vfio_pci_ioctl_get_info(struct vfio_pci_core_device *vdev,
			     void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	info.flags = VFIO_DEVICE_FLAGS_PCI;
	if (vdev->reset_works)
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS + vdev->num_regions;
	info.num_irqs = VFIO_PCI_NUM_IRQS;

	/* No device-info capabilities on this platform: cap_offset stays 0. */
	if (info.argsz >= offsetofend(struct vfio_device_info, cap_offset)) {
		info.cap_offset = 0;
		minsz = offsetofend(struct vfio_device_info, cap_offset);
	}
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/**
 * vfio_pci_ioctl_get_region_info - VFIO_DEVICE_GET_REGION_INFO
 * @vdev: the device
 * @arg: user pointer to struct vfio_region_info
 *
 * Return: 0 or a negative errno.
 */
long vfio_pci_ioctl_get_region_info(struct vfio_pci_core_device *vdev,
				    void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	struct vfio_region_info info;
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	info.cap_offset = 0;
	ret = vfio_pci_region_info(vdev, &info, &caps);
	if (ret)
		goto out;

	ret = vfio_pci_copy_caps(&caps, arg, sizeof(info), &info.argsz,
				 &info.cap_offset, &info.flags,
				 VFIO_REGION_INFO_FLAG_CAPS);
	if (ret)
		goto out;
	if (copy_to_user(arg, &info, minsz))
		ret = -EFAULT;
out:
	kfree(caps.buf);
	return ret;
}

/**
 * vfio_pci_ioctl_get_irq_info - VFIO_DEVICE_GET_IRQ_INFO
 * @vdev: the device
 * @arg: user pointer to struct vfio_irq_info
 *
 * Return: 0 or a negative errno.
 */
long vfio_pci_ioctl_get_irq_info(struct vfio_pci_core_device *vdev,
				 void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info.index = array_index_nospec(info.index, VFIO_PCI_NUM_IRQS);
	/* Error reporting exists only on PCI Express. */
	if (info.index == VFIO_PCI_ERR_IRQ_INDEX && !pci_is_pcie(vdev->pdev))
		return -EINVAL;

	info.count = vfio_pci_irq_count(vdev, info.index);
	info.flags = VFIO_IRQ_INFO_EVENTFD;
	switch (info.index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		info.flags |= VFIO_IRQ_INFO_MASKABLE |
			      VFIO_IRQ_INFO_AUTOMASKED;
		break;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		/* Vectors can be added while MSI-X is live. */
		if (!vdev->has_dyn_msix)
			info.flags |= VFIO_IRQ_INFO_NORESIZE;
		break;
	default:
		/* MSI, ERR and REQ: what is enabled cannot grow. */
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
		break;
	}
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/**
 * vfio_pci_ioctl_set_irqs - VFIO_DEVICE_SET_IRQS
 * @vdev: the device
 * @arg: user pointer to struct vfio_irq_set and its payload
 *
 * vfio_set_irqs_validate_and_prepare() checks flags, index, start + count
 * (without overflow) against the index's vector count and argsz against the
 * payload size before anything is copied or acted upon.
 *
 * Return: 0 or a negative errno.
 */
long vfio_pci_ioctl_set_irqs(struct vfio_pci_core_device *vdev,
			     void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	void *data = NULL;
	int max, ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;

	max = hdr.index < VFIO_PCI_NUM_IRQS ?
	      vfio_pci_irq_count(vdev, array_index_nospec(hdr.index,
							  VFIO_PCI_NUM_IRQS)) :
	      0;
	ret = vfio_set_irqs_validate_and_prepare(&hdr, max, VFIO_PCI_NUM_IRQS,
						 &data_size);
	if (ret)
		return ret;
	/* No or several actions: vfio_pci_set_irqs() refuses, -ENOTTY. */
	hdr.index = array_index_nospec(hdr.index, VFIO_PCI_NUM_IRQS);

	if (data_size) {
		data = memdup_user(arg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}
	ret = vfio_pci_set_irqs(vdev, &hdr, data);
	kfree(data);
	return ret;
}
