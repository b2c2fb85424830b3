// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h, track.h): PAGE_TRACK general
 * objects, and the VF's DMA writes they record.
 *
 * A tracker records, in pages of 2^log_page_size bytes, what its VF
 * writes by DMA inside its ranges (the model's VFs write only when a test
 * says so: debugfs vfN/dma_write).  MODIFY to REPORTING starts a report
 * (report.c); DESTROY is allowed in any state and stops a report.
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "track.h"

#define MODEL_ADV_CAP(pf, fld) \
	MLX5_GET(adv_virtualization_cap, \
		 (pf)->mdev.caps.hca[MLX5_CAP_ADV_VIRTUALIZATION]->cur, fld)

/* Sets the dirty bits of pages [first, last]; trk_lock held. */
static int model_dirty_set(struct model_tracker *trk, u64 first, u64 last)
{
	while (first <= last) {
		u64 chunk = first >> MODEL_DIRTY_CHUNK_SHIFT;
		u64 off = first & (MODEL_DIRTY_CHUNK - 1);
		u64 n = min(last - first + 1, MODEL_DIRTY_CHUNK - off);
		unsigned long *bmp = xa_load(&trk->dirty, chunk);

		if (!bmp) {
			bmp = bitmap_zalloc(MODEL_DIRTY_CHUNK, GFP_KERNEL);
			if (!bmp)
				return -ENOMEM;
			if (xa_err(xa_store(&trk->dirty, chunk, bmp,
					    GFP_KERNEL))) {
				bitmap_free(bmp);
				return -ENOMEM;
			}
		}
		bitmap_set(bmp, off, n);
		first += n;
	}
	return 0;
}

/**
 * model_dirty_take - take the next dirty page of a window
 * @trk: the tracker, trk_lock held
 * @from: first page to look at
 * @end: page after the window
 * @clear: clear the page's bit
 *
 * Return: the page, or @end if none is dirty in [@from, @end).
 */
u64 model_dirty_take(struct model_tracker *trk, u64 from, u64 end,
		     bool clear)
{
	unsigned long chunk = from >> MODEL_DIRTY_CHUNK_SHIFT;
	unsigned long *bmp;

	if (from >= end)
		return end;
	xa_for_each_range(&trk->dirty, chunk, bmp, chunk,
			  (end - 1) >> MODEL_DIRTY_CHUNK_SHIFT) {
		u64 base = (u64)chunk << MODEL_DIRTY_CHUNK_SHIFT;
		unsigned long start = from > base ? from - base : 0;
		unsigned long bit = find_next_bit(bmp, MODEL_DIRTY_CHUNK,
						  start);

		if (bit == MODEL_DIRTY_CHUNK)
			continue;
		if (base + bit >= end)
			return end;
		if (clear)
			__clear_bit(bit, bmp);
		return base + bit;
	}
	return end;
}

static u64 model_dirty_count(struct model_tracker *trk)
{
	unsigned long chunk, *bmp;
	u64 n = 0;

	xa_for_each(&trk->dirty, chunk, bmp)
		n += bitmap_weight(bmp, MODEL_DIRTY_CHUNK);
	return n;
}

static void model_tracker_free(struct model_tracker *trk)
{
	unsigned long chunk, *bmp;

	xa_for_each(&trk->dirty, chunk, bmp)
		bitmap_free(bmp);
	xa_destroy(&trk->dirty);
	kvfree(trk->msg);
	kfree(trk);
}

/* Ranges: aligned to the page, inside the address space, disjoint. */
static bool model_ranges_ok(struct model_tracker *trk)
{
	u64 mask = BIT_ULL(trk->page_shift) - 1;
	u64 space = BIT_ULL(trk->as_shift);
	unsigned int i, j;

	for (i = 0; i < trk->nranges; i++) {
		struct model_track_range *r = &trk->ranges[i];

		if (!r->len || (r->start & mask) || (r->len & mask) ||
		    r->start >= space || r->len > space - r->start)
			return false;
		for (j = 0; j < i; j++) {
			struct model_track_range *o = &trk->ranges[j];

			if (r->start < o->start + o->len &&
			    o->start < r->start + r->len)
				return false;
		}
	}
	return true;
}

static bool model_in_caps(unsigned int v, unsigned int min, unsigned int max)
{
	return v >= min && v <= max;
}

/* The object context of CREATE against the capabilities. */
static u8 model_tracker_parse(struct model_pf *pf, const void *ctx,
			      struct model_tracker *trk)
{
	unsigned int i;

	trk->vhca_id = MLX5_GET(page_track, ctx, vhca_id);
	trk->page_shift = MLX5_GET(page_track, ctx, log_page_size);
	trk->msg_shift = MLX5_GET(page_track, ctx, log_msg_size);
	trk->as_shift = MLX5_GET(page_track, ctx, log_addr_space_size);
	for (i = 0; i < trk->nranges; i++) {
		const void *r = MLX5_ADDR_OF(page_track, ctx, track_range[i]);

		trk->ranges[i].start = MLX5_GET64(page_track_range, r,
						  start_address);
		trk->ranges[i].len = MLX5_GET64(page_track_range, r, length);
	}
	if (MLX5_GET(page_track, ctx, track_type) ||
	    !model_in_caps(trk->page_shift,
			   MODEL_ADV_CAP(pf, pg_track_log_min_page_size),
			   MODEL_ADV_CAP(pf, pg_track_log_max_page_size)) ||
	    !model_in_caps(trk->msg_shift,
			   MODEL_ADV_CAP(pf, pg_track_log_min_msg_size),
			   MODEL_ADV_CAP(pf, pg_track_log_max_msg_size)) ||
	    !model_in_caps(trk->as_shift,
			   MODEL_ADV_CAP(pf, pg_track_log_min_addr_space),
			   MODEL_ADV_CAP(pf, pg_track_log_max_addr_space)) ||
	    !model_ranges_ok(trk))
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	return MLX5_CMD_STAT_OK;
}

static bool model_vhca_exists(struct model_pf *pf, u16 vhca_id)
{
	struct model_vf *vf;
	bool ok;

	if (vhca_id < 1 || vhca_id > pf->total_vfs)
		return false;
	vf = &pf->vfs[vhca_id - 1];
	model_vhca_lock(vf);
	ok = vf->enabled;
	mutex_unlock(&vf->lock);
	return ok;
}

/*
 * trk_lock held: the reporting QP must be in RTS, connected to a host QP
 * in RTR (with a receive queue) that names it back.
 */
static u8 model_tracker_qp(struct model_pf *pf, struct model_tracker *trk,
			   u32 qpn)
{
	struct model_qp *fw = model_qp_get(pf, qpn), *host;

	if (!fw)
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	host = model_qp_get(pf, fw->remote_qpn);
	if (fw->state != MLX5_QP_STATE_RTS || !host || host->zero_rq ||
	    host->state != MLX5_QP_STATE_RTR || host->remote_qpn != qpn)
		return MLX5_CMD_STAT_BAD_QP_STATE_ERR;
	trk->fwqp = fw;
	return MLX5_CMD_STAT_OK;
}

static unsigned int model_tracker_count(struct model_pf *pf)
{
	struct model_tracker *trk;
	unsigned long id;
	unsigned int n = 0;

	xa_for_each(&pf->trackers, id, trk)
		n++;
	return n;
}

static struct model_tracker *model_tracker_alloc(struct model_pf *pf,
						 unsigned int nranges)
{
	struct model_tracker *trk;

	trk = kzalloc(struct_size(trk, ranges, nranges), GFP_KERNEL);
	if (!trk)
		return NULL;
	trk->nranges = nranges;
	trk->pf = pf;
	trk->fail_after = -1;
	trk->state = MLX5_PAGE_TRACK_STATE_TRACKING;
	xa_init(&trk->dirty);
	INIT_DELAYED_WORK(&trk->work, model_report_work);
	return trk;
}

/* trk_lock held: checks and enters @trk; it then tracks. */
static u8 model_tracker_add(struct model_pf *pf, struct model_tracker *trk,
			    const void *ctx)
{
	u8 st;

	st = model_tracker_parse(pf, ctx, trk);
	if (st)
		return st;
	if (!model_vhca_exists(pf, trk->vhca_id))
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	st = model_tracker_qp(pf, trk,
			      MLX5_GET(page_track, ctx, reporting_qpn));
	if (st)
		return st;
	if (model_tracker_count(pf) >=
	    BIT(MODEL_ADV_CAP(pf, pg_track_log_max_num)))
		return MLX5_CMD_STAT_LIM_ERR;
	trk->msg = kvzalloc(BIT(trk->msg_shift), GFP_KERNEL);
	if (!trk->msg ||
	    xa_alloc(&pf->trackers, &trk->id, trk, XA_LIMIT(1, U32_MAX),
		     GFP_KERNEL))
		return MLX5_CMD_STAT_NO_RES_ERR;
	trk->fwqp->users++;
	return MLX5_CMD_STAT_OK;
}

static u8 model_tracker_create(struct model_pf *pf, const void *in,
			       int inlen, void *out)
{
	const void *ctx = MLX5_ADDR_OF(create_page_track_obj_in, in,
				       obj_context);
	unsigned int n = MLX5_GET(page_track, ctx, num_ranges);
	struct model_tracker *trk;
	u8 st;

	if (inlen < MLX5_ST_SZ_BYTES(create_page_track_obj_in))
		return MLX5_CMD_STAT_BAD_INP_LEN_ERR;
	if (!n || n > MODEL_ADV_CAP(pf, pg_track_max_num_range))
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	if (inlen < MLX5_ST_SZ_BYTES(create_page_track_obj_in) +
		    n * MLX5_ST_SZ_BYTES(page_track_range))
		return MLX5_CMD_STAT_BAD_INP_LEN_ERR;
	trk = model_tracker_alloc(pf, n);
	if (!trk)
		return MLX5_CMD_STAT_NO_RES_ERR;
	mutex_lock(&pf->trk_lock);
	st = model_tracker_add(pf, trk, ctx);
	mutex_unlock(&pf->trk_lock);
	if (st) {
		model_tracker_free(trk);
		return st;
	}
	MLX5_SET(general_obj_out_cmd_hdr, out, obj_id, trk->id);
	return MLX5_CMD_STAT_OK;
}

/* trk_lock held: MODIFY's report request. */
static u8 model_tracker_modify(struct model_tracker *trk, const void *ctx)
{
	u64 start = MLX5_GET64(page_track, ctx, range_start_address);
	u64 len = MLX5_GET64(page_track, ctx, length);
	u64 mask = BIT_ULL(trk->page_shift) - 1;
	u64 space = BIT_ULL(trk->as_shift);

	if (!(MLX5_GET64(page_track, ctx, modify_field_select) & 1) ||
	    MLX5_GET(page_track, ctx, state) !=
	    MLX5_PAGE_TRACK_STATE_REPORTING ||
	    (start & mask) || (len & mask) || start > space ||
	    len > space - start)
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	if (trk->state != MLX5_PAGE_TRACK_STATE_TRACKING)
		return MLX5_CMD_STAT_BAD_RES_STATE_ERR;
	trk->state = MLX5_PAGE_TRACK_STATE_REPORTING;
	trk->cursor = start >> trk->page_shift;
	trk->end = (start + len) >> trk->page_shift;
	trk->waiting = false;
	trk->reports++;
	queue_delayed_work(trk->pf->wq, &trk->work, 0);
	return MLX5_CMD_STAT_OK;
}

/* trk_lock held. */
static void model_tracker_query(struct model_tracker *trk, void *out)
{
	void *ctx = MLX5_ADDR_OF(query_page_track_obj_out, out, obj_context);

	MLX5_SET(general_obj_out_cmd_hdr, out, obj_id, trk->id);
	MLX5_SET(page_track, ctx, vhca_id, trk->vhca_id);
	MLX5_SET(page_track, ctx, state, trk->state);
	MLX5_SET(page_track, ctx, log_addr_space_size, trk->as_shift);
	MLX5_SET(page_track, ctx, log_page_size, trk->page_shift);
	MLX5_SET(page_track, ctx, log_msg_size, trk->msg_shift);
	MLX5_SET(page_track, ctx, reporting_qpn, trk->fwqp->qpn);
	MLX5_SET(page_track, ctx, num_ranges, trk->nranges);
}

/* Stops @trk's engine and frees it; it left pf->trackers already. */
static void model_tracker_release(struct model_pf *pf,
				  struct model_tracker *trk)
{
	cancel_delayed_work_sync(&trk->work);
	model_tracker_free(trk);
}

/* trk_lock held: @trk leaves the PF; release it after unlocking. */
static void model_tracker_unlink(struct model_pf *pf,
				 struct model_tracker *trk)
{
	xa_erase(&pf->trackers, trk->id);
	trk->dead = true;
	trk->fwqp->users--;
}

static u8 model_tracker_cmd(struct model_pf *pf, u16 opcode, const void *in,
			    int inlen, void *out, int outlen)
{
	const void *ctx = MLX5_ADDR_OF(modify_page_track_obj_in, in,
				       obj_context);
	u32 id = MLX5_GET(general_obj_in_cmd_hdr, in, obj_id);
	struct model_tracker *trk;
	u8 st = MLX5_CMD_STAT_OK;

	if (opcode == MLX5_CMD_OP_MODIFY_GENERAL_OBJECT &&
	    inlen < MLX5_ST_SZ_BYTES(modify_page_track_obj_in))
		return MLX5_CMD_STAT_BAD_INP_LEN_ERR;
	if (opcode == MLX5_CMD_OP_QUERY_GENERAL_OBJECT &&
	    outlen < MLX5_ST_SZ_BYTES(query_page_track_obj_out))
		return MLX5_CMD_STAT_BAD_OUTP_LEN_ERR;
	mutex_lock(&pf->trk_lock);
	trk = xa_load(&pf->trackers, id);
	if (!trk)
		st = MLX5_CMD_STAT_BAD_RES_ERR;
	else if (opcode == MLX5_CMD_OP_MODIFY_GENERAL_OBJECT)
		st = model_tracker_modify(trk, ctx);
	else if (opcode == MLX5_CMD_OP_QUERY_GENERAL_OBJECT)
		model_tracker_query(trk, out);
	else
		model_tracker_unlink(pf, trk);
	mutex_unlock(&pf->trk_lock);
	if (trk && opcode == MLX5_CMD_OP_DESTROY_GENERAL_OBJECT)
		model_tracker_release(pf, trk);
	return st;
}

/* CREATE/MODIFY/QUERY/DESTROY_GENERAL_OBJECT: only PAGE_TRACK exists. */
u8 model_cmd_general_obj(struct model_pf *pf, u16 opcode, const void *in,
			 int inlen, void *out, int outlen)
{
	struct mlx5_core_dev *mdev = &pf->mdev;

	if (MLX5_GET(general_obj_in_cmd_hdr, in, obj_type) !=
	    MLX5_OBJ_TYPE_PAGE_TRACK ||
	    !MLX5_CAP_GEN(mdev, adv_virtualization))
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	if (opcode == MLX5_CMD_OP_CREATE_GENERAL_OBJECT)
		return model_tracker_create(pf, in, inlen, out);
	return model_tracker_cmd(pf, opcode, in, inlen, out, outlen);
}

/* trk_lock held: the VF @vhca_id wrote [iova, iova + len) by DMA. */
int model_track_dma_write(struct model_pf *pf, u16 vhca_id, u64 iova,
			  u64 len)
{
	struct model_tracker *trk;
	unsigned long id;
	unsigned int i;
	int ret = 0;

	lockdep_assert_held(&pf->trk_lock);
	xa_for_each(&pf->trackers, id, trk) {
		if (trk->vhca_id != vhca_id)
			continue;
		for (i = 0; i < trk->nranges && !ret; i++) {
			struct model_track_range *r = &trk->ranges[i];
			u64 a = max(iova, r->start);
			u64 b = min(iova + len, r->start + r->len);

			if (a < b)
				ret = model_dirty_set(trk, a >> trk->page_shift,
						      (b - 1) >> trk->page_shift);
		}
	}
	return ret;
}

/* Every tracker of the PF, or of one VF (@vhca_id != 0), fails now. */
void model_track_fail_all(struct model_pf *pf, u16 vhca_id)
{
	struct model_tracker *trk;
	unsigned long id;

	mutex_lock(&pf->trk_lock);
	xa_for_each(&pf->trackers, id, trk)
		if (!vhca_id || trk->vhca_id == vhca_id)
			model_tracker_fail(trk);
	mutex_unlock(&pf->trk_lock);
}

static const char *model_track_state_name(u8 state)
{
	switch (state) {
	case MLX5_PAGE_TRACK_STATE_TRACKING:
		return "TRACKING";
	case MLX5_PAGE_TRACK_STATE_REPORTING:
		return "REPORTING";
	}
	return "ERROR";
}

/* debugfs vfN/tracker: one line per tracker of the VF. */
void model_track_show(struct model_pf *pf, u16 vhca_id, struct seq_file *s)
{
	struct model_tracker *trk;
	unsigned long id;

	mutex_lock(&pf->trk_lock);
	xa_for_each(&pf->trackers, id, trk) {
		if (trk->vhca_id != vhca_id)
			continue;
		seq_printf(s, "id %u state %s page_shift %u ranges %u dirty %llu reports %llu\n",
			   trk->id, model_track_state_name(trk->state),
			   trk->page_shift, trk->nranges,
			   model_dirty_count(trk), trk->reports);
	}
	mutex_unlock(&pf->trk_lock);
}

unsigned int model_track_count(struct model_pf *pf)
{
	unsigned int n;

	mutex_lock(&pf->trk_lock);
	n = model_tracker_count(pf);
	mutex_unlock(&pf->trk_lock);
	return n;
}

void model_track_init(struct model_pf *pf)
{
	mutex_init(&pf->trk_lock);
	xa_init_flags(&pf->cqs, XA_FLAGS_ALLOC1);
	xa_init_flags(&pf->qps, XA_FLAGS_ALLOC1);
	xa_init_flags(&pf->trackers, XA_FLAGS_ALLOC1);
}

/* Unbind: what the PF's user left, in the order it should have gone. */
void model_track_destroy(struct model_pf *pf)
{
	struct model_tracker *trk;
	unsigned long id;

	xa_for_each(&pf->trackers, id, trk) {
		mutex_lock(&pf->trk_lock);
		model_tracker_unlink(pf, trk);
		mutex_unlock(&pf->trk_lock);
		model_tracker_release(pf, trk);
	}
	model_qps_destroy(pf);
	model_cqs_destroy(pf);
	xa_destroy(&pf->trackers);
	xa_destroy(&pf->qps);
	xa_destroy(&pf->cqs);
	mutex_destroy(&pf->trk_lock);
}
