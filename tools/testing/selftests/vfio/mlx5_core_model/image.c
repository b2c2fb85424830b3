// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h): QUERY_VHCA_MIGRATION_STATE,
 * SAVE_VHCA_STATE and LOAD_VHCA_STATE.
 *
 * An image is opaque to mlx5-vfio-pci but checked here as the firmware
 * would check its own:
 *
 *   struct model_image_hdr
 *   __le32 page index, npages times
 *   the pages' bytes, MODEL_PAGE_SIZE each, in index order
 *
 * The CRC covers everything after the header, then the header with its
 * crc field zero; LOAD verifies all of it before applying anything, so a
 * corrupt or truncated image fails with BAD_PARAM and leaves the state
 * alone.  Any image is self-contained: a full one holds every page, an
 * incremental one the pages dirtied since the last save, a chunk a subset
 * of either.
 *
 * Chunk mode (migration_in_chunks): a SAVE whose image does not fit the
 * buffer saves as many whole pages as fit and leaves the rest pending;
 * next_required_umem_size says what the following SAVE needs, 0 once
 * nothing is pending.  Without it, a whole image that does not fit is
 * BAD_PARAM, while an incremental one takes the dirty pages that fit and
 * leaves the others dirty for the next save: a running VF dirties pages
 * between the QUERY that sized the buffer and the SAVE.  Until its last
 * chunk is saved, every SAVE continues the
 * same image, whatever its incremental flag: a command cannot say
 * whether it continues an image or starts one.  Only a SAVE with
 * set_track (the start of a pre-copy) and an FLR start afresh, so a
 * driver that abandons a chunked save must reset the function before it
 * relies on a new image being whole.
 */
#include <linux/crc32.h>
#include <linux/slab.h>

#include "model.h"

#define MODEL_IMAGE_MAGIC	0x3556354d	/* "M5V5" */
#define MODEL_IMAGE_VERSION	1

struct model_image_hdr {
	__le32 magic;
	__le16 version;
	__le16 hdr_size;
	__le64 state_size;
	__le32 page_size;
	__le32 npages;
	__le32 crc;
	__le32 reserved;
};

/* What one SAVE or LOAD works on: a buffer in an mkey. */
struct model_buf {
	struct model_pf *pf;
	u32 mkey;
	u64 va;
	u64 size;
};

/*
 * The kernel's crc32_le() where it has it; a kernel without CRC32 (the
 * allnoconfig-based debug kernel may lack it) gets the same CRC here,
 * bit by bit.
 */
u32 model_crc32(u32 crc, const void *p, size_t len)
{
	const u8 *b = p;
	int k;

	if (IS_ENABLED(CONFIG_CRC32))
		return crc32_le(crc, p, len);
	while (len--) {
		crc ^= *b++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return crc;
}

size_t model_image_size(unsigned long npages)
{
	return sizeof(struct model_image_hdr) +
	       npages * (sizeof(__le32) + MODEL_PAGE_SIZE);
}

static u8 model_buf_io(struct model_buf *b, void *p, size_t off, size_t n,
		       bool to_mkey)
{
	return model_mkey_copy(b->pf, b->mkey, b->va, b->size, p, off, n,
			       to_mkey);
}

/*
 * A chunked save begun while running may go on after the suspend: what
 * was dirtied meanwhile joins the pages still pending, so that the chunks
 * that follow hold everything.  While running it does not: the sequence
 * could then never end.  vf->lock held.
 */
static void model_chunk_absorb(struct model_vf *vf)
{
	if (!vf->chunking || vf->mig_state != MODEL_SUSPENDED || !vf->tracking)
		return;
	bitmap_or(vf->pending, vf->pending, vf->dirty, vf->npages);
	bitmap_zero(vf->dirty, vf->npages);
}

/* Pages the next SAVE would save, with vf->lock held; -1: not allowed. */
static long model_next_pages(struct model_vf *vf, bool incremental)
{
	if (vf->chunking)
		return bitmap_weight(vf->pending, vf->npages);
	if (!incremental)
		return vf->npages;
	if (!vf->tracking)
		return -1;
	return bitmap_weight(vf->dirty, vf->npages);
}

/* The largest chunk QUERY announces: at least one page's image. */
static size_t model_chunk_limit(void)
{
	return max_t(size_t, READ_ONCE(model_chunk_size), model_image_size(1));
}

u8 model_image_query(struct model_vf *vf, const void *in, void *out)
{
	bool incremental = MLX5_GET(query_vhca_migration_state_in, in,
				    incremental);
	bool chunk = MLX5_GET(query_vhca_migration_state_in, in, chunk);
	long pages;
	size_t image;

	if (chunk && !model_in_chunks)
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	model_chunk_absorb(vf);
	pages = model_next_pages(vf, incremental);
	if (pages < 0)
		return MLX5_CMD_STAT_BAD_SYS_STATE_ERR;
	/*
	 * Nothing changed since the last save: there is nothing to save,
	 * rather than an image of no pages, so a still device lets a
	 * pre-copy reach its temporary end.
	 */
	image = incremental && !pages ? 0 : model_image_size(pages);
	MLX5_SET(query_vhca_migration_state_out, out, required_umem_size,
		 chunk ? min(image, model_chunk_limit()) : image);
	MLX5_SET64(query_vhca_migration_state_out, out, remaining_total_size,
		   image);
	return MLX5_CMD_STAT_OK;
}

/*
 * Whether a SAVE may run in the VHCA's state: always when suspended;
 * before that only with pre-copy, to arm tracking with a full image or to
 * take the pages dirtied since.
 */
static bool model_save_allowed(struct model_vf *vf, bool incremental,
			       bool set_track)
{
	if (vf->mig_state == MODEL_SUSPENDED)
		return !incremental || vf->tracking;
	if (!model_tracking)
		return false;
	if (vf->chunking)
		return true;
	return incremental ? vf->tracking : set_track;
}

/* Moves the pages of a new image to vf->pending; vf->lock held. */
static void model_select_pages(struct model_vf *vf, bool incremental,
			       bool set_track)
{
	if (incremental) {
		bitmap_copy(vf->pending, vf->dirty, vf->npages);
	} else {
		bitmap_fill(vf->pending, vf->npages);
		if (set_track)
			vf->tracking = true;
	}
	/* Whatever is pending now is as good as saved. */
	bitmap_zero(vf->dirty, vf->npages);
}

/*
 * Moves the first @n dirty pages to vf->pending, leaving the others
 * dirty; vf->lock held.
 */
static void model_select_some_dirty(struct model_vf *vf, unsigned long n)
{
	unsigned long page;

	bitmap_zero(vf->pending, vf->npages);
	for_each_set_bit(page, vf->dirty, vf->npages) {
		if (!n--)
			break;
		__set_bit(page, vf->pending);
		__clear_bit(page, vf->dirty);
	}
}

/*
 * Writes the first @n pending pages as an image at the start of @b and
 * takes them off vf->pending; vf->lock held.
 */
static u8 model_write_image(struct model_vf *vf, struct model_buf *b,
			    unsigned long n)
{
	struct model_image_hdr hdr = {};
	size_t off = sizeof(hdr), data = off + n * sizeof(__le32);
	unsigned long page = 0, i;
	u32 crc = ~0;
	__le32 idx;
	u8 st;

	for (i = 0; i < n; i++) {
		page = find_next_bit(vf->pending, vf->npages, i ? page + 1 : 0);
		idx = cpu_to_le32(page);
		st = model_buf_io(b, &idx, off + i * sizeof(idx), sizeof(idx),
				  true);
		if (st)
			return st;
		crc = model_crc32(crc, (u8 *)&idx, sizeof(idx));
	}
	for (i = 0; i < n; i++) {
		page = find_first_bit(vf->pending, vf->npages);
		st = model_buf_io(b, vf->state + page * MODEL_PAGE_SIZE,
				  data + i * MODEL_PAGE_SIZE, MODEL_PAGE_SIZE,
				  true);
		if (st)
			return st;
		crc = model_crc32(crc, vf->state + page * MODEL_PAGE_SIZE,
				  MODEL_PAGE_SIZE);
		__clear_bit(page, vf->pending);
	}
	hdr.magic = cpu_to_le32(MODEL_IMAGE_MAGIC);
	hdr.version = cpu_to_le16(MODEL_IMAGE_VERSION);
	hdr.hdr_size = cpu_to_le16(sizeof(hdr));
	hdr.state_size = cpu_to_le64(vf->size);
	hdr.page_size = cpu_to_le32(MODEL_PAGE_SIZE);
	hdr.npages = cpu_to_le32(n);
	hdr.crc = cpu_to_le32(model_crc32(crc, (u8 *)&hdr, sizeof(hdr)));
	return model_buf_io(b, &hdr, 0, sizeof(hdr), true);
}

/* The faults debugfs "inject" arms for the next image. */
static void model_take_image_faults(struct model_pf *pf, bool *corrupt,
				    bool *truncate)
{
	spin_lock_bh(&pf->inject_lock);
	*corrupt = pf->inject.corrupt_image;
	*truncate = pf->inject.truncate_image;
	pf->inject.corrupt_image = false;
	pf->inject.truncate_image = false;
	spin_unlock_bh(&pf->inject_lock);
}

/* Flips the image's last byte, which the CRC covers. */
static u8 model_corrupt_image(struct model_buf *b, size_t size)
{
	u8 byte, st;

	st = model_buf_io(b, &byte, size - 1, 1, false);
	if (st)
		return st;
	byte ^= 0xff;
	return model_buf_io(b, &byte, size - 1, 1, true);
}

static u8 model_save_pages(struct model_vf *vf, struct model_buf *b,
			   unsigned long n, void *out)
{
	unsigned long left;
	bool corrupt, truncate;
	size_t size = model_image_size(n);
	u8 st;

	st = model_write_image(vf, b, n);
	if (st)
		return st;
	left = bitmap_weight(vf->pending, vf->npages);
	vf->chunking = left > 0;
	model_take_image_faults(vf->pf, &corrupt, &truncate);
	if (corrupt) {
		st = model_corrupt_image(b, size);
		if (st)
			return st;
	}
	MLX5_SET(save_vhca_state_out, out, actual_image_size,
		 truncate ? size - 1 : size);
	MLX5_SET(save_vhca_state_out, out, next_required_umem_size,
		 left ? min(model_image_size(left), model_chunk_limit()) : 0);
	return MLX5_CMD_STAT_OK;
}

u8 model_image_save(struct model_vf *vf, const void *in, void *out)
{
	bool incremental = MLX5_GET(save_vhca_state_in, in, incremental);
	bool set_track = MLX5_GET(save_vhca_state_in, in, set_track);
	struct model_buf b = {
		.pf = vf->pf,
		.mkey = MLX5_GET(save_vhca_state_in, in, mkey),
		.va = MLX5_GET64(save_vhca_state_in, in, va),
		.size = MLX5_GET(save_vhca_state_in, in, size),
	};
	unsigned long fit;
	long pages;
	u8 st;

	if (!model_save_allowed(vf, incremental, set_track))
		return MLX5_CMD_STAT_BAD_SYS_STATE_ERR;
	/* Arming tracking starts a migration: nothing before it counts. */
	if (set_track && !incremental)
		vf->chunking = false;
	model_chunk_absorb(vf);
	pages = model_next_pages(vf, incremental);
	if (pages < 0)
		return MLX5_CMD_STAT_BAD_SYS_STATE_ERR;
	if (b.size < model_image_size(0))
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	/* The whole buffer must be the mkey's before anything is written. */
	st = model_buf_io(&b, NULL, 0, b.size, true);
	if (st)
		return st;
	fit = (b.size - model_image_size(0)) /
	      (sizeof(__le32) + MODEL_PAGE_SIZE);
	if (pages > fit && incremental && !model_in_chunks &&
	    !vf->chunking && fit) {
		model_select_some_dirty(vf, fit);
		return model_save_pages(vf, &b, fit, out);
	}
	if (pages > fit && (!model_in_chunks || !fit))
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	if (!vf->chunking)
		model_select_pages(vf, incremental, set_track);
	return model_save_pages(vf, &b, min_t(unsigned long, pages, fit), out);
}

/* Reads and checks an image's header; the CRC is checked later. */
static u8 model_read_hdr(struct model_vf *vf, struct model_buf *b,
			 struct model_image_hdr *hdr)
{
	u32 n;
	u8 st;

	if (b->size < sizeof(*hdr))
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	st = model_buf_io(b, hdr, 0, sizeof(*hdr), false);
	if (st)
		return st;
	n = le32_to_cpu(hdr->npages);
	if (le32_to_cpu(hdr->magic) != MODEL_IMAGE_MAGIC ||
	    le16_to_cpu(hdr->version) != MODEL_IMAGE_VERSION ||
	    le16_to_cpu(hdr->hdr_size) != sizeof(*hdr) ||
	    le32_to_cpu(hdr->page_size) != MODEL_PAGE_SIZE ||
	    le64_to_cpu(hdr->state_size) != vf->size ||
	    n > vf->npages || b->size < model_image_size(n))
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	return MLX5_CMD_STAT_OK;
}

/* Reads the page list and checks every index and the CRC. */
static u8 model_verify_image(struct model_vf *vf, struct model_buf *b,
			     struct model_image_hdr *hdr, __le32 *idx,
			     u8 *page)
{
	u32 i, n = le32_to_cpu(hdr->npages), crc, want = le32_to_cpu(hdr->crc);
	size_t data = sizeof(*hdr) + n * sizeof(__le32);
	u8 st;

	st = model_buf_io(b, idx, sizeof(*hdr), n * sizeof(__le32), false);
	if (st)
		return st;
	crc = model_crc32(~0, (u8 *)idx, n * sizeof(__le32));
	for (i = 0; i < n; i++) {
		if (le32_to_cpu(idx[i]) >= vf->npages)
			return MLX5_CMD_STAT_BAD_PARAM_ERR;
		st = model_buf_io(b, page, data + i * MODEL_PAGE_SIZE,
				  MODEL_PAGE_SIZE, false);
		if (st)
			return st;
		crc = model_crc32(crc, page, MODEL_PAGE_SIZE);
	}
	hdr->crc = 0;
	crc = model_crc32(crc, (u8 *)hdr, sizeof(*hdr));
	return crc == want ? MLX5_CMD_STAT_OK : MLX5_CMD_STAT_BAD_PARAM_ERR;
}

static u8 model_apply_image(struct model_vf *vf, struct model_buf *b,
			    u32 n, const __le32 *idx)
{
	size_t data = sizeof(struct model_image_hdr) + n * sizeof(__le32);
	u32 i;
	u8 st;

	for (i = 0; i < n; i++) {
		st = model_buf_io(b, vf->state +
				  le32_to_cpu(idx[i]) * MODEL_PAGE_SIZE,
				  data + i * MODEL_PAGE_SIZE, MODEL_PAGE_SIZE,
				  false);
		if (st)
			return st;
	}
	return MLX5_CMD_STAT_OK;
}

u8 model_image_load(struct model_vf *vf, const void *in)
{
	struct model_buf b = {
		.pf = vf->pf,
		.mkey = MLX5_GET(load_vhca_state_in, in, mkey),
		.va = MLX5_GET64(load_vhca_state_in, in, va),
		.size = MLX5_GET(load_vhca_state_in, in, size),
	};
	struct model_image_hdr hdr;
	__le32 *idx = NULL;
	u8 *page = NULL;
	u8 st;

	if (vf->mig_state != MODEL_SUSPENDED ||
	    (vf->loaded && !model_multi_load))
		return MLX5_CMD_STAT_BAD_SYS_STATE_ERR;
	st = model_read_hdr(vf, &b, &hdr);
	if (st)
		return st;
	idx = kvmalloc_array(max(le32_to_cpu(hdr.npages), 1U), sizeof(*idx),
			     GFP_KERNEL);
	page = kmalloc(MODEL_PAGE_SIZE, GFP_KERNEL);
	st = MLX5_CMD_STAT_NO_RES_ERR;
	if (!idx || !page)
		goto out;
	st = model_verify_image(vf, &b, &hdr, idx, page);
	if (st)
		goto out;
	st = model_apply_image(vf, &b, le32_to_cpu(hdr.npages), idx);
	if (!st)
		vf->loaded = true;
out:
	kfree(page);
	kvfree(idx);
	return st;
}
