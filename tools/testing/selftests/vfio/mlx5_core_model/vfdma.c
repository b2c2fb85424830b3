// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h): DMA writes of a VF.
 *
 * A running VF writes to its user's memory (receive buffers, completion
 * queues) through the IOMMU domain that user set up.  No CPU of the guest
 * wrote those pages, so a migration carries them over only if the
 * device's page tracker reports them.  debugfs vf<N>/dma_write makes the
 * modelled VF do such a write: every tracker of the VF records the pages
 * and, when the test gives a byte value, the bytes land in the memory
 * behind the IOVAs, found through the VF's IOMMU domain the way the
 * IOMMU would find it.
 *
 * A VHCA whose initiator is suspended does no DMA.  A write then is
 * refused (-EBUSY) under the VF's lock, which SUSPEND_VHCA holds too: a
 * write that succeeded was made before the VF stopped, and its pages are
 * in the trackers before the SUSPEND completes.  The PF's trk_lock is
 * taken first, the order in which the tracker commands take both.
 *
 * The pages belong to the user and stay pinned while they are mapped.
 * The test must not unmap them while it writes: a real device would take
 * an IOMMU fault, the model would write to the page it looked up.
 */
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/pci.h>

#include "model.h"

/* The VF's pci_dev, with a reference; NULL if it is gone. */
static struct pci_dev *model_vf_pdev_get(struct model_vf *vf)
{
	struct pci_dev *pdev = NULL;

	while ((pdev = pci_get_device(PCI_ANY_ID, PCI_ANY_ID, pdev))) {
		if (pdev->is_virtfn && pdev->physfn == vf->pf->pdev &&
		    pci_iov_vf_id(pdev) == vf->id)
			return pdev;
	}
	return NULL;
}

/*
 * The memory of a user's mapping only: the kernel's own DMA domain, or
 * none, would mean writing to whatever the IOVA happens to reach.
 */
static struct iommu_domain *model_user_domain(struct pci_dev *pdev)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(&pdev->dev);

	if (!domain || domain->type != IOMMU_DOMAIN_UNMANAGED)
		return NULL;
	return domain;
}

/* Every page of [@iova, @iova + @len) is mapped to memory of ours. */
static bool model_iova_mapped(struct iommu_domain *domain, u64 iova, u64 len)
{
	u64 end = iova + len;

	for (iova = round_down(iova, PAGE_SIZE); iova < end;
	     iova += PAGE_SIZE) {
		phys_addr_t phys = iommu_iova_to_phys(domain, iova);

		if (!phys || !pfn_valid(PHYS_PFN(phys)))
			return false;
	}
	return true;
}

static void model_iova_fill(struct iommu_domain *domain, u64 iova, u64 len,
			    u8 byte)
{
	while (len) {
		size_t n = min_t(u64, len, PAGE_SIZE - offset_in_page(iova));
		phys_addr_t phys = iommu_iova_to_phys(domain, iova);
		void *va = kmap_local_page(pfn_to_page(PHYS_PFN(phys)));

		memset(va + offset_in_page(phys), byte, n);
		kunmap_local(va);
		iova += n;
		len -= n;
	}
}

/* vf->lock held: the bytes, all of them or none (-EFAULT). */
static int model_vf_fill(struct pci_dev *pdev, u64 iova, u64 len, u8 byte)
{
	struct iommu_domain *domain = model_user_domain(pdev);

	if (!domain)
		return -EPERM;
	if (!model_iova_mapped(domain, iova, len))
		return -EFAULT;
	model_iova_fill(domain, iova, len, byte);
	return 0;
}

/**
 * model_vf_dma_write() - the VF writes @len bytes at @iova
 * @vf: the VF
 * @iova: where, in the VF's IOMMU domain
 * @len: how many bytes, at least 1
 * @byte: the value written to each, or -1: none are, only the trackers
 *	see the write
 *
 * Return: 0; -ENODEV if the VF is not enabled, -EBUSY if its initiator
 * is suspended, -EPERM if a byte is given and no user owns the VF's
 * IOMMU domain, -EFAULT if a byte is given and a page is not mapped,
 * -ENOMEM if a tracker could not record the pages.
 */
int model_vf_dma_write(struct model_vf *vf, u64 iova, u64 len, int byte)
{
	struct pci_dev *pdev = NULL;
	int ret;

	if (byte >= 0) {
		pdev = model_vf_pdev_get(vf);
		if (!pdev)
			return -ENODEV;
	}
	mutex_lock(&vf->pf->trk_lock);
	model_vhca_lock(vf);
	if (!vf->enabled)
		ret = -ENODEV;
	else if (vf->mig_state != MODEL_RUNNING)
		ret = -EBUSY;
	else
		ret = pdev ? model_vf_fill(pdev, iova, len, byte) : 0;
	if (!ret)
		ret = model_track_dma_write(vf->pf, vf->vhca_id, iova, len);
	mutex_unlock(&vf->lock);
	mutex_unlock(&vf->pf->trk_lock);
	pci_dev_put(pdev);
	return ret;
}
