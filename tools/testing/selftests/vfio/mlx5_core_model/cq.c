// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h, track.h): completion queues.
 *
 * The device writes CQE number pi at slot pi mod size, every field first
 * and op_own last, with the owner bit flipping on every lap.  It raises a
 * completion event when the arm word in the doorbell record (written by
 * mlx5_cq_arm()) carries the sequence number of the next event and a CQE
 * at or past its consumer index exists; the event increments the CQ's
 * arm_sn and calls its comp handler from hard-IRQ context (irq_work).
 * Nothing sees the UAR doorbell, so an arm request is noticed when a CQE
 * is written, and by polling while written CQEs wait for one.
 */
#include <linux/slab.h>

#include "track.h"

/* Is CQE @pi at or past @ci, both 24-bit counters? */
static bool model_cq_after(u32 pi, u32 ci)
{
	u32 d = (pi - ci) & 0xffffff;

	return d && d < 0x800000;
}

static void model_cq_irq(struct irq_work *w)
{
	struct model_cq *cq = container_of(w, struct model_cq, irq);
	int n = atomic_xchg(&cq->to_fire, 0);
	struct mlx5_eqe eqe = {};

	eqe.type = MLX5_EVENT_TYPE_COMP;
	while (n--) {
		cq->core->arm_sn++;
		cq->core->comp(cq->core, &eqe);
	}
}

/* trk_lock held: raises the event an arm request asks for, if due. */
static void model_cq_check(struct model_cq *cq)
{
	u32 arm = be32_to_cpu(READ_ONCE(cq->dbr[1]));
	u32 ci = be32_to_cpu(READ_ONCE(cq->dbr[0])) & 0xffffff;

	if (((arm >> 28) & 3) == (cq->events & 3) &&
	    model_cq_after(cq->pi, arm & 0xffffff)) {
		cq->events++;
		if (cq->core) {
			atomic_inc(&cq->to_fire);
			irq_work_queue(&cq->irq);
		}
		return;
	}
	/* CQEs not consumed yet: an arm request may come for them. */
	if (model_cq_after(cq->pi & 0xffffff, ci))
		queue_delayed_work(cq->pf->wq, &cq->poll, 1);
}

static void model_cq_poll(struct work_struct *work)
{
	struct model_cq *cq = container_of(to_delayed_work(work),
					   struct model_cq, poll);
	struct model_pf *pf = cq->pf;

	mutex_lock(&pf->trk_lock);
	if (!cq->dead)
		model_cq_check(cq);
	mutex_unlock(&pf->trk_lock);
}

/* trk_lock held: no room for another CQE (software is a lap behind). */
bool model_cq_full(struct model_cq *cq)
{
	u32 ci = be32_to_cpu(READ_ONCE(cq->dbr[0])) & 0xffffff;

	return ((cq->pi - ci) & 0xffffff) >= BIT(cq->log_size);
}

/**
 * model_cq_write - write the next CQE of a receive completion
 * @cq: the CQ, trk_lock held
 * @opcode: MLX5_CQE_*
 * @qpn: the QP it completes on
 * @bytes: byte_cnt
 * @wqe_counter: the WQE it completes
 * @imm: immediate data
 *
 * Return: false if the CQ has no room (nothing written).
 */
bool model_cq_write(struct model_cq *cq, u8 opcode, u32 qpn, u32 bytes,
		    u16 wqe_counter, u32 imm)
{
	u32 slot = cq->pi & (BIT(cq->log_size) - 1);
	struct mlx5_cqe64 *cqe;

	if (model_cq_full(cq))
		return false;
	cqe = model_qbuf_at(&cq->buf, slot * MODEL_CQE_SIZE);
	memset(cqe, 0, offsetof(struct mlx5_cqe64, op_own));
	cqe->immediate = cpu_to_be32(imm);
	cqe->byte_cnt = cpu_to_be32(bytes);
	cqe->sop_drop_qpn = cpu_to_be32(qpn & 0xffffff);
	cqe->wqe_counter = cpu_to_be16(wqe_counter);
	/* Software reads the fields once it sees op_own: they go first. */
	dma_wmb();
	WRITE_ONCE(cqe->op_own,
		   opcode << 4 | ((cq->pi >> cq->log_size) & 1));
	cq->pi++;
	model_cq_check(cq);
	return true;
}

struct model_cq *model_cq_get(struct model_pf *pf, u32 cqn)
{
	lockdep_assert_held(&pf->trk_lock);
	return xa_load(&pf->cqs, cqn);
}

/* Checks CREATE_CQ's context and maps its buffer and doorbell record. */
static u8 model_cq_parse(struct model_pf *pf, const void *in, int inlen,
			 struct model_cq *cq)
{
	const void *cqc = MLX5_ADDR_OF(create_cq_in, in, cq_context);
	unsigned int shift = MLX5_GET(cqc, cqc, log_page_size) +
			     MLX5_ADAPTER_PAGE_SHIFT;
	unsigned int npages;

	cq->log_size = MLX5_GET(cqc, cqc, log_cq_size);
	if (cq->log_size > MODEL_LOG_MAX_CQ || shift > 30 ||
	    MLX5_GET(cqc, cqc, cqe_sz) != 0 ||
	    !model_uar_exists(pf, MLX5_GET(cqc, cqc, uar_page)) ||
	    !model_comp_eqn_valid(MLX5_GET(cqc, cqc, c_eqn_or_apu_element)))
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	npages = DIV_ROUND_UP(MODEL_CQE_SIZE << cq->log_size, 1UL << shift);
	if (inlen < MLX5_ST_SZ_BYTES(create_cq_in) + npages * sizeof(u64))
		return MLX5_CMD_STAT_BAD_INP_LEN_ERR;
	cq->dbr_dma = MLX5_GET64(cqc, cqc, dbr_addr);
	cq->dbr = model_dma_hold(pf, cq->dbr_dma, 2 * sizeof(__be32));
	if (!cq->dbr)
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	if (model_qbuf_map(pf, &cq->buf, MLX5_ADDR_OF(create_cq_in, in, pas),
			   npages, shift)) {
		model_dma_put(pf, cq->dbr_dma);
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	}
	return MLX5_CMD_STAT_OK;
}

u8 model_cmd_create_cq(struct model_pf *pf, const void *in, int inlen,
		       void *out, struct mlx5_core_cq *core)
{
	struct model_cq *cq;
	u32 cqn;
	u8 st;

	cq = kzalloc(sizeof(*cq), GFP_KERNEL);
	if (!cq)
		return MLX5_CMD_STAT_NO_RES_ERR;
	cq->pf = pf;
	cq->core = core;
	init_irq_work(&cq->irq, model_cq_irq);
	INIT_DELAYED_WORK(&cq->poll, model_cq_poll);
	mutex_lock(&pf->trk_lock);
	st = model_cq_parse(pf, in, inlen, cq);
	if (st)
		goto err;
	if (xa_alloc(&pf->cqs, &cqn, cq, XA_LIMIT(1, MODEL_RES_MAX),
		     GFP_KERNEL)) {
		st = MLX5_CMD_STAT_NO_RES_ERR;
		goto err_map;
	}
	cq->cqn = cqn;
	mutex_unlock(&pf->trk_lock);
	MLX5_SET(create_cq_out, out, cqn, cqn);
	return MLX5_CMD_STAT_OK;

err_map:
	model_qbuf_unmap(pf, &cq->buf);
	model_dma_put(pf, cq->dbr_dma);
err:
	mutex_unlock(&pf->trk_lock);
	kfree(cq);
	return st;
}

/* After this no event of @cq runs or will run. */
static void model_cq_free(struct model_pf *pf, struct model_cq *cq)
{
	cancel_delayed_work_sync(&cq->poll);
	irq_work_sync(&cq->irq);
	model_qbuf_unmap(pf, &cq->buf);
	model_dma_put(pf, cq->dbr_dma);
	kfree(cq);
}

u8 model_cmd_destroy_cq(struct model_pf *pf, const void *in)
{
	u32 cqn = MLX5_GET(destroy_cq_in, in, cqn);
	struct model_cq *cq;

	mutex_lock(&pf->trk_lock);
	cq = xa_load(&pf->cqs, cqn);
	if (!cq || cq->users) {
		mutex_unlock(&pf->trk_lock);
		return cq ? MLX5_CMD_STAT_BAD_RES_STATE_ERR :
			    MLX5_CMD_STAT_BAD_RES_ERR;
	}
	xa_erase(&pf->cqs, cqn);
	cq->dead = true;
	mutex_unlock(&pf->trk_lock);
	model_cq_free(pf, cq);
	return MLX5_CMD_STAT_OK;
}

/* Unbind: the CQs the PF's user left (their QPs are gone already). */
void model_cqs_destroy(struct model_pf *pf)
{
	struct model_cq *cq;
	unsigned long cqn;

	xa_for_each(&pf->cqs, cqn, cq) {
		mutex_lock(&pf->trk_lock);
		xa_erase(&pf->cqs, cqn);
		cq->dead = true;
		mutex_unlock(&pf->trk_lock);
		model_cq_free(pf, cq);
	}
}

unsigned int model_cq_count(struct model_pf *pf)
{
	struct model_cq *cq;
	unsigned long cqn;
	unsigned int n = 0;

	xa_for_each(&pf->cqs, cqn, cq)
		n++;
	return n;
}

/*
 * mlx5_core_create_cq(): the arm word starts with the sequence number
 * before the first event's, so that the CQ is not armed until software
 * arms it.
 */
int model_create_cq(struct mlx5_core_dev *mdev, struct mlx5_core_cq *cq,
		    u32 *in, int inlen, u32 *out, int outlen)
{
	int ret;

	MLX5_SET(create_cq_in, in, opcode, MLX5_CMD_OP_CREATE_CQ);
	cq->arm_sn = 0;
	cq->cons_index = 0;
	*cq->arm_db = cpu_to_be32(3 << 28);
	ret = model_cmd_run(mdev, in, inlen, out, outlen, cq);
	if (ret)
		return ret;
	cq->cqn = MLX5_GET(create_cq_out, out, cqn);
	return 0;
}

int model_destroy_cq(struct mlx5_core_dev *mdev, struct mlx5_core_cq *cq)
{
	u32 out[MLX5_ST_SZ_DW(destroy_cq_out)] = {};
	u32 in[MLX5_ST_SZ_DW(destroy_cq_in)] = {};

	MLX5_SET(destroy_cq_in, in, opcode, MLX5_CMD_OP_DESTROY_CQ);
	MLX5_SET(destroy_cq_in, in, cqn, cq->cqn);
	return model_cmd_exec(mdev, in, sizeof(in), out, sizeof(out));
}
