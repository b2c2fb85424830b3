// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VGA region: the legacy ranges of a VGA device, at the same offsets in
 * the region as on the bus.
 *
 *   0x3b0 - 0x3bb    I/O ports (monochrome registers)
 *   0x3c0 - 0x3df    I/O ports (colour and common registers)
 *   0xa0000 - 0xbffff  memory (the legacy frame buffer window)
 *
 * Everything else in the region is a hole.  Legacy ranges are shared by all
 * VGA devices of the system, so every access holds the VGA arbiter for the
 * kind of resource it touches; the arbiter routes the range to our device
 * (and away from the others) for that time.
 */
#include <linux/aperture.h>
#include <linux/io.h>
#include <linux/pci.h>
#include <linux/vgaarb.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

#define VFIO_PCI_VGA_REGION_SIZE	0xc0000

struct vfio_pci_vga_window {
	u32		start;
	u32		len;
	bool		is_io;
};

static const struct vfio_pci_vga_window vfio_pci_vga_windows[] = {
	{ .start = 0x3b0,	.len = 0x0c,	.is_io = true },
	{ .start = 0x3c0,	.len = 0x20,	.is_io = true },
	{ .start = 0xa0000,	.len = 0x20000,	.is_io = false },
};

static const struct vfio_pci_vga_window *vfio_pci_vga_window(u64 pos)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vfio_pci_vga_windows); i++) {
		const struct vfio_pci_vga_window *w = &vfio_pci_vga_windows[i];

		if (pos >= w->start && pos < w->start + w->len)
			return w;
	}
	return NULL;
}

/**
 * vfio_pci_vga_probe - decide whether the device gets a VGA region
 * @vdev: the device
 */
void vfio_pci_vga_probe(struct vfio_pci_core_device *vdev)
{
	vdev->has_vga = IS_ENABLED(CONFIG_VFIO_PCI_VGA) &&
			vfio_pci_is_vga(vdev->pdev) && !vfio_pci_disable_vga;
}

/**
 * vfio_pci_vga_info - size and flags of the VGA region
 * @vdev: the device
 * @info: filled in
 *
 * Return: 0, or -EINVAL if the device has no VGA region.
 */
int vfio_pci_vga_info(struct vfio_pci_core_device *vdev,
		      struct vfio_region_info *info)
{
	if (!vdev->has_vga)
		return -EINVAL;
	info->size = VFIO_PCI_VGA_REGION_SIZE;
	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	return 0;
}

/**
 * vfio_pci_vga_rw - read() or write() of the VGA region
 * @vdev: the device
 * @buf: user buffer
 * @count: bytes requested; an access is cut at the end of its window
 * @ppos: file position
 * @iswrite: direction
 *
 * Return: bytes moved, -EINVAL for a hole or a device without VGA, or
 * another negative errno.
 */
ssize_t vfio_pci_vga_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite)
{
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	const struct vfio_pci_vga_window *w;
	unsigned int rsrc;
	void __iomem *io;
	ssize_t done;
	int ret;

	if (!vdev->has_vga)
		return -EINVAL;
	w = vfio_pci_vga_window(pos);
	if (!w)
		return -EINVAL;
	count = min_t(size_t, count, w->start + w->len - pos);

	io = w->is_io ? ioport_map(w->start, w->len) :
			ioremap(w->start, w->len);
	if (!io)
		return -ENOMEM;

	rsrc = w->is_io ? VGA_RSRC_LEGACY_IO : VGA_RSRC_LEGACY_MEM;
	ret = vga_get_interruptible(vdev->pdev, rsrc);
	if (ret) {
		done = ret;
		goto out_unmap;
	}
	/* Legacy ranges are not BARs: no memory decode gate of ours. */
	done = vfio_pci_core_do_io_rw(vdev, false, io, buf, pos - w->start,
				      count, 0, 0, iswrite,
				      VFIO_PCI_IO_WIDTH_4);
	vga_put(vdev->pdev, rsrc);
	if (done > 0)
		*ppos += done;
out_unmap:
	if (w->is_io)
		ioport_unmap(io);
	else
		iounmap(io);
	return done;
}

/*
 * What the arbiter may assume the device decodes.  While another VGA
 * device exists, ours gives up its legacy ranges except while the arbiter
 * hands them to it for a user's access; as the only one it keeps them.
 */
static unsigned int vfio_pci_vga_decode(struct pci_dev *pdev, bool single_vga)
{
	unsigned int decodes = VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM;

	if (single_vga)
		decodes |= VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM;
	return decodes;
}

/**
 * vfio_pci_vga_register - take a VGA device from the console, tell the arbiter
 * @vdev: the device, being registered
 *
 * Firmware may have left a framebuffer in one of the device's BARs, and a
 * generic framebuffer driver (simple-framebuffer, efifb, vesafb) may have
 * claimed that memory for the console.  It would keep drawing into a
 * device the user now owns, and its claim keeps us from requesting the BAR
 * for mmap; such drivers are removed first.
 *
 * Return: 0 or a negative errno.
 */
int vfio_pci_vga_register(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	bool boot_vga;
	int ret;

	if (!vfio_pci_is_vga(pdev))
		return 0;
	ret = aperture_remove_conflicting_pci_devices(pdev,
						      vdev->vdev.ops->name);
	if (ret)
		return ret;
	ret = vga_client_register(pdev, vfio_pci_vga_decode);
	if (ret)
		return ret;
	/* Until the arbiter says otherwise, the boot device keeps legacy. */
	boot_vga = vga_default_device() == pdev;
	vga_set_legacy_decoding(pdev, vfio_pci_vga_decode(pdev, boot_vga));
	return 0;
}

/**
 * vfio_pci_vga_unregister - undo vfio_pci_vga_register()
 * @vdev: the device, being unregistered
 */
void vfio_pci_vga_unregister(struct vfio_pci_core_device *vdev)
{
	if (vfio_pci_is_vga(vdev->pdev))
		vga_client_unregister(vdev->pdev);
}
