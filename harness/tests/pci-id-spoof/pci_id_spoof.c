// SPDX-License-Identifier: GPL-2.0
/*
 * Test fixture for the VM tests, never for real systems: makes one unbound
 * PCI function report another device ID, and optionally another vendor ID,
 * to the PCI core, so that driver decisions keyed on IDs (the vfio-pci
 * denylist, a variant driver's ID table) can be exercised on emulated
 * hardware.  The real IDs come back at unload.
 *
 *   insmod pci_id_spoof.ko bdf=0000:01:00.0 device=0x0435
 *   insmod pci_id_spoof.ko bdf=0000:01:00.0 vendor=0x15b3 device=0x101e
 */
#include <linux/module.h>
#include <linux/pci.h>

static char *bdf;
module_param(bdf, charp, 0444);
MODULE_PARM_DESC(bdf, "the function, domain:bus:slot.function");

static ushort device;
module_param(device, ushort, 0444);
MODULE_PARM_DESC(device, "the device ID it should report");

/* 0, the default, keeps the function's own vendor ID. */
static ushort vendor;
module_param(vendor, ushort, 0444);
MODULE_PARM_DESC(vendor, "the vendor ID it should report (0: unchanged)");

static struct pci_dev *spoofed;
static unsigned short real_vendor, real_device;

static int __init pci_id_spoof_init(void)
{
	unsigned int dom, bus, slot, fn;
	struct pci_dev *pdev;
	int ret = 0;

	if (!bdf || sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return -EINVAL;
	pdev = pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(slot, fn));
	if (!pdev)
		return -ENODEV;

	/* Drivers match at bind time: only an unbound function may change. */
	device_lock(&pdev->dev);
	if (pdev->dev.driver) {
		ret = -EBUSY;
	} else {
		real_vendor = pdev->vendor;
		real_device = pdev->device;
		if (vendor)
			pdev->vendor = vendor;
		pdev->device = device;
	}
	device_unlock(&pdev->dev);
	if (ret) {
		pci_dev_put(pdev);
		return ret;
	}
	spoofed = pdev;
	pci_info(pdev, "ID %04x:%04x reported as %04x:%04x for testing\n",
		 real_vendor, real_device, pdev->vendor, device);
	return 0;
}
module_init(pci_id_spoof_init);

static void __exit pci_id_spoof_exit(void)
{
	device_lock(&spoofed->dev);
	spoofed->vendor = real_vendor;
	spoofed->device = real_device;
	device_unlock(&spoofed->dev);
	pci_info(spoofed, "ID %04x:%04x restored\n", real_vendor, real_device);
	pci_dev_put(spoofed);
}
module_exit(pci_id_spoof_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test fixture: report another PCI device ID");
