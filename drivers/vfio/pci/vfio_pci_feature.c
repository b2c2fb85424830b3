// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO_DEVICE_FEATURE for vfio-pci-core devices.
 *
 * The vfio core has checked the header (one of GET/SET unless PROBE, no
 * unknown flags) and handles the migration features itself; what arrives
 * here is one of ours or something this device does not have.  Each handler
 * runs vfio_check_feature() for its own GET/SET combination and payload
 * size, which makes PROBE answer exactly what a real call would accept.
 *
 * The vfio core holds a runtime PM reference around the ioctl, so the device
 * is awake while a handler runs.
 */
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

/**
 * vfio_pci_core_ioctl_feature - VFIO_DEVICE_FEATURE for vfio-pci devices
 * @device: the vfio device
 * @flags: the feature number and GET/SET/PROBE bits
 * @arg: user pointer to the feature payload
 * @argsz: size of the payload
 *
 * Variant drivers handle their own features and fall back to this one.
 *
 * Return: 0 or a negative errno; -ENOTTY for a feature this device lacks,
 * -EINVAL for a GET/SET combination or payload size the feature rejects.
 */
int vfio_pci_core_ioctl_feature(struct vfio_device *device, u32 flags,
				void __user *arg, size_t argsz)
{
	struct vfio_pci_core_device *vdev = to_core_dev(device);

	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
		return vfio_pci_feature_low_power_entry(vdev, flags, arg, argsz,
							false);
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
		return vfio_pci_feature_low_power_entry(vdev, flags, arg, argsz,
							true);
	case VFIO_DEVICE_FEATURE_LOW_POWER_EXIT:
		return vfio_pci_feature_low_power_exit(vdev, flags, argsz);
	case VFIO_DEVICE_FEATURE_PCI_VF_TOKEN:
		return vfio_pci_feature_vf_token(vdev, flags, arg, argsz);
	default:
		return -ENOTTY;
	}
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioctl_feature);
