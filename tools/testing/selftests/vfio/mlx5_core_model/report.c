// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h, track.h): the reporting engine.
 *
 * A report runs on the PF's workqueue, one message per step, trk_lock
 * held for the step: it takes the host QP's next posted receive WQE,
 * fills a message with the window's next dirty pages (clearing them),
 * writes it through the WQE's mkey and completes the WQE with a CQE whose
 * immediate says whether more follows (REPORTING), it was the last
 * (TRACKING) or the tracker failed (ERROR).  Without a posted WQE the
 * step polls until one comes or the RNR wait runs out.  Pages dirtied
 * behind the cursor wait for the next report; none is lost, except by a
 * failure, after which the tracker is useless anyway.
 *
 * A failure the driver can be told through a CQE is told so; one where
 * no CQE can be written (no WQE came, the CQ is full, the host QP went)
 * is told by an OBJECT_CHANGE event, as every failure outside a report.
 */
#include "track.h"

#define MODEL_ENTRY_SIZE	MLX5_ST_SZ_BYTES(page_track_report_entry)

/* trk_lock held: the tracker is in ERROR from now on; tell the driver. */
void model_tracker_fail(struct model_tracker *trk)
{
	trk->state = MLX5_PAGE_TRACK_STATE_ERROR;
	model_eq_object_change(trk->pf, MLX5_OBJ_TYPE_PAGE_TRACK, trk->id);
}

/* The host QP the tracker's QP is connected to, if it is still there. */
static struct model_qp *model_report_host(struct model_tracker *trk)
{
	struct model_qp *host = model_qp_get(trk->pf, trk->fwqp->remote_qpn);

	if (!host || host->zero_rq || host->state != MLX5_QP_STATE_RTR ||
	    host->remote_qpn != trk->fwqp->qpn)
		return NULL;
	return host;
}

/* Fills the message buffer; returns its bytes and whether it is the last. */
static size_t model_report_fill(struct model_tracker *trk, bool *last)
{
	size_t max = BIT(trk->msg_shift) / MODEL_ENTRY_SIZE;
	size_t n = 0;
	u64 page;

	while (n < max) {
		void *e = trk->msg + n * MODEL_ENTRY_SIZE;
		u64 addr;

		page = model_dirty_take(trk, trk->cursor, trk->end, true);
		if (page == trk->end)
			break;
		addr = page << trk->page_shift;
		MLX5_SET(page_track_report_entry, e, dirty_address_high,
			 upper_32_bits(addr));
		MLX5_SET(page_track_report_entry, e, dirty_address_low,
			 lower_32_bits(addr));
		trk->cursor = page + 1;
		n++;
	}
	*last = model_dirty_take(trk, trk->cursor, trk->end, false) ==
		trk->end;
	if (*last)
		trk->cursor = trk->end;
	return n * MODEL_ENTRY_SIZE;
}

/* Writes the message into the WQE's buffer; an MLX5_CMD_STAT_*. */
static u8 model_report_deliver(struct model_tracker *trk,
			       struct model_qp *host, size_t bytes)
{
	struct mlx5_wqe_data_seg *wqe;
	u32 slot = host->consumed & (BIT(host->log_nwqe) - 1);
	u32 room, lkey;
	u64 addr;

	wqe = model_qbuf_at(&host->rq, slot * MODEL_WQE_SIZE);
	room = be32_to_cpu(READ_ONCE(wqe->byte_count));
	lkey = be32_to_cpu(READ_ONCE(wqe->lkey));
	addr = be64_to_cpu(READ_ONCE(wqe->addr));
	if (room < bytes)
		return MLX5_CMD_STAT_BAD_SIZE_OUTS_CQES_ERR;
	return model_mkey_copy(trk->pf, lkey, addr, room, trk->msg, 0, bytes,
			       true);
}

/* Completes the WQE just consumed with state @state and @bytes. */
static void model_report_complete(struct model_tracker *trk,
				  struct model_qp *host, u8 state, u32 bytes)
{
	/* The CQ had room: model_report_step() checked it. */
	model_cq_write(host->rcq, MLX5_CQE_RESP_SEND_IMM, host->qpn, bytes,
		       host->consumed, (u32)state << 28);
	host->consumed++;
}

/* WQEs posted and not yet consumed. */
static u16 model_report_posted(struct model_qp *host)
{
	u16 head = be32_to_cpu(READ_ONCE(host->dbr[MLX5_RCV_DBR])) & 0xffff;

	return head - host->consumed;
}

/* A fault armed through debugfs goes to the first report to run. */
static void model_report_take_inject(struct model_tracker *trk)
{
	struct model_pf *pf = trk->pf;

	if (trk->fail_after >= 0)
		return;
	spin_lock_bh(&pf->inject_lock);
	trk->fail_after = pf->inject.track_fail_after;
	pf->inject.track_fail_after = -1;
	spin_unlock_bh(&pf->inject_lock);
}

/*
 * Waits for a posted WQE: true if there is one; otherwise *@delay says
 * when to look again, or the tracker failed and *@delay is negative.
 */
static bool model_report_wait(struct model_tracker *trk,
			      struct model_qp *host, long *delay)
{
	if (model_report_posted(host)) {
		trk->waiting = false;
		return true;
	}
	if (!trk->waiting) {
		trk->waiting = true;
		trk->deadline = jiffies + msecs_to_jiffies(MODEL_RNR_WAIT_MS);
	}
	if (time_after(jiffies, trk->deadline)) {
		model_tracker_fail(trk);
		*delay = -1;
	} else {
		*delay = 1;
	}
	return false;
}

/* One message of the report; returns when to run again, < 0 never. */
static long model_report_step(struct model_tracker *trk)
{
	struct model_qp *host = model_report_host(trk);
	size_t bytes;
	long delay;
	bool last;

	if (!host || model_cq_full(host->rcq)) {
		model_tracker_fail(trk);
		return -1;
	}
	if (!model_report_wait(trk, host, &delay))
		return delay;
	/* The WQE's contents are read only after its doorbell. */
	dma_rmb();
	model_report_take_inject(trk);
	if (trk->fail_after == 0) {
		trk->fail_after = -1;
		goto fail;
	}
	bytes = model_report_fill(trk, &last);
	if (model_report_deliver(trk, host, bytes))
		goto fail;
	if (trk->fail_after > 0)
		trk->fail_after--;
	if (last) {
		trk->state = MLX5_PAGE_TRACK_STATE_TRACKING;
		model_report_complete(trk, host, trk->state, bytes);
		return -1;
	}
	model_report_complete(trk, host, MLX5_PAGE_TRACK_STATE_REPORTING,
			      bytes);
	return 0;

fail:
	trk->state = MLX5_PAGE_TRACK_STATE_ERROR;
	model_report_complete(trk, host, trk->state, 0);
	return -1;
}

void model_report_work(struct work_struct *work)
{
	struct model_tracker *trk = container_of(to_delayed_work(work),
						 struct model_tracker, work);
	struct model_pf *pf = trk->pf;
	long delay;

	mutex_lock(&pf->trk_lock);
	if (trk->dead || trk->state != MLX5_PAGE_TRACK_STATE_REPORTING)
		goto out;
	delay = model_report_step(trk);
	if (delay >= 0)
		queue_delayed_work(pf->wq, &trk->work, delay);
out:
	mutex_unlock(&pf->trk_lock);
}
