// SPDX-License-Identifier: GPL-2.0-only
/*
 * Firmware side of mlx5-vfio-pci: finding out whether a VF can migrate,
 * the host buffers its state images travel in, and the VHCA migration
 * commands of include/linux/mlx5/mlx5_ifc.h, sent through the PF's
 * mlx5_core.  Nothing here knows about vfio's states or files.
 */
#include <linux/highmem.h>
#include <linux/mlx5/vport.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "mlx5_vfio.h"

/* Bytes one MTT entry (the DMA address of one page) takes in CREATE_MKEY. */
#define MLX5VF_MTT_BYTES	8

static int mlx5vf_sriov_event(struct notifier_block *nb, unsigned long event,
			      void *data)
{
	struct mlx5vf_device *mvdev =
		container_of(nb, struct mlx5vf_device, sriov_nb);

	if (event == MLX5_PF_NOTIFY_DISABLE_VF)
		mlx5vf_detach(mvdev);
	return NOTIFY_OK;
}

static int mlx5vf_query_vhca_id(struct mlx5vf_device *mvdev)
{
	int outlen = MLX5_ST_SZ_BYTES(query_hca_cap_out);
	void *out;
	int ret;

	out = kzalloc(outlen, GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	/* VF n is vport n + 1: vport 0 is the PF itself. */
	ret = mlx5_vport_get_other_func_cap(mvdev->mdev, mvdev->vf_id + 1, out,
					    MLX5_CAP_GENERAL);
	if (!ret)
		mvdev->vhca_id = MLX5_GET(query_hca_cap_out, out,
					  capability.cmd_hca_cap.vhca_id);
	kfree(out);
	return ret;
}

/* The PF's mlx5_core device, held, if its firmware can migrate @pdev. */
static struct mlx5_core_dev *mlx5vf_migration_pf(struct pci_dev *pdev)
{
	struct mlx5_core_dev *mdev = NULL;

	if (pdev->is_virtfn)
		mdev = mlx5_vf_get_core_dev(pdev);
	if (mdev && !MLX5_CAP_GEN(mdev, migration)) {
		mlx5_vf_put_core_dev(mdev);
		mdev = NULL;
	}
	return mdev;
}

/* Learn the VF's VHCA and hear about its removal; mvdev keeps @mdev. */
static int mlx5vf_attach_pf(struct mlx5vf_device *mvdev,
			    struct mlx5_core_dev *mdev, int vf_id)
{
	int ret;

	mvdev->mdev = mdev;
	mvdev->vf_id = vf_id;
	ret = mlx5vf_query_vhca_id(mvdev);
	if (ret)
		goto forget;
	mvdev->sriov_nb.notifier_call = mlx5vf_sriov_event;
	ret = mlx5_sriov_blocking_notifier_register(mdev, vf_id,
						    &mvdev->sriov_nb);
	if (ret)
		goto forget;

	mvdev->precopy = MLX5_CAP_GEN_2(mdev, migration_multi_load) &&
			 MLX5_CAP_GEN_2(mdev, migration_tracking_state);
	mvdev->chunks = MLX5_CAP_GEN_2(mdev, migration_in_chunks);
	mvdev->migratable = true;
	return 0;

forget:
	mvdev->mdev = NULL;
	return ret;
}

/**
 * mlx5vf_fw_probe - decide whether the bound function can migrate
 * @mvdev: the device, not yet registered
 *
 * A function migrates when it is a VF of a PF that mlx5_core drives and
 * whose firmware reports the migration capability; mvdev->migratable
 * tells the answer.  Anything else is served as plain vfio-pci would, and
 * so is a VF whose set-up fails after the capability check: the device
 * stays usable, and the log says why it cannot migrate.
 */
void mlx5vf_fw_probe(struct mlx5vf_device *mvdev)
{
	struct pci_dev *pdev = mvdev->core.pdev;
	struct mlx5_core_dev *mdev;
	int ret;

	mdev = mlx5vf_migration_pf(pdev);
	if (!mdev)
		return;
	ret = pci_iov_vf_id(pdev);
	if (ret >= 0)
		ret = mlx5vf_attach_pf(mvdev, mdev, ret);
	if (ret) {
		pci_warn(pdev, "migration not offered: set-up failed (%d)\n",
			 ret);
		mlx5_vf_put_core_dev(mdev);
	}
}

/**
 * mlx5vf_fw_release - undo mlx5vf_fw_probe
 * @mvdev: the device
 */
void mlx5vf_fw_release(struct mlx5vf_device *mvdev)
{
	if (!mvdev->migratable)
		return;
	mlx5_sriov_blocking_notifier_unregister(mvdev->mdev, mvdev->vf_id,
						&mvdev->sriov_nb);
	mlx5_vf_put_core_dev(mvdev->mdev);
	mvdev->mdev = NULL;
	mvdev->migratable = false;
}

int mlx5vf_fw_alloc_pd(struct mlx5vf_device *mvdev, u32 *pdn)
{
	return mlx5_core_alloc_pd(mvdev->mdev, pdn);
}

void mlx5vf_fw_free_pd(struct mlx5vf_device *mvdev, u32 pdn)
{
	mlx5_core_dealloc_pd(mvdev->mdev, pdn);
}

static void mlx5vf_free_pages(struct mlx5vf_buf *buf)
{
	unsigned int i;

	for (i = 0; i < buf->npages; i++)
		if (buf->pages[i])
			__free_page(buf->pages[i]);
	kvfree(buf->pages);
	buf->pages = NULL;
}

/*
 * Callers pass GFP_KERNEL_ACCOUNT: images are charged to the user that
 * asked for the migration, as a state can take hundreds of megabytes.
 */
static int mlx5vf_alloc_pages(struct mlx5vf_buf *buf, size_t size, gfp_t gfp)
{
	unsigned int i;

	buf->npages = DIV_ROUND_UP(size, PAGE_SIZE);
	buf->pages = kvcalloc(buf->npages, sizeof(*buf->pages), gfp);
	if (!buf->pages)
		return -ENOMEM;
	for (i = 0; i < buf->npages; i++) {
		buf->pages[i] = alloc_page(gfp);
		if (!buf->pages[i]) {
			mlx5vf_free_pages(buf);
			return -ENOMEM;
		}
	}
	return 0;
}

/* An MTT memory key over the mapped pages, local read and write. */
static int mlx5vf_create_mkey(struct mlx5vf_device *mvdev, u32 pdn,
			      struct mlx5vf_buf *buf)
{
	size_t octwords = DIV_ROUND_UP(buf->npages, 2);
	size_t inlen = MLX5_ST_SZ_BYTES(create_mkey_in) +
		       octwords * 2 * MLX5VF_MTT_BYTES;
	struct sg_dma_page_iter iter;
	__be64 *mtt;
	void *mkc;
	u32 *in;
	int ret;

	in = kvzalloc(inlen, GFP_KERNEL);
	if (!in)
		return -ENOMEM;

	MLX5_SET(create_mkey_in, in, translations_octword_actual_size,
		 octwords);
	mkc = MLX5_ADDR_OF(create_mkey_in, in, memory_key_mkey_entry);
	MLX5_SET(mkc, mkc, access_mode_1_0, MLX5_MKC_ACCESS_MODE_MTT);
	MLX5_SET(mkc, mkc, lr, 1);
	MLX5_SET(mkc, mkc, lw, 1);
	MLX5_SET(mkc, mkc, pd, pdn);
	/* Not bound to a QP: any of the function's queues may use it. */
	MLX5_SET(mkc, mkc, qpn, 0xffffff);
	MLX5_SET64(mkc, mkc, start_addr, 0);
	MLX5_SET64(mkc, mkc, len, mlx5vf_buf_size(buf));
	MLX5_SET(mkc, mkc, log_page_size, PAGE_SHIFT);
	MLX5_SET(mkc, mkc, translations_octword_size, octwords);

	mtt = MLX5_ADDR_OF(create_mkey_in, in, klm_pas_mtt);
	for_each_sgtable_dma_page(&buf->sgt, &iter, 0) {
		*mtt = cpu_to_be64(sg_page_iter_dma_address(&iter));
		mtt++;
	}

	ret = mlx5_core_create_mkey(mvdev->mdev, &buf->mkey, in, inlen);
	kvfree(in);
	return ret;
}

/**
 * mlx5vf_buf_alloc - pages for one image, mapped for the PF, with a key
 * @mvdev: the device whose firmware uses the buffer
 * @pdn: protection domain of the key
 * @size: bytes the image may take
 * @dir: DMA_FROM_DEVICE for a save, DMA_TO_DEVICE for a load
 * @gfp: flags for the pages: GFP_KERNEL_ACCOUNT, plus __GFP_NORETRY where
 *	failing is better than pushing the host into reclaim
 * @buf: filled in
 *
 * Return: 0 or a negative errno, with nothing left allocated.
 */
int mlx5vf_buf_alloc(struct mlx5vf_device *mvdev, u32 pdn, size_t size,
		     enum dma_data_direction dir, gfp_t gfp,
		     struct mlx5vf_buf *buf)
{
	struct device *dma_dev = mvdev->mdev->device;
	int ret;

	if (!size)
		return -EINVAL;
	buf->dir = dir;
	ret = mlx5vf_alloc_pages(buf, size, gfp);
	if (ret)
		return ret;
	ret = sg_alloc_table_from_pages(&buf->sgt, buf->pages, buf->npages, 0,
					mlx5vf_buf_size(buf),
					GFP_KERNEL_ACCOUNT);
	if (ret)
		goto free_pages;
	ret = dma_map_sgtable(dma_dev, &buf->sgt, dir, 0);
	if (ret)
		goto free_table;
	ret = mlx5vf_create_mkey(mvdev, pdn, buf);
	if (ret)
		goto unmap;
	return 0;

unmap:
	dma_unmap_sgtable(dma_dev, &buf->sgt, dir, 0);
free_table:
	sg_free_table(&buf->sgt);
free_pages:
	mlx5vf_free_pages(buf);
	return ret;
}

/**
 * mlx5vf_buf_free - release what mlx5vf_buf_alloc set up
 * @mvdev: the device
 * @buf: the buffer; may be one that was never allocated (no pages)
 */
void mlx5vf_buf_free(struct mlx5vf_device *mvdev, struct mlx5vf_buf *buf)
{
	if (!buf->pages)
		return;
	mlx5_core_destroy_mkey(mvdev->mdev, buf->mkey);
	dma_unmap_sgtable(mvdev->mdev->device, &buf->sgt, buf->dir, 0);
	sg_free_table(&buf->sgt);
	mlx5vf_free_pages(buf);
}

/* Copy between a user buffer and the image, page by page. */
static int mlx5vf_buf_copy(struct mlx5vf_buf *buf, size_t off,
			   char __user *ubuf, size_t len, bool to_user)
{
	while (len) {
		size_t in_page = offset_in_page(off);
		size_t n = min_t(size_t, len, PAGE_SIZE - in_page);
		unsigned long left;
		void *va;

		if (off >> PAGE_SHIFT >= buf->npages)
			return -EINVAL;
		va = kmap_local_page(buf->pages[off >> PAGE_SHIFT]);
		if (to_user)
			left = copy_to_user(ubuf, va + in_page, n);
		else
			left = copy_from_user(va + in_page, ubuf, n);
		kunmap_local(va);
		if (left)
			return -EFAULT;
		off += n;
		ubuf += n;
		len -= n;
	}
	return 0;
}

int mlx5vf_buf_to_user(struct mlx5vf_buf *buf, size_t off,
		       char __user *ubuf, size_t len)
{
	return mlx5vf_buf_copy(buf, off, ubuf, len, true);
}

int mlx5vf_buf_from_user(struct mlx5vf_buf *buf, size_t off,
			 const char __user *ubuf, size_t len)
{
	return mlx5vf_buf_copy(buf, off, (char __user *)ubuf, len, false);
}

/**
 * mlx5vf_fw_query_size - how big the next saved image will be
 * @mvdev: the device
 * @what: the whole state, or what changed since the last save
 * @next: bytes the next SAVE_VHCA_STATE needs
 * @total: bytes of everything still to save (chunked saves take several
 *	commands); equal to @next without chunks
 *
 * Return: 0 or a negative errno.
 */
int mlx5vf_fw_query_size(struct mlx5vf_device *mvdev, enum mlx5vf_query what,
			 size_t *next, u64 *total)
{
	u32 out[MLX5_ST_SZ_DW(query_vhca_migration_state_out)] = {};
	u32 in[MLX5_ST_SZ_DW(query_vhca_migration_state_in)] = {};
	int ret;

	MLX5_SET(query_vhca_migration_state_in, in, opcode,
		 MLX5_CMD_OP_QUERY_VHCA_MIGRATION_STATE);
	MLX5_SET(query_vhca_migration_state_in, in, vhca_id, mvdev->vhca_id);
	MLX5_SET(query_vhca_migration_state_in, in, incremental,
		 what == MLX5VF_QUERY_INCREMENTAL);
	MLX5_SET(query_vhca_migration_state_in, in, chunk, mvdev->chunks);
	ret = mlx5_cmd_exec_inout(mvdev->mdev, query_vhca_migration_state, in,
				  out);
	if (ret)
		return ret;
	*next = MLX5_GET(query_vhca_migration_state_out, out,
			 required_umem_size);
	if (mvdev->chunks)
		*total = MLX5_GET64(query_vhca_migration_state_out, out,
				    remaining_total_size);
	else
		*total = *next;
	return 0;
}

int mlx5vf_fw_suspend(struct mlx5vf_device *mvdev, u16 op_mod)
{
	u32 out[MLX5_ST_SZ_DW(suspend_vhca_out)] = {};
	u32 in[MLX5_ST_SZ_DW(suspend_vhca_in)] = {};

	MLX5_SET(suspend_vhca_in, in, opcode, MLX5_CMD_OP_SUSPEND_VHCA);
	MLX5_SET(suspend_vhca_in, in, op_mod, op_mod);
	MLX5_SET(suspend_vhca_in, in, vhca_id, mvdev->vhca_id);
	return mlx5_cmd_exec_inout(mvdev->mdev, suspend_vhca, in, out);
}

int mlx5vf_fw_resume(struct mlx5vf_device *mvdev, u16 op_mod)
{
	u32 out[MLX5_ST_SZ_DW(resume_vhca_out)] = {};
	u32 in[MLX5_ST_SZ_DW(resume_vhca_in)] = {};

	MLX5_SET(resume_vhca_in, in, opcode, MLX5_CMD_OP_RESUME_VHCA);
	MLX5_SET(resume_vhca_in, in, op_mod, op_mod);
	MLX5_SET(resume_vhca_in, in, vhca_id, mvdev->vhca_id);
	return mlx5_cmd_exec_inout(mvdev->mdev, resume_vhca, in, out);
}

/**
 * mlx5vf_fw_load - hand an image to the firmware of a suspended VF
 * @mvdev: the device
 * @buf: the buffer holding the image from its start
 * @len: bytes of image
 *
 * Return: 0 or a negative errno (the firmware refusing the image, too).
 */
int mlx5vf_fw_load(struct mlx5vf_device *mvdev, struct mlx5vf_buf *buf,
		   size_t len)
{
	u32 out[MLX5_ST_SZ_DW(load_vhca_state_out)] = {};
	u32 in[MLX5_ST_SZ_DW(load_vhca_state_in)] = {};

	MLX5_SET(load_vhca_state_in, in, opcode, MLX5_CMD_OP_LOAD_VHCA_STATE);
	MLX5_SET(load_vhca_state_in, in, vhca_id, mvdev->vhca_id);
	MLX5_SET64(load_vhca_state_in, in, va, 0);
	MLX5_SET(load_vhca_state_in, in, mkey, buf->mkey);
	MLX5_SET(load_vhca_state_in, in, size, len);
	return mlx5_cmd_exec_inout(mvdev->mdev, load_vhca_state, in, out);
}

/*
 * mlx5_core may complete the command from interrupt context: note the
 * result and let process context do the rest.
 */
static void mlx5vf_save_answered(int status, struct mlx5_async_work *work)
{
	struct mlx5vf_save_cmd *cmd =
		container_of(work, struct mlx5vf_save_cmd, work);

	cmd->status = status;
	queue_work(system_unbound_wq, &cmd->done);
}

static void mlx5vf_save_in(struct mlx5vf_device *mvdev, struct mlx5vf_buf *buf,
			   bool incremental, bool track, u32 *in)
{
	MLX5_SET(save_vhca_state_in, in, opcode, MLX5_CMD_OP_SAVE_VHCA_STATE);
	MLX5_SET(save_vhca_state_in, in, vhca_id, mvdev->vhca_id);
	MLX5_SET(save_vhca_state_in, in, incremental, incremental);
	MLX5_SET(save_vhca_state_in, in, set_track, track);
	MLX5_SET64(save_vhca_state_in, in, va, 0);
	MLX5_SET(save_vhca_state_in, in, mkey, buf->mkey);
	MLX5_SET(save_vhca_state_in, in, size, mlx5vf_buf_size(buf));
}

/**
 * mlx5vf_fw_save_sync - save the next chunk of an image and wait for it
 * @mvdev: the device
 * @buf: where the firmware writes
 * @next: bytes the chunk after this one needs, 0 when the image is done
 *
 * Return: 0 or a negative errno.
 */
int mlx5vf_fw_save_sync(struct mlx5vf_device *mvdev, struct mlx5vf_buf *buf,
			size_t *next)
{
	u32 out[MLX5_ST_SZ_DW(save_vhca_state_out)] = {};
	u32 in[MLX5_ST_SZ_DW(save_vhca_state_in)] = {};
	int ret;

	mlx5vf_save_in(mvdev, buf, false, false, in);
	ret = mlx5_cmd_exec_inout(mvdev->mdev, save_vhca_state, in, out);
	if (!ret)
		*next = MLX5_GET(save_vhca_state_out, out,
				 next_required_umem_size);
	return ret;
}

/**
 * mlx5vf_fw_save - start saving the VF's state into @buf
 * @mvdev: the device
 * @actx: the async context of the save session
 * @buf: where the firmware writes the image
 * @incremental: only what changed since the previous save
 * @track: start tracking changes (the first save of a pre-copy)
 * @cmd: the command; its done work runs once the firmware answered,
 *	unless this returns an error
 *
 * Return: 0 if the command was sent, or a negative errno.
 */
int mlx5vf_fw_save(struct mlx5vf_device *mvdev, struct mlx5_async_ctx *actx,
		   struct mlx5vf_buf *buf, bool incremental, bool track,
		   struct mlx5vf_save_cmd *cmd)
{
	u32 in[MLX5_ST_SZ_DW(save_vhca_state_in)] = {};

	memset(cmd->out, 0, sizeof(cmd->out));
	cmd->status = 0;
	mlx5vf_save_in(mvdev, buf, incremental, track, in);
	return mlx5_cmd_exec_cb(actx, in, sizeof(in), cmd->out,
				sizeof(cmd->out), mlx5vf_save_answered,
				&cmd->work);
}

/**
 * mlx5vf_fw_save_result - what a successful save produced
 * @cmd: the answered command
 * @len: bytes of image written
 * @next: bytes the next chunk needs, 0 when the image is complete
 */
void mlx5vf_fw_save_result(struct mlx5vf_save_cmd *cmd, size_t *len,
			   size_t *next)
{
	*len = MLX5_GET(save_vhca_state_out, cmd->out, actual_image_size);
	*next = MLX5_GET(save_vhca_state_out, cmd->out,
			 next_required_umem_size);
}
