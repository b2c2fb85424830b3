// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h): protection domains and memory
 * keys, and the "device DMA" into the buffers they describe.
 *
 * An MTT mkey maps the virtual range [start_addr, start_addr + len) onto
 * pages of 2^log_page_size bytes, entry i holding the DMA address (for
 * the PF, mdev->device) of the page at (start_addr rounded down) + i
 * pages.  The model reaches those bytes as the device would: a DMA
 * address goes through the PF's IOMMU domain when it translates, and is
 * the physical address otherwise (dma-direct; swiotlb's bounce buffers
 * are memory like any other).
 */
#include <linux/dma-direct.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/slab.h>

#include "model.h"

struct model_mkey {
	u8 key;
	u32 pd;
	u64 start;
	u64 len;
	unsigned int page_shift;
	u64 npages;
	u64 addrs[] __counted_by(npages);
};

void model_res_init(struct model_pf *pf)
{
	mutex_init(&pf->res_lock);
	ida_init(&pf->pds);
	xa_init_flags(&pf->mkeys, XA_FLAGS_ALLOC1);
}

/* What the user of the PF left behind goes with it. */
void model_res_destroy(struct model_pf *pf)
{
	struct model_mkey *mk;
	unsigned long idx;

	xa_for_each(&pf->mkeys, idx, mk)
		kfree(mk);
	xa_destroy(&pf->mkeys);
	ida_destroy(&pf->pds);
	mutex_destroy(&pf->res_lock);
}

unsigned int model_mkey_count(struct model_pf *pf)
{
	struct model_mkey *mk;
	unsigned long idx;
	unsigned int n = 0;

	mutex_lock(&pf->res_lock);
	xa_for_each(&pf->mkeys, idx, mk)
		n++;
	mutex_unlock(&pf->res_lock);
	return n;
}

u8 model_cmd_alloc_pd(struct model_pf *pf, void *out)
{
	int pd;

	mutex_lock(&pf->res_lock);
	pd = ida_alloc_range(&pf->pds, 1, MODEL_RES_MAX, GFP_KERNEL);
	mutex_unlock(&pf->res_lock);
	if (pd < 0)
		return MLX5_CMD_STAT_NO_RES_ERR;
	MLX5_SET(alloc_pd_out, out, pd, pd);
	return MLX5_CMD_STAT_OK;
}

static bool model_pd_exists(struct model_pf *pf, u32 pd)
{
	int got;

	/* An ida has no lookup: try to take the number. */
	got = ida_alloc_range(&pf->pds, pd, pd, GFP_KERNEL);
	if (got < 0)
		return got == -ENOSPC;
	ida_free(&pf->pds, got);
	return false;
}

/* Does PD @pd exist?  For the commands that name one. */
bool model_pd_valid(struct model_pf *pf, u32 pd)
{
	bool ok;

	mutex_lock(&pf->res_lock);
	ok = pd && model_pd_exists(pf, pd);
	mutex_unlock(&pf->res_lock);
	return ok;
}

u8 model_cmd_dealloc_pd(struct model_pf *pf, const void *in)
{
	u32 pd = MLX5_GET(dealloc_pd_in, in, pd);
	u8 st = MLX5_CMD_STAT_BAD_RES_ERR;

	mutex_lock(&pf->res_lock);
	if (pd && model_pd_exists(pf, pd)) {
		ida_free(&pf->pds, pd);
		st = MLX5_CMD_STAT_OK;
	}
	mutex_unlock(&pf->res_lock);
	return st;
}

/* Checks the mkey context of CREATE_MKEY and the room for its MTT. */
static u8 model_mkey_parse(struct model_pf *pf, const void *in, int inlen,
			   struct model_mkey *mk, u64 *entries)
{
	const void *mkc = MLX5_ADDR_OF(create_mkey_in, in,
				       memory_key_mkey_entry);
	u32 mode = (MLX5_GET(mkc, mkc, access_mode_4_2) << 2) |
		   MLX5_GET(mkc, mkc, access_mode_1_0);
	u64 n = (u64)MLX5_GET(create_mkey_in, in,
			      translations_octword_actual_size) * 2;

	mk->key = MLX5_GET(mkc, mkc, mkey_7_0);
	mk->pd = MLX5_GET(mkc, mkc, pd);
	mk->start = MLX5_GET64(mkc, mkc, start_addr);
	mk->len = MLX5_GET64(mkc, mkc, len);
	mk->page_shift = MLX5_GET(mkc, mkc, log_page_size);
	if (mode != MLX5_MKC_ACCESS_MODE_MTT || !mk->len ||
	    mk->page_shift < MODEL_PAGE_SHIFT || mk->page_shift > 30 ||
	    mk->start + mk->len < mk->start)
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	mk->npages = ((mk->start + mk->len - 1) >> mk->page_shift) -
		     (mk->start >> mk->page_shift) + 1;
	if (n < mk->npages ||
	    inlen < MLX5_ST_SZ_BYTES(create_mkey_in) + n * sizeof(u64))
		return MLX5_CMD_STAT_BAD_INP_LEN_ERR;
	if (!model_pd_exists(pf, mk->pd))
		return MLX5_CMD_STAT_BAD_RES_ERR;
	*entries = n;
	return MLX5_CMD_STAT_OK;
}

u8 model_cmd_create_mkey(struct model_pf *pf, const void *in, int inlen,
			 void *out)
{
	const __be64 *mtt = MLX5_ADDR_OF(create_mkey_in, in, klm_pas_mtt);
	struct model_mkey tmp, *mk;
	u64 i, entries;
	u32 idx;
	u8 st;

	mutex_lock(&pf->res_lock);
	st = model_mkey_parse(pf, in, inlen, &tmp, &entries);
	if (st)
		goto out;
	st = MLX5_CMD_STAT_NO_RES_ERR;
	mk = kmalloc(struct_size(mk, addrs, tmp.npages), GFP_KERNEL);
	if (!mk)
		goto out;
	*mk = tmp;
	for (i = 0; i < mk->npages; i++)
		mk->addrs[i] = be64_to_cpu(mtt[i]) &
			       ~((1ULL << mk->page_shift) - 1);
	if (xa_alloc(&pf->mkeys, &idx, mk, XA_LIMIT(1, MODEL_RES_MAX),
		     GFP_KERNEL)) {
		kfree(mk);
		goto out;
	}
	MLX5_SET(create_mkey_out, out, mkey_index, idx);
	st = MLX5_CMD_STAT_OK;
out:
	mutex_unlock(&pf->res_lock);
	return st;
}

u8 model_cmd_destroy_mkey(struct model_pf *pf, const void *in)
{
	u32 idx = MLX5_GET(destroy_mkey_in, in, mkey_index);
	struct model_mkey *mk;

	mutex_lock(&pf->res_lock);
	mk = idx ? xa_erase(&pf->mkeys, idx) : NULL;
	mutex_unlock(&pf->res_lock);
	kfree(mk);
	return mk ? MLX5_CMD_STAT_OK : MLX5_CMD_STAT_BAD_RES_ERR;
}

/* The memory behind a DMA address of the PF, or NULL. */
static struct page *model_dma_page(struct model_pf *pf, u64 addr,
				   size_t *off)
{
	struct device *dev = &pf->pdev->dev;
	struct iommu_domain *dom = iommu_get_domain_for_dev(dev);
	phys_addr_t phys;

	if (dom && (dom->type & __IOMMU_DOMAIN_PAGING))
		phys = iommu_iova_to_phys(dom, addr);
	else if (!dom || dom->type == IOMMU_DOMAIN_IDENTITY)
		phys = dma_to_phys(dev, addr);
	else
		return NULL;	/* blocked: the device reaches nothing */
	if (!phys || !pfn_valid(PHYS_PFN(phys)))
		return NULL;
	*off = offset_in_page(phys);
	return pfn_to_page(PHYS_PFN(phys));
}

/* Copies @n bytes at mkey address @a; res_lock held. */
static u8 model_mkey_rw(struct model_pf *pf, struct model_mkey *mk, u64 a,
			u8 *buf, size_t n, bool to_mkey)
{
	u64 mask = (1ULL << mk->page_shift) - 1;

	while (n) {
		u64 entry = (a >> mk->page_shift) -
			    (mk->start >> mk->page_shift);
		size_t off, len;
		struct page *page;

		page = model_dma_page(pf, mk->addrs[entry] + (a & mask), &off);
		if (!page)
			return MLX5_CMD_STAT_BAD_RES_STATE_ERR;
		len = min3(n, PAGE_SIZE - off, (size_t)(mask + 1 - (a & mask)));
		if (to_mkey)
			memcpy_to_page(page, off, buf, len);
		else
			memcpy_from_page(buf, page, off, len);
		a += len;
		buf += len;
		n -= len;
	}
	return MLX5_CMD_STAT_OK;
}

/**
 * model_mkey_copy - move bytes between memory and a command's buffer
 * @pf: the PF whose mkey it is
 * @mkey: the mkey the command names (index and key byte)
 * @va: the buffer's address in the mkey
 * @len: the buffer's size
 * @buf: kernel memory; NULL only checks that the mkey covers the buffer
 * @off: offset in the buffer
 * @n: bytes to copy
 * @to_mkey: direction
 *
 * Return: an MLX5_CMD_STAT_*: BAD_PARAM when the mkey does not cover
 * the buffer or the range is outside it.
 */
u8 model_mkey_copy(struct model_pf *pf, u32 mkey, u64 va, u64 len,
		   void *buf, size_t off, size_t n, bool to_mkey)
{
	struct model_mkey *mk;
	u8 st = MLX5_CMD_STAT_BAD_PARAM_ERR;

	mutex_lock(&pf->res_lock);
	mk = xa_load(&pf->mkeys, mlx5_mkey_to_idx(mkey));
	if (!mk || mk->key != (mkey & 0xff) || va < mk->start ||
	    va + len < va || va + len > mk->start + mk->len ||
	    off > len || n > len - off)
		goto out;
	st = buf ? model_mkey_rw(pf, mk, va + off, buf, n, to_mkey) :
		   MLX5_CMD_STAT_OK;
out:
	mutex_unlock(&pf->res_lock);
	return st;
}
