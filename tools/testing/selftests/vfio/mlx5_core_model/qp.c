// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h, track.h): queue pairs.
 *
 * Only what page tracking uses: RC QPs without a send queue, either with
 * a regular receive queue of 16-byte WQEs (one data segment each) or a
 * zero-length one, taken from RST through INIT and RTR to RTS.  A state
 * arc from any other state is refused with BAD_QP_STATE.
 */
#include <linux/slab.h>

#include "track.h"

struct model_qp *model_qp_get(struct model_pf *pf, u32 qpn)
{
	lockdep_assert_held(&pf->trk_lock);
	return xa_load(&pf->qps, qpn);
}

/* The regular receive queue: its size, buffer and doorbell record. */
static u8 model_qp_parse_rq(struct model_pf *pf, const void *in, int inlen,
			    struct model_qp *qp)
{
	const void *qpc = MLX5_ADDR_OF(create_qp_in, in, qpc);
	unsigned int shift = MLX5_GET(qpc, qpc, log_page_size) +
			     MLX5_ADAPTER_PAGE_SHIFT;
	unsigned int npages;

	qp->log_nwqe = MLX5_GET(qpc, qpc, log_rq_size);
	if (qp->log_nwqe > MODEL_LOG_MAX_RQ || shift > 30 ||
	    MLX5_GET(qpc, qpc, log_rq_stride) != 0 ||
	    !model_uar_exists(pf, MLX5_GET(qpc, qpc, uar_page)))
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	npages = DIV_ROUND_UP(MODEL_WQE_SIZE << qp->log_nwqe, 1UL << shift);
	if (inlen < MLX5_ST_SZ_BYTES(create_qp_in) + npages * sizeof(u64))
		return MLX5_CMD_STAT_BAD_INP_LEN_ERR;
	qp->dbr_dma = MLX5_GET64(qpc, qpc, dbr_addr);
	qp->dbr = model_dma_hold(pf, qp->dbr_dma, 2 * sizeof(__be32));
	if (!qp->dbr)
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	if (model_qbuf_map(pf, &qp->rq, MLX5_ADDR_OF(create_qp_in, in, pas),
			   npages, shift)) {
		model_dma_put(pf, qp->dbr_dma);
		qp->dbr = NULL;
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	}
	return MLX5_CMD_STAT_OK;
}

/* trk_lock held: the QP context of CREATE_QP. */
static u8 model_qp_parse(struct model_pf *pf, const void *in, int inlen,
			 struct model_qp *qp)
{
	const void *qpc = MLX5_ADDR_OF(create_qp_in, in, qpc);
	u8 rq_type = MLX5_GET(qpc, qpc, rq_type);

	if (MLX5_GET(qpc, qpc, st) != MLX5_QPC_ST_RC ||
	    MLX5_GET(qpc, qpc, pm_state) != MLX5_QPC_PM_STATE_MIGRATED ||
	    !MLX5_GET(qpc, qpc, no_sq) ||
	    !model_pd_valid(pf, MLX5_GET(qpc, qpc, pd)))
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	qp->scq = model_cq_get(pf, MLX5_GET(qpc, qpc, cqn_snd));
	qp->rcq = model_cq_get(pf, MLX5_GET(qpc, qpc, cqn_rcv));
	if (!qp->scq || !qp->rcq)
		return MLX5_CMD_STAT_BAD_RES_ERR;
	if (rq_type == MLX5_ZERO_LEN_RQ) {
		qp->zero_rq = true;
		return MLX5_CMD_STAT_OK;
	}
	if (rq_type != MLX5_NON_ZERO_RQ)
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	return model_qp_parse_rq(pf, in, inlen, qp);
}

static void model_qp_unmap(struct model_pf *pf, struct model_qp *qp)
{
	if (!qp->dbr)
		return;
	model_qbuf_unmap(pf, &qp->rq);
	model_dma_put(pf, qp->dbr_dma);
}

u8 model_cmd_create_qp(struct model_pf *pf, const void *in, int inlen,
		       void *out)
{
	struct model_qp *qp;
	u32 qpn;
	u8 st;

	qp = kzalloc(sizeof(*qp), GFP_KERNEL);
	if (!qp)
		return MLX5_CMD_STAT_NO_RES_ERR;
	qp->state = MLX5_QP_STATE_RST;
	mutex_lock(&pf->trk_lock);
	st = model_qp_parse(pf, in, inlen, qp);
	if (st)
		goto err;
	if (xa_alloc(&pf->qps, &qpn, qp, XA_LIMIT(1, MODEL_RES_MAX),
		     GFP_KERNEL)) {
		st = MLX5_CMD_STAT_NO_RES_ERR;
		goto err_map;
	}
	qp->qpn = qpn;
	qp->scq->users++;
	qp->rcq->users++;
	mutex_unlock(&pf->trk_lock);
	MLX5_SET(create_qp_out, out, qpn, qpn);
	return MLX5_CMD_STAT_OK;

err_map:
	model_qp_unmap(pf, qp);
err:
	mutex_unlock(&pf->trk_lock);
	kfree(qp);
	return st;
}

/* trk_lock held. */
static void model_qp_free(struct model_pf *pf, struct model_qp *qp)
{
	xa_erase(&pf->qps, qp->qpn);
	qp->scq->users--;
	qp->rcq->users--;
	model_qp_unmap(pf, qp);
	kfree(qp);
}

u8 model_cmd_destroy_qp(struct model_pf *pf, const void *in)
{
	struct model_qp *qp;
	u8 st = MLX5_CMD_STAT_OK;

	mutex_lock(&pf->trk_lock);
	qp = xa_load(&pf->qps, MLX5_GET(destroy_qp_in, in, qpn));
	if (!qp)
		st = MLX5_CMD_STAT_BAD_RES_ERR;
	else if (qp->users)
		st = MLX5_CMD_STAT_BAD_RES_STATE_ERR;
	else
		model_qp_free(pf, qp);
	mutex_unlock(&pf->trk_lock);
	return st;
}

/* What each arc takes from its QP context; trk_lock held. */
static u8 model_qp_arc_apply(struct model_qp *qp, u16 opcode,
			     const void *qpc)
{
	switch (opcode) {
	case MLX5_CMD_OP_RST2INIT_QP:
		if (MLX5_GET(qpc, qpc, primary_address_path.vhca_port_num) != 1)
			return MLX5_CMD_STAT_BAD_PARAM_ERR;
		break;
	case MLX5_CMD_OP_INIT2RTR_QP:
		if (MLX5_GET(qpc, qpc, mtu) != MLX5_QPC_MTU_4K_BYTES)
			return MLX5_CMD_STAT_BAD_PARAM_ERR;
		qp->remote_qpn = MLX5_GET(qpc, qpc, remote_qpn);
		qp->log_msg_max = MLX5_GET(qpc, qpc, log_msg_max);
		break;
	}
	return MLX5_CMD_STAT_OK;
}

/* RST2INIT, INIT2RTR and RTR2RTS: the three share one layout. */
u8 model_cmd_qp_arc(struct model_pf *pf, u16 opcode, const void *in)
{
	const void *qpc = MLX5_ADDR_OF(rst2init_qp_in, in, qpc);
	u8 from = opcode - MLX5_CMD_OP_RST2INIT_QP;
	struct model_qp *qp;
	u8 st;

	/* RST2INIT is RST (0) -> INIT (1), and so on: the opcodes are too. */
	BUILD_BUG_ON(MLX5_CMD_OP_RTR2RTS_QP - MLX5_CMD_OP_RST2INIT_QP !=
		     MLX5_QP_STATE_RTR - MLX5_QP_STATE_RST);
	mutex_lock(&pf->trk_lock);
	qp = xa_load(&pf->qps, MLX5_GET(rst2init_qp_in, in, qpn));
	if (!qp) {
		st = MLX5_CMD_STAT_BAD_RES_ERR;
	} else if (qp->state != from) {
		st = MLX5_CMD_STAT_BAD_QP_STATE_ERR;
	} else {
		st = model_qp_arc_apply(qp, opcode, qpc);
		if (!st)
			qp->state = from + 1;
	}
	mutex_unlock(&pf->trk_lock);
	return st;
}

/* Unbind: the QPs the PF's user left (their trackers are gone already). */
void model_qps_destroy(struct model_pf *pf)
{
	struct model_qp *qp;
	unsigned long qpn;

	mutex_lock(&pf->trk_lock);
	xa_for_each(&pf->qps, qpn, qp)
		model_qp_free(pf, qp);
	mutex_unlock(&pf->trk_lock);
}

unsigned int model_qp_count(struct model_pf *pf)
{
	struct model_qp *qp;
	unsigned long qpn;
	unsigned int n = 0;

	xa_for_each(&pf->qps, qpn, qp)
		n++;
	return n;
}
