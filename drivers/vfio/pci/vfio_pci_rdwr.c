// SPDX-License-Identifier: GPL-2.0-only
/*
 * read()/write() access to BARs and the expansion ROM.
 *
 * Every access that reaches memory space checks, under memory_lock held for
 * read, that the user left memory decode on: an MMIO access to a device that
 * is not decoding can raise a fatal error on some platforms.  I/O port BARs
 * are not gated; a port access to a non-decoding device simply reads ones.
 *
 * Where the architecture has no 64-bit MMIO accessor, io-64-nonatomic-lo-hi
 * provides one made of two 32-bit accesses, low dword first, so 8-byte user
 * accesses behave the same everywhere.
 */
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/log2.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

/*
 * One helper per access width.  @test_mem asks for the memory decode check;
 * callers that already hold memory_lock (or access I/O space) pass false.
 */
static int vfio_pci_mem_gate(struct vfio_pci_core_device *vdev, bool test_mem)
{
	if (!test_mem)
		return 0;
	down_read(&vdev->memory_lock);
	if (!vfio_pci_memory_enabled(vdev)) {
		up_read(&vdev->memory_lock);
		return -EIO;
	}
	return 0;
}

static void vfio_pci_mem_ungate(struct vfio_pci_core_device *vdev,
				bool test_mem)
{
	if (test_mem)
		up_read(&vdev->memory_lock);
}

/**
 * vfio_pci_core_ioread8 - read a byte of a BAR for the user
 * @vdev: the device
 * @test_mem: check memory decode first (memory BARs, lock not held)
 * @val: the value read
 * @io: the address, inside a barmap
 *
 * Return: 0, or -EIO if memory decode is off.
 */
int vfio_pci_core_ioread8(struct vfio_pci_core_device *vdev, bool test_mem,
			  u8 *val, void __iomem *io)
{
	int ret = vfio_pci_mem_gate(vdev, test_mem);

	if (ret)
		return ret;
	*val = ioread8(io);
	vfio_pci_mem_ungate(vdev, test_mem);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread8);

/**
 * vfio_pci_core_ioread16 - read a little-endian word of a BAR for the user
 * @vdev: the device
 * @test_mem: check memory decode first (memory BARs, lock not held)
 * @val: the value read
 * @io: the address, inside a barmap
 *
 * Return: 0, or -EIO if memory decode is off.
 */
int vfio_pci_core_ioread16(struct vfio_pci_core_device *vdev, bool test_mem,
			   u16 *val, void __iomem *io)
{
	int ret = vfio_pci_mem_gate(vdev, test_mem);

	if (ret)
		return ret;
	*val = ioread16(io);
	vfio_pci_mem_ungate(vdev, test_mem);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread16);

/**
 * vfio_pci_core_ioread32 - read a little-endian dword of a BAR for the user
 * @vdev: the device
 * @test_mem: check memory decode first (memory BARs, lock not held)
 * @val: the value read
 * @io: the address, inside a barmap
 *
 * Return: 0, or -EIO if memory decode is off.
 */
int vfio_pci_core_ioread32(struct vfio_pci_core_device *vdev, bool test_mem,
			   u32 *val, void __iomem *io)
{
	int ret = vfio_pci_mem_gate(vdev, test_mem);

	if (ret)
		return ret;
	*val = ioread32(io);
	vfio_pci_mem_ungate(vdev, test_mem);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread32);

#ifdef ioread64
/**
 * vfio_pci_core_ioread64 - read a little-endian qword of a BAR for the user
 * @vdev: the device
 * @test_mem: check memory decode first (memory BARs, lock not held)
 * @val: the value read
 * @io: the address, inside a barmap
 *
 * Return: 0, or -EIO if memory decode is off.
 */
int vfio_pci_core_ioread64(struct vfio_pci_core_device *vdev, bool test_mem,
			   u64 *val, void __iomem *io)
{
	int ret = vfio_pci_mem_gate(vdev, test_mem);

	if (ret)
		return ret;
	*val = ioread64(io);
	vfio_pci_mem_ungate(vdev, test_mem);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread64);
#endif

/**
 * vfio_pci_core_iowrite8 - write a byte of a BAR for the user
 * @vdev: the device
 * @test_mem: check memory decode first (memory BARs, lock not held)
 * @val: the value to write
 * @io: the address, inside a barmap
 *
 * Return: 0, or -EIO if memory decode is off.
 */
int vfio_pci_core_iowrite8(struct vfio_pci_core_device *vdev, bool test_mem,
			   u8 val, void __iomem *io)
{
	int ret = vfio_pci_mem_gate(vdev, test_mem);

	if (ret)
		return ret;
	iowrite8(val, io);
	vfio_pci_mem_ungate(vdev, test_mem);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite8);

/**
 * vfio_pci_core_iowrite16 - write a little-endian word of a BAR for the user
 * @vdev: the device
 * @test_mem: check memory decode first (memory BARs, lock not held)
 * @val: the value to write
 * @io: the address, inside a barmap
 *
 * Return: 0, or -EIO if memory decode is off.
 */
int vfio_pci_core_iowrite16(struct vfio_pci_core_device *vdev, bool test_mem,
			    u16 val, void __iomem *io)
{
	int ret = vfio_pci_mem_gate(vdev, test_mem);

	if (ret)
		return ret;
	iowrite16(val, io);
	vfio_pci_mem_ungate(vdev, test_mem);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite16);

/**
 * vfio_pci_core_iowrite32 - write a little-endian dword of a BAR for the user
 * @vdev: the device
 * @test_mem: check memory decode first (memory BARs, lock not held)
 * @val: the value to write
 * @io: the address, inside a barmap
 *
 * Return: 0, or -EIO if memory decode is off.
 */
int vfio_pci_core_iowrite32(struct vfio_pci_core_device *vdev, bool test_mem,
			    u32 val, void __iomem *io)
{
	int ret = vfio_pci_mem_gate(vdev, test_mem);

	if (ret)
		return ret;
	iowrite32(val, io);
	vfio_pci_mem_ungate(vdev, test_mem);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite32);

#ifdef iowrite64
/**
 * vfio_pci_core_iowrite64 - write a little-endian qword of a BAR for the user
 * @vdev: the device
 * @test_mem: check memory decode first (memory BARs, lock not held)
 * @val: the value to write
 * @io: the address, inside a barmap
 *
 * Return: 0, or -EIO if memory decode is off.
 */
int vfio_pci_core_iowrite64(struct vfio_pci_core_device *vdev, bool test_mem,
			    u64 val, void __iomem *io)
{
	int ret = vfio_pci_mem_gate(vdev, test_mem);

	if (ret)
		return ret;
	iowrite64(val, io);
	vfio_pci_mem_ungate(vdev, test_mem);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite64);
#endif

/*
 * Accesses go through a small kernel buffer a chunk at a time: one copy from
 * or to the user, and one memory decode check, per chunk rather than per
 * access.  For a BAR that is not mmapped those are most of the cost of an
 * access; the device sees exactly the same sequence of accesses.
 */
#define VFIO_PCI_IO_CHUNK	256

/* Widest naturally aligned access at @off that fits @left and @max. */
static unsigned int vfio_pci_io_width(loff_t off, size_t left,
				      unsigned int max)
{
	unsigned int width;

	for (width = max; width > 1; width >>= 1)
		if (left >= width && !(off & (width - 1)))
			break;
	return width;
}

/*
 * One access of @width bytes between @bytes and @io.  Values travel in the
 * device's little-endian byte order in both directions, so the user buffer
 * holds the bytes exactly as they are laid out in the BAR.  Inlined into
 * the chunk loop, which is the whole point of chunks (a call per access
 * cost the 4 KiB rows 7% of their instructions).
 */
static __always_inline void vfio_pci_io_access(void __iomem *io, u8 *bytes,
					       unsigned int width, bool iswrite)
{
	switch (width) {
#ifdef iowrite64
	case 8:
		if (iswrite)
			iowrite64(get_unaligned_le64(bytes), io);
		else
			put_unaligned_le64(ioread64(io), bytes);
		break;
#endif
	case 4:
		if (iswrite)
			iowrite32(get_unaligned_le32(bytes), io);
		else
			put_unaligned_le32(ioread32(io), bytes);
		break;
	case 2:
		if (iswrite)
			iowrite16(get_unaligned_le16(bytes), io);
		else
			put_unaligned_le16(ioread16(io), bytes);
		break;
	default:
		if (iswrite)
			iowrite8(bytes[0], io);
		else
			bytes[0] = ioread8(io);
		break;
	}
}

/*
 * Bytes of the accesses that fit whole in the first @avail of the @len
 * bytes at @pos: where a write stops when the user buffer faults part way.
 */
static size_t vfio_pci_io_whole(loff_t pos, size_t len, size_t avail,
				unsigned int max_width)
{
	unsigned int width;
	size_t i = 0;

	while (i < len) {
		width = vfio_pci_io_width(pos + i, len - i, max_width);
		if (i + width > avail)
			break;
		i += width;
	}
	return i;
}

/* The accesses covering @len bytes at @pos (@io maps offset 0). */
static int vfio_pci_io_chunk(struct vfio_pci_core_device *vdev, bool test_mem,
			     void __iomem *io, loff_t pos, u8 *bytes,
			     size_t len, bool iswrite, unsigned int max_width)
{
	unsigned int width;
	size_t i;
	int ret;

	ret = vfio_pci_mem_gate(vdev, test_mem);
	if (ret)
		return ret;
	for (i = 0; i < len; i += width) {
		width = vfio_pci_io_width(pos + i, len - i, max_width);
		vfio_pci_io_access(io + pos + i, bytes + i, width, iswrite);
	}
	vfio_pci_mem_ungate(vdev, test_mem);
	return 0;
}

/* Reads of an excluded range see 0xff bytes. */
static int vfio_pci_io_fill(char __user *buf, size_t len)
{
	u8 ones[32];
	size_t n;

	memset(ones, 0xff, sizeof(ones));
	while (len) {
		n = min(len, sizeof(ones));
		if (copy_to_user(buf, ones, n))
			return -EFAULT;
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * A lone naturally aligned access of 1, 2, 4 or 8 bytes is what a VMM
 * issues for each MMIO access of its guest that it traps.  It skips the
 * chunk buffer, which CONFIG_INIT_STACK_ALL_ZERO clears on every call,
 * and the run-time length checks of the chunk's user copy (see
 * vfio_pci_copy_to_user_small()); together they cost more than the access.
 */
static bool vfio_pci_io_is_single(loff_t off, size_t count,
				  unsigned int max_width)
{
	return count <= max_width && is_power_of_2(count) &&
	       !(off & (count - 1));
}

static ssize_t vfio_pci_io_user_single(struct vfio_pci_core_device *vdev,
				       bool test_mem, void __iomem *addr,
				       char __user *buf, size_t width,
				       bool iswrite)
{
	u8 bytes[8];
	int ret;

	if (iswrite && vfio_pci_copy_from_user_small(bytes, buf, width))
		return -EFAULT;
	ret = vfio_pci_mem_gate(vdev, test_mem);
	if (ret)
		return ret;
	vfio_pci_io_access(addr, bytes, width, iswrite);
	vfio_pci_mem_ungate(vdev, test_mem);
	if (!iswrite && vfio_pci_copy_to_user_small(buf, bytes, width))
		return -EFAULT;
	return width;
}

/*
 * Move one chunk between the user and the device.  Return: bytes moved,
 * which is less than @len only when the user buffer faulted, or a negative
 * errno if none were.
 */
static ssize_t vfio_pci_io_user_chunk(struct vfio_pci_core_device *vdev,
				      bool test_mem, void __iomem *io,
				      char __user *buf, loff_t pos, size_t len,
				      bool iswrite, unsigned int max_width)
{
	u8 bytes[VFIO_PCI_IO_CHUNK];
	size_t moved = len;
	int ret;

	if (iswrite) {
		moved = vfio_pci_io_whole(pos, len,
					  len - copy_from_user(bytes, buf, len),
					  max_width);
		if (!moved)
			return -EFAULT;
	}
	ret = vfio_pci_io_chunk(vdev, test_mem, io, pos, bytes, moved,
				iswrite, max_width);
	if (ret)
		return ret;
	if (!iswrite) {
		moved = len - copy_to_user(buf, bytes, len);
		if (!moved)
			return -EFAULT;
	}
	return moved;
}

/**
 * vfio_pci_core_do_io_rw - copy between a user buffer and a mapped BAR range
 * @vdev: the device
 * @test_mem: check memory decode before the accesses
 * @io: start of the mapping (the BAR's offset 0)
 * @buf: user buffer
 * @off: offset into the mapping
 * @count: bytes to move
 * @x_start: start of a range excluded from access (x_end == 0: none)
 * @x_end: end of the excluded range
 * @iswrite: direction
 * @max_width: widest single access to use
 *
 * Accesses are naturally aligned and as wide as possible up to @max_width.
 * Reads of the excluded range return 0xff bytes and writes to it are
 * dropped; it hides registers the kernel owns, such as the MSI-X table.
 *
 * Return: bytes moved, or a negative errno if nothing was moved.
 */
ssize_t vfio_pci_core_do_io_rw(struct vfio_pci_core_device *vdev,
			       bool test_mem, void __iomem *io,
			       char __user *buf, loff_t off, size_t count,
			       size_t x_start, size_t x_end, bool iswrite,
			       enum vfio_pci_io_width max_width)
{
	size_t done = 0, len;
	ssize_t ret;

#ifndef iowrite64
	/* No 64-bit MMIO accessors on this architecture. */
	max_width = min(max_width, VFIO_PCI_IO_WIDTH_4);
#endif
	if (vfio_pci_io_is_single(off, count, max_width) &&
	    (x_end <= x_start || off + count <= x_start || off >= x_end))
		return vfio_pci_io_user_single(vdev, test_mem, io + off, buf,
					       count, iswrite);
	while (done < count) {
		loff_t pos = off + done;

		len = min_t(size_t, count - done, VFIO_PCI_IO_CHUNK);
		if (x_end > x_start && pos >= x_start && pos < x_end) {
			/* Skip to the end of the excluded range. */
			len = min_t(size_t, count - done, x_end - pos);
			if (!iswrite && vfio_pci_io_fill(buf + done, len)) {
				ret = -EFAULT;
				goto out;
			}
			done += len;
			continue;
		}
		if (x_end > x_start && pos < x_start)
			len = min_t(size_t, len, x_start - pos);

		ret = vfio_pci_io_user_chunk(vdev, test_mem, io, buf + done,
					     pos, len, iswrite, max_width);
		if (ret < 0)
			goto out;
		done += ret;
		if ((size_t)ret < len)
			break;
	}
	return done;
out:
	return done ? done : ret;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_do_io_rw);

/*
 * Serialises the creation of barmaps: read() and mmap() of the same device
 * may race to map a BAR first.  Taken once per BAR per open, so one lock
 * for all devices is plenty.
 */
static DEFINE_MUTEX(vfio_pci_barmap_lock);

/**
 * vfio_pci_core_setup_barmap - map a BAR for kernel access on behalf of the user
 * @vdev: the device
 * @bar: BAR number
 *
 * Claims the BAR's resource for vfio and iomaps the whole BAR.  The mapping
 * is kept until the device is disabled.  Safe to call concurrently.
 *
 * Return: 0 or a negative errno.
 */
int vfio_pci_core_setup_barmap(struct vfio_pci_core_device *vdev, int bar)
{
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *io;
	int ret;

	if (bar < 0 || bar >= PCI_STD_NUM_BARS)
		return -EINVAL;
	if (READ_ONCE(vdev->barmap[bar]))
		return 0;

	/* Claim the BAR first, so no other driver can map it meanwhile. */
	mutex_lock(&vfio_pci_barmap_lock);
	ret = 0;
	if (vdev->barmap[bar])
		goto out_unlock;
	ret = pci_request_selected_regions(pdev, BIT(bar), "vfio");
	if (ret)
		goto out_unlock;
	io = pci_iomap(pdev, bar, 0);
	if (!io) {
		pci_release_selected_regions(pdev, BIT(bar));
		ret = -ENOMEM;
		goto out_unlock;
	}
	WRITE_ONCE(vdev->barmap[bar], io);
out_unlock:
	mutex_unlock(&vfio_pci_barmap_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_setup_barmap);

/**
 * vfio_pci_release_barmaps - undo vfio_pci_core_setup_barmap() for all BARs
 * @vdev: the device, no longer accessible to the user
 */
void vfio_pci_release_barmaps(struct vfio_pci_core_device *vdev)
{
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!vdev->barmap[bar])
			continue;
		pci_iounmap(vdev->pdev, vdev->barmap[bar]);
		pci_release_selected_regions(vdev->pdev, 1 << bar);
		vdev->barmap[bar] = NULL;
	}
}

/**
 * vfio_pci_bar_rw - read() or write() of a BAR region
 * @vdev: the device
 * @buf: user buffer
 * @count: bytes requested
 * @ppos: file position
 * @iswrite: direction
 *
 * Return: bytes moved or a negative errno.
 */
ssize_t vfio_pci_bar_rw(struct vfio_pci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite)
{
	struct pci_dev *pdev = vdev->pdev;
	int bar = VFIO_PCI_OFFSET_TO_INDEX(*ppos);
	loff_t pos = *ppos & VFIO_PCI_OFFSET_MASK;
	size_t x_start = 0, x_end = 0;
	resource_size_t len;
	bool is_mem;
	ssize_t done;
	int ret;

	len = pci_resource_len(pdev, bar);
	is_mem = pci_resource_flags(pdev, bar) & IORESOURCE_MEM;
	if (!len)
		return -EINVAL;
	if (pos >= len)
		return -EINVAL;
	count = min_t(size_t, count, len - pos);

	ret = vfio_pci_core_setup_barmap(vdev, bar);
	if (ret)
		return ret;

	if (bar == vdev->msix_bar && vdev->msix_size) {
		x_start = vdev->msix_offset;
		x_end = vdev->msix_offset + vdev->msix_size;
	}

	done = vfio_pci_core_do_io_rw(vdev, is_mem, vdev->barmap[bar], buf,
				      pos, count, x_start, x_end, iswrite,
				      VFIO_PCI_IO_WIDTH_8);
	if (done > 0)
		*ppos += done;
	return done;
}

/**
 * vfio_pci_rom_probe - decide the size the ROM region reports
 * @vdev: the device, being opened
 *
 * A ROM BAR need not hold an image: the flash behind it may be blank, or
 * the device may implement the BAR for an image it never got.  Only the
 * image header the PCI Firmware Specification defines (0x55 0xAA, then a
 * PCI data structure) says there is one, and pci_map_rom() looks for it.
 * Without an image the region is reported empty, as for a device without
 * a ROM BAR, rather than as a region whose every read fails.
 *
 * Looked at once per open, while the device is in D0 and no user owns
 * its COMMAND register yet.  The ROM answers only with memory decode on,
 * so decode is turned on for the look if it was off.
 */
void vfio_pci_rom_probe(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *rom;
	size_t image;
	u16 cmd;

	vdev->rom_size = 0;
	if (!pci_resource_len(pdev, PCI_ROM_RESOURCE))
		return;

	mutex_lock(&vdev->rom_lock);
	down_write(&vdev->memory_lock);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY))
		vfio_pci_command_update(vdev, PCI_COMMAND_MEMORY,
					PCI_COMMAND_MEMORY);
	rom = pci_map_rom(pdev, &image);
	if (rom) {
		vdev->rom_size = pci_resource_len(pdev, PCI_ROM_RESOURCE);
		pci_unmap_rom(pdev, rom);
	} else {
		pci_dbg(pdev, "ROM BAR without a valid image: no ROM region\n");
	}
	if (!(cmd & PCI_COMMAND_MEMORY))
		vfio_pci_command_update(vdev, PCI_COMMAND_MEMORY, 0);
	up_write(&vdev->memory_lock);
	mutex_unlock(&vdev->rom_lock);
}

/*
 * Copy up to a page of the ROM BAR into @bounce.  The ROM is mapped, and
 * its decode enabled, only for the duration of the copy, so that it never
 * decodes behind the user's back.  pci_unmap_rom() turns the ROM BAR's
 * decode off again whatever other mapping of it exists, so one reader's
 * unmap would pull the ROM from under another still copying: rom_lock
 * keeps the map-copy-unmap sequences of the device from overlapping.
 *
 * The BAR is usually larger than the image in it; past the image it reads
 * as all ones, like erased flash, so the user may read the whole BAR.
 */
static ssize_t vfio_pci_rom_fetch(struct vfio_pci_core_device *vdev,
				  void *bounce, loff_t pos, size_t count)
{
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *rom;
	size_t size, image;
	ssize_t ret;

	mutex_lock(&vdev->rom_lock);
	down_read(&vdev->memory_lock);
	if (!vfio_pci_memory_enabled(vdev)) {
		ret = -EIO;
		goto out_unlock;
	}
	rom = pci_map_rom(pdev, &size);
	if (!rom) {
		ret = -EIO;
		goto out_unlock;
	}
	image = 0;
	if (pos < size) {
		image = min_t(size_t, count, size - pos);
		memcpy_fromio(bounce, rom + pos, image);
	}
	memset(bounce + image, 0xff, count - image);
	ret = count;
	pci_unmap_rom(pdev, rom);
out_unlock:
	up_read(&vdev->memory_lock);
	mutex_unlock(&vdev->rom_lock);
	return ret;
}

/**
 * vfio_pci_rom_read - read() of the expansion ROM region
 * @vdev: the device
 * @buf: user buffer
 * @count: bytes requested
 * @ppos: file position
 *
 * The ROM is read through a bounce buffer: copying to the user while
 * holding memory_lock could fault on a mapping of this very device and
 * take the lock recursively.
 *
 * Return: bytes read or a negative errno.
 */
ssize_t vfio_pci_rom_read(struct vfio_pci_core_device *vdev,
			  char __user *buf, size_t count, loff_t *ppos)
{
	loff_t pos = *ppos & VFIO_PCI_OFFSET_MASK;
	size_t len = vdev->rom_size;
	size_t done = 0;
	ssize_t got = 0;
	void *bounce;

	if (!len || pos >= len)
		return -EINVAL;
	count = min_t(size_t, count, len - pos);

	bounce = kmalloc(min_t(size_t, count, PAGE_SIZE), GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	while (done < count) {
		got = vfio_pci_rom_fetch(vdev, bounce, pos + done,
					 min_t(size_t, count - done, PAGE_SIZE));
		if (got <= 0)
			break;
		if (copy_to_user(buf + done, bounce, got)) {
			got = -EFAULT;
			break;
		}
		done += got;
	}
	kfree(bounce);

	if (!done)
		return got;
	*ppos += done;
	return done;
}

/**
 * vfio_pci_core_range_intersect_range - intersect a buffer with a register
 * @buf_start: start of the access
 * @buf_cnt: length of the access
 * @reg_start: start of the register range
 * @reg_cnt: length of the register range
 * @buf_offset: where the intersection starts in the access
 * @intersect_count: length of the intersection
 * @register_offset: where the intersection starts in the register range
 *
 * Return: true if the ranges intersect; the outputs are valid only then.
 */
bool
vfio_pci_core_range_intersect_range(loff_t buf_start, size_t buf_cnt,
				    loff_t reg_start, size_t reg_cnt,
				    loff_t *buf_offset, size_t *intersect_count,
				    size_t *register_offset)
{
	loff_t buf_end = buf_start + buf_cnt;
	loff_t reg_end = reg_start + reg_cnt;
	loff_t first, last;

	/* Disjoint, or one of them empty. */
	if (buf_end <= reg_start || reg_end <= buf_start)
		return false;

	first = buf_start > reg_start ? buf_start : reg_start;
	last = buf_end < reg_end ? buf_end : reg_end;
	*intersect_count = last - first;
	*register_offset = first - reg_start;
	*buf_offset = first - buf_start;
	return true;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_range_intersect_range);
