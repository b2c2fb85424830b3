/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mlx5-vfio-pci internals: the device, its migration session, and the
 * firmware calls that move a VF's state.
 *
 * Layers, bottom up:
 *   fw.c      image buffers and the firmware commands of one VF (VHCA);
 *   stream.c  the data files userspace reads a saved state from and
 *             writes a state to be loaded into;
 *   mig.c     the migration state machine that vfio core drives;
 *   main.c    the PCI driver and its vfio_device_ops.
 */
#ifndef MLX5_VFIO_H
#define MLX5_VFIO_H

#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/mlx5/driver.h>
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

/* mig.c */
extern const struct vfio_migration_ops mlx5vf_mig_ops;
void mlx5vf_state_unlock(struct mlx5vf_device *mvdev);
void mlx5vf_end_sessions(struct mlx5vf_device *mvdev);
void mlx5vf_reset_done(struct mlx5vf_device *mvdev);
void mlx5vf_detach(struct mlx5vf_device *mvdev);

#endif /* MLX5_VFIO_H */
