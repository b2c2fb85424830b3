// SPDX-License-Identifier: GPL-2.0-only
/*
 * The firmware side of DMA dirty-page tracking: the PF's page tracker
 * object for one VF and the queues its reports arrive on.
 *
 * The firmware records the pages the VF writes by DMA in a PAGE_TRACK
 * object.  Asked for a report, it sends the addresses of the dirty pages
 * as messages from a queue pair of its own (the "firmware QP") to one of
 * ours (the "host QP"), which receives them in buffers we post and
 * announces each on a completion queue.  Everything is created on the
 * PF's mlx5_core device and torn down in the reverse order.
 *
 * Message reception, in our words: the host QP's receive queue has
 * MLX5VF_TRK_NWQE work entries, entry i always pointing at slot i of one
 * buffer under a memory key; the firmware fills them in order, and for
 * each writes a completion carrying the byte count and, in its immediate
 * data, the tracker's state: REPORTING while more of the report follows,
 * TRACKING on its last message, ERROR when it failed.  A consumed entry is
 * posted again at once.
 *
 * Nothing here is thread safe: dirty.c calls it under the device's state
 * lock.  The completion event and the object-change notifier run in
 * atomic context and only complete trk->event.
 */
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/iova_bitmap.h>
#include <linux/mlx5/cq.h>
#include <linux/mlx5/eq.h>
#include <linux/mlx5/qp.h>
#include <linux/slab.h>

#include "mlx5_vfio.h"

/* The host QP's receive port and the connection's transport settings. */
#define MLX5VF_TRK_PORT		1
#define MLX5VF_TRK_RNR_NAK	12
#define MLX5VF_TRK_RETRIES	7
#define MLX5VF_TRK_ACK_TIMEOUT	0x8

/* Bytes of one receive work entry: a single data segment. */
#define MLX5VF_TRK_WQE_BYTES	sizeof(struct mlx5_wqe_data_seg)
#define MLX5VF_TRK_CQE_BYTES	64

/* Address of byte @off of a fragmented buffer. */
static void *mlx5vf_frag_at(struct mlx5_frag_buf *buf, size_t off)
{
	size_t frag_size = BIT(buf->page_shift);

	return buf->frags[off >> buf->page_shift].buf + (off & (frag_size - 1));
}

static int mlx5vf_trk_alloc_queue(struct mlx5vf_tracker *trk,
				  struct mlx5_frag_buf *buf, size_t size,
				  struct mlx5_db *db)
{
	struct mlx5_core_dev *mdev = trk->mvdev->mdev;
	int ret;

	ret = mlx5_db_alloc_node(mdev, db, mdev->priv.numa_node);
	if (ret)
		return ret;
	ret = mlx5_frag_buf_alloc_node(mdev, size, buf, mdev->priv.numa_node);
	if (ret)
		mlx5_db_free(mdev, db);
	return ret;
}

static void mlx5vf_trk_free_queue(struct mlx5vf_tracker *trk,
				  struct mlx5_frag_buf *buf, struct mlx5_db *db)
{
	mlx5_frag_buf_free(trk->mvdev->mdev, buf);
	mlx5_db_free(trk->mvdev->mdev, db);
}

/* Completion event, hard-IRQ context. */
static void mlx5vf_trk_cq_event(struct mlx5_core_cq *mcq,
				struct mlx5_eqe *eqe)
{
	struct mlx5vf_tracker *trk = container_of(mcq, struct mlx5vf_tracker,
						  cq);

	complete(&trk->event);
}

static int mlx5vf_trk_create_cq(struct mlx5vf_tracker *trk)
{
	struct mlx5_core_dev *mdev = trk->mvdev->mdev;
	u32 out[MLX5_ST_SZ_DW(create_cq_out)] = {};
	struct mlx5_cqe64 *cqe;
	unsigned int i;
	int inlen, eqn;
	void *cqc;
	u32 *in;
	int ret;

	ret = mlx5_comp_eqn_get(mdev, 0, &eqn);
	if (ret)
		return ret;
	ret = mlx5vf_trk_alloc_queue(trk, &trk->cq_buf,
				     MLX5VF_TRK_NCQE * MLX5VF_TRK_CQE_BYTES,
				     &trk->cq_db);
	if (ret)
		return ret;
	/* Owner bit 1: the firmware's first lap over the ring writes 0. */
	for (i = 0; i < MLX5VF_TRK_NCQE; i++) {
		cqe = mlx5vf_frag_at(&trk->cq_buf, i * MLX5VF_TRK_CQE_BYTES);
		cqe->op_own = MLX5_CQE_INVALID << 4 | 1;
	}

	inlen = MLX5_ST_SZ_BYTES(create_cq_in) +
		sizeof(u64) * trk->cq_buf.npages;
	in = kvzalloc(inlen, GFP_KERNEL);
	if (!in) {
		ret = -ENOMEM;
		goto free_queue;
	}
	cqc = MLX5_ADDR_OF(create_cq_in, in, cq_context);
	MLX5_SET(cqc, cqc, log_cq_size, ilog2(MLX5VF_TRK_NCQE));
	MLX5_SET(cqc, cqc, uar_page, trk->uar->index);
	MLX5_SET(cqc, cqc, c_eqn_or_apu_element, eqn);
	MLX5_SET(cqc, cqc, log_page_size,
		 trk->cq_buf.page_shift - MLX5_ADAPTER_PAGE_SHIFT);
	MLX5_SET64(cqc, cqc, dbr_addr, trk->cq_db.dma);
	mlx5_fill_page_frag_array(&trk->cq_buf,
				  (__be64 *)MLX5_ADDR_OF(create_cq_in, in, pas));

	trk->cq.cqe_sz = MLX5VF_TRK_CQE_BYTES;
	trk->cq.set_ci_db = trk->cq_db.db;
	trk->cq.arm_db = trk->cq_db.db + 1;
	trk->cq.comp = mlx5vf_trk_cq_event;
	ret = mlx5_core_create_cq(mdev, &trk->cq, in, inlen, out, sizeof(out));
	kvfree(in);
	if (ret)
		goto free_queue;
	return 0;

free_queue:
	mlx5vf_trk_free_queue(trk, &trk->cq_buf, &trk->cq_db);
	return ret;
}

static void mlx5vf_trk_destroy_cq(struct mlx5vf_tracker *trk)
{
	mlx5_core_destroy_cq(trk->mvdev->mdev, &trk->cq);
	mlx5vf_trk_free_queue(trk, &trk->cq_buf, &trk->cq_db);
}

/* Fields both QPs share: an RC QP of our PD completing on our CQ. */
static void mlx5vf_trk_qpc_common(struct mlx5vf_tracker *trk, void *qpc)
{
	MLX5_SET(qpc, qpc, st, MLX5_QPC_ST_RC);
	MLX5_SET(qpc, qpc, pm_state, MLX5_QPC_PM_STATE_MIGRATED);
	MLX5_SET(qpc, qpc, pd, trk->pdn);
	MLX5_SET(qpc, qpc, uar_page, trk->uar->index);
	MLX5_SET(qpc, qpc, cqn_snd, trk->cq.cqn);
	MLX5_SET(qpc, qpc, cqn_rcv, trk->cq.cqn);
	MLX5_SET(qpc, qpc, no_sq, 1);
}

static int mlx5vf_trk_exec_create_qp(struct mlx5vf_tracker *trk, u32 *in,
				     int inlen, u32 *qpn)
{
	u32 out[MLX5_ST_SZ_DW(create_qp_out)] = {};
	int ret;

	MLX5_SET(create_qp_in, in, opcode, MLX5_CMD_OP_CREATE_QP);
	ret = mlx5_cmd_exec(trk->mvdev->mdev, in, inlen, out, sizeof(out));
	if (!ret)
		*qpn = MLX5_GET(create_qp_out, out, qpn);
	return ret;
}

/* The QP we receive reports on: a receive queue and no send queue. */
static int mlx5vf_trk_create_host_qp(struct mlx5vf_tracker *trk)
{
	int inlen;
	void *qpc;
	u32 *in;
	int ret;

	ret = mlx5vf_trk_alloc_queue(trk, &trk->rq_buf,
				     MLX5VF_TRK_NWQE * MLX5VF_TRK_WQE_BYTES,
				     &trk->rq_db);
	if (ret)
		return ret;
	inlen = MLX5_ST_SZ_BYTES(create_qp_in) +
		sizeof(u64) * trk->rq_buf.npages;
	in = kvzalloc(inlen, GFP_KERNEL);
	if (!in) {
		ret = -ENOMEM;
		goto free_queue;
	}
	qpc = MLX5_ADDR_OF(create_qp_in, in, qpc);
	mlx5vf_trk_qpc_common(trk, qpc);
	MLX5_SET(qpc, qpc, log_rq_size, ilog2(MLX5VF_TRK_NWQE));
	MLX5_SET(qpc, qpc, log_rq_stride,
		 ilog2(MLX5VF_TRK_WQE_BYTES) - 4);
	MLX5_SET(qpc, qpc, log_page_size,
		 trk->rq_buf.page_shift - MLX5_ADAPTER_PAGE_SHIFT);
	MLX5_SET64(qpc, qpc, dbr_addr, trk->rq_db.dma);
	mlx5_fill_page_frag_array(&trk->rq_buf,
				  (__be64 *)MLX5_ADDR_OF(create_qp_in, in,
							 pas));
	ret = mlx5vf_trk_exec_create_qp(trk, in, inlen, &trk->host_qpn);
	kvfree(in);
	if (ret)
		goto free_queue;
	return 0;

free_queue:
	mlx5vf_trk_free_queue(trk, &trk->rq_buf, &trk->rq_db);
	return ret;
}

/* The QP the firmware sends from: no host memory at all. */
static int mlx5vf_trk_create_fw_qp(struct mlx5vf_tracker *trk)
{
	u32 in[MLX5_ST_SZ_DW(create_qp_in)] = {};
	void *qpc = MLX5_ADDR_OF(create_qp_in, in, qpc);

	mlx5vf_trk_qpc_common(trk, qpc);
	MLX5_SET(qpc, qpc, rq_type, MLX5_ZERO_LEN_RQ);
	return mlx5vf_trk_exec_create_qp(trk, in, sizeof(in), &trk->fw_qpn);
}

static void mlx5vf_trk_destroy_qp(struct mlx5vf_tracker *trk, u32 qpn)
{
	u32 in[MLX5_ST_SZ_DW(destroy_qp_in)] = {};

	MLX5_SET(destroy_qp_in, in, opcode, MLX5_CMD_OP_DESTROY_QP);
	MLX5_SET(destroy_qp_in, in, qpn, qpn);
	mlx5_cmd_exec_in(trk->mvdev->mdev, destroy_qp, in);
}

/*
 * One state transition of a QP.  The three arcs' inputs share their
 * layout up to the QP context, so one buffer of the largest serves all.
 */
static int mlx5vf_trk_qp_arc(struct mlx5vf_tracker *trk, u16 opcode, u32 qpn,
			     u32 remote_qpn)
{
	u32 in[MLX5_ST_SZ_DW(init2rtr_qp_in)] = {};
	u32 out[MLX5_ST_SZ_DW(init2rtr_qp_out)] = {};
	void *qpc = MLX5_ADDR_OF(init2rtr_qp_in, in, qpc);

	MLX5_SET(init2rtr_qp_in, in, opcode, opcode);
	MLX5_SET(init2rtr_qp_in, in, qpn, qpn);
	switch (opcode) {
	case MLX5_CMD_OP_RST2INIT_QP:
		MLX5_SET(qpc, qpc, primary_address_path.vhca_port_num,
			 MLX5VF_TRK_PORT);
		break;
	case MLX5_CMD_OP_INIT2RTR_QP:
		MLX5_SET(qpc, qpc, mtu, MLX5_QPC_MTU_4K_BYTES);
		MLX5_SET(qpc, qpc, log_msg_max, trk->log_msg_size);
		MLX5_SET(qpc, qpc, remote_qpn, remote_qpn);
		MLX5_SET(qpc, qpc, min_rnr_nak, MLX5VF_TRK_RNR_NAK);
		break;
	case MLX5_CMD_OP_RTR2RTS_QP:
		MLX5_SET(qpc, qpc, retry_count, MLX5VF_TRK_RETRIES);
		MLX5_SET(qpc, qpc, rnr_retry, MLX5VF_TRK_RETRIES);
		MLX5_SET(qpc, qpc, primary_address_path.ack_timeout,
			 MLX5VF_TRK_ACK_TIMEOUT);
		break;
	}
	return mlx5_cmd_exec(trk->mvdev->mdev, in, sizeof(in), out,
			     sizeof(out));
}

/* Host QP to RTR (it only receives), firmware QP to RTS, facing each other. */
static int mlx5vf_trk_connect(struct mlx5vf_tracker *trk)
{
	int ret;

	ret = mlx5vf_trk_qp_arc(trk, MLX5_CMD_OP_RST2INIT_QP, trk->host_qpn, 0);
	if (!ret)
		ret = mlx5vf_trk_qp_arc(trk, MLX5_CMD_OP_INIT2RTR_QP,
					trk->host_qpn, trk->fw_qpn);
	if (!ret)
		ret = mlx5vf_trk_qp_arc(trk, MLX5_CMD_OP_RST2INIT_QP,
					trk->fw_qpn, 0);
	if (!ret)
		ret = mlx5vf_trk_qp_arc(trk, MLX5_CMD_OP_INIT2RTR_QP,
					trk->fw_qpn, trk->host_qpn);
	if (!ret)
		ret = mlx5vf_trk_qp_arc(trk, MLX5_CMD_OP_RTR2RTS_QP,
					trk->fw_qpn, 0);
	return ret;
}

/* Hand receive entry number @trk->rq_head to the firmware. */
static void mlx5vf_trk_post_recv(struct mlx5vf_tracker *trk)
{
	unsigned int slot = trk->rq_head & (MLX5VF_TRK_NWQE - 1);
	struct mlx5_wqe_data_seg *wqe;

	wqe = mlx5vf_frag_at(&trk->rq_buf, slot * MLX5VF_TRK_WQE_BYTES);
	wqe->byte_count = cpu_to_be32(BIT(trk->log_msg_size));
	wqe->lkey = cpu_to_be32(trk->msgs.mkey);
	wqe->addr = cpu_to_be64((u64)slot << trk->log_msg_size);
	trk->rq_head++;
	/* The entry must be complete before the firmware may see it. */
	dma_wmb();
	trk->rq_db.db[MLX5_RCV_DBR] = cpu_to_be32(trk->rq_head & 0xffff);
}

static int mlx5vf_trk_obj_exec(struct mlx5vf_tracker *trk, u16 opcode,
			       void *in, int inlen)
{
	u32 out[MLX5_ST_SZ_DW(general_obj_out_cmd_hdr)] = {};
	int ret;

	MLX5_SET(general_obj_in_cmd_hdr, in, opcode, opcode);
	MLX5_SET(general_obj_in_cmd_hdr, in, obj_type,
		 MLX5_OBJ_TYPE_PAGE_TRACK);
	MLX5_SET(general_obj_in_cmd_hdr, in, obj_id, trk->obj_id);
	ret = mlx5_cmd_exec(trk->mvdev->mdev, in, inlen, out, sizeof(out));
	if (!ret && opcode == MLX5_CMD_OP_CREATE_GENERAL_OBJECT)
		trk->obj_id = MLX5_GET(general_obj_out_cmd_hdr, out, obj_id);
	return ret;
}

static int mlx5vf_trk_create_obj(struct mlx5vf_tracker *trk,
				 const struct mlx5vf_trk_range *ranges,
				 unsigned int nranges, u8 log_addr_space)
{
	int inlen = MLX5_ST_SZ_BYTES(create_page_track_obj_in) +
		    nranges * MLX5_ST_SZ_BYTES(page_track_range);
	void *ctx, *range;
	unsigned int i;
	u32 *in;
	int ret;

	in = kvzalloc(inlen, GFP_KERNEL);
	if (!in)
		return -ENOMEM;
	ctx = MLX5_ADDR_OF(create_page_track_obj_in, in, obj_context);
	MLX5_SET(page_track, ctx, vhca_id, trk->mvdev->vhca_id);
	MLX5_SET(page_track, ctx, track_type, 0);
	MLX5_SET(page_track, ctx, log_addr_space_size, log_addr_space);
	MLX5_SET(page_track, ctx, log_page_size, trk->log_page_size);
	MLX5_SET(page_track, ctx, log_msg_size, trk->log_msg_size);
	MLX5_SET(page_track, ctx, reporting_qpn, trk->fw_qpn);
	MLX5_SET(page_track, ctx, num_ranges, nranges);
	for (i = 0; i < nranges; i++) {
		range = MLX5_ADDR_OF(page_track, ctx, track_range[i]);
		MLX5_SET64(page_track_range, range, start_address,
			   ranges[i].start);
		MLX5_SET64(page_track_range, range, length,
			   ranges[i].end - ranges[i].start);
	}
	ret = mlx5vf_trk_obj_exec(trk, MLX5_CMD_OP_CREATE_GENERAL_OBJECT, in,
				  inlen);
	kvfree(in);
	return ret;
}

static void mlx5vf_trk_destroy_obj(struct mlx5vf_tracker *trk)
{
	u32 in[MLX5_ST_SZ_DW(general_obj_in_cmd_hdr)] = {};

	mlx5vf_trk_obj_exec(trk, MLX5_CMD_OP_DESTROY_GENERAL_OBJECT, in,
			    sizeof(in));
}

/* The firmware says the tracker failed: a report waiting for it ends. */
static int mlx5vf_trk_obj_event(struct notifier_block *nb,
				unsigned long type, void *data)
{
	struct mlx5vf_tracker *trk = container_of(nb, struct mlx5vf_tracker,
						  nb.nb);
	struct mlx5_eqe *eqe = data;

	if (be16_to_cpu(eqe->data.obj_change.obj_type) !=
	    MLX5_OBJ_TYPE_PAGE_TRACK ||
	    be32_to_cpu(eqe->data.obj_change.obj_id) != READ_ONCE(trk->obj_id))
		return NOTIFY_DONE;
	WRITE_ONCE(trk->failed, true);
	complete(&trk->event);
	return NOTIFY_OK;
}

/*
 * Takes down what mlx5vf_trk_create() built, from the last stage it
 * reached: a create that failed part way and a destroy share this path.
 * The firmware object goes first, so that no report or event arrives
 * while the queues go.
 */
static void mlx5vf_trk_teardown(struct mlx5vf_tracker *trk)
{
	struct mlx5_core_dev *mdev = trk->mvdev->mdev;

	switch (trk->built) {
	case MLX5VF_TRK_BUILT_OBJ:
		mlx5vf_trk_destroy_obj(trk);
		fallthrough;
	case MLX5VF_TRK_BUILT_NOTIFIER:
		mlx5_eq_notifier_unregister(mdev, &trk->nb);
		fallthrough;
	case MLX5VF_TRK_BUILT_FW_QP:
		mlx5vf_trk_destroy_qp(trk, trk->fw_qpn);
		fallthrough;
	case MLX5VF_TRK_BUILT_HOST_QP:
		mlx5vf_trk_destroy_qp(trk, trk->host_qpn);
		mlx5vf_trk_free_queue(trk, &trk->rq_buf, &trk->rq_db);
		fallthrough;
	case MLX5VF_TRK_BUILT_CQ:
		mlx5vf_trk_destroy_cq(trk);
		fallthrough;
	case MLX5VF_TRK_BUILT_MSGS:
		mlx5vf_buf_free(trk->mvdev, &trk->msgs);
		fallthrough;
	case MLX5VF_TRK_BUILT_UAR:
		mlx5_put_uars_page(mdev, trk->uar);
		fallthrough;
	case MLX5VF_TRK_BUILT_PD:
		mlx5_core_dealloc_pd(mdev, trk->pdn);
		fallthrough;
	case MLX5VF_TRK_BUILT_NOTHING:
		break;
	}
	trk->built = MLX5VF_TRK_BUILT_NOTHING;
}

/* The host memory of the tracker: PD, UAR page and message buffers. */
static int mlx5vf_trk_build_memory(struct mlx5vf_tracker *trk)
{
	struct mlx5_core_dev *mdev = trk->mvdev->mdev;
	struct mlx5_uars_page *uar;
	int ret;

	ret = mlx5_core_alloc_pd(mdev, &trk->pdn);
	if (ret)
		return ret;
	trk->built = MLX5VF_TRK_BUILT_PD;
	uar = mlx5_get_uars_page(mdev);
	if (IS_ERR(uar))
		return PTR_ERR(uar);
	trk->uar = uar;
	trk->built = MLX5VF_TRK_BUILT_UAR;
	ret = mlx5vf_buf_alloc(trk->mvdev, trk->pdn,
			       MLX5VF_TRK_NWQE << trk->log_msg_size,
			       DMA_FROM_DEVICE, GFP_KERNEL_ACCOUNT, &trk->msgs);
	if (ret)
		return ret;
	trk->built = MLX5VF_TRK_BUILT_MSGS;
	return 0;
}

/* The CQ and the two QPs, connected, every receive entry posted. */
static int mlx5vf_trk_build_queues(struct mlx5vf_tracker *trk)
{
	unsigned int i;
	int ret;

	ret = mlx5vf_trk_create_cq(trk);
	if (ret)
		return ret;
	trk->built = MLX5VF_TRK_BUILT_CQ;
	ret = mlx5vf_trk_create_host_qp(trk);
	if (ret)
		return ret;
	trk->built = MLX5VF_TRK_BUILT_HOST_QP;
	ret = mlx5vf_trk_create_fw_qp(trk);
	if (ret)
		return ret;
	trk->built = MLX5VF_TRK_BUILT_FW_QP;
	ret = mlx5vf_trk_connect(trk);
	if (ret)
		return ret;
	for (i = 0; i < MLX5VF_TRK_NWQE; i++)
		mlx5vf_trk_post_recv(trk);
	return 0;
}

/* Events first: the object may fail as soon as it exists. */
static int mlx5vf_trk_build_object(struct mlx5vf_tracker *trk,
				   const struct mlx5vf_trk_range *ranges,
				   unsigned int nranges)
{
	int ret;

	/* No object yet: an event for id ~0 is nobody's. */
	WRITE_ONCE(trk->obj_id, U32_MAX);
	trk->nb.nb.notifier_call = mlx5vf_trk_obj_event;
	trk->nb.event_type = MLX5_EVENT_TYPE_OBJECT_CHANGE;
	ret = mlx5_eq_notifier_register(trk->mvdev->mdev, &trk->nb);
	if (ret)
		return ret;
	trk->built = MLX5VF_TRK_BUILT_NOTIFIER;
	ret = mlx5vf_trk_create_obj(trk, ranges, nranges, trk->log_addr_space);
	if (ret)
		return ret;
	trk->built = MLX5VF_TRK_BUILT_OBJ;
	return 0;
}

/**
 * mlx5vf_trk_create - start the firmware tracking a VF's DMA writes
 * @mvdev: the device, migratable and not detached
 * @ranges: the IOVA ranges to track, ascending, disjoint, aligned to the
 *	page size
 * @nranges: entries of @ranges, within the firmware's limit
 * @log_page_size: log2 of the tracking granule
 * @log_addr_space: log2 of the tracked address space
 * @log_msg_size: log2 of the bytes of one report message
 *
 * Return: the tracker, or an ERR_PTR with nothing left behind.
 */
struct mlx5vf_tracker *mlx5vf_trk_create(struct mlx5vf_device *mvdev,
					 const struct mlx5vf_trk_range *ranges,
					 unsigned int nranges, u8 log_page_size,
					 u8 log_addr_space, u8 log_msg_size)
{
	struct mlx5vf_tracker *trk;
	int ret;

	trk = kzalloc(sizeof(*trk), GFP_KERNEL_ACCOUNT);
	if (!trk)
		return ERR_PTR(-ENOMEM);
	trk->mvdev = mvdev;
	trk->log_page_size = log_page_size;
	trk->log_addr_space = log_addr_space;
	trk->log_msg_size = log_msg_size;
	init_completion(&trk->event);

	ret = mlx5vf_trk_build_memory(trk);
	if (!ret)
		ret = mlx5vf_trk_build_queues(trk);
	if (!ret)
		ret = mlx5vf_trk_build_object(trk, ranges, nranges);
	if (ret) {
		mlx5vf_trk_teardown(trk);
		kfree(trk);
		return ERR_PTR(ret);
	}
	return trk;
}

/**
 * mlx5vf_trk_destroy - stop tracking and free everything
 * @trk: the tracker; may be in the middle of a report that failed
 */
void mlx5vf_trk_destroy(struct mlx5vf_tracker *trk)
{
	mlx5vf_trk_teardown(trk);
	kfree(trk);
}

/**
 * mlx5vf_trk_request - ask the firmware for a report
 * @trk: the tracker, not reporting
 * @iova: start of the range, aligned to the tracking page size
 * @length: bytes, a multiple of the tracking page size
 *
 * Return: 0 once the firmware accepted; the messages follow.
 */
int mlx5vf_trk_request(struct mlx5vf_tracker *trk, u64 iova, u64 length)
{
	u32 in[MLX5_ST_SZ_DW(modify_page_track_obj_in)] = {};
	void *ctx = MLX5_ADDR_OF(modify_page_track_obj_in, in, obj_context);

	/* Bit 0 of the selection: the state field. */
	MLX5_SET64(page_track, ctx, modify_field_select, 1);
	MLX5_SET(page_track, ctx, state, MLX5_PAGE_TRACK_STATE_REPORTING);
	MLX5_SET64(page_track, ctx, range_start_address, iova);
	MLX5_SET64(page_track, ctx, length, length);
	return mlx5vf_trk_obj_exec(trk, MLX5_CMD_OP_MODIFY_GENERAL_OBJECT, in,
				   sizeof(in));
}

/* The completion at the consumer index, if the firmware has written it. */
static struct mlx5_cqe64 *mlx5vf_trk_next_cqe(struct mlx5vf_tracker *trk)
{
	struct mlx5_cqe64 *cqe;
	u8 owner;

	cqe = mlx5vf_frag_at(&trk->cq_buf,
			     (trk->cq_ci & (MLX5VF_TRK_NCQE - 1)) *
			     MLX5VF_TRK_CQE_BYTES);
	owner = (trk->cq_ci / MLX5VF_TRK_NCQE) & 1;
	if (get_cqe_opcode(cqe) == MLX5_CQE_INVALID ||
	    (cqe->op_own & 1) != owner)
		return NULL;
	/* The rest of the entry was written before its ownership byte. */
	dma_rmb();
	return cqe;
}

/* Mark the pages of one message in @dirty; false on a malformed one. */
static bool mlx5vf_trk_parse(struct mlx5vf_tracker *trk, unsigned int slot,
			     size_t bytes, struct mlx5vf_trk_report *rep)
{
	size_t entry = MLX5_ST_SZ_BYTES(page_track_report_entry);
	size_t off = (size_t)slot << trk->log_msg_size;
	u64 page = BIT_ULL(trk->log_page_size);
	size_t end = off + bytes;
	void *va, *e;
	u64 addr;

	for (; off < end; off += entry) {
		va = kmap_local_page(trk->msgs.pages[off >> PAGE_SHIFT]);
		e = va + offset_in_page(off);
		addr = (u64)MLX5_GET(page_track_report_entry, e,
				     dirty_address_high) << 32 |
		       MLX5_GET(page_track_report_entry, e,
				dirty_address_low);
		kunmap_local(va);
		if (!IS_ALIGNED(addr, page) || addr < rep->iova ||
		    addr - rep->iova >= rep->length)
			return false;
		iova_bitmap_set(rep->dirty, addr, page);
		rep->pages++;
	}
	return true;
}

/* One received message: record it and give its entry back. */
static int mlx5vf_trk_message(struct mlx5vf_tracker *trk,
			      struct mlx5_cqe64 *cqe,
			      struct mlx5vf_trk_report *rep)
{
	size_t bytes = be32_to_cpu(cqe->byte_cnt);
	unsigned int slot = trk->rq_tail & (MLX5VF_TRK_NWQE - 1);
	u32 state = be32_to_cpu(cqe->immediate) >> 28;
	struct device *dma_dev = trk->mvdev->mdev->device;
	bool ok;

	if (be16_to_cpu(cqe->wqe_counter) != (trk->rq_tail & 0xffff) ||
	    bytes > BIT(trk->log_msg_size) ||
	    bytes % MLX5_ST_SZ_BYTES(page_track_report_entry))
		return -EIO;
	dma_sync_sgtable_for_cpu(dma_dev, &trk->msgs.sgt, DMA_FROM_DEVICE);
	ok = mlx5vf_trk_parse(trk, slot, bytes, rep);
	dma_sync_sgtable_for_device(dma_dev, &trk->msgs.sgt, DMA_FROM_DEVICE);
	trk->rq_tail++;
	mlx5vf_trk_post_recv(trk);
	if (!ok || state == MLX5_PAGE_TRACK_STATE_ERROR)
		return -EIO;
	if (state == MLX5_PAGE_TRACK_STATE_TRACKING)
		rep->done = true;
	return 0;
}

/*
 * Consume every completion the firmware has written.  Send completions
 * of the firmware's own QP, if it reports them, carry nothing for us.
 */
static int mlx5vf_trk_poll(struct mlx5vf_tracker *trk,
			   struct mlx5vf_trk_report *rep)
{
	struct mlx5_cqe64 *cqe;
	int ret = 0;

	while (!ret && !rep->done && (cqe = mlx5vf_trk_next_cqe(trk))) {
		switch (get_cqe_opcode(cqe)) {
		case MLX5_CQE_RESP_SEND_IMM:
			ret = mlx5vf_trk_message(trk, cqe, rep);
			break;
		case MLX5_CQE_REQ:
			break;
		default:
			ret = -EIO;
			break;
		}
		trk->cq_ci++;
		*trk->cq.set_ci_db = cpu_to_be32(trk->cq_ci & 0xffffff);
	}
	return ret;
}

/**
 * mlx5vf_trk_collect - receive a requested report to its end
 * @trk: the tracker, after mlx5vf_trk_request()
 * @rep: the range asked for and the bitmap to fill
 *
 * Return: 0 when the last message arrived; -EIO when the firmware failed
 * or sent something malformed; -ETIMEDOUT when it went silent.  After an
 * error the tracker cannot be used again.
 */
int mlx5vf_trk_collect(struct mlx5vf_tracker *trk,
		       struct mlx5vf_trk_report *rep)
{
	int ret;

	for (;;) {
		ret = mlx5vf_trk_poll(trk, rep);
		if (ret || rep->done)
			return ret;
		if (READ_ONCE(trk->failed))
			return -EIO;
		/*
		 * Arm, then look again: a completion written before the arm
		 * raises no event, one written after it does.
		 */
		reinit_completion(&trk->event);
		mlx5_cq_arm(&trk->cq, MLX5_CQ_DB_REQ_NOT, trk->uar->map,
			    trk->cq_ci);
		if (mlx5vf_trk_next_cqe(trk))
			continue;
		if (!wait_for_completion_timeout(&trk->event,
						 MLX5VF_TRK_TIMEOUT))
			return -ETIMEDOUT;
	}
}
