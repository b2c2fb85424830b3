// SPDX-License-Identifier: GPL-2.0
/*
 * Test fixture for harness/tests/54-intx-command.sh, never for real systems:
 * raises the interrupt of a QEMU edu device at the moment the next write of
 * its COMMAND register starts, so that the device's INTx handler runs after
 * the writer read COMMAND and before it writes it back.  On real hardware a
 * handler on another CPU can land there at any time, but the window is a
 * few instructions wide: this makes it happen on every armed write, on a
 * single CPU.  If the writer runs with interrupts enabled there, the handler
 * runs before the write; a writer that holds the lock the handler takes,
 * with interrupts off, gets the interrupt after its write.
 *
 *   insmod intx_inject.ko bdf=0000:01:00.0
 *   echo 1 > /sys/module/intx_inject/parameters/armed	(one write)
 *   cat /sys/module/intx_inject/parameters/fired	(how many so far)
 *
 * Both word accessors a driver writes COMMAND with are probed,
 * pci_user_write_config_word() and pci_write_config_word().
 */
#include <linux/io.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/pci.h>

/* edu: writing a status bit to RAISE sets it and asserts the interrupt. */
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_INJECT_BIT		0x00040000u

static char *bdf;
module_param(bdf, charp, 0444);
MODULE_PARM_DESC(bdf, "the edu function, domain:bus:slot.function");

static bool armed;
module_param(armed, bool, 0644);
MODULE_PARM_DESC(armed, "raise the interrupt at the next COMMAND write");

static unsigned int fired;
module_param(fired, uint, 0444);
MODULE_PARM_DESC(fired, "interrupts raised so far");

static struct pci_dev *target;
static void __iomem *regs;

static int intx_inject_pre(struct kprobe *p, struct pt_regs *ptregs)
{
	struct pci_dev *dev;
	unsigned long where;

	dev = (struct pci_dev *)regs_get_kernel_argument(ptregs, 0);
	where = regs_get_kernel_argument(ptregs, 1);
	if (dev != target || where != PCI_COMMAND || !READ_ONCE(armed))
		return 0;
	WRITE_ONCE(armed, false);
	writel(EDU_INJECT_BIT, regs + EDU_REG_IRQ_RAISE);
	WRITE_ONCE(fired, fired + 1);
	return 0;
}

static struct kprobe probes[] = {
	{ .symbol_name = "pci_user_write_config_word",
	  .pre_handler = intx_inject_pre },
	{ .symbol_name = "pci_write_config_word",
	  .pre_handler = intx_inject_pre },
};

static struct kprobe *probe_ptrs[ARRAY_SIZE(probes)];

static int __init intx_inject_init(void)
{
	unsigned int dom, bus, slot, fn, i;
	int ret;

	if (!bdf || sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return -EINVAL;
	target = pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(slot, fn));
	if (!target)
		return -ENODEV;
	/* The BAR stays assigned while vfio owns the device. */
	regs = ioremap(pci_resource_start(target, 0), EDU_REG_IRQ_RAISE + 4);
	if (!regs) {
		ret = -ENOMEM;
		goto err_put;
	}
	for (i = 0; i < ARRAY_SIZE(probes); i++)
		probe_ptrs[i] = &probes[i];
	ret = register_kprobes(probe_ptrs, ARRAY_SIZE(probe_ptrs));
	if (ret)
		goto err_unmap;
	return 0;

err_unmap:
	iounmap(regs);
err_put:
	pci_dev_put(target);
	return ret;
}

static void __exit intx_inject_exit(void)
{
	unregister_kprobes(probe_ptrs, ARRAY_SIZE(probe_ptrs));
	iounmap(regs);
	pci_dev_put(target);
}

module_init(intx_inject_init);
module_exit(intx_inject_exit);
MODULE_DESCRIPTION("Raise an edu interrupt inside COMMAND writes (test only)");
MODULE_LICENSE("GPL");
