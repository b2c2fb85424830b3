// SPDX-License-Identifier: GPL-2.0
/*
 * UAR pages, exported by mlx5_core's uar.c: the includes mirror that
 * file's so that the symbol CRCs match the distro's (see Kbuild); dma.c
 * does the work.
 */
#include <linux/kernel.h>
#include <linux/mlx5/driver.h>
#ifndef MLX5_MODEL_PUBLIC_HEADERS
#include "mlx5_core.h"
#endif

#include "model_api.h"

struct mlx5_uars_page *mlx5_get_uars_page(struct mlx5_core_dev *mdev)
{
	return model_uars_get(mdev);
}
EXPORT_SYMBOL(mlx5_get_uars_page);

void mlx5_put_uars_page(struct mlx5_core_dev *mdev, struct mlx5_uars_page *up)
{
	model_uars_put(mdev, up);
}
EXPORT_SYMBOL(mlx5_put_uars_page);
