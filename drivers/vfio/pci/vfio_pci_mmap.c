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
 *
 * Why this is race-free: a fault inserts a page only after seeing decode
 * on, and holds memory_lock for read until the page is in the page table.
 * Everything that turns decode off (COMMAND writes, PMCSR writes to D3hot,
 * resets, low-power entry) takes memory_lock for write, so it waits for
 * faults in flight to finish, then zaps: the pages they inserted are gone
 * before decode goes off, and new faults block until it is back on (or see
 * it off and get SIGBUS).  Faults never take any other vfio lock.
 *
 * A BAR smaller than a page can still be mapped when it starts on a page
 * boundary: the rest of its page is reserved (a dummy resource in the BAR's
 * parent), so no other device's registers can ever be placed there.
 */
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pfn_t.h>
#include <linux/slab.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

#define VFIO_PCI_PGOFF_INDEX_SHIFT	(VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT)
#define VFIO_PCI_PGOFF_MASK		((1UL << VFIO_PCI_PGOFF_INDEX_SHIFT) - 1)

/*
 * Put one page table entry of @order (0: a 4K page; PMD_ORDER, PUD_ORDER:
 * a 2M or 1G leaf where the architecture can map PFNs that way) at the
 * faulting address.  Orders the kernel cannot map fall back to smaller ones.
 */
static vm_fault_t vfio_pci_insert(struct vm_fault *vmf, unsigned long pfn,
				  unsigned int order)
{
	if (!order)
		return vmf_insert_pfn(vmf->vma, vmf->address, pfn);
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
	if (order == PMD_ORDER)
		return vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV),
					  vmf->flags & FAULT_FLAG_WRITE);
#endif
#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
	if (order == PUD_ORDER)
		return vmf_insert_pfn_pud(vmf, __pfn_to_pfn_t(pfn, PFN_DEV),
					  vmf->flags & FAULT_FLAG_WRITE);
#endif
	return VM_FAULT_FALLBACK;
}

/*
 * The first PFN of the naturally aligned block of 2^@order pages around the
 * faulting address, or false when the block does not lie inside the mapping
 * or the BAR's physical address is not aligned that way.
 */
static bool vfio_pci_fault_block(struct vm_fault *vmf, unsigned int order,
				 unsigned long *pfn)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vfio_pci_core_device *vdev = vma->vm_private_data;
	unsigned int bar = vma->vm_pgoff >> VFIO_PCI_PGOFF_INDEX_SHIFT;
	unsigned long block = PAGE_SIZE << order;
	unsigned long first = ALIGN_DOWN(vmf->address, block);

	*pfn = PHYS_PFN(pci_resource_start(vdev->pdev, bar)) +
	       (vma->vm_pgoff & VFIO_PCI_PGOFF_MASK) +
	       PHYS_PFN(first - vma->vm_start);
	return first >= vma->vm_start && first + block <= vma->vm_end &&
	       IS_ALIGNED(*pfn, 1UL << order);
}

/*
 * Fault handler for every order.  Huge entries turn the fault-in of a large
 * BAR from one fault per 4K page into one per 2M or 1G; where a block does
 * not fit, the mm core comes back with a smaller order.
 */
static vm_fault_t vfio_pci_bar_huge_fault(struct vm_fault *vmf,
					  unsigned int order)
{
	struct vfio_pci_core_device *vdev = vmf->vma->vm_private_data;
	bool usable;
	unsigned long pfn;
	vm_fault_t ret;

	if (!vfio_pci_fault_block(vmf, order, &pfn))
		return order ? VM_FAULT_FALLBACK : VM_FAULT_SIGBUS;

	/* In user-requested low power the BARs stay unmapped until exit. */
	down_read(&vdev->memory_lock);
	usable = !vdev->pm_runtime_engaged && vfio_pci_memory_enabled(vdev);
	ret = usable ? vfio_pci_insert(vmf, pfn, order) : VM_FAULT_SIGBUS;
	up_read(&vdev->memory_lock);
	return ret;
}

static vm_fault_t vfio_pci_bar_page_fault(struct vm_fault *vmf)
{
	return vfio_pci_bar_huge_fault(vmf, 0);
}

static const struct vm_operations_struct vfio_pci_bar_vm_ops = {
#ifdef CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP
	.huge_fault = vfio_pci_bar_huge_fault,
#endif
	.fault = vfio_pci_bar_page_fault,
};

/*
 * Protection of every page of a BAR mapping; the fault path inserts PFNs
 * with it.  Registers are not memory: no caching.  And they are never
 * encrypted: on a host with memory encryption (AMD SME/SEV, Intel TDX)
 * the PTEs must not carry the encryption bit, or accesses would go
 * through the encryption engine and reach the device scrambled.  That is
 * what io_remap_pfn_range() would give a mapping made up front.
 */
static pgprot_t vfio_pci_bar_pgprot(pgprot_t prot)
{
	return pgprot_decrypted(pgprot_noncached(prot));
}

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
	vma->vm_page_prot = vfio_pci_bar_pgprot(vma->vm_page_prot);
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

/*
 * Reserve the rest of the page behind a sub-page BAR, so the page holds
 * nothing but this BAR for as long as the user may map it.
 */
static bool vfio_pci_pad_subpage_bar(struct vfio_pci_core_device *vdev,
				     int bar)
{
	struct resource *res = &vdev->pdev->resource[bar];
	struct resource *pad;

	if (!PAGE_ALIGNED(res->start) || !res->parent)
		return false;
	pad = kzalloc(sizeof(*pad), GFP_KERNEL_ACCOUNT);
	if (!pad)
		return false;
	pad->name = "vfio sub-page reserved";
	pad->start = res->end + 1;
	pad->end = res->start + PAGE_SIZE - 1;
	pad->flags = res->flags;
	if (request_resource(res->parent, pad)) {
		kfree(pad);
		return false;
	}
	vdev->mmap_pad[bar] = pad;
	return true;
}

/**
 * vfio_pci_probe_mmaps - decide which BARs the user may mmap
 * @vdev: the device, being opened
 *
 * Memory BARs of at least a page are mappable; smaller ones when the rest of
 * their page can be reserved.  I/O port BARs never are, and no BAR is on
 * platforms that cannot map device memory into user space safely
 * (CONFIG_VFIO_PCI_MMAP off): there the user goes through read and write.
 */
void vfio_pci_probe_mmaps(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	resource_size_t len;
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		len = pci_resource_len(pdev, bar);
		vdev->bar_mmap_supported[bar] = false;
		if (!IS_ENABLED(CONFIG_VFIO_PCI_MMAP))
			continue;
		if (!len || !(pci_resource_flags(pdev, bar) & IORESOURCE_MEM))
			continue;
		if (len >= PAGE_SIZE)
			vdev->bar_mmap_supported[bar] =
				PAGE_ALIGNED(pci_resource_start(pdev, bar));
		else
			vdev->bar_mmap_supported[bar] =
				vfio_pci_pad_subpage_bar(vdev, bar);
	}
}

/**
 * vfio_pci_release_mmaps - forget mmap support and release page padding
 * @vdev: the device, no longer accessible to the user
 */
void vfio_pci_release_mmaps(struct vfio_pci_core_device *vdev)
{
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		vdev->bar_mmap_supported[bar] = false;
		if (!vdev->mmap_pad[bar])
			continue;
		release_resource(vdev->mmap_pad[bar]);
		kfree(vdev->mmap_pad[bar]);
		vdev->mmap_pad[bar] = NULL;
	}
}
