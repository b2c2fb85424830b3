// SPDX-License-Identifier: GPL-2.0
/*
 * A guest driver for QEMU's edu device, for the nested guest of the real
 * client tests (harness/tests/88-guest-qemu.sh): QEMU assigns the edu of
 * the test VM, bound to vfio-pci there, to a Linux guest, and this driver
 * is the guest's user of it.  Every way the device can be used crosses
 * vfio-pci on the host: BAR reads and writes, an MSI, and DMA to guest
 * memory through the host's type1 IOMMU.
 *
 * At probe it runs each use once and logs one line per step, "edu_guest
 * BDF: STEP ok ..." or "edu_guest BDF: STEP FAILED ...", then "edu_guest
 * BDF: done, N failed".  The test reads those lines from the guest's
 * console.  A failed step does not fail the probe: the device stays bound,
 * so the guest's shutdown and the host's release still run over a device
 * that was used.
 *
 * Register layout: QEMU's docs/specs/edu.rst.
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string.h>

#define EDU_REG_ID		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_FACTORIAL	0x08
#define EDU_REG_STATUS		0x20
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_STATUS_COMPUTING	0x01
#define EDU_DMA_START		0x01
#define EDU_DMA_TO_RAM		0x02
#define EDU_DMA_IRQ		0x04
/* The bit edu raises when a DMA with EDU_DMA_IRQ completes. */
#define EDU_IRQ_DMA_DONE	0x100

/*
 * edu's own buffer, in its address space, and how much of it one transfer
 * uses: QEMU 7.2's edu refuses a transfer that ends at the end of its 4 KiB
 * buffer (with a hardware error that stops the machine), so stay short of it.
 */
#define EDU_DMA_BUF_ADDR	0x40000
#define EDU_DMA_LEN		2048
/* edu refuses DMA addresses above 28 bits (its dma_mask property). */
#define EDU_DMA_BITS		28

#define EDU_IRQ_ROUNDS		100
#define EDU_TIMEOUT		(10 * HZ)

struct edu_guest {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct completion irq_done;
	/* Written by the handler, read after irq_done: no lock needed. */
	u32 irq_status;
	unsigned int failed;
};

static irqreturn_t edu_guest_irq(int irq, void *data)
{
	struct edu_guest *edu = data;
	u32 status = ioread32(edu->regs + EDU_REG_IRQ_STATUS);

	if (!status)
		return IRQ_NONE;
	iowrite32(status, edu->regs + EDU_REG_IRQ_ACK);
	edu->irq_status = status;
	complete(&edu->irq_done);
	return IRQ_HANDLED;
}

static void edu_guest_result(struct edu_guest *edu, const char *step, bool ok,
			     const char *detail)
{
	if (!ok)
		edu->failed++;
	pci_info(edu->pdev, "%s %s %s\n", step, ok ? "ok" : "FAILED", detail);
}

static void edu_guest_check_id(struct edu_guest *edu)
{
	u32 id = ioread32(edu->regs + EDU_REG_ID);
	u32 probe = 0x5a5a00ffu, back;
	char detail[64];

	iowrite32(probe, edu->regs + EDU_REG_LIVENESS);
	back = ioread32(edu->regs + EDU_REG_LIVENESS);
	snprintf(detail, sizeof(detail), "id=%#010x liveness=%#010x", id, back);
	edu_guest_result(edu, "id", (id & 0xffff) == 0x00ed && back == ~probe,
			 detail);
}

/* Wait for the computing bit to clear: edu computes in a thread of its own. */
static bool edu_guest_wait_idle(struct edu_guest *edu)
{
	unsigned long end = jiffies + EDU_TIMEOUT;

	while (ioread32(edu->regs + EDU_REG_STATUS) & EDU_STATUS_COMPUTING) {
		if (time_after(jiffies, end))
			return false;
		usleep_range(100, 200);
	}
	return true;
}

static void edu_guest_check_factorial(struct edu_guest *edu)
{
	u32 result = 0;
	bool idle;
	char detail[64];

	iowrite32(10, edu->regs + EDU_REG_FACTORIAL);
	idle = edu_guest_wait_idle(edu);
	if (idle)
		result = ioread32(edu->regs + EDU_REG_FACTORIAL);
	snprintf(detail, sizeof(detail), "10!=%u%s", result,
		 idle ? "" : " (still computing)");
	edu_guest_result(edu, "factorial", idle && result == 3628800, detail);
}

/* Raise @bits, wait for the MSI; true if it came with exactly those bits. */
static bool edu_guest_raise(struct edu_guest *edu, u32 bits)
{
	reinit_completion(&edu->irq_done);
	edu->irq_status = 0;
	iowrite32(bits, edu->regs + EDU_REG_IRQ_RAISE);
	if (!wait_for_completion_timeout(&edu->irq_done, EDU_TIMEOUT))
		return false;
	return edu->irq_status == bits;
}

static void edu_guest_check_msi(struct edu_guest *edu)
{
	unsigned int i, got = 0;
	char detail[64];

	for (i = 0; i < EDU_IRQ_ROUNDS; i++) {
		if (!edu_guest_raise(edu, 1u << (i % 8)))
			break;
		got++;
	}
	snprintf(detail, sizeof(detail), "%u/%u interrupts", got,
		 EDU_IRQ_ROUNDS);
	edu_guest_result(edu, "msi", got == EDU_IRQ_ROUNDS, detail);
}

/* One DMA between guest memory at @addr and edu's buffer; waits for its MSI. */
static bool edu_guest_dma(struct edu_guest *edu, dma_addr_t addr, bool to_ram)
{
	u64 src = to_ram ? EDU_DMA_BUF_ADDR : addr;
	u64 dst = to_ram ? addr : EDU_DMA_BUF_ADDR;
	u32 cmd = EDU_DMA_START | EDU_DMA_IRQ | (to_ram ? EDU_DMA_TO_RAM : 0);

	reinit_completion(&edu->irq_done);
	edu->irq_status = 0;
	writeq(src, edu->regs + EDU_REG_DMA_SRC);
	writeq(dst, edu->regs + EDU_REG_DMA_DST);
	writeq(EDU_DMA_LEN, edu->regs + EDU_REG_DMA_COUNT);
	writeq(cmd, edu->regs + EDU_REG_DMA_CMD);
	if (!wait_for_completion_timeout(&edu->irq_done, EDU_TIMEOUT))
		return false;
	return edu->irq_status == EDU_IRQ_DMA_DONE;
}

static void edu_guest_check_dma(struct edu_guest *edu)
{
	struct device *dev = &edu->pdev->dev;
	dma_addr_t out_dma, in_dma;
	u8 *out, *in;
	bool ok;
	int i;

	out = dma_alloc_coherent(dev, EDU_DMA_LEN, &out_dma, GFP_KERNEL);
	in = dma_alloc_coherent(dev, EDU_DMA_LEN, &in_dma, GFP_KERNEL);
	if (!out || !in) {
		edu_guest_result(edu, "dma", false, "no coherent memory");
		goto free;
	}
	for (i = 0; i < EDU_DMA_LEN; i++)
		out[i] = (u8)(i * 7 + 3);
	memset(in, 0, EDU_DMA_LEN);

	ok = edu_guest_dma(edu, out_dma, false) &&
	     edu_guest_dma(edu, in_dma, true) &&
	     !memcmp(out, in, EDU_DMA_LEN);
	edu_guest_result(edu, "dma", ok,
			 ok ? "2048 bytes out to edu and back" :
			      "the page that came back differs or no MSI");
free:
	if (in)
		dma_free_coherent(dev, EDU_DMA_LEN, in, in_dma);
	if (out)
		dma_free_coherent(dev, EDU_DMA_LEN, out, out_dma);
}

static int edu_guest_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_guest *edu;
	int ret;

	edu = devm_kzalloc(&pdev->dev, sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	edu->pdev = pdev;
	init_completion(&edu->irq_done);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	edu->regs = pcim_iomap_region(pdev, 0, KBUILD_MODNAME);
	if (IS_ERR(edu->regs))
		return PTR_ERR(edu->regs);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		return ret;
	pci_set_master(pdev);

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		return ret;
	ret = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, 0),
			       edu_guest_irq, 0, KBUILD_MODNAME, edu);
	if (ret) {
		pci_free_irq_vectors(pdev);
		return ret;
	}
	pci_set_drvdata(pdev, edu);

	edu_guest_check_id(edu);
	edu_guest_check_factorial(edu);
	edu_guest_check_msi(edu);
	edu_guest_check_dma(edu);
	pci_info(pdev, "done, %u failed\n", edu->failed);
	return 0;
}

/*
 * Power-off and unbind alike: no interrupt may arrive and no DMA may run
 * once the guest has let go of the device.
 */
static void edu_guest_quiesce(struct pci_dev *pdev)
{
	struct edu_guest *edu = pci_get_drvdata(pdev);

	devm_free_irq(&pdev->dev, pci_irq_vector(pdev, 0), edu);
	pci_free_irq_vectors(pdev);
	pci_clear_master(pdev);
}

static const struct pci_device_id edu_guest_match[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_guest_match);

static struct pci_driver edu_guest_pci = {
	.probe = edu_guest_probe,
	.shutdown = edu_guest_quiesce,
	.remove = edu_guest_quiesce,
	.id_table = edu_guest_match,
	.name = "edu_guest",
};

static int __init edu_guest_init(void)
{
	return pci_register_driver(&edu_guest_pci);
}
module_init(edu_guest_init);

static void __exit edu_guest_exit(void)
{
	pci_unregister_driver(&edu_guest_pci);
}
module_exit(edu_guest_exit);

MODULE_DESCRIPTION("Guest driver for QEMU's edu device, for VFIO client tests");
MODULE_LICENSE("GPL");
