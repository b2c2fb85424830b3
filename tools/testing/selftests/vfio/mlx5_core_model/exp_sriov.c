// SPDX-License-Identifier: GPL-2.0
/*
 * The per-VF blocking notifiers, exported by mlx5_core's sriov.c: the
 * includes mirror that file's so that the symbol CRCs match the distro's
 * (see Kbuild); vf.c does the work.
 */
#include <linux/pci.h>
#include <linux/mlx5/driver.h>
#include <linux/mlx5/vport.h>
#ifndef MLX5_MODEL_PUBLIC_HEADERS
#include "mlx5_core.h"
#include "mlx5_irq.h"
#include "eswitch.h"
#endif

#include "model_api.h"

void mlx5_sriov_blocking_notifier_unregister(struct mlx5_core_dev *mdev,
					     int vf_id,
					     struct notifier_block *nb)
{
	model_vf_notifier_unregister(mdev, vf_id, nb);
}
EXPORT_SYMBOL(mlx5_sriov_blocking_notifier_unregister);

int mlx5_sriov_blocking_notifier_register(struct mlx5_core_dev *mdev,
					  int vf_id,
					  struct notifier_block *nb)
{
	return model_vf_notifier_register(mdev, vf_id, nb);
}
EXPORT_SYMBOL(mlx5_sriov_blocking_notifier_register);
