// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h): the command interface.
 *
 * A command is its mlx5_ifc input layout; the model answers in the output
 * layout with a status and a syndrome as the firmware does, and the
 * caller gets the errno mlx5_core derives from the status.  Unknown
 * opcodes are BAD_OP, short buffers BAD_INP_LEN/BAD_OUTP_LEN, a vhca_id
 * that names no existing VF BAD_PARAM.  Async commands run on the PF's
 * workqueue and call back with bottom halves disabled: callers must not
 * sleep there, and a debug kernel says so if they do.
 */
#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/slab.h>

#include "model.h"

/* A syndrome says which command of the model failed: "M5" and opcode. */
#define MODEL_SYNDROME(op)	(0x4d350000 | (op))

int model_status_to_errno(u8 status)
{
	switch (status) {
	case MLX5_CMD_STAT_OK:
		return 0;
	case MLX5_CMD_STAT_BAD_OP_ERR:
	case MLX5_CMD_STAT_BAD_PARAM_ERR:
	case MLX5_CMD_STAT_BAD_RES_ERR:
	case MLX5_CMD_STAT_BAD_RES_STATE_ERR:
	case MLX5_CMD_STAT_IX_ERR:
	case MLX5_CMD_STAT_BAD_QP_STATE_ERR:
	case MLX5_CMD_STAT_BAD_PKT_ERR:
	case MLX5_CMD_STAT_BAD_SIZE_OUTS_CQES_ERR:
		return -EINVAL;
	case MLX5_CMD_STAT_RES_BUSY:
		return -EBUSY;
	case MLX5_CMD_STAT_LIM_ERR:
		return -ENOMEM;
	case MLX5_CMD_STAT_NO_RES_ERR:
		return -EAGAIN;
	default:	/* INT_ERR, BAD_SYS_STATE, NOT_READY, lengths */
		return -EIO;
	}
}

static u16 model_opcode(const void *in)
{
	return MLX5_GET(general_obj_in_cmd_hdr, in, opcode);
}

static u16 model_op_mod(const void *in)
{
	return MLX5_GET(suspend_vhca_in, in, op_mod);
}

/* The VF a migration command names, or NULL. */
static struct model_vf *model_vf_by_vhca(struct model_pf *pf, u16 vhca_id)
{
	if (vhca_id < 1 || vhca_id > pf->total_vfs)
		return NULL;
	return &pf->vfs[vhca_id - 1];
}

/* General capabilities of vport 0 (the PF) or @vport - 1 (a VF). */
static u8 model_fill_caps(struct model_pf *pf, u16 vport, u16 type,
			  void *out)
{
	void *cap = MLX5_ADDR_OF(query_hca_cap_out, out, capability);
	struct model_vf *vf = vport ? model_vf_by_vhca(pf, vport) : NULL;
	bool exists = !vport;

	if (vf) {
		model_vhca_lock(vf);
		exists = vf->enabled;
		mutex_unlock(&vf->lock);
	}
	if (!exists)
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	switch (type) {
	case MLX5_CAP_GENERAL:
		memcpy(cap, pf->mdev.caps.hca[MLX5_CAP_GENERAL]->cur,
		       MLX5_UN_SZ_BYTES(hca_cap_union));
		MLX5_SET(cmd_hca_cap, cap, vhca_id, vport);
		return MLX5_CMD_STAT_OK;
	case MLX5_CAP_GENERAL_2:
		memcpy(cap, pf->mdev.caps.hca[MLX5_CAP_GENERAL_2]->cur,
		       MLX5_UN_SZ_BYTES(hca_cap_union));
		return MLX5_CMD_STAT_OK;
	}
	return MLX5_CMD_STAT_BAD_PARAM_ERR;
}

static u8 model_query_hca_cap(struct model_pf *pf, const void *in, void *out)
{
	u16 vport = 0;

	if (MLX5_GET(query_hca_cap_in, in, other_function))
		vport = MLX5_GET(query_hca_cap_in, in, function_id);
	return model_fill_caps(pf, vport, model_op_mod(in) >> 1, out);
}

/* A migration command on the VHCA it names, with the VF locked. */
static u8 model_vhca_cmd(struct model_pf *pf, u16 opcode, const void *in,
			 void *out)
{
	struct model_vf *vf;
	u8 st;

	vf = model_vf_by_vhca(pf, MLX5_GET(suspend_vhca_in, in, vhca_id));
	if (!vf)
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	model_vhca_lock(vf);
	if (!vf->enabled) {
		st = MLX5_CMD_STAT_BAD_PARAM_ERR;
		goto out;
	}
	switch (opcode) {
	case MLX5_CMD_OP_SUSPEND_VHCA:
		vf->counters[MODEL_CNT_SUSPEND]++;
		st = model_vhca_suspend(vf, model_op_mod(in));
		break;
	case MLX5_CMD_OP_RESUME_VHCA:
		vf->counters[MODEL_CNT_RESUME]++;
		st = model_vhca_resume(vf, model_op_mod(in));
		break;
	case MLX5_CMD_OP_QUERY_VHCA_MIGRATION_STATE:
		vf->counters[MODEL_CNT_QUERY]++;
		st = model_image_query(vf, in, out);
		break;
	case MLX5_CMD_OP_SAVE_VHCA_STATE:
		vf->counters[MODEL_CNT_SAVE]++;
		st = model_image_save(vf, in, out);
		break;
	default:
		vf->counters[MODEL_CNT_LOAD]++;
		st = model_image_load(vf, in);
		break;
	}
	if (st)
		vf->counters[MODEL_CNT_FAILED]++;
out:
	mutex_unlock(&vf->lock);
	return st;
}

/* Input and output sizes every command needs at least. */
struct model_cmd_size {
	u16 opcode;
	u16 in;
	u16 out;
};

#define MODEL_CMD(op, name) \
	{ op, MLX5_ST_SZ_BYTES(name##_in), MLX5_ST_SZ_BYTES(name##_out) }
/* General objects: the header here, each type's layout where it is used. */
#define MODEL_OBJ_CMD(op) \
	{ op, MLX5_ST_SZ_BYTES(general_obj_in_cmd_hdr), \
	  MLX5_ST_SZ_BYTES(general_obj_out_cmd_hdr) }

static const struct model_cmd_size model_cmds[] = {
	MODEL_CMD(MLX5_CMD_OP_QUERY_HCA_CAP, query_hca_cap),
	MODEL_CMD(MLX5_CMD_OP_SUSPEND_VHCA, suspend_vhca),
	MODEL_CMD(MLX5_CMD_OP_RESUME_VHCA, resume_vhca),
	MODEL_CMD(MLX5_CMD_OP_QUERY_VHCA_MIGRATION_STATE,
		  query_vhca_migration_state),
	MODEL_CMD(MLX5_CMD_OP_SAVE_VHCA_STATE, save_vhca_state),
	MODEL_CMD(MLX5_CMD_OP_LOAD_VHCA_STATE, load_vhca_state),
	MODEL_CMD(MLX5_CMD_OP_CREATE_MKEY, create_mkey),
	MODEL_CMD(MLX5_CMD_OP_DESTROY_MKEY, destroy_mkey),
	MODEL_CMD(MLX5_CMD_OP_ALLOC_PD, alloc_pd),
	MODEL_CMD(MLX5_CMD_OP_DEALLOC_PD, dealloc_pd),
	MODEL_CMD(MLX5_CMD_OP_CREATE_CQ, create_cq),
	MODEL_CMD(MLX5_CMD_OP_DESTROY_CQ, destroy_cq),
	MODEL_CMD(MLX5_CMD_OP_CREATE_QP, create_qp),
	MODEL_CMD(MLX5_CMD_OP_DESTROY_QP, destroy_qp),
	MODEL_CMD(MLX5_CMD_OP_RST2INIT_QP, rst2init_qp),
	MODEL_CMD(MLX5_CMD_OP_INIT2RTR_QP, init2rtr_qp),
	MODEL_CMD(MLX5_CMD_OP_RTR2RTS_QP, rtr2rts_qp),
	MODEL_OBJ_CMD(MLX5_CMD_OP_CREATE_GENERAL_OBJECT),
	MODEL_OBJ_CMD(MLX5_CMD_OP_MODIFY_GENERAL_OBJECT),
	MODEL_OBJ_CMD(MLX5_CMD_OP_QUERY_GENERAL_OBJECT),
	MODEL_OBJ_CMD(MLX5_CMD_OP_DESTROY_GENERAL_OBJECT),
};

static u8 model_check_sizes(u16 opcode, int in_size, int out_size)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(model_cmds); i++) {
		if (model_cmds[i].opcode != opcode)
			continue;
		if (in_size < model_cmds[i].in)
			return MLX5_CMD_STAT_BAD_INP_LEN_ERR;
		if (out_size < model_cmds[i].out)
			return MLX5_CMD_STAT_BAD_OUTP_LEN_ERR;
		return MLX5_CMD_STAT_OK;
	}
	return MLX5_CMD_STAT_BAD_OP_ERR;
}

/* Page tracking's commands, or BAD_OP. */
static u8 model_track_dispatch(struct model_pf *pf, u16 opcode,
			       const void *in, int in_size, void *out,
			       int out_size, struct mlx5_core_cq *cq)
{
	switch (opcode) {
	case MLX5_CMD_OP_CREATE_CQ:
		return model_cmd_create_cq(pf, in, in_size, out, cq);
	case MLX5_CMD_OP_DESTROY_CQ:
		return model_cmd_destroy_cq(pf, in);
	case MLX5_CMD_OP_CREATE_QP:
		return model_cmd_create_qp(pf, in, in_size, out);
	case MLX5_CMD_OP_DESTROY_QP:
		return model_cmd_destroy_qp(pf, in);
	case MLX5_CMD_OP_RST2INIT_QP:
	case MLX5_CMD_OP_INIT2RTR_QP:
	case MLX5_CMD_OP_RTR2RTS_QP:
		return model_cmd_qp_arc(pf, opcode, in);
	case MLX5_CMD_OP_CREATE_GENERAL_OBJECT:
	case MLX5_CMD_OP_MODIFY_GENERAL_OBJECT:
	case MLX5_CMD_OP_QUERY_GENERAL_OBJECT:
	case MLX5_CMD_OP_DESTROY_GENERAL_OBJECT:
		return model_cmd_general_obj(pf, opcode, in, in_size, out,
					     out_size);
	}
	return MLX5_CMD_STAT_BAD_OP_ERR;
}

/*
 * @cq is the CQ mlx5_core_create_cq() creates (its completion events go
 * there), NULL for every other command.
 */
static u8 model_dispatch(struct model_pf *pf, u16 opcode, const void *in,
			 int in_size, void *out, int out_size,
			 struct mlx5_core_cq *cq)
{
	switch (opcode) {
	case MLX5_CMD_OP_QUERY_HCA_CAP:
		return model_query_hca_cap(pf, in, out);
	case MLX5_CMD_OP_CREATE_MKEY:
		return model_cmd_create_mkey(pf, in, in_size, out);
	case MLX5_CMD_OP_DESTROY_MKEY:
		return model_cmd_destroy_mkey(pf, in);
	case MLX5_CMD_OP_ALLOC_PD:
		return model_cmd_alloc_pd(pf, out);
	case MLX5_CMD_OP_DEALLOC_PD:
		return model_cmd_dealloc_pd(pf, in);
	case MLX5_CMD_OP_SUSPEND_VHCA:
	case MLX5_CMD_OP_RESUME_VHCA:
	case MLX5_CMD_OP_QUERY_VHCA_MIGRATION_STATE:
	case MLX5_CMD_OP_SAVE_VHCA_STATE:
	case MLX5_CMD_OP_LOAD_VHCA_STATE:
		return model_vhca_cmd(pf, opcode, in, out);
	}
	return model_track_dispatch(pf, opcode, in, in_size, out, out_size,
				    cq);
}

/* A fault armed through debugfs for @opcode: its status, or OK. */
static u8 model_injected_failure(struct model_pf *pf, u16 opcode)
{
	u8 st = MLX5_CMD_STAT_OK;

	spin_lock_bh(&pf->inject_lock);
	if (pf->inject.fail_opcode == opcode) {
		st = pf->inject.fail_status;
		pf->inject.fail_opcode = -1;
	}
	spin_unlock_bh(&pf->inject_lock);
	return st;
}

static bool model_injected_hang(struct model_pf *pf, u16 opcode)
{
	bool hang = false;

	spin_lock_bh(&pf->inject_lock);
	if (pf->inject.hang_opcode == opcode) {
		hang = true;
		pf->inject.hang_opcode = -1;
	}
	spin_unlock_bh(&pf->inject_lock);
	return hang;
}

int model_cmd_run(struct mlx5_core_dev *mdev, void *in, int in_size,
		  void *out, int out_size, struct mlx5_core_cq *cq)
{
	struct model_pf *pf = model_pf_of(mdev);
	u16 opcode;
	u8 st;

	/* Too short to even hold a status: what the firmware cannot answer. */
	if (in_size < MLX5_ST_SZ_BYTES(alloc_pd_in) ||
	    out_size < MLX5_ST_SZ_BYTES(alloc_pd_out))
		return -EINVAL;
	opcode = model_opcode(in);
	if (model_injected_hang(pf, opcode)) {
		msleep(READ_ONCE(model_cmd_timeout_ms));
		return -ETIMEDOUT;
	}
	memset(out, 0, out_size);
	st = model_check_sizes(opcode, in_size, out_size);
	if (!st)
		st = model_injected_failure(pf, opcode);
	if (!st)
		st = model_dispatch(pf, opcode, in, in_size, out, out_size,
				    cq);
	if (st) {
		memset(out, 0, out_size);
		MLX5_SET(alloc_pd_out, out, status, st);
		MLX5_SET(alloc_pd_out, out, syndrome, MODEL_SYNDROME(opcode));
	}
	return model_status_to_errno(st);
}

int model_cmd_exec(struct mlx5_core_dev *mdev, void *in, int in_size,
		   void *out, int out_size)
{
	return model_cmd_run(mdev, in, in_size, out, out_size, NULL);
}

int model_other_func_cap(struct mlx5_core_dev *mdev, u16 vport, void *out,
			 u16 opmod)
{
	u32 in[MLX5_ST_SZ_DW(query_hca_cap_in)] = {};

	MLX5_SET(query_hca_cap_in, in, opcode, MLX5_CMD_OP_QUERY_HCA_CAP);
	/* @opmod is the capability type, as mlx5_core takes it. */
	MLX5_SET(query_hca_cap_in, in, op_mod,
		 (opmod << 1) | HCA_CAP_OPMOD_GET_CUR);
	MLX5_SET(query_hca_cap_in, in, other_function, 1);
	MLX5_SET(query_hca_cap_in, in, function_id, vport);
	return model_cmd_exec(mdev, in, sizeof(in), out,
			      MLX5_ST_SZ_BYTES(query_hca_cap_out));
}

int model_alloc_pd(struct mlx5_core_dev *mdev, u32 *pdn)
{
	u32 out[MLX5_ST_SZ_DW(alloc_pd_out)] = {};
	u32 in[MLX5_ST_SZ_DW(alloc_pd_in)] = {};
	int ret;

	MLX5_SET(alloc_pd_in, in, opcode, MLX5_CMD_OP_ALLOC_PD);
	ret = model_cmd_exec(mdev, in, sizeof(in), out, sizeof(out));
	if (!ret)
		*pdn = MLX5_GET(alloc_pd_out, out, pd);
	return ret;
}

int model_dealloc_pd(struct mlx5_core_dev *mdev, u32 pdn)
{
	u32 out[MLX5_ST_SZ_DW(dealloc_pd_out)] = {};
	u32 in[MLX5_ST_SZ_DW(dealloc_pd_in)] = {};

	MLX5_SET(dealloc_pd_in, in, opcode, MLX5_CMD_OP_DEALLOC_PD);
	MLX5_SET(dealloc_pd_in, in, pd, pdn);
	return model_cmd_exec(mdev, in, sizeof(in), out, sizeof(out));
}

int model_create_mkey(struct mlx5_core_dev *mdev, u32 *mkey, u32 *in,
		      int inlen)
{
	u32 out[MLX5_ST_SZ_DW(create_mkey_out)] = {};
	void *mkc = MLX5_ADDR_OF(create_mkey_in, in, memory_key_mkey_entry);
	int ret;

	MLX5_SET(create_mkey_in, in, opcode, MLX5_CMD_OP_CREATE_MKEY);
	ret = model_cmd_exec(mdev, in, inlen, out, sizeof(out));
	if (!ret)
		*mkey = mlx5_idx_to_mkey(MLX5_GET(create_mkey_out, out,
						  mkey_index)) |
			MLX5_GET(mkc, mkc, mkey_7_0);
	return ret;
}

int model_destroy_mkey(struct mlx5_core_dev *mdev, u32 mkey)
{
	u32 out[MLX5_ST_SZ_DW(destroy_mkey_out)] = {};
	u32 in[MLX5_ST_SZ_DW(destroy_mkey_in)] = {};

	MLX5_SET(destroy_mkey_in, in, opcode, MLX5_CMD_OP_DESTROY_MKEY);
	MLX5_SET(destroy_mkey_in, in, mkey_index, mlx5_mkey_to_idx(mkey));
	return model_cmd_exec(mdev, in, sizeof(in), out, sizeof(out));
}

/* An async command: a copy of its input, run from the PF's workqueue. */
struct model_async {
	struct work_struct work;
	struct model_pf *pf;
	struct mlx5_async_work *aw;
	void *out;
	int out_size;
	int in_size;
	u8 in[] __counted_by(in_size);
};

/*
 * num_inflight counts the commands in flight plus one for the context
 * itself, dropped by cleanup; whoever drops it to zero completes
 * inflight_done.
 */
void model_async_ctx_init(struct mlx5_core_dev *mdev,
			  struct mlx5_async_ctx *ctx)
{
	ctx->dev = mdev;
	atomic_set(&ctx->num_inflight, 1);
	init_completion(&ctx->inflight_done);
}

void model_async_ctx_cleanup(struct mlx5_async_ctx *ctx)
{
	if (!atomic_dec_and_test(&ctx->num_inflight))
		wait_for_completion(&ctx->inflight_done);
}

static void model_async_run(struct work_struct *work)
{
	struct model_async *a = container_of(work, struct model_async, work);
	struct mlx5_async_work *aw = a->aw;
	struct mlx5_async_ctx *ctx = aw->ctx;
	unsigned int delay = READ_ONCE(model_async_delay_ms);
	int ret;

	if (delay)
		msleep(delay);
	ret = model_cmd_exec(&a->pf->mdev, a->in, a->in_size, a->out,
			     a->out_size);
	/* A real completion arrives in interrupt context. */
	local_bh_disable();
	aw->user_callback(ret, aw);
	local_bh_enable();
	/* The callback may have freed aw: only ctx from here on. */
	if (atomic_dec_and_test(&ctx->num_inflight))
		complete(&ctx->inflight_done);
	kfree(a);
}

int model_cmd_exec_cb(struct mlx5_async_ctx *ctx, void *in, int in_size,
		      void *out, int out_size,
		      void (*callback)(int status, struct mlx5_async_work *w),
		      struct mlx5_async_work *work)
{
	struct model_pf *pf = model_pf_of(ctx->dev);
	struct model_async *a;

	if (in_size < MLX5_ST_SZ_BYTES(alloc_pd_in))
		return -EINVAL;
	/* A context being cleaned up takes no more commands. */
	if (!atomic_inc_not_zero(&ctx->num_inflight))
		return -EIO;
	/* mlx5_core queues async commands without sleeping: so does this. */
	a = kmalloc(struct_size(a, in, in_size), GFP_ATOMIC);
	if (!a) {
		if (atomic_dec_and_test(&ctx->num_inflight))
			complete(&ctx->inflight_done);
		return -ENOMEM;
	}
	a->in_size = in_size;
	memcpy(a->in, in, in_size);
	a->pf = pf;
	a->aw = work;
	a->out = out;
	a->out_size = out_size;
	work->ctx = ctx;
	work->user_callback = callback;
	work->opcode = model_opcode(in);
	work->op_mod = model_op_mod(in);
	work->out = out;
	INIT_WORK(&a->work, model_async_run);
	queue_work(pf->wq, &a->work);
	return 0;
}
