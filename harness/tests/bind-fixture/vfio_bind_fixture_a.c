// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only PCI driver for harness/tests/92-bind-tool.sh, which checks how
 * tools/vfio-pci-bind ranks the vfio_pci: aliases of VFIO drivers.  Its ID
 * table is driver_override-only, as a VFIO variant driver's is, so modpost
 * writes it as vfio_pci: aliases; the driver itself only takes the device
 * and uses nothing of VFIO (to the tool it is a host driver in a group).
 *
 * Module A (this file): edu (1234:11e8) by vendor and device, and every
 * Ethernet controller (class 02 00) by class code: each alias has five
 * wildcards, two fewer than vfio_pci's match-all one.
 * Module B (vfio_bind_fixture_b.c): e1000e (8086:10d3) by vendor and
 * device, five wildcards too, so that A and B tie for an e1000e.
 *
 * fail_init=1 makes loading fail, fail_probe=1 makes every probe fail, for
 * the tool's error paths.
 */

#include <linux/module.h>
#include <linux/pci.h>

#ifdef FIXTURE_B
#define FIXTURE_DRIVER	"vfio-bind-fixture-b"
#else
#define FIXTURE_DRIVER	"vfio-bind-fixture-a"
#endif

static bool fail_init;
module_param(fail_init, bool, 0444);
MODULE_PARM_DESC(fail_init, "Fail module initialization");

static bool fail_probe;
module_param(fail_probe, bool, 0644);
MODULE_PARM_DESC(fail_probe, "Refuse every device at probe");

static const struct pci_device_id fixture_ids[] = {
#ifdef FIXTURE_B
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_INTEL, 0x10d3) },
#else
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(0x1234, 0x11e8) },
	{
		.vendor = PCI_ANY_ID,
		.device = PCI_ANY_ID,
		.subvendor = PCI_ANY_ID,
		.subdevice = PCI_ANY_ID,
		.class = PCI_CLASS_NETWORK_ETHERNET << 8,
		.class_mask = 0xffff00,
		.override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE,
	},
#endif
	{}
};
MODULE_DEVICE_TABLE(pci, fixture_ids);

static int fixture_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	/* -ENODEV: the driver core takes it as "not mine", quietly. */
	if (READ_ONCE(fail_probe))
		return -ENODEV;
	return 0;
}

static void fixture_remove(struct pci_dev *pdev)
{
}

static struct pci_driver fixture_driver = {
	.name		= FIXTURE_DRIVER,
	.id_table	= fixture_ids,
	.probe		= fixture_probe,
	.remove		= fixture_remove,
};

static int __init fixture_init(void)
{
	if (fail_init)
		return -ENODEV;
	return pci_register_driver(&fixture_driver);
}
module_init(fixture_init);

static void __exit fixture_exit(void)
{
	pci_unregister_driver(&fixture_driver);
}
module_exit(fixture_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only driver_override-only PCI driver for vfio-pci-bind's tests");
