/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mlx5_core model, TEST-ONLY (see model.h): the objects of page tracking,
 * shared by cq.c, qp.c, track.c and report.c.  The layouts are
 * mlx5_ifc.h's; the behaviour is the firmware's as mlx5-vfio-pci's
 * tracker reads it (the tracker's spec, kept with the driver).
 *
 * Locking: every object below and the PF's xarrays of them are protected
 * by pf->trk_lock, a mutex; it is taken before pf->res_lock (the reporting
 * engine writes through mkeys), pf->inject_lock and a VF's lock (CREATE
 * checks that its VF exists).
 */
#ifndef _MLX5_MODEL_TRACK_H
#define _MLX5_MODEL_TRACK_H

#include <linux/irq_work.h>
#include <linux/mlx5/cq.h>
#include <linux/mlx5/qp.h>

#include "model.h"

/* How long a report waits for a receive WQE: the RNR retries' worth. */
#define MODEL_RNR_WAIT_MS	2000
/* Largest CQ and RQ the model takes. */
#define MODEL_LOG_MAX_CQ	16
#define MODEL_LOG_MAX_RQ	15
#define MODEL_CQE_SIZE		64
#define MODEL_WQE_SIZE		16

/**
 * struct model_cq - a completion queue
 * @pf: its PF
 * @cqn: its number
 * @core: what mlx5_core_create_cq() was given, NULL for a CQ made by a
 *	bare CREATE_CQ (it then never raises events)
 * @log_size: log2 of the CQEs
 * @buf: the CQE buffer
 * @dbr: doorbell record: [0] the consumer index, [1] the arm word
 * @dbr_dma: its DMA address
 * @pi: CQEs written (the producer index)
 * @events: completion events raised; its low two bits are the sequence
 *	number the next arm request must carry
 * @users: QPs that send or receive completions here
 * @to_fire: events decided but not yet delivered by @irq
 * @irq: delivers events in hard-IRQ context
 * @poll: watches the arm word while CQEs wait for an arm request
 * @dead: destroyed; nothing queues @irq or @poll any more
 */
struct model_cq {
	struct model_pf *pf;
	u32 cqn;
	struct mlx5_core_cq *core;
	unsigned int log_size;
	struct model_qbuf buf;
	__be32 *dbr;
	u64 dbr_dma;
	u32 pi;
	u32 events;
	unsigned int users;
	atomic_t to_fire;
	struct irq_work irq;
	struct delayed_work poll;
	bool dead;
};

/**
 * struct model_qp - an RC queue pair, receive side only (no_sq)
 * @qpn: its number
 * @state: an enum mlx5_qp_state (RST, INIT, RTR or RTS)
 * @zero_rq: MLX5_ZERO_LEN_RQ: no receive queue at all
 * @scq: send CQ
 * @rcq: receive CQ
 * @remote_qpn: the peer INIT2RTR named
 * @log_msg_max: from INIT2RTR
 * @log_nwqe: log2 of the receive WQEs (regular RQ)
 * @rq: the receive queue's buffer (regular RQ)
 * @dbr: doorbell record, [MLX5_RCV_DBR] the WQEs posted (regular RQ)
 * @dbr_dma: its DMA address
 * @consumed: receive WQEs the device took
 * @users: trackers reporting from this QP
 */
struct model_qp {
	u32 qpn;
	u8 state;
	bool zero_rq;
	struct model_cq *scq;
	struct model_cq *rcq;
	u32 remote_qpn;
	unsigned int log_msg_max;
	unsigned int log_nwqe;
	struct model_qbuf rq;
	__be32 *dbr;
	u64 dbr_dma;
	u16 consumed;
	unsigned int users;
};

struct model_track_range {
	u64 start;
	u64 len;
};

/* Dirty pages are kept in bitmaps of this many pages, made on demand. */
#define MODEL_DIRTY_CHUNK_SHIFT	15
#define MODEL_DIRTY_CHUNK	BIT(MODEL_DIRTY_CHUNK_SHIFT)

/**
 * struct model_tracker - a PAGE_TRACK general object
 * @pf: its PF
 * @id: its obj_id
 * @vhca_id: the VF it tracks
 * @state: MLX5_PAGE_TRACK_STATE_*
 * @page_shift: log_page_size
 * @msg_shift: log_msg_size
 * @as_shift: log_addr_space_size
 * @fwqp: the QP it reports from
 * @dirty: page number >> MODEL_DIRTY_CHUNK_SHIFT -> bitmap of that chunk
 * @reports: reports requested
 * @cursor: next page of the report running to look at
 * @end: page after the report's window
 * @fail_after: messages the report still sends before an injected
 *	failure, -1 none
 * @waiting: the report waits for a receive WQE, until @deadline
 * @deadline: jiffies when the RNR wait ends
 * @work: the reporting engine of this tracker, on the PF's workqueue
 * @msg: one message, 2^@msg_shift bytes
 * @dead: destroyed; @work does nothing any more
 * @nranges: entries of @ranges
 * @ranges: what it tracks
 */
struct model_tracker {
	struct model_pf *pf;
	u32 id;
	u16 vhca_id;
	u8 state;
	unsigned int page_shift;
	unsigned int msg_shift;
	unsigned int as_shift;
	struct model_qp *fwqp;
	struct xarray dirty;
	u64 reports;
	u64 cursor;
	u64 end;
	int fail_after;
	bool waiting;
	unsigned long deadline;
	struct delayed_work work;
	void *msg;
	bool dead;
	unsigned int nranges;
	struct model_track_range ranges[] __counted_by(nranges);
};

/* cq.c */
struct model_cq *model_cq_get(struct model_pf *pf, u32 cqn);
bool model_cq_write(struct model_cq *cq, u8 opcode, u32 qpn, u32 bytes,
		    u16 wqe_counter, u32 imm);
bool model_cq_full(struct model_cq *cq);

/* qp.c */
struct model_qp *model_qp_get(struct model_pf *pf, u32 qpn);

/* report.c */
void model_report_work(struct work_struct *work);
void model_tracker_fail(struct model_tracker *trk);

#endif /* _MLX5_MODEL_TRACK_H */
