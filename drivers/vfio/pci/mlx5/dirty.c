// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO DMA logging (VFIO_DEVICE_FEATURE_DMA_LOGGING_*) of mlx5-vfio-pci:
 * the vfio_log_ops that fit userspace's request to what the PF's page
 * tracker can do and run its reports (tracker.c talks to the firmware).
 *
 * Offered only where the kernel can fill a dirty bitmap
 * (CONFIG_IOMMUFD_DRIVER: elsewhere the iova_bitmap helpers do nothing)
 * and the firmware has a page tracker.
 *
 * One tracker per device, under the device's state lock: start, stop,
 * reports, the close of the device and the PF disabling the VF all take
 * it, so a stop waits for a report in flight.  A tracker that failed
 * stays until userspace stops it; every report meanwhile fails with EIO.
 */
#include <linux/interval_tree.h>
#include <linux/log2.h>
#include <linux/slab.h>

#include "mlx5_vfio.h"

/* Messages of 16 KiB: 2048 dirty pages each, before the firmware's limits. */
#define MLX5VF_TRK_LOG_MSG	14

/* Round @ranges out to @log_page pages; merge any that then meet. */
static unsigned int mlx5vf_trk_align(struct mlx5vf_trk_range *ranges,
				     unsigned int n, u8 log_page)
{
	u64 page = BIT_ULL(log_page);
	unsigned int i, out = 0;

	for (i = 0; i < n; i++) {
		u64 start = round_down(ranges[i].start, page);
		u64 end = round_up(ranges[i].end, page);

		if (out && start <= ranges[out - 1].end) {
			ranges[out - 1].end = max(ranges[out - 1].end, end);
			continue;
		}
		ranges[out].start = start;
		ranges[out].end = end;
		out++;
	}
	return out;
}

/* The tracking page the firmware can do that is closest to the request. */
static int mlx5vf_trk_page_size(struct mlx5_core_dev *mdev, u64 request,
				u8 *log_page)
{
	u8 lo = MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_log_min_page_size);
	u8 hi = MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_log_max_page_size);

	if (!request || !is_power_of_2(request))
		return -EINVAL;
	*log_page = clamp_t(u8, ilog2(request), lo, hi);
	return 0;
}

/*
 * The ranges of @root, merged down to what one tracker takes (vfio core
 * has checked them: disjoint, aligned to the requested page size).
 */
static struct mlx5vf_trk_range *
mlx5vf_trk_ranges(struct mlx5_core_dev *mdev, struct rb_root_cached *root,
		  u32 nnodes, unsigned int *count)
{
	u32 max = MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_max_num_range);
	struct mlx5vf_trk_range *ranges;
	struct interval_tree_node *node;
	unsigned int n = 0;

	if (!max)
		return ERR_PTR(-EOPNOTSUPP);
	if (nnodes > max) {
		vfio_combine_iova_ranges(root, nnodes, max);
		nnodes = max;
	}
	ranges = kcalloc(nnodes, sizeof(*ranges), GFP_KERNEL);
	if (!ranges)
		return ERR_PTR(-ENOMEM);
	for (node = interval_tree_iter_first(root, 0, ULONG_MAX);
	     node && n < nnodes; node = interval_tree_iter_next(node, 0,
								 ULONG_MAX)) {
		ranges[n].start = node->start;
		ranges[n].end = (u64)node->last + 1;
		n++;
	}
	*count = n;
	return ranges;
}

/* log2 of the address space covering @end, or -E2BIG past the firmware's. */
static int mlx5vf_trk_addr_space(struct mlx5_core_dev *mdev, u64 end)
{
	u8 lo = MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_log_min_addr_space);
	u8 hi = MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_log_max_addr_space);
	int bits = fls64(end - 1);

	if (bits > hi)
		return -E2BIG;
	return max_t(int, bits, lo);
}

static u8 mlx5vf_trk_msg_size(struct mlx5_core_dev *mdev)
{
	u8 lo = MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_log_min_msg_size);
	u8 hi = MLX5_CAP_ADV_VIRTUALIZATION(mdev, pg_track_log_max_msg_size);

	return clamp_t(u8, MLX5VF_TRK_LOG_MSG, max_t(u8, lo, PAGE_SHIFT), hi);
}

static struct mlx5vf_tracker *
mlx5vf_trk_start(struct mlx5vf_device *mvdev, struct rb_root_cached *root,
		 u32 nnodes, u64 *page_size)
{
	struct mlx5_core_dev *mdev = mvdev->mdev;
	struct mlx5vf_trk_range *ranges;
	struct mlx5vf_tracker *trk;
	unsigned int n;
	u8 log_page;
	int bits;
	int ret;

	ret = mlx5vf_trk_page_size(mdev, *page_size, &log_page);
	if (ret)
		return ERR_PTR(ret);
	ranges = mlx5vf_trk_ranges(mdev, root, nnodes, &n);
	if (IS_ERR(ranges))
		return ERR_CAST(ranges);
	n = mlx5vf_trk_align(ranges, n, log_page);
	bits = mlx5vf_trk_addr_space(mdev, ranges[n - 1].end);
	if (bits < 0) {
		trk = ERR_PTR(bits);
		goto out;
	}
	trk = mlx5vf_trk_create(mvdev, ranges, n, log_page, bits,
				mlx5vf_trk_msg_size(mdev));
	if (!IS_ERR(trk))
		*page_size = BIT_ULL(log_page);
out:
	kfree(ranges);
	return trk;
}

static int mlx5vf_log_start(struct vfio_device *vdev,
			    struct rb_root_cached *ranges, u32 nnodes,
			    u64 *page_size)
{
	struct mlx5vf_device *mvdev = to_mlx5vf(vdev);
	struct mlx5vf_tracker *trk;
	int ret = 0;

	mutex_lock(&mvdev->state_lock);
	if (mvdev->detached) {
		ret = -ENODEV;
		goto unlock;
	}
	if (mvdev->tracker) {
		ret = -EBUSY;
		goto unlock;
	}
	trk = mlx5vf_trk_start(mvdev, ranges, nnodes, page_size);
	if (IS_ERR(trk))
		ret = PTR_ERR(trk);
	else
		mvdev->tracker = trk;
unlock:
	mlx5vf_state_unlock(mvdev);
	return ret;
}

/**
 * mlx5vf_log_end - destroy the device's tracker, if it has one
 * @mvdev: the device, with its state lock held
 */
void mlx5vf_log_end(struct mlx5vf_device *mvdev)
{
	lockdep_assert_held(&mvdev->state_lock);
	if (!mvdev->tracker)
		return;
	mlx5vf_trk_destroy(mvdev->tracker);
	mvdev->tracker = NULL;
}

static int mlx5vf_log_stop(struct vfio_device *vdev)
{
	struct mlx5vf_device *mvdev = to_mlx5vf(vdev);

	mutex_lock(&mvdev->state_lock);
	mlx5vf_log_end(mvdev);
	mlx5vf_state_unlock(mvdev);
	return 0;
}

static int mlx5vf_log_report(struct mlx5vf_device *mvdev, unsigned long iova,
			     unsigned long length, struct iova_bitmap *dirty)
{
	struct mlx5vf_tracker *trk = mvdev->tracker;
	struct mlx5vf_trk_report rep = {
		.iova = iova,
		.dirty = dirty,
	};
	u64 page, space;
	int ret;

	if (!trk)
		return mvdev->detached ? -ENODEV : -EINVAL;
	if (READ_ONCE(trk->failed))
		return -EIO;
	/*
	 * The firmware clears whole tracking pages: a report that cut one
	 * would lose the writes to the part it leaves out.
	 */
	page = BIT_ULL(trk->log_page_size);
	if (!IS_ALIGNED(iova, page) || !IS_ALIGNED(length, page))
		return -EINVAL;
	/* Nothing is tracked past the address space: nothing to ask there. */
	space = BIT_ULL(trk->log_addr_space);
	if (iova >= space || !length)
		return 0;
	rep.length = min_t(u64, length, space - iova);

	/* Past the checks above, a refusal is the firmware's failure. */
	ret = mlx5vf_trk_request(trk, rep.iova, rep.length) ? -EIO :
	      mlx5vf_trk_collect(trk, &rep);
	if (ret) {
		WRITE_ONCE(trk->failed, true);
		pci_warn(mvdev->core.pdev,
			 "dirty page report failed (%d): logging stopped\n",
			 ret);
	}
	return ret;
}

static int mlx5vf_log_read_and_clear(struct vfio_device *vdev,
				     unsigned long iova, unsigned long length,
				     struct iova_bitmap *dirty)
{
	struct mlx5vf_device *mvdev = to_mlx5vf(vdev);
	int ret;

	mutex_lock(&mvdev->state_lock);
	ret = mlx5vf_log_report(mvdev, iova, length, dirty);
	mlx5vf_state_unlock(mvdev);
	return ret;
}

static const struct vfio_log_ops mlx5vf_log_ops = {
	.log_start		= mlx5vf_log_start,
	.log_stop		= mlx5vf_log_stop,
	.log_read_and_clear	= mlx5vf_log_read_and_clear,
};

/**
 * mlx5vf_log_ops_for - the DMA logging a migratable device offers
 * @mvdev: the device, after mlx5vf_fw_probe()
 *
 * Return: the log ops, or NULL where the kernel cannot report dirty
 * pages or the firmware has no page tracker.
 */
const struct vfio_log_ops *mlx5vf_log_ops_for(struct mlx5vf_device *mvdev)
{
	if (!IS_ENABLED(CONFIG_IOMMUFD_DRIVER) || !mvdev->migratable ||
	    !MLX5_CAP_GEN(mvdev->mdev, adv_virtualization))
		return NULL;
	return &mlx5vf_log_ops;
}

#if IS_ENABLED(CONFIG_IOMMUFD_DRIVER)
MODULE_IMPORT_NS(IOMMUFD);
#endif
