// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO_DEVICE_IOEVENTFD: when an eventfd is signalled, write a fixed value
 * of 1, 2, 4 or 8 bytes at a fixed offset of a BAR.  A hypervisor uses it to
 * turn a trapped guest write (a doorbell, say) into the device write without
 * a trip through its own user space.
 *
 * The write is attempted straight from the eventfd's wakeup callback, which
 * runs in atomic context with the eventfd's wait queue lock held: it may
 * not sleep, so it only proceeds when vdev->memory_lock can be had without
 * waiting; the decode state itself is kept under that lock and costs no
 * config cycle (vfio_pci_memory_enabled()).  When the lock is contended
 * the write is handed to the virqfd's work item, which may sleep and uses
 * the regular checked accessors.  Either way a write while memory decode
 * is off is dropped, as a write to a disabled BAR would be.
 *
 * Registrations live on vdev->ioeventfds_list, under ioeventfds_lock, and
 * are all removed before the BARs are unmapped at last close.
 */
#include <linux/io-64-nonatomic-lo-hi.h>	/* iowrite64, as in rdwr.c */
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

/* Registrations a device may have at once; bounds kernel memory per user. */
#define VFIO_PCI_IOEVENTFD_MAX		1000

struct vfio_pci_ioeventfd {
	struct list_head		next;
	struct vfio_pci_core_device	*vdev;
	struct virqfd			*virqfd;
	void __iomem			*addr;	/* barmap + pos */
	u64				data;
	loff_t				pos;
	int				bar;
	int				count;
	bool				test_mem; /* memory BAR: check decode */
};

static void vfio_pci_ioeventfd_write(struct vfio_pci_ioeventfd *ioeventfd,
				     bool test_mem)
{
	struct vfio_pci_core_device *vdev = ioeventfd->vdev;

	/* -EIO (decode off) means the write is dropped, nothing else to do. */
	switch (ioeventfd->count) {
	case 1:
		vfio_pci_core_iowrite8(vdev, test_mem, ioeventfd->data,
				       ioeventfd->addr);
		break;
	case 2:
		vfio_pci_core_iowrite16(vdev, test_mem, ioeventfd->data,
					ioeventfd->addr);
		break;
	case 4:
		vfio_pci_core_iowrite32(vdev, test_mem, ioeventfd->data,
					ioeventfd->addr);
		break;
#ifdef iowrite64
	case 8:
		vfio_pci_core_iowrite64(vdev, test_mem, ioeventfd->data,
					ioeventfd->addr);
		break;
#endif
	}
}

/* virqfd handler, atomic context.  Returns 1 to have the thread do it. */
static int vfio_pci_ioeventfd_handler(void *opaque, void *unused)
{
	struct vfio_pci_ioeventfd *ioeventfd = opaque;
	struct vfio_pci_core_device *vdev = ioeventfd->vdev;

	if (!ioeventfd->test_mem) {
		vfio_pci_ioeventfd_write(ioeventfd, false);
		return 0;
	}

	/* Held for write during resets and decode changes: don't wait. */
	if (!down_read_trylock(&vdev->memory_lock))
		return 1;
	if (vfio_pci_memory_enabled(vdev))
		vfio_pci_ioeventfd_write(ioeventfd, false);
	up_read(&vdev->memory_lock);
	return 0;
}

/* virqfd thread: process context, may sleep on memory_lock. */
static void vfio_pci_ioeventfd_thread(void *opaque, void *unused)
{
	struct vfio_pci_ioeventfd *ioeventfd = opaque;

	vfio_pci_ioeventfd_write(ioeventfd, ioeventfd->test_mem);
}

static void vfio_pci_ioeventfd_free(struct vfio_pci_core_device *vdev,
				    struct vfio_pci_ioeventfd *ioeventfd)
{
	lockdep_assert_held(&vdev->ioeventfds_lock);

	/* Returns once neither handler nor thread can run any more. */
	vfio_virqfd_disable(&ioeventfd->virqfd);
	list_del(&ioeventfd->next);
	vdev->ioeventfds_nr--;
	kfree(ioeventfd);
}

/*
 * Check that @count bytes at @offset of the device file are a place an
 * ioeventfd may write: inside one BAR, clear of the MSI-X table (whose
 * writes vfio never lets through unchecked), and a width we can do.
 */
static int vfio_pci_ioeventfd_check(struct vfio_pci_core_device *vdev,
				    u64 offset, int count)
{
	u64 index = VFIO_PCI_OFFSET_TO_INDEX(offset);
	u64 pos = offset & VFIO_PCI_OFFSET_MASK;

	if (index > VFIO_PCI_BAR5_REGION_INDEX)
		return -EINVAL;
	if (pos + count > pci_resource_len(vdev->pdev, index))
		return -EINVAL;
	if (index == vdev->msix_bar && pos + count > vdev->msix_offset &&
	    pos < (u64)vdev->msix_offset + vdev->msix_size)
		return -EINVAL;
#ifndef iowrite64
	if (count == 8)
		return -EINVAL;
#endif
	return 0;
}

/* The registration with the same place, width and value as @key. */
static struct vfio_pci_ioeventfd *
vfio_pci_ioeventfd_find(const struct vfio_pci_ioeventfd *key)
{
	struct vfio_pci_core_device *vdev = key->vdev;
	struct vfio_pci_ioeventfd *cur;

	lockdep_assert_held(&vdev->ioeventfds_lock);

	list_for_each_entry(cur, &vdev->ioeventfds_list, next) {
		if (cur->bar != key->bar || cur->pos != key->pos)
			continue;
		if (cur->count == key->count && cur->data == key->data)
			return cur;
	}
	return NULL;
}

/* Register a copy of @key, written when @fd is signalled. */
static int vfio_pci_ioeventfd_add(const struct vfio_pci_ioeventfd *key,
				  int fd)
{
	struct vfio_pci_core_device *vdev = key->vdev;
	struct vfio_pci_ioeventfd *new;
	int ret;

	lockdep_assert_held(&vdev->ioeventfds_lock);

	if (vdev->ioeventfds_nr >= VFIO_PCI_IOEVENTFD_MAX)
		return -ENOSPC;
	new = kmemdup(key, sizeof(*key), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;

	/* The handler may run before this returns: a pending signal. */
	ret = vfio_virqfd_enable(new, vfio_pci_ioeventfd_handler,
				 vfio_pci_ioeventfd_thread, NULL,
				 &new->virqfd, fd);
	if (!ret) {
		vdev->ioeventfds_nr++;
		list_add_tail(&new->next, &vdev->ioeventfds_list);
	} else {
		kfree(new);
	}
	return ret;
}

/**
 * vfio_pci_ioctl_ioeventfd - VFIO_DEVICE_IOEVENTFD
 * @vdev: the device
 * @arg: user pointer to struct vfio_device_ioeventfd
 *
 * fd >= 0 adds a registration; fd == -1 removes the one with the same
 * offset, width and data.
 *
 * Return: 0; -EINVAL for bad flags, width, fd, or a place outside a BAR or
 * on the MSI-X table; -EEXIST for a duplicate; -ENODEV when there is
 * nothing to remove; -ENOSPC past VFIO_PCI_IOEVENTFD_MAX; -EBADF or
 * -EINVAL for a fd that is not an eventfd; -EFAULT, -ENOMEM, -EBUSY.
 */
long vfio_pci_ioctl_ioeventfd(struct vfio_pci_core_device *vdev,
			      void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_device_ioeventfd, fd);
	struct vfio_pci_ioeventfd key = { .vdev = vdev }, *found;
	struct vfio_device_ioeventfd req;
	int ret;

	if (copy_from_user(&req, arg, minsz))
		return -EFAULT;
	if (req.argsz < minsz)
		return -EINVAL;
	if (req.flags & ~VFIO_DEVICE_IOEVENTFD_SIZE_MASK)
		return -EINVAL;
	/* Exactly one width flag; its value is the width in bytes. */
	if (hweight32(req.flags) != 1 || req.fd < -1)
		return -EINVAL;

	ret = vfio_pci_ioeventfd_check(vdev, req.offset, req.flags);
	if (ret)
		return ret;
	key.count = req.flags;
	key.data = req.data;
	key.bar = VFIO_PCI_OFFSET_TO_INDEX(req.offset);
	key.pos = req.offset & VFIO_PCI_OFFSET_MASK;
	key.test_mem = pci_resource_flags(vdev->pdev, key.bar) &
		       IORESOURCE_MEM;
	/* Claims the BAR; the mapping lives until last close. */
	ret = vfio_pci_core_setup_barmap(vdev, key.bar);
	if (ret)
		return ret;
	key.addr = vdev->barmap[key.bar] + key.pos;

	mutex_lock(&vdev->ioeventfds_lock);
	found = vfio_pci_ioeventfd_find(&key);
	if (req.fd >= 0)
		ret = found ? -EEXIST : vfio_pci_ioeventfd_add(&key, req.fd);
	else if (found)
		vfio_pci_ioeventfd_free(vdev, found);
	else
		ret = -ENODEV;
	mutex_unlock(&vdev->ioeventfds_lock);
	return ret;
}

/**
 * vfio_pci_ioeventfds_release - remove every registration of a device
 * @vdev: the device, being closed; its BARs are still mapped
 */
void vfio_pci_ioeventfds_release(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_ioeventfd *ioeventfd, *tmp;

	mutex_lock(&vdev->ioeventfds_lock);
	list_for_each_entry_safe(ioeventfd, tmp, &vdev->ioeventfds_list, next)
		vfio_pci_ioeventfd_free(vdev, ioeventfd);
	mutex_unlock(&vdev->ioeventfds_lock);
}
