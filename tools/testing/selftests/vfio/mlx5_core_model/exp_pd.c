// SPDX-License-Identifier: GPL-2.0
/*
 * Protection domains, exported by mlx5_core's pd.c: the includes mirror
 * that file's so that the symbol CRCs match the distro's (see Kbuild);
 * mkey.c does the work.
 */
#include <linux/kernel.h>
#include <linux/mlx5/driver.h>
#ifndef MLX5_MODEL_PUBLIC_HEADERS
#include "mlx5_core.h"
#endif

#include "model_api.h"

int mlx5_core_alloc_pd(struct mlx5_core_dev *dev, u32 *pdn)
{
	return model_alloc_pd(dev, pdn);
}
EXPORT_SYMBOL(mlx5_core_alloc_pd);

int mlx5_core_dealloc_pd(struct mlx5_core_dev *dev, u32 pdn)
{
	return model_dealloc_pd(dev, pdn);
}
EXPORT_SYMBOL(mlx5_core_dealloc_pd);
