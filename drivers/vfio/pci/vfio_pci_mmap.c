// SPDX-License-Identifier: GPL-2.0-only
/*
 * mmap() of BARs.
 *
 * A mapping is created empty and populated page by page from the fault
 * handler.  That is what keeps it safe: whenever BAR memory must not be
 * touched (memory decode turned off, reset, low power) every page is zapped
 * with vdev->memory_lock held for write, and the next fault checks the decode
 * state again under the lock held for read.  A fault while decode is off gets
 * SIGBUS instead of an access to a device that does not answer.
 *
 * All mappings of a device share the vfio device inode's address space, so
 * one unmap_mapping_range() reaches every mapping of every open file.
 */
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

#define VFIO_PCI_PGOFF_INDEX_SHIFT	(VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT)
#define VFIO_PCI_PGOFF_MASK		((1UL << VFIO_PCI_PGOFF_INDEX_SHIFT) - 1)

static vm_fault_t vfio_pci_bar_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vfio_pci_core_device *vdev = vma->vm_private_data;
	unsigned int bar = vma->vm_pgoff >> VFIO_PCI_PGOFF_INDEX_SHIFT;
	unsigned long pgoff = (vma->vm_pgoff & VFIO_PCI_PGOFF_MASK) +
			      ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
	unsigned long pfn;
	vm_fault_t ret;

	pfn = (pci_resource_start(vdev->pdev, bar) >> PAGE_SHIFT) + pgoff;

	down_read(&vdev->memory_lock);
	if (vfio_pci_memory_enabled(vdev))
		ret = vmf_insert_pfn(vma, vmf->address, pfn);
	else
		ret = VM_FAULT_SIGBUS;
	up_read(&vdev->memory_lock);
	return ret;
}

static const struct vm_operations_struct vfio_pci_bar_vm_ops = {
	.fault = vfio_pci_bar_fault,
};

/**
 * vfio_pci_bar_mmap - set up a BAR mapping, to be populated on fault
 * @vdev: the device
 * @vma: the new mapping; vm_pgoff carries the region index and offset
 *
 * Return: 0 or a negative errno.
 */
int vfio_pci_bar_mmap(struct vfio_pci_core_device *vdev,
		      struct vm_area_struct *vma)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int bar = vma->vm_pgoff >> VFIO_PCI_PGOFF_INDEX_SHIFT;
	u64 off = (u64)(vma->vm_pgoff & VFIO_PCI_PGOFF_MASK) << PAGE_SHIFT;
	u64 len = vma->vm_end - vma->vm_start;
	int ret;

	if (!vdev->bar_mmap_supported[bar])
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (off + len > PAGE_ALIGN(pci_resource_len(pdev, bar)) ||
	    off + len < off)
		return -EINVAL;

	/* Claims the BAR for vfio, so no other driver can map it meanwhile. */
	ret = vfio_pci_core_setup_barmap(vdev, bar);
	if (ret)
		return ret;

	vma->vm_private_data = vdev;
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vm_flags_set(vma, VM_ALLOW_ANY_UNCACHED | VM_IO | VM_PFNMAP |
		     VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &vfio_pci_bar_vm_ops;
	return 0;
}

/**
 * vfio_pci_zap_bar_mmaps - remove every page of every BAR mapping
 * @vdev: the device; caller holds memory_lock for write
 */
void vfio_pci_zap_bar_mmaps(struct vfio_pci_core_device *vdev)
{
	lockdep_assert_held_write(&vdev->memory_lock);
	unmap_mapping_range(vdev->vdev.inode->i_mapping, 0, 0, true);
}

/**
 * vfio_pci_memory_lock_and_zap - block BAR access for a reset or power change
 * @vdev: the device
 *
 * Takes memory_lock for write and zaps all mappings; the caller releases the
 * lock with up_write() once BAR memory may be touched again.
 */
void vfio_pci_memory_lock_and_zap(struct vfio_pci_core_device *vdev)
{
	down_write(&vdev->memory_lock);
	vfio_pci_zap_bar_mmaps(vdev);
}
