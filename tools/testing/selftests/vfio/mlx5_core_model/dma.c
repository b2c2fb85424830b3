// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h): the memory a queue lives in.
 *
 * Fragmented buffers, doorbell records and UAR pages are what a driver
 * allocates through mlx5_core and then names to the "firmware" by DMA
 * address (PAS entries, dbr_addr) or index (uar_page).  Each chunk of DMA
 * memory handed out is entered in a per-PF registry, so that the model
 * finds the kernel address behind a DMA address the way a device would
 * reach the memory.  A queue created on a chunk holds it: freeing a chunk
 * still in use is a driver bug, reported, and the memory stays until the
 * queue goes, so that the model never writes to freed memory.
 */
#include <linux/dma-mapping.h>
#include <linux/slab.h>

#include "model.h"

/* Doorbell records: one small coherent chunk each (8 bytes are used). */
#define MODEL_DB_SIZE	64

struct model_dma_chunk {
	struct list_head node;
	void *va;
	dma_addr_t dma;
	size_t size;
	unsigned int users;	/* queues that hold it */
	bool orphan;		/* freed by its owner while held */
};

void model_dma_init(struct model_pf *pf)
{
	spin_lock_init(&pf->dma_lock);
	INIT_LIST_HEAD(&pf->dma_chunks);
	xa_init_flags(&pf->uars, XA_FLAGS_ALLOC1);
}

static void model_chunk_release(struct model_pf *pf,
				struct model_dma_chunk *c)
{
	dma_free_coherent(&pf->pdev->dev, c->size, c->va, c->dma);
	kfree(c);
}

/* Allocates and registers @size bytes of coherent memory for the PF. */
static void *model_chunk_alloc(struct model_pf *pf, size_t size,
			       dma_addr_t *dma)
{
	struct model_dma_chunk *c;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return NULL;
	c->va = dma_alloc_coherent(&pf->pdev->dev, size, &c->dma, GFP_KERNEL);
	if (!c->va) {
		kfree(c);
		return NULL;
	}
	c->size = size;
	spin_lock(&pf->dma_lock);
	list_add(&c->node, &pf->dma_chunks);
	spin_unlock(&pf->dma_lock);
	*dma = c->dma;
	return c->va;
}

static struct model_dma_chunk *model_chunk_find(struct model_pf *pf,
						u64 dma, u64 len)
{
	struct model_dma_chunk *c;

	lockdep_assert_held(&pf->dma_lock);
	list_for_each_entry(c, &pf->dma_chunks, node)
		if (!c->orphan && dma >= c->dma && len <= c->size &&
		    dma - c->dma <= c->size - len)
			return c;
	return NULL;
}

/* The owner frees the chunk at @dma; a queue may still hold it. */
static void model_chunk_free(struct model_pf *pf, dma_addr_t dma)
{
	struct model_dma_chunk *c;

	spin_lock(&pf->dma_lock);
	c = model_chunk_find(pf, dma, 1);
	if (c && c->users) {
		c->orphan = true;
		c = NULL;
		dev_err(&pf->pdev->dev,
			"mlx5 model: DMA memory %pad freed while a queue uses it\n",
			&dma);
	} else if (c) {
		list_del(&c->node);
	}
	spin_unlock(&pf->dma_lock);
	if (c)
		model_chunk_release(pf, c);
}

/**
 * model_dma_hold - the kernel address of DMA memory a queue names
 * @pf: the PF the memory was allocated for
 * @dma: DMA address
 * @len: bytes from @dma that must lie in one chunk
 *
 * Return: the kernel address, or NULL if the model did not hand out that
 * memory.  The chunk is held until model_dma_put().
 */
void *model_dma_hold(struct model_pf *pf, u64 dma, u64 len)
{
	struct model_dma_chunk *c;
	void *va = NULL;

	spin_lock(&pf->dma_lock);
	c = model_chunk_find(pf, dma, len);
	if (c) {
		c->users++;
		va = c->va + (dma - c->dma);
	}
	spin_unlock(&pf->dma_lock);
	return va;
}

void model_dma_put(struct model_pf *pf, u64 dma)
{
	struct model_dma_chunk *c, *found = NULL;

	spin_lock(&pf->dma_lock);
	list_for_each_entry(c, &pf->dma_chunks, node) {
		if (c->users && dma >= c->dma && dma - c->dma < c->size) {
			found = c;
			break;
		}
	}
	if (found && !--found->users && found->orphan)
		list_del(&found->node);
	else
		found = NULL;
	spin_unlock(&pf->dma_lock);
	if (found)
		model_chunk_release(pf, found);
}

int model_frag_buf_alloc(struct mlx5_core_dev *mdev, int size,
			 struct mlx5_frag_buf *buf, int node)
{
	struct model_pf *pf = model_pf_of(mdev);
	int i;

	/* @node is not honoured: the PF's device decides where memory is. */
	if (size <= 0)
		return -EINVAL;
	buf->size = size;
	buf->npages = DIV_ROUND_UP(size, PAGE_SIZE);
	buf->page_shift = PAGE_SHIFT;
	buf->frags = kcalloc(buf->npages, sizeof(*buf->frags), GFP_KERNEL);
	if (!buf->frags)
		return -ENOMEM;
	for (i = 0; i < buf->npages; i++) {
		buf->frags[i].buf = model_chunk_alloc(pf, PAGE_SIZE,
						      &buf->frags[i].map);
		if (!buf->frags[i].buf)
			goto err;
	}
	atomic_inc(&pf->n_frag_bufs);
	return 0;

err:
	while (i--)
		model_chunk_free(pf, buf->frags[i].map);
	kfree(buf->frags);
	buf->frags = NULL;
	return -ENOMEM;
}

void model_frag_buf_free(struct mlx5_core_dev *mdev, struct mlx5_frag_buf *buf)
{
	struct model_pf *pf = model_pf_of(mdev);
	int i;

	for (i = 0; i < buf->npages; i++)
		model_chunk_free(pf, buf->frags[i].map);
	kfree(buf->frags);
	buf->frags = NULL;
	atomic_dec(&pf->n_frag_bufs);
}

void model_fill_pas(struct mlx5_frag_buf *buf, __be64 *pas)
{
	int i;

	for (i = 0; i < buf->npages; i++)
		pas[i] = cpu_to_be64(buf->frags[i].map);
}

int model_db_alloc(struct mlx5_core_dev *mdev, struct mlx5_db *db, int node)
{
	struct model_pf *pf = model_pf_of(mdev);

	memset(db, 0, sizeof(*db));
	db->db = model_chunk_alloc(pf, MODEL_DB_SIZE, &db->dma);
	if (!db->db)
		return -ENOMEM;
	atomic_inc(&pf->n_dbs);
	return 0;
}

void model_db_free(struct mlx5_core_dev *mdev, struct mlx5_db *db)
{
	struct model_pf *pf = model_pf_of(mdev);

	model_chunk_free(pf, db->dma);
	atomic_dec(&pf->n_dbs);
}

/*
 * A UAR page of its own for every caller.  Its map is ordinary memory
 * (mlx5_cq_arm() rings there and nothing listens: the model reads arm
 * requests from the doorbell record instead).
 */
struct mlx5_uars_page *model_uars_get(struct mlx5_core_dev *mdev)
{
	struct model_pf *pf = model_pf_of(mdev);
	struct mlx5_uars_page *up;
	void *map;
	u32 idx;

	up = kzalloc(sizeof(*up), GFP_KERNEL);
	map = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!up || !map)
		goto err;
	if (xa_alloc(&pf->uars, &idx, up, XA_LIMIT(1, MODEL_RES_MAX),
		     GFP_KERNEL))
		goto err;
	up->map = (__force void __iomem *)map;
	up->index = idx;
	up->mdev = mdev;
	INIT_LIST_HEAD(&up->list);
	kref_init(&up->ref_count);
	return up;

err:
	kfree(map);
	kfree(up);
	return ERR_PTR(-ENOMEM);
}

static void model_uars_release(struct mlx5_uars_page *up)
{
	kfree((__force void *)up->map);
	kfree(up);
}

void model_uars_put(struct mlx5_core_dev *mdev, struct mlx5_uars_page *up)
{
	struct model_pf *pf = model_pf_of(mdev);

	if (xa_erase(&pf->uars, up->index) != up) {
		dev_err(&pf->pdev->dev, "mlx5 model: unknown UAR page put\n");
		return;
	}
	model_uars_release(up);
}

bool model_uar_exists(struct model_pf *pf, u32 index)
{
	return index && xa_load(&pf->uars, index);
}

unsigned int model_uar_count(struct model_pf *pf)
{
	struct mlx5_uars_page *up;
	unsigned long idx;
	unsigned int n = 0;

	xa_for_each(&pf->uars, idx, up)
		n++;
	return n;
}

/* At unbind, after every queue is gone: what the PF's user left. */
void model_dma_destroy(struct model_pf *pf)
{
	struct model_dma_chunk *c, *tmp;
	struct mlx5_uars_page *up;
	unsigned long idx;

	list_for_each_entry_safe(c, tmp, &pf->dma_chunks, node) {
		list_del(&c->node);
		model_chunk_release(pf, c);
	}
	xa_for_each(&pf->uars, idx, up)
		model_uars_release(up);
	xa_destroy(&pf->uars);
}

/* A queue's buffer as the PAS list names it: kernel address per page. */
u8 model_qbuf_map(struct model_pf *pf, struct model_qbuf *q,
		  const __be64 *pas, unsigned int npages, unsigned int shift)
{
	unsigned int i;

	q->dma = kcalloc(npages, sizeof(*q->dma), GFP_KERNEL);
	q->va = kcalloc(npages, sizeof(*q->va), GFP_KERNEL);
	q->shift = shift;
	q->npages = 0;
	if (!q->dma || !q->va)
		goto err;
	for (i = 0; i < npages; i++) {
		q->dma[i] = be64_to_cpu(pas[i]);
		q->va[i] = model_dma_hold(pf, q->dma[i], 1ULL << shift);
		if (!q->va[i]) {
			model_qbuf_unmap(pf, q);
			return MLX5_CMD_STAT_BAD_PARAM_ERR;
		}
		q->npages++;
	}
	return MLX5_CMD_STAT_OK;

err:
	model_qbuf_unmap(pf, q);
	return MLX5_CMD_STAT_NO_RES_ERR;
}

void model_qbuf_unmap(struct model_pf *pf, struct model_qbuf *q)
{
	unsigned int i;

	for (i = 0; i < q->npages; i++)
		model_dma_put(pf, q->dma[i]);
	kfree(q->dma);
	kfree(q->va);
	q->dma = NULL;
	q->va = NULL;
	q->npages = 0;
}

/* The kernel address of byte @off of the buffer. */
void *model_qbuf_at(struct model_qbuf *q, size_t off)
{
	return q->va[off >> q->shift] + (off & ((1UL << q->shift) - 1));
}
