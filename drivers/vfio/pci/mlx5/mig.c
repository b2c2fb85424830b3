// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VFIO migration v2 state machine of mlx5-vfio-pci.
 *
 * vfio core splits every requested change into single arcs
 * (vfio_mig_get_next_state()); each arc here is one firmware step or the
 * start or end of a data session:
 *
 *   RUNNING <-> RUNNING_P2P        resume / suspend the VF as initiator
 *   RUNNING_P2P <-> STOP           resume / suspend it as responder
 *   STOP -> STOP_COPY -> STOP      save session, whole state
 *   STOP -> RESUMING -> STOP       resume session
 *   RUNNING -> PRE_COPY -> RUNNING, and the same under P2P:
 *                                  save session while the VF runs
 *   PRE_COPY <-> PRE_COPY_P2P      as RUNNING <-> RUNNING_P2P
 *   PRE_COPY_P2P -> STOP_COPY      suspend, then the final image, on the
 *                                  data file of the pre-copy
 *
 * A failed arc leaves the device in ERROR, from which only a reset leads
 * out.
 *
 * Resets: the PCI core calls reset_done with the device lock held, and
 * may do so while another thread holds state_lock and waits for something
 * that the reset path holds.  So a reset only records itself and takes
 * state_lock if it is free; whoever releases state_lock applies a
 * recorded reset first (mlx5vf_state_unlock()).
 */
#include <linux/file.h>

#include "mlx5_vfio.h"

/**
 * mlx5vf_end_sessions - end the data sessions of the device
 * @mvdev: the device, with its state lock held
 */
void mlx5vf_end_sessions(struct mlx5vf_device *mvdev)
{
	lockdep_assert_held(&mvdev->state_lock);
	if (mvdev->save)
		mlx5vf_save_end(mvdev->save);
	if (mvdev->resume)
		mlx5vf_resume_end(mvdev->resume);
}

/**
 * mlx5vf_state_unlock - release the state lock, applying resets first
 * @mvdev: the device, with its state lock held
 *
 * A reset resets the firmware's view of the VF too: the device is back in
 * RUNNING with no session.  The lock is dropped with reset_lock held, so
 * a reset recorded after the last check finds it free and applies itself.
 */
void mlx5vf_state_unlock(struct mlx5vf_device *mvdev)
{
	spin_lock(&mvdev->reset_lock);
	while (mvdev->reset_pending) {
		mvdev->reset_pending = false;
		spin_unlock(&mvdev->reset_lock);
		mvdev->mig_state = VFIO_DEVICE_STATE_RUNNING;
		mlx5vf_end_sessions(mvdev);
		mvdev->fw_next_chunk = 0;
		spin_lock(&mvdev->reset_lock);
	}
	mutex_unlock(&mvdev->state_lock);
	spin_unlock(&mvdev->reset_lock);
}

/**
 * mlx5vf_reset_done - the function was reset
 * @mvdev: the device
 */
void mlx5vf_reset_done(struct mlx5vf_device *mvdev)
{
	if (!mvdev->migratable)
		return;
	spin_lock(&mvdev->reset_lock);
	mvdev->reset_pending = true;
	spin_unlock(&mvdev->reset_lock);
	if (mutex_trylock(&mvdev->state_lock))
		mlx5vf_state_unlock(mvdev);
}

/**
 * mlx5vf_detach - the PF is disabling the VF
 * @mvdev: the device
 *
 * From now on the VF's commands would fail: end the sessions and the DMA
 * logging while the firmware still knows them, and refuse further
 * migration.
 */
void mlx5vf_detach(struct mlx5vf_device *mvdev)
{
	mutex_lock(&mvdev->state_lock);
	mlx5vf_end_sessions(mvdev);
	mlx5vf_log_end(mvdev);
	mvdev->detached = true;
	mlx5vf_state_unlock(mvdev);
}

static bool mlx5vf_arc(enum vfio_device_mig_state cur,
		       enum vfio_device_mig_state next,
		       enum vfio_device_mig_state from,
		       enum vfio_device_mig_state to)
{
	return cur == from && next == to;
}

/* Arcs that are one firmware command. */
static int mlx5vf_step_fw(struct mlx5vf_device *mvdev,
			  enum vfio_device_mig_state cur,
			  enum vfio_device_mig_state next)
{
	if (mlx5vf_arc(cur, next, VFIO_DEVICE_STATE_RUNNING,
		       VFIO_DEVICE_STATE_RUNNING_P2P) ||
	    mlx5vf_arc(cur, next, VFIO_DEVICE_STATE_PRE_COPY,
		       VFIO_DEVICE_STATE_PRE_COPY_P2P))
		return mlx5vf_fw_suspend(mvdev,
				MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR);
	if (mlx5vf_arc(cur, next, VFIO_DEVICE_STATE_RUNNING_P2P,
		       VFIO_DEVICE_STATE_RUNNING) ||
	    mlx5vf_arc(cur, next, VFIO_DEVICE_STATE_PRE_COPY_P2P,
		       VFIO_DEVICE_STATE_PRE_COPY))
		return mlx5vf_fw_resume(mvdev,
				MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_INITIATOR);
	if (mlx5vf_arc(cur, next, VFIO_DEVICE_STATE_RUNNING_P2P,
		       VFIO_DEVICE_STATE_STOP))
		return mlx5vf_fw_suspend(mvdev,
				MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_RESPONDER);
	if (mlx5vf_arc(cur, next, VFIO_DEVICE_STATE_STOP,
		       VFIO_DEVICE_STATE_RUNNING_P2P))
		return mlx5vf_fw_resume(mvdev,
				MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_RESPONDER);
	return -EINVAL;
}

/* Arcs that end a session. */
static int mlx5vf_step_end(struct mlx5vf_device *mvdev,
			   enum vfio_device_mig_state cur)
{
	int ret = 0;

	switch (cur) {
	case VFIO_DEVICE_STATE_PRE_COPY:
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
	case VFIO_DEVICE_STATE_STOP_COPY:
		if (mvdev->save)
			mlx5vf_save_end(mvdev->save);
		return 0;
	case VFIO_DEVICE_STATE_RESUMING:
		if (mvdev->resume) {
			ret = mlx5vf_resume_finish(mvdev->resume);
			mlx5vf_resume_end(mvdev->resume);
		}
		return ret;
	default:
		return -EINVAL;
	}
}

/* One arc; returns the data file it opens, NULL, or an ERR_PTR. */
static struct file *mlx5vf_step(struct mlx5vf_device *mvdev,
				enum vfio_device_mig_state next)
{
	enum vfio_device_mig_state cur = mvdev->mig_state;
	int ret;

	switch (next) {
	case VFIO_DEVICE_STATE_PRE_COPY:
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		if (cur == VFIO_DEVICE_STATE_RUNNING ||
		    cur == VFIO_DEVICE_STATE_RUNNING_P2P)
			return mlx5vf_save_open(mvdev, true);
		break;
	case VFIO_DEVICE_STATE_STOP_COPY:
		if (cur == VFIO_DEVICE_STATE_STOP)
			return mlx5vf_save_open(mvdev, false);
		if (cur != VFIO_DEVICE_STATE_PRE_COPY_P2P || !mvdev->save)
			return ERR_PTR(-EINVAL);
		ret = mlx5vf_fw_suspend(mvdev, MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_RESPONDER);
		if (!ret)
			ret = mlx5vf_save_final(mvdev->save);
		return ret ? ERR_PTR(ret) : NULL;
	case VFIO_DEVICE_STATE_RESUMING:
		if (cur == VFIO_DEVICE_STATE_STOP)
			return mlx5vf_resume_open(mvdev);
		return ERR_PTR(-EINVAL);
	default:
		break;
	}

	switch (cur) {
	case VFIO_DEVICE_STATE_PRE_COPY:
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		/* PRE_COPY <-> PRE_COPY_P2P keeps the session. */
		if (next == VFIO_DEVICE_STATE_PRE_COPY ||
		    next == VFIO_DEVICE_STATE_PRE_COPY_P2P)
			break;
		fallthrough;
	case VFIO_DEVICE_STATE_STOP_COPY:
	case VFIO_DEVICE_STATE_RESUMING:
		ret = mlx5vf_step_end(mvdev, cur);
		return ret ? ERR_PTR(ret) : NULL;
	default:
		break;
	}
	ret = mlx5vf_step_fw(mvdev, cur, next);
	return ret ? ERR_PTR(ret) : NULL;
}

static struct file *mlx5vf_set_state(struct vfio_device *vdev,
				     enum vfio_device_mig_state new_state)
{
	struct mlx5vf_device *mvdev = to_mlx5vf(vdev);
	enum vfio_device_mig_state next;
	struct file *res = NULL;
	int ret;

	mutex_lock(&mvdev->state_lock);
	if (mvdev->detached) {
		res = ERR_PTR(-ENODEV);
		goto unlock;
	}
	/* Nothing leads out of ERROR but a reset, and nothing into it. */
	if (mvdev->mig_state == VFIO_DEVICE_STATE_ERROR ||
	    new_state == VFIO_DEVICE_STATE_ERROR) {
		res = ERR_PTR(-EINVAL);
		goto unlock;
	}
	while (mvdev->mig_state != new_state) {
		ret = vfio_mig_get_next_state(vdev, mvdev->mig_state,
					      new_state, &next);
		if (ret) {
			res = ERR_PTR(ret);
			break;
		}
		res = mlx5vf_step(mvdev, next);
		if (IS_ERR(res)) {
			/* The firmware's view of the VF is unknown now. */
			mvdev->mig_state = VFIO_DEVICE_STATE_ERROR;
			mlx5vf_end_sessions(mvdev);
			break;
		}
		mvdev->mig_state = next;
		/* Only the requested state may hand out a data file. */
		if (WARN_ON(res && next != new_state)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
unlock:
	mlx5vf_state_unlock(mvdev);
	return res;
}

static int mlx5vf_get_state(struct vfio_device *vdev,
			    enum vfio_device_mig_state *state)
{
	struct mlx5vf_device *mvdev = to_mlx5vf(vdev);

	mutex_lock(&mvdev->state_lock);
	*state = mvdev->mig_state;
	mlx5vf_state_unlock(mvdev);
	return 0;
}

/* Bytes a STOP_COPY now would read: the whole state, framed. */
static int mlx5vf_get_data_size(struct vfio_device *vdev,
				unsigned long *stop_copy_length)
{
	struct mlx5vf_device *mvdev = to_mlx5vf(vdev);
	size_t next;
	u64 total;
	int ret;

	mutex_lock(&mvdev->state_lock);
	if (mvdev->detached) {
		ret = -ENODEV;
		goto unlock;
	}
	ret = mlx5vf_fw_query_size(mvdev, MLX5VF_QUERY_FULL, &next, &total);
	if (ret)
		goto unlock;
	*stop_copy_length = total;
unlock:
	mlx5vf_state_unlock(mvdev);
	return ret;
}

const struct vfio_migration_ops mlx5vf_mig_ops = {
	.migration_set_state = mlx5vf_set_state,
	.migration_get_state = mlx5vf_get_state,
	.migration_get_data_size = mlx5vf_get_data_size,
};
