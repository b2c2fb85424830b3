// SPDX-License-Identifier: GPL-2.0
/*
 * Completion queues, exported by mlx5_core's cq.c: the includes mirror
 * that file's so that the symbol CRCs match the distro's (see Kbuild);
 * cq.c of this directory does the work.
 */
#include <linux/kernel.h>
#include <linux/hardirq.h>
#include <linux/mlx5/driver.h>
#include <rdma/ib_verbs.h>
#include <linux/mlx5/cq.h>
#ifndef MLX5_MODEL_PUBLIC_HEADERS
#include "mlx5_core.h"
#include "lib/eq.h"
#endif

#include "model_api.h"

int mlx5_core_create_cq(struct mlx5_core_dev *dev, struct mlx5_core_cq *cq,
			u32 *in, int inlen, u32 *out, int outlen)
{
	return model_create_cq(dev, cq, in, inlen, out, outlen);
}
EXPORT_SYMBOL(mlx5_core_create_cq);

int mlx5_core_destroy_cq(struct mlx5_core_dev *dev, struct mlx5_core_cq *cq)
{
	return model_destroy_cq(dev, cq);
}
EXPORT_SYMBOL(mlx5_core_destroy_cq);
