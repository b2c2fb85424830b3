// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci: hands any PCI device to userspace through vfio.
 *
 * The driver is the core library with nothing added.  Its ID table matches
 * every device but only through driver_override, so it never takes a device
 * an administrator did not explicitly give it:
 *
 *   echo vfio-pci > /sys/bus/pci/devices/$BDF/driver_override
 *   echo $BDF > /sys/bus/pci/drivers_probe
 *
 * or, for whole classes of devices, through the ids= module parameter.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_igd.h"

static char ids[1024] __initdata;
module_param_string(ids, ids, sizeof(ids), 0);
MODULE_PARM_DESC(ids,
		 "PCI IDs vfio-pci binds without driver_override: comma-separated vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex");

static bool nointxmask;
static bool disable_vga;
static bool disable_idle_d3;

/*
 * nointxmask and disable_idle_d3 may be changed at run time.  The core gets
 * every new value at once and applies it where it looks at it: nointxmask
 * when a device is next opened, disable_idle_d3 when a device is next
 * bound.  Open and bound devices keep what they have.
 */
static int vfio_pci_set_policy(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_bool(val, kp);

	if (ret)
		return ret;
	vfio_pci_core_set_params(nointxmask, disable_vga, disable_idle_d3);
	return 0;
}

static const struct kernel_param_ops vfio_pci_policy_ops = {
	.set	= vfio_pci_set_policy,
	.get	= param_get_bool,
};

module_param_cb(nointxmask, &vfio_pci_policy_ops, &nointxmask, 0644);
__MODULE_PARM_TYPE(nointxmask, "bool");
MODULE_PARM_DESC(nointxmask,
		 "Never mask INTx at the device (DisINTx); use an exclusive interrupt line instead.  Applies from the next open of a device.");

module_param(disable_vga, bool, 0444);
MODULE_PARM_DESC(disable_vga, "Do not expose legacy VGA ranges of VGA devices.");

module_param_cb(disable_idle_d3, &vfio_pci_policy_ops, &disable_idle_d3, 0644);
__MODULE_PARM_TYPE(disable_idle_d3, "bool");
MODULE_PARM_DESC(disable_idle_d3,
		 "Keep unused devices in D0 instead of letting them idle in D3hot.  Applies from the next bind of a device.");

static bool enable_sriov;
module_param(enable_sriov, bool, 0644);
MODULE_PARM_DESC(enable_sriov,
		 "Let sriov_numvfs create VFs of PFs bound to vfio-pci; their users must share a VF token.");

static bool disable_denylist;
module_param(disable_denylist, bool, 0444);
MODULE_PARM_DESC(disable_denylist,
		 "Bind devices that are known not to work with vfio-pci (denylist) anyway.");

/*
 * Devices vfio-pci must not take by default: functions whose host driver
 * has to stay in charge, or that cannot be isolated safely.
 */
static const struct pci_device_id vfio_pci_denylist[] = {
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_C3XXX) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_C3XXX_VF) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_C62X) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_C62X_VF) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_DH895XCC) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_QAT_DH895XCC_VF) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_DSA_SPR0) },
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_IAX_SPR0) },
	{}
};

static bool vfio_pci_denied(struct pci_dev *pdev)
{
	if (!pci_match_id(vfio_pci_denylist, pdev))
		return false;
	if (disable_denylist) {
		pci_warn(pdev, "%04x:%04x is on the vfio-pci denylist, binding anyway (disable_denylist)\n",
			 pdev->vendor, pdev->device);
		return false;
	}
	pci_warn(pdev, "%04x:%04x is on the vfio-pci denylist, not binding\n",
		 pdev->vendor, pdev->device);
	return true;
}

/*
 * Intel graphics needs extra regions (the OpRegion, the bridges' config
 * spaces).  The core drops device regions at every close, so they are added
 * at every open.  -ENODEV means the device has none of them.
 */
static int vfio_pci_add_igd_regions(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	if (!IS_ENABLED(CONFIG_VFIO_PCI_IGD) ||
	    pdev->vendor != PCI_VENDOR_ID_INTEL ||
	    (pdev->class >> 8) != PCI_CLASS_DISPLAY_VGA)
		return 0;
	ret = vfio_pci_igd_init(vdev);
	if (ret == -ENODEV)
		return 0;
	if (ret)
		pci_warn(pdev, "cannot set up the IGD regions: %d\n", ret);
	return ret;
}

static int vfio_pci_open_device(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev;
	int ret;

	vdev = container_of(core_vdev, struct vfio_pci_core_device, vdev);
	ret = vfio_pci_core_enable(vdev);
	if (ret)
		return ret;

	ret = vfio_pci_add_igd_regions(vdev);
	if (ret)
		goto disable;
	vfio_pci_core_finish_enable(vdev);
	return 0;

disable:
	vfio_pci_core_disable(vdev);
	return ret;
}

/* Everything but open_device comes from the core unchanged. */
static const struct vfio_device_ops vfio_pci_ops = {
	.name		= "vfio-pci",
	/* Object life cycle and the way userspace finds the device. */
	.match		= vfio_pci_core_match,
	.init		= vfio_pci_core_init_dev,
	.request	= vfio_pci_core_request,
	.release	= vfio_pci_core_release_dev,
	/* One user session. */
	.open_device	= vfio_pci_open_device,
	.read		= vfio_pci_core_read,
	.mmap		= vfio_pci_core_mmap,
	.write		= vfio_pci_core_write,
	.device_feature	= vfio_pci_core_ioctl_feature,
	.ioctl		= vfio_pci_core_ioctl,
	.close_device	= vfio_pci_core_close_device,
	/* DMA isolation through iommufd, when the kernel has it. */
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
};

/* Any device, but only when driver_override names this driver. */
static const struct pci_device_id vfio_pci_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, vfio_pci_table);

/* The core device for @pdev, unless @pdev is one vfio-pci must not take. */
static struct vfio_pci_core_device *vfio_pci_alloc(struct pci_dev *pdev)
{
	if (vfio_pci_denied(pdev))
		return ERR_PTR(-EINVAL);
	return vfio_alloc_device(vfio_pci_core_device, vdev, &pdev->dev,
				 &vfio_pci_ops);
}

static int vfio_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vfio_pci_core_device *core = vfio_pci_alloc(pdev);
	int err;

	if (IS_ERR(core))
		return PTR_ERR(core);

	/* The core finds its device through drvdata from here on. */
	dev_set_drvdata(&pdev->dev, core);
	err = vfio_pci_core_register_device(core);
	if (err) {
		dev_set_drvdata(&pdev->dev, NULL);
		vfio_put_device(&core->vdev);
	}
	return err;
}

static int vfio_pci_sriov_configure(struct pci_dev *pdev, int nr_virtfn)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(&pdev->dev);

	/* Disabling is always allowed: the parameter may have changed. */
	if (nr_virtfn && !enable_sriov)
		return -ENOENT;
	return vfio_pci_core_sriov_configure(vdev, nr_virtfn);
}

static void vfio_pci_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core;

	/* Waits for the last user to let go, asking it through REQ. */
	core = dev_get_drvdata(&pdev->dev);
	vfio_pci_core_unregister_device(core);
	vfio_put_device(&core->vdev);
}

static struct pci_driver vfio_pci_driver = {
	.name			= "vfio-pci",
	.id_table		= vfio_pci_table,
	.probe			= vfio_pci_probe,
	.remove			= vfio_pci_remove,
	.err_handler		= &vfio_pci_core_err_handlers,
	.sriov_configure	= vfio_pci_sriov_configure,
	.driver.pm		= &vfio_pci_core_pm_ops,
	.driver_managed_dma	= true,
};

/*
 * Add the IDs of the ids= parameter as dynamic IDs: those match without
 * driver_override, like IDs written to the driver's new_id file.  A bad
 * entry is reported and skipped; the others still count.
 */
static void __init vfio_pci_add_ids(void)
{
	unsigned int vendor, device, subvendor, subdevice, class, class_mask;
	char *rest = ids, *id;
	int fields, ret;

	while ((id = strsep(&rest, ","))) {
		if (!*id)
			continue;
		subvendor = PCI_ANY_ID;
		subdevice = PCI_ANY_ID;
		class = 0;
		class_mask = 0;
		fields = sscanf(id, "%x:%x:%x:%x:%x:%x", &vendor, &device,
				&subvendor, &subdevice, &class, &class_mask);
		if (fields < 2) {
			pr_warn("vfio-pci: ignoring malformed ID \"%s\"\n", id);
			continue;
		}
		ret = pci_add_dynid(&vfio_pci_driver, vendor, device, subvendor,
				    subdevice, class, class_mask, 0);
		if (ret)
			pr_warn("vfio-pci: cannot add ID %04x:%04x sub %04x:%04x class %06x/%06x: %d\n",
				vendor, device, subvendor, subdevice, class,
				class_mask, ret);
		else
			pr_info("vfio-pci: added ID %04x:%04x sub %04x:%04x class %06x/%06x\n",
				vendor, device, subvendor, subdevice, class,
				class_mask);
	}
}

static int __init vfio_pci_init(void)
{
	int ret;

	vfio_pci_core_set_params(nointxmask, disable_vga, disable_idle_d3);
	ret = pci_register_driver(&vfio_pci_driver);
	if (ret)
		return ret;
	vfio_pci_add_ids();
	if (disable_denylist)
		pr_warn("vfio-pci: device denylist disabled\n");
	return 0;
}
module_init(vfio_pci_init);

static void __exit vfio_pci_exit(void)
{
	pci_unregister_driver(&vfio_pci_driver);
}
module_exit(vfio_pci_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO driver for any PCI device, bound through driver_override");
