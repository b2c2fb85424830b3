/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mlx5-vfio-pci internals: the device, its migration session, and the
 * firmware calls that move a VF's state.
 *
 * Layers, bottom up:
 *   fw.c      image buffers and the firmware commands of one VF (VHCA);
 *   stream.c  the data files userspace reads a saved state from and
 *             writes a state to be loaded into;
 *   tracker.c the PF's page tracker of a VF and the queues its dirty-page
 *             reports arrive on;
 *   mig.c     the migration state machine that vfio core drives;
 *   dirty.c   the DMA logging that vfio core drives, over tracker.c;
 *   main.c    the PCI driver and its vfio_device_ops.
 */
#ifndef MLX5_VFIO_H
#define MLX5_VFIO_H

#include <linux/completion.h>
#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/mlx5/cq.h>
#include <linux/mlx5/driver.h>
#include <linux/mlx5/eq.h>
#include <linux/mlx5/vfio_pci.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

struct mlx5vf_save_file;
struct mlx5vf_resume_file;
struct mlx5vf_tracker;

/**
 * struct mlx5vf_device - a VF (or any function) bound to mlx5-vfio-pci
 * @core: the vfio-pci-core device; must stay first
 * @migratable: the PF is mlx5_core's and its firmware can migrate VFs
 * @precopy: the firmware can save while the VF runs and load several images
 * @chunks: the firmware can save an image in pieces
 * @detached: the PF disabled this VF; no firmware command may be sent
 * @fw_next_chunk: bytes of the next chunk of an image a session ended
 *	without reading to its end: the firmware still holds the rest, and
 *	hands it out before a new image; under @state_lock
 * @vf_id: index of the VF under its PF
 * @vhca_id: the VF's VHCA, named in every migration command
 * @mdev: the PF's mlx5_core device, referenced while @migratable
 * @sriov_nb: tells us when the PF disables the VF
 * @state_lock: serialises migration state changes, the data files' life
 *	and firmware commands on the VF; taken before a data file's lock
 * @mig_state: the state userspace last set, under @state_lock
 * @save: the data file of the current save session, under @state_lock
 * @resume: the data file of the current resume session, under @state_lock
 * @tracker: the DMA logging session's page tracker, under @state_lock
 * @reset_lock: protects @reset_pending
 * @reset_pending: a reset happened while @state_lock was held; whoever
 *	releases @state_lock applies it
 */
struct mlx5vf_device {
	struct vfio_pci_core_device core;
	bool migratable;
	bool precopy;
	bool chunks;
	bool detached;
	size_t fw_next_chunk;
	int vf_id;
	u16 vhca_id;
	struct mlx5_core_dev *mdev;
	struct notifier_block sriov_nb;
	struct mutex state_lock; /* see above */
	enum vfio_device_mig_state mig_state;
	struct mlx5vf_save_file *save;
	struct mlx5vf_resume_file *resume;
	struct mlx5vf_tracker *tracker;
	spinlock_t reset_lock; /* see above */
	bool reset_pending;
};

static inline struct mlx5vf_device *to_mlx5vf(struct vfio_device *vdev)
{
	return container_of(vdev, struct mlx5vf_device, core.vdev);
}

/**
 * struct mlx5vf_buf - host pages the firmware reads or writes an image in
 * @pages: the pages, @npages of them
 * @npages: number of pages
 * @sgt: the pages as mapped for the PF
 * @dir: DMA direction of the mapping
 * @mkey: memory key that names the pages to the firmware
 */
struct mlx5vf_buf {
	struct page **pages;
	unsigned int npages;
	struct sg_table sgt;
	enum dma_data_direction dir;
	u32 mkey;
};

static inline size_t mlx5vf_buf_size(const struct mlx5vf_buf *buf)
{
	return (size_t)buf->npages << PAGE_SHIFT;
}

/* fw.c */
void mlx5vf_fw_probe(struct mlx5vf_device *mvdev);
void mlx5vf_fw_release(struct mlx5vf_device *mvdev);
int mlx5vf_fw_alloc_pd(struct mlx5vf_device *mvdev, u32 *pdn);
void mlx5vf_fw_free_pd(struct mlx5vf_device *mvdev, u32 pdn);
int mlx5vf_buf_alloc(struct mlx5vf_device *mvdev, u32 pdn, size_t size,
		     enum dma_data_direction dir, gfp_t gfp,
		     struct mlx5vf_buf *buf);
void mlx5vf_buf_free(struct mlx5vf_device *mvdev, struct mlx5vf_buf *buf);
int mlx5vf_buf_to_user(struct mlx5vf_buf *buf, size_t off,
		       char __user *ubuf, size_t len);
int mlx5vf_buf_from_user(struct mlx5vf_buf *buf, size_t off,
			 const char __user *ubuf, size_t len);

/* Which image QUERY_VHCA_MIGRATION_STATE sizes. */
enum mlx5vf_query {
	MLX5VF_QUERY_FULL,		/* the whole state */
	MLX5VF_QUERY_INCREMENTAL,	/* what changed since the last save */
};

int mlx5vf_fw_query_size(struct mlx5vf_device *mvdev, enum mlx5vf_query what,
			 size_t *next, u64 *total);
int mlx5vf_fw_suspend(struct mlx5vf_device *mvdev, u16 op_mod);
int mlx5vf_fw_resume(struct mlx5vf_device *mvdev, u16 op_mod);
int mlx5vf_fw_load(struct mlx5vf_device *mvdev, struct mlx5vf_buf *buf,
		   size_t len);

/**
 * struct mlx5vf_save_cmd - one asynchronous SAVE_VHCA_STATE
 * @work: mlx5_core's handle for the command
 * @out: the command's output
 * @status: the command's result, valid once @done runs
 * @done: called in process context once the firmware answered
 */
struct mlx5vf_save_cmd {
	struct mlx5_async_work work;
	u32 out[MLX5_ST_SZ_DW(save_vhca_state_out)];
	int status;
	struct work_struct done;
};

int mlx5vf_fw_save(struct mlx5vf_device *mvdev, struct mlx5_async_ctx *actx,
		   struct mlx5vf_buf *buf, bool incremental, bool track,
		   struct mlx5vf_save_cmd *cmd);
int mlx5vf_fw_save_sync(struct mlx5vf_device *mvdev, struct mlx5vf_buf *buf,
			size_t *next);
void mlx5vf_fw_save_result(struct mlx5vf_save_cmd *cmd, size_t *len,
			   size_t *next);

/* stream.c */
struct file *mlx5vf_save_open(struct mlx5vf_device *mvdev, bool precopy);
int mlx5vf_save_final(struct mlx5vf_save_file *save);
void mlx5vf_save_end(struct mlx5vf_save_file *save);
struct file *mlx5vf_resume_open(struct mlx5vf_device *mvdev);
int mlx5vf_resume_finish(struct mlx5vf_resume_file *resume);
void mlx5vf_resume_end(struct mlx5vf_resume_file *resume);

/* Receive entries of the report queue, and completions for them. */
#define MLX5VF_TRK_NWQE		16
#define MLX5VF_TRK_NCQE		(2 * MLX5VF_TRK_NWQE)
/* How long the firmware may stay silent in the middle of a report. */
#define MLX5VF_TRK_TIMEOUT	(10 * HZ)

/**
 * struct mlx5vf_trk_range - one IOVA range the tracker watches
 * @start: first byte
 * @end: byte after the last
 */
struct mlx5vf_trk_range {
	u64 start;
	u64 end;
};

/*
 * How far mlx5vf_trk_create() got, in the order it builds: the teardown
 * undoes each stage reached, from the last one down.
 */
enum mlx5vf_trk_built {
	MLX5VF_TRK_BUILT_NOTHING,
	MLX5VF_TRK_BUILT_PD,
	MLX5VF_TRK_BUILT_UAR,
	MLX5VF_TRK_BUILT_MSGS,
	MLX5VF_TRK_BUILT_CQ,
	MLX5VF_TRK_BUILT_HOST_QP,
	MLX5VF_TRK_BUILT_FW_QP,
	MLX5VF_TRK_BUILT_NOTIFIER,
	MLX5VF_TRK_BUILT_OBJ,
};

/**
 * struct mlx5vf_tracker - a page tracker and its report queues (tracker.c)
 * @mvdev: the device whose VF is tracked
 * @built: the stages of it that exist
 * @pdn: protection domain of the queues and of @msgs
 * @uar: the UAR page the CQ is armed through
 * @msgs: the receive buffers, one slot of 2^@log_msg_size bytes per entry
 * @cq: the completion queue of the host QP
 * @cq_buf: its entries
 * @cq_db: its doorbell record (consumer index, arm word)
 * @cq_ci: completions consumed
 * @rq_buf: receive entries of the host QP
 * @rq_db: its doorbell record (entries posted)
 * @rq_head: receive entries posted
 * @rq_tail: receive entries the firmware filled and we consumed
 * @host_qpn: the QP reports arrive on
 * @fw_qpn: the QP the firmware sends them from
 * @nb: object-change events of the firmware
 * @obj_id: the PAGE_TRACK object; read by the event handler
 * @log_page_size: log2 of the tracking page
 * @log_addr_space: log2 of the bytes of IOVA space tracked from 0
 * @log_msg_size: log2 of the largest report message
 * @event: completed by a completion event or a tracker error
 * @failed: the firmware reported an error, or a report went wrong; set
 *	from the event handler too
 *
 * Everything but @event, @failed and @obj_id is used under the device's
 * state lock only.
 */
struct mlx5vf_tracker {
	struct mlx5vf_device *mvdev;
	enum mlx5vf_trk_built built;
	u32 pdn;
	struct mlx5_uars_page *uar;
	struct mlx5vf_buf msgs;
	struct mlx5_core_cq cq;
	struct mlx5_frag_buf cq_buf;
	struct mlx5_db cq_db;
	u32 cq_ci;
	struct mlx5_frag_buf rq_buf;
	struct mlx5_db rq_db;
	u32 rq_head;
	u32 rq_tail;
	u32 host_qpn;
	u32 fw_qpn;
	struct mlx5_nb nb;
	u32 obj_id;
	u8 log_page_size;
	u8 log_addr_space;
	u8 log_msg_size;
	struct completion event;
	bool failed;
};

/**
 * struct mlx5vf_trk_report - one report being received
 * @iova: start of the range asked for
 * @length: bytes of the range
 * @dirty: where the dirty pages go
 * @pages: dirty pages received so far
 * @done: the last message arrived
 */
struct mlx5vf_trk_report {
	u64 iova;
	u64 length;
	struct iova_bitmap *dirty;
	u64 pages;
	bool done;
};

/* tracker.c */
struct mlx5vf_tracker *mlx5vf_trk_create(struct mlx5vf_device *mvdev,
					 const struct mlx5vf_trk_range *ranges,
					 unsigned int nranges, u8 log_page_size,
					 u8 log_addr_space, u8 log_msg_size);
void mlx5vf_trk_destroy(struct mlx5vf_tracker *trk);
int mlx5vf_trk_request(struct mlx5vf_tracker *trk, u64 iova, u64 length);
int mlx5vf_trk_collect(struct mlx5vf_tracker *trk,
		       struct mlx5vf_trk_report *rep);

/* dirty.c */
const struct vfio_log_ops *mlx5vf_log_ops_for(struct mlx5vf_device *mvdev);
void mlx5vf_log_end(struct mlx5vf_device *mvdev);

/* mig.c */
extern const struct vfio_migration_ops mlx5vf_mig_ops;
void mlx5vf_state_unlock(struct mlx5vf_device *mvdev);
void mlx5vf_end_sessions(struct mlx5vf_device *mvdev);
void mlx5vf_reset_done(struct mlx5vf_device *mvdev);
void mlx5vf_detach(struct mlx5vf_device *mvdev);

#endif /* MLX5_VFIO_H */
