// SPDX-License-Identifier: GPL-2.0
/*
 * Memory keys, exported by mlx5_core's mr.c: the includes mirror that
 * file's so that the symbol CRCs match the distro's (see Kbuild);
 * mkey.c does the work.
 */
#include <linux/kernel.h>
#include <linux/mlx5/driver.h>
#include <linux/mlx5/qp.h>
#ifndef MLX5_MODEL_PUBLIC_HEADERS
#include "mlx5_core.h"
#endif

#include "model_api.h"

int mlx5_core_create_mkey(struct mlx5_core_dev *dev, u32 *mkey, u32 *in,
			  int inlen)
{
	return model_create_mkey(dev, mkey, in, inlen);
}
EXPORT_SYMBOL(mlx5_core_create_mkey);

int mlx5_core_destroy_mkey(struct mlx5_core_dev *dev, u32 mkey)
{
	return model_destroy_mkey(dev, mkey);
}
EXPORT_SYMBOL(mlx5_core_destroy_mkey);
