// SPDX-License-Identifier: GPL-2.0
/*
 * Another function's capabilities, exported by mlx5_core's vport.c: the
 * includes mirror that file's so that the symbol CRC matches the
 * distro's (see Kbuild); cmd.c does the work.
 */
#include <linux/export.h>
#include <linux/etherdevice.h>
#include <linux/mlx5/driver.h>
#include <linux/mlx5/vport.h>
#include <linux/mlx5/eswitch.h>
#ifndef MLX5_MODEL_PUBLIC_HEADERS
#include "mlx5_core.h"
#include "sf/sf.h"
#endif

#include "model_api.h"

int mlx5_vport_get_other_func_cap(struct mlx5_core_dev *dev, u16 vport,
				  void *out, u16 opmod)
{
	return model_other_func_cap(dev, vport, out, opmod);
}
EXPORT_SYMBOL_GPL(mlx5_vport_get_other_func_cap);
