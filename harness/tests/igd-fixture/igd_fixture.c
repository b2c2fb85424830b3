// SPDX-License-Identifier: GPL-2.0
/*
 * Test fixture for harness/tests/44-igd.sh, never for real systems: turns
 * one unbound PCI function into a fake Intel integrated graphics device
 * (IGD), so that vfio-pci's IGD regions can be exercised in a VM that has
 * no Intel graphics.
 *
 * At load it
 *   - builds an 8 KiB OpRegion (and, from version 2.0 on, a raw VBT) in
 *     physically contiguous memory below 4 GiB, since the ASLS register that
 *     points to it is 32 bits wide;
 *   - removes the function, wraps the config accessors of its bus so that
 *     for that function the vendor/device dword reads as Intel and @device,
 *     the class code as a VGA controller (0x030000) and ASLS (0xfc) as the
 *     OpRegion's physical address, then rescans the bus.  The PCI core, the
 *     VGA arbiter and vfio-pci therefore see an Intel VGA device from its
 *     enumeration on; changing the class of a live device would leave the
 *     VGA arbiter unaware of it and vfio-pci's VGA client registration
 *     would fail;
 *   - publishes in debugfs (igd_fixture/) what a user of vfio-pci should
 *     read: "opregion" is the 8 KiB OpRegion followed by the raw VBT bytes
 *     exactly as they sit in memory (the test applies the documented
 *     rewrites itself), "asls" the OpRegion address and "asls_writes" the
 *     number of config writes that reached ASLS.
 * Unloading removes the fake device, puts the original accessors back and
 * rescans, so the original device comes back with its own IDs.
 *
 * The function must be unbound and alone on its bus (behind its own PCIe
 * root port): every function on the bus goes through the wrapped accessors.
 *
 *   insmod igd_fixture.ko bdf=0000:01:00.0 version=0x0201 vbt_size=4660
 *
 * version: OpRegion version, major << 8 | minor.  2.1 and later place the
 *   raw VBT at RVDA bytes from the OpRegion start, 2.0 at physical address
 *   RVDA; below 2.0 there is no RVDA/RVDS and vbt_size is ignored.
 * vbt_size: raw VBT bytes; 0 from 2.0 on writes RVDA but leaves RVDS 0.
 * vbt_gap: bytes between the end of the OpRegion and the raw VBT.
 * bad_sig: corrupt the OpRegion signature.
 * no_asls: ASLS reads 0 (no OpRegion).
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/unaligned.h>
#include <linux/vmalloc.h>

#define FIX_ASLS		0xfc
#define FIX_OPREGION_SIZE	SZ_8K
#define FIX_SIG			"IntelGraphicsMem"
#define FIX_SIG_LEN		16
#define FIX_SIZE_KB		0x10
#define FIX_VERSION		0x16
#define FIX_RVDA		0x3ba
#define FIX_RVDS		0x3c2
/* Big enough for any real raw VBT, small enough for one page block. */
#define FIX_VBT_MAX		SZ_1M

static char *bdf;
module_param(bdf, charp, 0444);
MODULE_PARM_DESC(bdf, "the function, domain:bus:slot.function");

static ushort device = 0x0f1d;
module_param(device, ushort, 0444);
MODULE_PARM_DESC(device, "Intel device ID to report (default 0x0f1d, matched by no driver)");

static ushort version = 0x0201;
module_param(version, ushort, 0444);
MODULE_PARM_DESC(version, "OpRegion version, major << 8 | minor (default 0x0201)");

static uint vbt_size = 4660;
module_param(vbt_size, uint, 0444);
MODULE_PARM_DESC(vbt_size, "raw VBT size in bytes, from version 2.0 on (default 4660)");

static uint vbt_gap;
module_param(vbt_gap, uint, 0444);
MODULE_PARM_DESC(vbt_gap, "bytes between the OpRegion and the raw VBT (default 0)");

static bool bad_sig;
module_param(bad_sig, bool, 0444);
MODULE_PARM_DESC(bad_sig, "corrupt the OpRegion signature");

static bool no_asls;
module_param(no_asls, bool, 0444);
MODULE_PARM_DESC(no_asls, "report ASLS as 0: no OpRegion");

/**
 * struct igd_fixture - state of the one fake device
 * @bus: the function's bus, referenced
 * @devfn: the function on @bus
 * @orig: @bus's accessors before we wrapped them
 * @ops: the wrapping accessors
 * @pages: OpRegion, then the raw VBT after @vbt_gap bytes
 * @order: allocation order of @pages
 * @asls: physical address of the OpRegion as ASLS reports it (0: none)
 * @asls_writes: config writes that touched ASLS; counted under pci_lock
 * @expect: OpRegion and raw VBT back to back, for the debugfs blob
 * @blob: the debugfs view of @expect
 * @dir: our debugfs directory
 *
 * Everything but @asls_writes is set up before the accessors are wrapped
 * and only read after, so the accessors need no lock of their own.
 */
struct igd_fixture {
	struct pci_bus			*bus;
	unsigned int			devfn;
	struct pci_ops			*orig;
	struct pci_ops			ops;
	struct page			*pages;
	unsigned int			order;
	u32				asls;
	atomic_t			asls_writes;
	void				*expect;
	struct debugfs_blob_wrapper	blob;
	struct dentry			*dir;
};

static struct igd_fixture fix;

/* The raw VBT lives in the fixture's memory from version 2.0 on only. */
static bool fix_has_vbt_area(void)
{
	return version >= 0x0200 && vbt_size;
}

/*
 * The byte of the fake device's config space at @pos, when it is not the
 * real device's.  Runs under pci_lock, a raw spinlock: no sleeping.
 */
static bool fix_cfg_byte(unsigned int pos, u8 *val)
{
	u32 dw;

	switch (pos & ~3U) {
	case PCI_VENDOR_ID:
		dw = PCI_VENDOR_ID_INTEL | (u32)device << 16;
		break;
	case PCI_CLASS_REVISION:
		/* The revision ID stays the device's. */
		if (pos == PCI_CLASS_REVISION)
			return false;
		dw = PCI_CLASS_DISPLAY_VGA << 16;
		break;
	case FIX_ASLS:
		dw = fix.asls;
		break;
	default:
		return false;
	}
	*val = dw >> (8 * (pos & 3));
	return true;
}

static int fix_read(struct pci_bus *bus, unsigned int devfn, int where,
		    int size, u32 *val)
{
	int ret = fix.orig->read(bus, devfn, where, size, val);
	int i;
	u8 b;

	if (ret != PCIBIOS_SUCCESSFUL || devfn != fix.devfn)
		return ret;
	for (i = 0; i < size; i++) {
		if (!fix_cfg_byte(where + i, &b))
			continue;
		*val &= ~(0xffU << (8 * i));
		*val |= (u32)b << (8 * i);
	}
	return ret;
}

static int fix_write(struct pci_bus *bus, unsigned int devfn, int where,
		     int size, u32 val)
{
	if (devfn == fix.devfn && where < FIX_ASLS + 4 && where + size > FIX_ASLS)
		atomic_inc(&fix.asls_writes);
	return fix.orig->write(bus, devfn, where, size, val);
}

/* A pattern that differs at every offset a test is likely to read. */
static void fix_fill(u8 *p, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (u8)(i * 31 + (i >> 8) + seed);
}

/* Lay out OpRegion and raw VBT in fresh memory below 4 GiB. */
static int fix_build_opregion(void)
{
	size_t vbt_off = FIX_OPREGION_SIZE + vbt_gap;
	size_t total = FIX_OPREGION_SIZE;
	phys_addr_t phys;
	u8 *op;

	if (fix_has_vbt_area())
		total = vbt_off + vbt_size;
	fix.order = get_order(total);
	fix.pages = alloc_pages(GFP_KERNEL | GFP_DMA32 | __GFP_ZERO, fix.order);
	if (!fix.pages)
		return -ENOMEM;
	phys = page_to_phys(fix.pages);
	if (phys + total - 1 > U32_MAX) {
		__free_pages(fix.pages, fix.order);
		return -ERANGE;
	}
	op = page_address(fix.pages);

	fix_fill(op, FIX_OPREGION_SIZE, 0x11);
	memcpy(op, FIX_SIG, FIX_SIG_LEN);
	if (bad_sig)
		op[FIX_SIG_LEN - 1] ^= 0x20;
	put_unaligned_le32(FIX_OPREGION_SIZE / SZ_1K, op + FIX_SIZE_KB);
	put_unaligned_le16(version, op + FIX_VERSION);
	if (version >= 0x0200) {
		/* 2.0 wants a physical address, later versions an offset. */
		put_unaligned_le64(version == 0x0200 ? phys + vbt_off : vbt_off,
				   op + FIX_RVDA);
		put_unaligned_le32(vbt_size, op + FIX_RVDS);
	}
	if (fix_has_vbt_area()) {
		fix_fill(op + vbt_off, vbt_size, 0xa5);
		memcpy(op + vbt_off, "$VBT", min_t(size_t, 4, vbt_size));
	}

	fix.blob.size = FIX_OPREGION_SIZE + (fix_has_vbt_area() ? vbt_size : 0);
	fix.expect = vmalloc(fix.blob.size);
	if (!fix.expect) {
		__free_pages(fix.pages, fix.order);
		return -ENOMEM;
	}
	memcpy(fix.expect, op, FIX_OPREGION_SIZE);
	if (fix_has_vbt_area())
		memcpy(fix.expect + FIX_OPREGION_SIZE, op + vbt_off, vbt_size);
	fix.blob.data = fix.expect;
	fix.asls = no_asls ? 0 : (u32)phys;
	return 0;
}

static void fix_free_opregion(void)
{
	vfree(fix.expect);
	__free_pages(fix.pages, fix.order);
}

/* Look the function up and make sure we may take it over. */
static struct pci_dev *fix_get_target(void)
{
	unsigned int dom, bus, slot, fn;
	struct pci_dev *pdev;
	int ret = 0;

	if (!bdf || sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return ERR_PTR(-EINVAL);
	pdev = pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(slot, fn));
	if (!pdev)
		return ERR_PTR(-ENODEV);

	device_lock(&pdev->dev);
	if (pdev->dev.driver)
		ret = -EBUSY;
	device_unlock(&pdev->dev);
	/* Every function on the bus would go through our accessors. */
	if (!ret && (pdev->subordinate || !list_is_singular(&pdev->bus->devices)))
		ret = -EXDEV;
	if (ret) {
		pci_dev_put(pdev);
		return ERR_PTR(ret);
	}
	return pdev;
}

static void fix_rescan(void)
{
	pci_lock_rescan_remove();
	pci_rescan_bus(fix.bus);
	pci_unlock_rescan_remove();
}

/* Remove whatever function sits at our devfn now. */
static void fix_remove_current(void)
{
	struct pci_dev *pdev = pci_get_slot(fix.bus, fix.devfn);

	if (!pdev)
		return;
	pci_stop_and_remove_bus_device_locked(pdev);
	pci_dev_put(pdev);
}

/* Swap the real device for the fake one; 0 when the fake one is there. */
static int fix_swap_in(struct pci_dev *target)
{
	struct pci_dev *pdev;
	int ret = 0;

	fix.bus = target->bus;
	fix.devfn = target->devfn;
	get_device(&fix.bus->dev);
	pci_stop_and_remove_bus_device_locked(target);
	pci_dev_put(target);

	fix.ops = *fix.bus->ops;
	fix.ops.read = fix_read;
	fix.ops.write = fix_write;
	fix.orig = pci_bus_set_ops(fix.bus, &fix.ops);
	fix_rescan();

	pdev = pci_get_slot(fix.bus, fix.devfn);
	if (!pdev || pdev->vendor != PCI_VENDOR_ID_INTEL ||
	    (pdev->class >> 8) != PCI_CLASS_DISPLAY_VGA)
		ret = -EIO;
	else
		pci_info(pdev, "fake Intel VGA %04x, OpRegion %#x version %#06x\n",
			 pdev->device, fix.asls, version);
	pci_dev_put(pdev);
	return ret;
}

/* Undo fix_swap_in(): the original device comes back. */
static void fix_swap_out(void)
{
	fix_remove_current();
	pci_bus_set_ops(fix.bus, fix.orig);
	fix_rescan();
	put_device(&fix.bus->dev);
}

static int __init igd_fixture_init(void)
{
	struct pci_dev *target;
	int ret;

	if (fix_has_vbt_area() && (vbt_size > FIX_VBT_MAX || vbt_gap > FIX_VBT_MAX))
		return -EINVAL;
	target = fix_get_target();
	if (IS_ERR(target))
		return PTR_ERR(target);
	ret = fix_build_opregion();
	if (ret) {
		pci_dev_put(target);
		return ret;
	}
	ret = fix_swap_in(target);
	if (ret)
		goto err_swap;

	fix.dir = debugfs_create_dir("igd_fixture", NULL);
	debugfs_create_blob("opregion", 0400, fix.dir, &fix.blob);
	debugfs_create_x32("asls", 0400, fix.dir, &fix.asls);
	debugfs_create_atomic_t("asls_writes", 0400, fix.dir, &fix.asls_writes);
	return 0;

err_swap:
	fix_swap_out();
	fix_free_opregion();
	return ret;
}
module_init(igd_fixture_init);

static void __exit igd_fixture_exit(void)
{
	debugfs_remove_recursive(fix.dir);
	fix_swap_out();
	fix_free_opregion();
}
module_exit(igd_fixture_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test fixture: a fake Intel IGD with an OpRegion");
