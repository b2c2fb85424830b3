// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device regions for Intel integrated graphics (IGD) assigned to a user.
 *
 * Guest graphics drivers expect things a discrete device does not have:
 *   - the OpRegion, a block of firmware memory the ASLS config register
 *     (0xfc) points to, with the video BIOS table (VBT) either inside it or,
 *     from OpRegion 2.0 on, in a separate "raw VBT" area (RVDA/RVDS);
 *   - the configuration space of the host bridge (00:00.0) and of the LPC
 *     bridge (00:1f.0), which identify the platform.
 * All three are exposed read-only as VFIO_REGION_TYPE_PCI_VENDOR_TYPE |
 * PCI_VENDOR_ID_INTEL regions.
 *
 * The OpRegion region is the 8 KiB OpRegion followed directly by the raw
 * VBT, if there is one, so the user sees the layout of OpRegion 2.1: RVDA
 * reads as the offset of the VBT inside the region (or 0 without one), and
 * a 2.0 OpRegion, whose RVDA is a physical address, reads as 2.1.
 */
#include <linux/io.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <linux/vfio_pci_core.h>
#include <kunit/visibility.h>

#include "vfio_pci_igd.h"

#define IGD_ASLS		0xfc	/* config register: OpRegion address */
#define IGD_OPREGION_SIZE	SZ_8K
#define IGD_OPREGION_SIG	"IntelGraphicsMem"
#define IGD_OPREGION_SIG_LEN	16
#define IGD_OPREGION_KB		0x10	/* __le32: size in KiB */
#define IGD_OPREGION_VERSION	0x16	/* __le16: major << 8 | minor */
#define IGD_OPREGION_RVDA	0x3ba	/* __le64: raw VBT address */
#define IGD_OPREGION_RVDS	0x3c2	/* __le32: raw VBT size */

#define IGD_REGION_TYPE	(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_INTEL)

/**
 * vfio_pci_igd_parse_opregion - check and decode an OpRegion header
 * @hdr: the first IGD_OPREGION_SIZE bytes of the OpRegion
 * @out: the decoded fields
 *
 * Kept free of any device access so that it only depends on its input (and
 * the KUnit tests can feed it any header).  The raw VBT fields only count
 * from version 2.0 on, and only together.
 *
 * Return: 0, or -EINVAL for a bad signature or a zero size.
 */
VISIBLE_IF_KUNIT int
vfio_pci_igd_parse_opregion(const u8 *hdr,
			    struct vfio_pci_igd_opregion_hdr *out)
{
	memset(out, 0, sizeof(*out));
	if (memcmp(hdr, IGD_OPREGION_SIG, IGD_OPREGION_SIG_LEN))
		return -EINVAL;
	if (!get_unaligned_le32(hdr + IGD_OPREGION_KB))
		return -EINVAL;

	out->version = get_unaligned_le16(hdr + IGD_OPREGION_VERSION);
	if (out->version < 0x0200)
		return 0;
	out->rvda = get_unaligned_le64(hdr + IGD_OPREGION_RVDA);
	out->rvds = get_unaligned_le32(hdr + IGD_OPREGION_RVDS);
	if (!out->rvda || !out->rvds) {
		out->rvda = 0;
		out->rvds = 0;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_igd_parse_opregion);

/**
 * vfio_pci_igd_user_view - the header fields the user reads differently
 * @op: the OpRegion being set up
 * @hdr: its decoded header
 *
 * The user sees a 2.1 layout: the raw VBT, if any, right after the 8 KiB
 * OpRegion, RVDA being its offset; a 2.0 OpRegion with a raw VBT (whose
 * RVDA is a physical address) is presented as 2.1.
 */
VISIBLE_IF_KUNIT void
vfio_pci_igd_user_view(struct vfio_pci_igd_opregion *op,
		       const struct vfio_pci_igd_opregion_hdr *hdr)
{
	op->version = cpu_to_le16(hdr->version);
	op->rvda = 0;
	if (!hdr->rvds)
		return;
	op->rvda = cpu_to_le64(IGD_OPREGION_SIZE);
	if (hdr->version == 0x0200)
		op->version = cpu_to_le16(0x0201);
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_igd_user_view);

/**
 * vfio_pci_igd_source - where a byte of the OpRegion region comes from
 * @op: the OpRegion
 * @pos: offset in the region, below 8 KiB + @op->vbt_size
 * @src: set to the byte's source
 *
 * Return: how many bytes from @pos on come from the same place.
 */
VISIBLE_IF_KUNIT size_t
vfio_pci_igd_source(const struct vfio_pci_igd_opregion *op, size_t pos,
		    const u8 **src)
{
	if (pos >= IGD_OPREGION_VERSION &&
	    pos < IGD_OPREGION_VERSION + sizeof(op->version)) {
		*src = (const u8 *)&op->version + pos - IGD_OPREGION_VERSION;
		return IGD_OPREGION_VERSION + sizeof(op->version) - pos;
	}
	if (pos >= IGD_OPREGION_RVDA &&
	    pos < IGD_OPREGION_RVDA + sizeof(op->rvda)) {
		*src = (const u8 *)&op->rvda + pos - IGD_OPREGION_RVDA;
		return IGD_OPREGION_RVDA + sizeof(op->rvda) - pos;
	}
	if (pos < IGD_OPREGION_SIZE) {
		*src = (const u8 *)op->opregion + pos;
		if (pos < IGD_OPREGION_VERSION)
			return IGD_OPREGION_VERSION - pos;
		if (pos < IGD_OPREGION_RVDA)
			return IGD_OPREGION_RVDA - pos;
		return IGD_OPREGION_SIZE - pos;
	}
	*src = (const u8 *)op->vbt + pos - IGD_OPREGION_SIZE;
	return IGD_OPREGION_SIZE + op->vbt_size - pos;
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_igd_source);

static ssize_t vfio_pci_igd_opregion_rw(struct vfio_pci_core_device *vdev,
					char __user *buf, size_t count,
					loff_t *ppos, bool iswrite)
{
	unsigned int i = VFIO_PCI_OFFSET_TO_INDEX(*ppos) - VFIO_PCI_NUM_REGIONS;
	struct vfio_pci_igd_opregion *op = vdev->region[i].data;
	size_t pos = *ppos & VFIO_PCI_OFFSET_MASK;
	size_t size = vdev->region[i].size;
	size_t done = 0, n;
	const u8 *src;

	if (iswrite || pos >= size)
		return -EINVAL;
	count = min(count, size - pos);

	while (done < count) {
		n = min(count - done, vfio_pci_igd_source(op, pos + done, &src));
		if (copy_to_user(buf + done, src, n))
			return -EFAULT;
		done += n;
	}
	*ppos += done;
	return done;
}

static void vfio_pci_igd_opregion_release(struct vfio_pci_core_device *vdev,
					  struct vfio_pci_region *region)
{
	struct vfio_pci_igd_opregion *op = region->data;

	if (op->vbt)
		memunmap(op->vbt);
	memunmap(op->opregion);
	kfree(op);
}

static const struct vfio_pci_regops vfio_pci_igd_opregion_ops = {
	.rw		= vfio_pci_igd_opregion_rw,
	.release	= vfio_pci_igd_opregion_release,
};

/* Map the raw VBT the header points to, if any. */
static int vfio_pci_igd_map_vbt(struct vfio_pci_igd_opregion *op, u32 asls,
				const struct vfio_pci_igd_opregion_hdr *hdr)
{
	phys_addr_t addr;

	if (!hdr->rvds)
		return 0;

	/* 2.0 has a physical address, later versions an offset. */
	addr = hdr->version == 0x0200 ? hdr->rvda : asls + hdr->rvda;
	op->vbt = memremap(addr, hdr->rvds, MEMREMAP_WB);
	if (!op->vbt)
		return -ENOMEM;
	op->vbt_size = hdr->rvds;
	return 0;
}

static int vfio_pci_igd_opregion_init(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_igd_opregion_hdr hdr;
	struct vfio_pci_igd_opregion *op;
	u32 asls;
	int ret;

	ret = pci_read_config_dword(vdev->pdev, IGD_ASLS, &asls);
	if (ret)
		return pcibios_err_to_errno(ret);
	if (!asls || asls == ~0U)
		return -ENODEV;

	op = kzalloc(sizeof(*op), GFP_KERNEL_ACCOUNT);
	if (!op)
		return -ENOMEM;
	op->opregion = memremap(asls, IGD_OPREGION_SIZE, MEMREMAP_WB);
	if (!op->opregion) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = vfio_pci_igd_parse_opregion(op->opregion, &hdr);
	if (ret)
		goto err_unmap;
	ret = vfio_pci_igd_map_vbt(op, asls, &hdr);
	if (ret)
		goto err_unmap;
	vfio_pci_igd_user_view(op, &hdr);

	ret = vfio_pci_core_register_dev_region(vdev, IGD_REGION_TYPE,
						VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION,
						&vfio_pci_igd_opregion_ops,
						IGD_OPREGION_SIZE + op->vbt_size,
						VFIO_REGION_INFO_FLAG_READ, op);
	if (ret)
		goto err_vbt;
	/*
	 * ASLS is writable on real IGDs.  Were user writes to reach it, the
	 * next open would map, and hand out, whatever memory they point to.
	 */
	return vfio_pci_config_virtualize(vdev, IGD_ASLS, sizeof(asls), asls);

err_vbt:
	if (op->vbt)
		memunmap(op->vbt);
err_unmap:
	memunmap(op->opregion);
err_free:
	kfree(op);
	return ret;
}

/* Config space of another function, read with naturally aligned accesses. */
static ssize_t vfio_pci_igd_cfg_rw(struct vfio_pci_core_device *vdev,
				   char __user *buf, size_t count,
				   loff_t *ppos, bool iswrite)
{
	unsigned int i = VFIO_PCI_OFFSET_TO_INDEX(*ppos) - VFIO_PCI_NUM_REGIONS;
	struct pci_dev *bridge = vdev->region[i].data;
	size_t pos = *ppos & VFIO_PCI_OFFSET_MASK;
	size_t size = vdev->region[i].size;
	size_t done = 0, n;
	u32 val;
	int ret;

	if (iswrite || pos >= size)
		return -EINVAL;
	count = min(count, size - pos);

	while (done < count) {
		if (count - done >= 4 && !(pos & 3)) {
			n = 4;
			ret = pci_user_read_config_dword(bridge, pos, &val);
		} else if (count - done >= 2 && !(pos & 1)) {
			u16 v16;

			n = 2;
			ret = pci_user_read_config_word(bridge, pos, &v16);
			val = v16;
		} else {
			u8 v8;

			n = 1;
			ret = pci_user_read_config_byte(bridge, pos, &v8);
			val = v8;
		}
		if (ret)
			return pcibios_err_to_errno(ret);
		put_unaligned_le32(val, &val);
		if (copy_to_user(buf + done, &val, n))
			return -EFAULT;
		pos += n;
		done += n;
	}
	*ppos += done;
	return done;
}

static void vfio_pci_igd_cfg_release(struct vfio_pci_core_device *vdev,
				     struct vfio_pci_region *region)
{
	pci_dev_put(region->data);
}

static const struct vfio_pci_regops vfio_pci_igd_cfg_ops = {
	.rw		= vfio_pci_igd_cfg_rw,
	.release	= vfio_pci_igd_cfg_release,
};

/*
 * Expose the config space of @bridge, an Intel function of base and sub
 * class @class, as region @subtype.  Consumes the reference on @bridge.
 */
static int vfio_pci_igd_add_cfg(struct vfio_pci_core_device *vdev,
				struct pci_dev *bridge, u32 class,
				u32 subtype)
{
	int ret;

	if (!bridge)
		return -ENODEV;
	if (bridge->vendor != PCI_VENDOR_ID_INTEL ||
	    (bridge->class >> 8) != class) {
		pci_dev_put(bridge);
		return -EINVAL;
	}
	ret = vfio_pci_core_register_dev_region(vdev, IGD_REGION_TYPE, subtype,
						&vfio_pci_igd_cfg_ops,
						bridge->cfg_size,
						VFIO_REGION_INFO_FLAG_READ, bridge);
	if (ret)
		pci_dev_put(bridge);
	return ret;
}

/**
 * vfio_pci_igd_init - add the IGD regions to an Intel VGA device
 * @vdev: the device, being opened
 *
 * Return: 0, -ENODEV when the device is no IGD (no OpRegion, or no Intel
 * host bridge where an IGD platform has one), or another negative errno.
 */
int vfio_pci_igd_init(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *host, *lpc;
	int ret;

	ret = vfio_pci_igd_opregion_init(vdev);
	if (ret)
		return ret;
	host = pci_get_domain_bus_and_slot(0, 0, PCI_DEVFN(0, 0));
	ret = vfio_pci_igd_add_cfg(vdev, host, PCI_CLASS_BRIDGE_HOST,
				   VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG);
	if (ret)
		return ret;
	lpc = pci_get_domain_bus_and_slot(0, 0, PCI_DEVFN(0x1f, 0));
	return vfio_pci_igd_add_cfg(vdev, lpc, PCI_CLASS_BRIDGE_ISA,
				    VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG);
}
